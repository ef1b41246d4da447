import { forgetBackend, setDefaultDevice } from '../device.ts';
import { assertKnownOptions, InvalidArgumentError, NoAdapterError, WebGpuPackageMissingError } from '../errors.ts';
import type { MemoryInfo } from '../backend.ts';
import { GpuBackend } from './backend.ts';
import { anyExists, captureNativeStderr, debugEnabled, env, fileExists, isNode, loadDawn, setEnvIfUnset, type DawnModule } from './node-dawn.ts';

/**
 * How to find an adapter.
 * - `auto`: `navigator.gpu` where it exists (browsers, Deno); in Node, dawn.node's default backend
 *   (a hardware GPU through Vulkan/Metal/D3D12) first, then the software paths that work on
 *   GPU-less Linux: OpenGL on Mesa llvmpipe (fastest measured), OpenGL ES, Vulkan on SwiftShader.
 * - any other value forces one path. Also settable with the env variable FAIRGPU_BACKEND.
 */
export type GpuBackendChoice = 'auto' | 'navigator' | 'default' | 'vulkan' | 'opengl' | 'opengles' | 'swiftshader' | 'd3d12' | 'metal';
const CHOICES: readonly GpuBackendChoice[] = ['auto', 'navigator', 'default', 'vulkan', 'opengl', 'opengles', 'swiftshader', 'd3d12', 'metal'];

export interface InitGpuOptions {
  backend?: GpuBackendChoice;
  powerPreference?: GPUPowerPreference;
  /** Make this context the default device of tensor creation functions (default true). */
  setDefault?: boolean;
  /** Matmul kernel: register-blocked (software adapters) or workgroup-tiled (GPUs). */
  matmulKernel?: 'auto' | 'blocked' | 'tiled';
  /**
   * Cap on bytes kept in the buffer pool (default 512 MiB). Half of it, up to 256 MiB, also caps the
   * textures software adapters keep holding texel copies of live buffers.
   */
  maxPooledBytes?: number;
}

const KNOWN_OPTIONS = ['backend', 'powerPreference', 'setDefault', 'matmulKernel', 'maxPooledBytes'] as const satisfies readonly (keyof InitGpuOptions)[];
const MATMUL_KERNELS = ['auto', 'blocked', 'tiled'] as const;
const POWER_PREFERENCES = ['low-power', 'high-performance'] as const;

function validateOptions(options: InitGpuOptions): void {
  if (options === null || typeof options !== 'object')
    throw new InvalidArgumentError('initGpu', 'options', `must be an object, got ${options === null ? 'null' : typeof options}`);
  assertKnownOptions('initGpu', options, KNOWN_OPTIONS);
  const { powerPreference, setDefault, matmulKernel, maxPooledBytes } = options;
  if (powerPreference !== undefined && !(POWER_PREFERENCES as readonly unknown[]).includes(powerPreference)) {
    throw new InvalidArgumentError('initGpu', 'powerPreference', `must be one of ${POWER_PREFERENCES.join(', ')}, got ${JSON.stringify(powerPreference)}`);
  }
  if (setDefault !== undefined && typeof setDefault !== 'boolean') {
    throw new InvalidArgumentError('initGpu', 'setDefault', `must be a boolean, got ${JSON.stringify(setDefault)}`);
  }
  if (matmulKernel !== undefined && !(MATMUL_KERNELS as readonly unknown[]).includes(matmulKernel)) {
    throw new InvalidArgumentError('initGpu', 'matmulKernel', `must be one of ${MATMUL_KERNELS.join(', ')}, got ${JSON.stringify(matmulKernel)}`);
  }
  if (maxPooledBytes !== undefined && (typeof maxPooledBytes !== 'number' || !Number.isSafeInteger(maxPooledBytes) || maxPooledBytes < 0)) {
    throw new InvalidArgumentError(
      'initGpu',
      'maxPooledBytes',
      `must be an integer number of bytes ≥ 0, got ${typeof maxPooledBytes === 'number' ? String(maxPooledBytes) : JSON.stringify(maxPooledBytes)}`,
    );
  }
}

export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** Which path produced it, e.g. `dawn:opengl (compatibility)` or `navigator.gpu`. */
  path: string;
  featureLevel: 'core' | 'compatibility';
  /** A CPU implementation (llvmpipe, lavapipe, SwiftShader, WARP…). */
  isSoftware: boolean;
}

/** A WebGPU device ready for tensors. Keep it for the device's life; `destroy()` when done. */
export interface GpuContext {
  readonly device: GPUDevice;
  readonly adapter: GPUAdapter;
  readonly adapterInfo: AdapterDescription;
  readonly limits: GPUSupportedLimits;
  readonly features: ReadonlySet<string>;
  readonly backend: GpuBackend;
  memory(): MemoryInfo;
  /** Waits for all submitted work. */
  sync(): Promise<void>;
  /** Frees pooled buffers and destroys the device. Later use throws DeviceLostError. */
  destroy(): void;
}

interface Attempt {
  path: string;
  flags?: string[];
  featureLevel?: 'core' | 'compatibility';
  prepare?: () => void;
}

const SOFTWARE = /llvmpipe|lavapipe|swiftshader|softpipe|warp|basic render|cpu/i;

function nodeAttempts(choice: GpuBackendChoice): Attempt[] {
  const egl = () => setEnvIfUnset('EGL_PLATFORM', 'surfaceless');
  const swiftshaderIcd = '/usr/lib/chromium/vk_swiftshader_icd.json';
  const all: Record<string, Attempt> = {
    default: { path: 'dawn:default', flags: [] },
    vulkan: { path: 'dawn:vulkan', flags: ['backend=vulkan'] },
    d3d12: { path: 'dawn:d3d12', flags: ['backend=d3d12'] },
    metal: { path: 'dawn:metal', flags: ['backend=metal'] },
    opengl: { path: 'dawn:opengl (compatibility)', flags: ['backend=opengl'], featureLevel: 'compatibility', prepare: egl },
    opengles: { path: 'dawn:opengles (compatibility)', flags: ['backend=opengles'], featureLevel: 'compatibility', prepare: egl },
    swiftshader: {
      path: `dawn:vulkan on SwiftShader (${swiftshaderIcd})`,
      flags: ['backend=vulkan'],
      prepare: () => {
        if (!fileExists(swiftshaderIcd)) throw new Error(`${swiftshaderIcd} not found (apt-get install chromium)`);
        setEnvIfUnset('VK_ICD_FILENAMES', swiftshaderIcd);
      },
    },
  };
  if (choice !== 'auto') return [all[choice]];
  // dawn:default is Vulkan on Linux. Without a GPU device node no hardware adapter can answer,
  // and probing Vulkan first only prints native warnings (no libvulkan, or a software ICD that
  // lacks required features): take the software paths in their measured order, Vulkan last.
  if (linuxWithoutGpuNode()) return [all.opengl, all.opengles, all.default, all.swiftshader];
  return [all.default, all.opengl, all.opengles, all.swiftshader];
}

/** Device nodes of every Linux GPU driver a Vulkan adapter needs (DRM, NVIDIA, WSL's dxg). */
const GPU_NODES = ['/dev/dri', '/dev/nvidiactl', '/dev/nvidia0', '/dev/dxg'];

function linuxWithoutGpuNode(): boolean {
  const platform = (globalThis as { process?: { platform?: string } }).process?.platform;
  return platform === 'linux' && !anyExists(GPU_NODES);
}

/**
 * dawn.node's GPU objects, one per probe path, kept for the life of the process: dawn.node
 * crashes natively (segfault, std::system_error, glibc mutex assertions) when one is
 * garbage-collected while a device made from it is alive, so they must not depend on the caller
 * keeping the context (the default device, and every tensor, reach only the backend). Reusing
 * them also makes a second initGpu() skip adapter discovery.
 */
const instances = new Map<string, GPU>();

/** One Dawn notice written to stderr by native code, as one line without its C++ source path. */
interface NativeNotice {
  text: string;
  /** Known not to matter: Dawn clamping a limit fairgpu never reaches, EGL/Wayland probing. */
  harmless: boolean;
}

const HARMLESS_NATIVE = [/artificially reduced from \d+ to \d+ to fit/, /XDG_RUNTIME_DIR/];

function parseNativeNotices(captured: string | undefined): NativeNotice[] {
  if (!captured) return [];
  const blocks: string[][] = [];
  for (const line of captured.split(/\r?\n/)) {
    if (!line.trim()) continue;
    if (/^\s+at .*\(.*:\d+\)$/.test(line)) continue; // the C++ source location of a Dawn error
    if (/^\s/.test(line) && blocks.length) blocks[blocks.length - 1].push(line.trim());
    else blocks.push([line.trim()]);
  }
  return blocks.map((b) => {
    const text = b.join(' ').replace(/^(Warning|Error|Info|error):\s*/, '');
    return { text, harmless: HARMLESS_NATIVE.some((re) => re.test(text)) };
  });
}

function debugLog(message: string): void {
  if (debugEnabled()) console.error(`fairgpu: ${message}`);
}

async function requestFrom(gpu: GPU, attempt: Attempt, powerPreference: GPUPowerPreference | undefined): Promise<GPUAdapter | null> {
  const options: GPURequestAdapterOptions & { featureLevel?: string } = { powerPreference };
  if (attempt.featureLevel === 'compatibility') options.featureLevel = 'compatibility';
  return gpu.requestAdapter(options);
}

function describe(adapter: GPUAdapter, path: string, featureLevel: 'core' | 'compatibility'): AdapterDescription {
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
  const read = (k: keyof GPUAdapterInfo) => String((info as unknown as Record<string, unknown> | undefined)?.[k] ?? '');
  const d: AdapterDescription = {
    vendor: read('vendor'),
    architecture: read('architecture'),
    device: read('device'),
    description: read('description'),
    path,
    featureLevel,
    isSoftware: false,
  };
  const fallback =
    (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter === true ||
    (info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter === true;
  d.isSoftware = fallback || SOFTWARE.test(`${d.vendor} ${d.architecture} ${d.device} ${d.description}`);
  return d;
}

/** Limits worth raising above the (small) defaults, capped by what the adapter offers. */
const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupStorageSize',
  'maxStorageBuffersPerShaderStage',
  'maxUniformBufferBindingSize',
  'maxComputeWorkgroupsPerDimension',
  // Recorder.texels (software matmul): a 4096-texel-wide operand texture needs the core limit (8192), not compat's 4096.
  'maxTextureDimension2D',
] as const;

const OPTIONAL_FEATURES = ['shader-f16', 'timestamp-query', 'subgroups'] as GPUFeatureName[];

/**
 * Finds a WebGPU adapter, creates a device and returns a context for tensors.
 * @example
 * const gpu = await initGpu();
 * console.log(gpu.adapterInfo.description, gpu.adapterInfo.path);
 * const y = tensor([1, 2, 3]).mul(2);       // on the GPU: initGpu() made it the default device
 * console.log(await y.toArray());
 * gpu.destroy();
 */
export async function initGpu(options: InitGpuOptions = {}): Promise<GpuContext> {
  validateOptions(options);
  const choice = (options.backend ?? (env('FAIRGPU_BACKEND') as GpuBackendChoice | undefined) ?? 'auto') as GpuBackendChoice;
  if (!CHOICES.includes(choice)) {
    throw new InvalidArgumentError(
      'initGpu',
      'backend',
      `must be one of ${CHOICES.join(', ')}, got '${choice}' (from ${options.backend ? 'options' : 'FAIRGPU_BACKEND'})`,
    );
  }
  const tried: string[] = [];
  let found: { gpu: GPU; adapter: GPUAdapter; info: AdapterDescription; notices?: NativeNotice[] } | undefined;
  const navigatorGpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;

  if (choice === 'navigator' || (choice === 'auto' && navigatorGpu && !isNode())) {
    if (!navigatorGpu) tried.push('navigator.gpu: not available in this runtime');
    else {
      for (const featureLevel of ['core', 'compatibility'] as const) {
        const adapter = await requestFrom(navigatorGpu, { path: 'navigator.gpu', featureLevel }, options.powerPreference).catch((e) => {
          tried.push(`navigator.gpu (${featureLevel}): ${String(e)}`);
          return null;
        });
        if (adapter) {
          found = { gpu: navigatorGpu, adapter, info: describe(adapter, `navigator.gpu (${featureLevel})`, featureLevel) };
          break;
        }
        tried.push(`navigator.gpu (${featureLevel}): requestAdapter returned null`);
      }
    }
  } else if (isNode()) {
    // Mesa's EGL picks a window-system platform when none is set: Wayland prints `error:
    // XDG_RUNTIME_DIR is invalid or not set` (once per probe) and X11 fails without a display.
    // Dawn's OpenGL backend renders offscreen, so surfaceless is right; set before dawn loads.
    setEnvIfUnset('EGL_PLATFORM', 'surfaceless');
    let dawn: DawnModule | undefined;
    try {
      dawn = await loadDawn();
    } catch (e) {
      // Not installed: nothing else can give Node an adapter, and the fix is one command.
      if (e instanceof WebGpuPackageMissingError) throw e;
      tried.push(`dawn.node (npm package 'webgpu'): ${String((e as Error).message ?? e)}`);
    }
    let softwareCandidate: typeof found;
    for (const attempt of dawn ? nodeAttempts(choice) : []) {
      try {
        attempt.prepare?.();
        // Discovery runs synchronously inside create()/requestAdapter(); what Dawn prints there
        // becomes part of this attempt's report instead of raw lines on the user's terminal.
        const { result: pending, captured } = captureNativeStderr(() => {
          let gpu = instances.get(attempt.path);
          if (!gpu) {
            gpu = dawn!.create(attempt.flags ?? []);
            instances.set(attempt.path, gpu);
          }
          return { gpu, adapter: requestFrom(gpu, attempt, options.powerPreference) };
        });
        const { gpu } = pending;
        const notices = parseNativeNotices(captured);
        const adapter = await pending.adapter;
        const reasons = notices.filter((n) => !n.harmless).map((n) => n.text);
        if (!adapter) {
          tried.push(`${attempt.path}: requestAdapter returned null${reasons.length ? ` (${reasons.join('; ')})` : ''}`);
          continue;
        }
        const info = describe(adapter, attempt.path, attempt.featureLevel ?? 'core');
        // In auto mode a software Vulkan adapter is kept only as a fallback: llvmpipe through
        // OpenGL was measured faster here.
        if (choice === 'auto' && attempt.path === 'dawn:default' && info.isSoftware) {
          tried.push(`${attempt.path}: software adapter '${info.description || info.device}' kept as a fallback`);
          softwareCandidate = { gpu, adapter, info, notices };
          continue;
        }
        found = { gpu, adapter, info, notices };
        break;
      } catch (e) {
        tried.push(`${attempt.path}: ${String((e as Error).message ?? e)}`);
      }
    }
    found ??= softwareCandidate;
  } else {
    tried.push('navigator.gpu: not available in this runtime');
  }

  if (!found) {
    throw new NoAdapterError(
      tried,
      isNode()
        ? 'Fix: on Linux without a GPU install Mesa (apt-get install libegl-mesa0 libgl1-mesa-dri) and use FAIRGPU_BACKEND=opengl, or install chromium for SwiftShader (FAIRGPU_BACKEND=swiftshader); with a GPU, install its Vulkan driver.'
        : 'Fix: use a browser with WebGPU enabled (Chrome/Edge 113+, or --enable-unsafe-webgpu), or Deno with a Vulkan/Metal driver.',
    );
  }

  const { gpu, adapter, info } = found;
  for (const line of tried) debugLog(`initGpu: ${line}`);
  debugLog(`initGpu: using ${info.path}: ${info.description || info.device || info.vendor}`);
  // What dawn.node said about the adapter in use and is not known to be harmless: fairgpu's own
  // warning, one line each (FAIRGPU_DEBUG=1 shows Dawn's raw output instead).
  for (const n of found.notices ?? []) if (!n.harmless) console.warn(`fairgpu: initGpu: ${info.path}: ${n.text}`);
  const requiredLimits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) {
    const value = (adapter.limits as unknown as Record<string, number | undefined>)[name];
    if (typeof value === 'number') requiredLimits[name] = value;
  }
  const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'fairgpu' });
  const matmulChoice = options.matmulKernel ?? 'auto';
  // Tiling needs 256 invocations per workgroup; software adapters prefer register blocking.
  const matmulKernel =
    matmulChoice === 'auto' ? (info.isSoftware || device.limits.maxComputeInvocationsPerWorkgroup < 256 ? 'blocked' : 'tiled') : matmulChoice;
  const backend = new GpuBackend(device, {
    matmulKernel,
    isSoftware: info.isSoftware,
    maxPooledBytes: options.maxPooledBytes ?? 512 * 1024 * 1024,
    name: `webgpu:${info.description || info.device || info.vendor || 'adapter'} via ${info.path}`,
    retain: [gpu, adapter],
  });
  let destroyed = false;
  const context: GpuContext = {
    device,
    adapter,
    adapterInfo: info,
    limits: device.limits,
    features: new Set([...device.features]),
    backend,
    memory: () => backend.memory(),
    sync: () => backend.sync(),
    destroy: () => {
      if (destroyed) return;
      destroyed = true;
      backend.destroy();
      device.destroy();
      forgetBackend(backend);
    },
  };
  if (options.setDefault !== false) setDefaultDevice(context);
  return context;
}
