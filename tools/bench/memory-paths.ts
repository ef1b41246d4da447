import { initGpu, type GpuContext } from '@fairgpu/tensor';

/**
 * `EGL_PLATFORM=surfaceless npx tsx --conditions=@fairgpu/source tools/bench/memory-paths.ts [--json]`
 *
 * Cost per float of each way a WGSL compute kernel can read and write memory, on the adapter
 * initGpu() picks: storage buffers (f32, vec4, divergent or workgroup-uniform addresses), uniform
 * buffers (divergent or uniform index), textureLoad, workgroup memory, stores (f32, vec4,
 * textureStore) and the copy commands. Each kernel does K loads (or stores) per invocation with
 * little arithmetic, sums what it loaded and writes one value per invocation so nothing is removed.
 * Timing: best of 5 runs of 10 back-to-back dispatches (or copies) in one command buffer, each run
 * ended by `await device.queue.onSubmittedWorkDone()`; raw, nothing subtracted (the empty-kernel row
 * is the dispatch floor). ns/float = time per dispatch / floats moved per dispatch; GB/s = bytes
 * moved (4 per float, one direction) / time.
 */

const WG = 64;
const WORKGROUPS = 1024;
const N = WG * WORKGROUPS; // invocations per dispatch
const K = 16; // loads (stores) per invocation
const DISPATCHES = 10;
const RUNS = 5;
const COPY_BYTES = 32 * 2 ** 20;
// The WebGPU usage flags (dawn.node only defines GPUBufferUsage & co. when asked to pollute globalThis).
const Buf = { COPY_SRC: 0x04, COPY_DST: 0x08, UNIFORM: 0x40, STORAGE: 0x80 } as const;
const Tex = { COPY_SRC: 0x01, COPY_DST: 0x02, TEXTURE_BINDING: 0x04, STORAGE_BINDING: 0x08 } as const;

export interface MemoryPathRow {
  case: string;
  /** Nanoseconds per float moved; null for the empty kernel or a skipped case. */
  nsPerFloat: number | null;
  gbPerS: number | null;
  /** nsPerFloat / nsPerFloat of case 1 (storage f32, divergent). */
  ratio: number | null;
  usPerDispatch: number | null;
  floatsPerDispatch: number;
  note?: string;
}

interface KernelCase {
  name: string;
  wgsl: string;
  /** Floats loaded or stored per dispatch. */
  floats: number;
  /** Resources for binding i of group 0 (the pipeline's 'auto' layout). */
  resources: () => GPUBindingResource[];
  workgroups?: number;
  note?: string;
}

function log2(n: number): number {
  return Math.round(Math.log2(n));
}

function floorPow2(n: number): number {
  return 2 ** Math.floor(Math.log2(n));
}

async function withErrors<T>(device: GPUDevice, f: () => Promise<T> | T): Promise<T> {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('internal');
  device.pushErrorScope('validation');
  let value: T | undefined;
  let thrown: unknown;
  try {
    value = await f();
  } catch (e) {
    thrown = e;
  }
  const errors = [await device.popErrorScope(), await device.popErrorScope(), await device.popErrorScope()].filter((e) => e !== null);
  if (thrown !== undefined) throw thrown;
  if (errors.length) throw new Error(errors.map((e) => e!.message.split('\n')[0]).join('; '));
  return value as T;
}

/** A buffer filled with small floats (i mod 17) / 16. */
function dataBuffer(device: GPUDevice, bytes: number, usage: GPUBufferUsageFlags): GPUBuffer {
  const buffer = device.createBuffer({ size: bytes, usage, mappedAtCreation: true });
  const f = new Float32Array(buffer.getMappedRange());
  for (let i = 0; i < f.length; i++) f[i] = (i % 17) / 16;
  buffer.unmap();
  return buffer;
}

/** Best of RUNS runs of `encode` (DISPATCHES commands in one command buffer), ms per command. */
async function bestMs(device: GPUDevice, encode: (enc: GPUCommandEncoder) => void): Promise<number> {
  const once = async () => {
    const enc = device.createCommandEncoder();
    encode(enc);
    const cb = enc.finish();
    const t0 = performance.now();
    device.queue.submit([cb]);
    await device.queue.onSubmittedWorkDone();
    return (performance.now() - t0) / DISPATCHES;
  };
  await withErrors(device, once); // warm-up: compilation, first-touch of memory
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < RUNS; r++) best = Math.min(best, await once());
  return best;
}

async function timeKernel(device: GPUDevice, c: KernelCase): Promise<number> {
  const pipeline = await withErrors(device, () =>
    device.createComputePipelineAsync({ layout: 'auto', compute: { module: device.createShaderModule({ code: c.wgsl }), entryPoint: 'main' } }),
  );
  const resources = c.resources();
  const bindGroup =
    resources.length === 0
      ? null
      : await withErrors(device, () =>
          device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: resources.map((resource, binding) => ({ binding, resource })) }),
        );
  return bestMs(device, (enc) => {
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    if (bindGroup) pass.setBindGroup(0, bindGroup);
    for (let d = 0; d < DISPATCHES; d++) pass.dispatchWorkgroups(c.workgroups ?? WORKGROUPS);
    pass.end();
  });
}

function row(name: string, floats: number, ms: number | null, note?: string): MemoryPathRow {
  const nsPerFloat = ms === null || floats === 0 ? null : (ms * 1e6) / floats;
  return {
    case: name,
    nsPerFloat,
    gbPerS: ms === null || floats === 0 ? null : (floats * 4) / (ms * 1e6),
    ratio: null,
    usPerDispatch: ms === null ? null : ms * 1e3,
    floatsPerDispatch: floats,
    ...(note ? { note } : {}),
  };
}

export async function runMemoryPaths(gpu: GpuContext, log: (line: string) => void = () => {}): Promise<MemoryPathRow[]> {
  const device = gpu.device;
  const lim = device.limits;
  const rows: MemoryPathRow[] = [];
  const created: { destroy(): void }[] = [];
  const keep = <T extends { destroy(): void }>(x: T): T => {
    created.push(x);
    return x;
  };
  const S = Buf.STORAGE;
  const out = keep(device.createBuffer({ size: N * 4, usage: S | Buf.COPY_SRC }));
  const src1 = keep(dataBuffer(device, N * K * 4, S));
  const src4 = keep(dataBuffer(device, N * K * 16, S));
  const out4 = keep(device.createBuffer({ size: N * K * 16, usage: S }));

  // Uniform array: a power of two of vec4s within maxUniformBufferBindingSize (at most 64 KiB).
  const uniVec4 = floorPow2(Math.min(lim.maxUniformBufferBindingSize, 65536) / 16);
  const uni = keep(dataBuffer(device, uniVec4 * 16, Buf.UNIFORM));
  // Texture: a power-of-two square within maxTextureDimension2D, at most 1024² (16 MiB), wrapped.
  const side = floorPow2(Math.min(lim.maxTextureDimension2D, 1024));
  const texels = side * side;
  const bind = (buffer: GPUBuffer): GPUBindingResource => ({ buffer });

  const storageHeader = (elem: string) => `
@group(0) @binding(0) var<storage, read> src: array<${elem}>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;`;
  const cases: KernelCase[] = [
    {
      name: '1 storage load f32, divergent',
      floats: N * K,
      resources: () => [bind(src1), bind(out)],
      wgsl: `${storageHeader('f32')}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  var s = 0.0;
  for (var k = 0u; k < ${K}u; k++) { s += src[k * ${N}u + g.x]; }
  out[g.x] = s;
}`,
    },
    {
      name: '2 storage load vec4<f32>',
      floats: N * K * 4,
      resources: () => [bind(src4), bind(out)],
      wgsl: `${storageHeader('vec4<f32>')}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  var s = vec4<f32>(0.0);
  for (var k = 0u; k < ${K}u; k++) { s += src[k * ${N}u + g.x]; }
  out[g.x] = s.x + s.y + s.z + s.w;
}`,
    },
    {
      name: '3 storage load f32, workgroup-uniform',
      floats: N * K,
      resources: () => [bind(src1), bind(out)],
      wgsl: `${storageHeader('f32')}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(workgroup_id) w: vec3<u32>) {
  var s = 0.0;
  for (var k = 0u; k < ${K}u; k++) { s += src[k * ${WORKGROUPS}u + w.x]; }
  out[g.x] = s;
}`,
    },
    {
      name: `4 uniform load vec4, divergent (${uniVec4} vec4)`,
      floats: N * K * 4,
      resources: () => [bind(uni), bind(out)],
      wgsl: `
struct U { v: array<vec4<f32>, ${uniVec4}> }
@group(0) @binding(0) var<uniform> u: U;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  var s = vec4<f32>(0.0);
  for (var k = 0u; k < ${K}u; k++) { s += u.v[(g.x + k * ${WG}u) & ${uniVec4 - 1}u]; }
  out[g.x] = s.x + s.y + s.z + s.w;
}`,
    },
    {
      name: `5 uniform load vec4, workgroup-uniform`,
      floats: N * K * 4,
      resources: () => [bind(uni), bind(out)],
      wgsl: `
struct U { v: array<vec4<f32>, ${uniVec4}> }
@group(0) @binding(0) var<uniform> u: U;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(workgroup_id) w: vec3<u32>) {
  var s = vec4<f32>(0.0);
  for (var k = 0u; k < ${K}u; k++) { s += u.v[(w.x + k * ${WG}u) & ${uniVec4 - 1}u]; }
  out[g.x] = s.x + s.y + s.z + s.w;
}`,
    },
    {
      name: `6 textureLoad rgba32float (${side}²), divergent`,
      floats: N * K * 4,
      resources: () => {
        const tex = keep(device.createTexture({ size: [side, side], format: 'rgba32float', usage: Tex.TEXTURE_BINDING | Tex.COPY_DST }));
        const data = new Float32Array(texels * 4);
        for (let i = 0; i < data.length; i++) data[i] = (i % 17) / 16;
        device.queue.writeTexture({ texture: tex }, data, { bytesPerRow: side * 16, rowsPerImage: side }, [side, side]);
        return [tex.createView(), bind(out)];
      },
      wgsl: `
@group(0) @binding(0) var t: texture_2d<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  var s = vec4<f32>(0.0);
  for (var k = 0u; k < ${K}u; k++) {
    let i = (k * ${N}u + g.x) & ${texels - 1}u;
    s += textureLoad(t, vec2<u32>(i & ${side - 1}u, i >> ${log2(side)}u), 0);
  }
  out[g.x] = s.x + s.y + s.z + s.w;
}`,
    },
    {
      name: '7 workgroup memory load vec4',
      floats: N * K * 4,
      note: `fill ${WG} vec4 + barrier included`,
      resources: () => [bind(src4), bind(out)],
      wgsl: `${storageHeader('vec4<f32>')}
var<workgroup> sh: array<vec4<f32>, ${WG}>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(local_invocation_index) l: u32) {
  sh[l] = src[g.x];
  workgroupBarrier();
  var s = vec4<f32>(0.0);
  for (var k = 0u; k < ${K}u; k++) { s += sh[(l + k * 5u) & ${WG - 1}u]; }
  out[g.x] = s.x + s.y + s.z + s.w;
}`,
    },
    {
      name: '8a storage store f32',
      floats: N * K,
      resources: () => [bind(out4)],
      wgsl: `
@group(0) @binding(0) var<storage, read_write> dst: array<f32>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  for (var k = 0u; k < ${K}u; k++) { dst[k * ${N}u + g.x] = f32(g.x + k); }
}`,
    },
    {
      name: '8b storage store vec4<f32>',
      floats: N * K * 4,
      resources: () => [bind(out4)],
      wgsl: `
@group(0) @binding(0) var<storage, read_write> dst: array<vec4<f32>>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  for (var k = 0u; k < ${K}u; k++) { dst[k * ${N}u + g.x] = vec4<f32>(f32(g.x + k)); }
}`,
    },
    {
      name: `9 textureStore rgba32float (${side}²)`,
      floats: N * K * 4,
      resources: () => {
        const tex = keep(device.createTexture({ size: [side, side], format: 'rgba32float', usage: Tex.STORAGE_BINDING }));
        return [tex.createView()];
      },
      wgsl: `
@group(0) @binding(0) var t: texture_storage_2d<rgba32float, write>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  for (var k = 0u; k < ${K}u; k++) {
    let i = (k * ${N}u + g.x) & ${texels - 1}u;
    textureStore(t, vec2<u32>(i & ${side - 1}u, i >> ${log2(side)}u), vec4<f32>(f32(g.x + k)));
  }
}`,
    },
  ];

  try {
    const empty = await timeKernel(device, { name: 'empty', floats: 0, resources: () => [], wgsl: `@compute @workgroup_size(${WG}) fn main() {}` });
    rows.push(row(`0 empty kernel (${WORKGROUPS} workgroups × ${WG})`, 0, empty, 'dispatch floor'));
    log(`empty: ${(empty * 1e3).toFixed(1)} µs/dispatch`);
    for (const c of cases) {
      try {
        const ms = await timeKernel(device, c);
        rows.push(row(c.name, c.floats, ms, c.note));
        log(`${c.name}: ${ms.toFixed(3)} ms/dispatch`);
      } catch (e) {
        const reason = (e as Error).message.split('\n')[0];
        rows.push(row(c.name, c.floats, null, `skipped: ${reason}`));
        log(`${c.name}: skipped: ${reason}`);
      }
    }

    // Copies: COPY_BYTES (a 32 MiB buffer) through an rgba32float texture, and buffer to buffer.
    const copyFloats = COPY_BYTES / 4;
    const width = Math.min(lim.maxTextureDimension2D, 2048);
    const height = Math.ceil(COPY_BYTES / 16 / width);
    const bytesPerRow = width * 16;
    const tooBig = [
      COPY_BYTES > lim.maxBufferSize ? `maxBufferSize ${lim.maxBufferSize}` : '',
      height > lim.maxTextureDimension2D ? `${width}×${height} texture over maxTextureDimension2D ${lim.maxTextureDimension2D}` : '',
      bytesPerRow % 256 ? `bytesPerRow ${bytesPerRow} not a multiple of 256` : '',
    ].filter(Boolean);
    if (tooBig.length) {
      for (const name of ['10a copyBufferToTexture', '10b copyTextureToBuffer']) rows.push(row(name, copyFloats, null, `skipped: ${tooBig.join(', ')}`));
    } else {
      try {
        const buf = keep(dataBuffer(device, width * height * 16, Buf.COPY_SRC | Buf.COPY_DST));
        const tex = keep(
          await withErrors(device, () => device.createTexture({ size: [width, height], format: 'rgba32float', usage: Tex.COPY_SRC | Tex.COPY_DST })),
        );
        const floats = width * height * 4;
        const layout = { buffer: buf, bytesPerRow, rowsPerImage: height };
        const toTex = await bestMs(device, (enc) => {
          for (let d = 0; d < DISPATCHES; d++) enc.copyBufferToTexture(layout, { texture: tex }, [width, height]);
        });
        rows.push(row(`10a copyBufferToTexture ${((floats * 4) / 2 ** 20).toFixed(0)} MiB (${width}×${height})`, floats, toTex));
        const toBuf = await bestMs(device, (enc) => {
          for (let d = 0; d < DISPATCHES; d++) enc.copyTextureToBuffer({ texture: tex }, layout, [width, height]);
        });
        rows.push(row(`10b copyTextureToBuffer ${((floats * 4) / 2 ** 20).toFixed(0)} MiB`, floats, toBuf));
        log(`copies through texture: ${toTex.toFixed(2)} / ${toBuf.toFixed(2)} ms`);
      } catch (e) {
        rows.push(row('10 buffer↔texture copies', copyFloats, null, `skipped: ${(e as Error).message.split('\n')[0]}`));
      }
    }
    try {
      const a = keep(dataBuffer(device, COPY_BYTES, Buf.COPY_SRC));
      const b = keep(device.createBuffer({ size: COPY_BYTES, usage: Buf.COPY_DST }));
      const ms = await bestMs(device, (enc) => {
        for (let d = 0; d < DISPATCHES; d++) enc.copyBufferToBuffer(a, 0, b, 0, COPY_BYTES);
      });
      rows.push(row(`11 copyBufferToBuffer ${COPY_BYTES / 2 ** 20} MiB`, copyFloats, ms));
    } catch (e) {
      rows.push(row('11 copyBufferToBuffer', copyFloats, null, `skipped: ${(e as Error).message.split('\n')[0]}`));
    }
  } finally {
    for (const x of created) x.destroy();
  }
  const base = rows.find((r) => r.case.startsWith('1 '))?.nsPerFloat ?? null;
  for (const r of rows) if (r.nsPerFloat !== null && base) r.ratio = r.nsPerFloat / base;
  return rows;
}

function fmt(x: number | null, digits: number): string {
  return x === null ? '—' : x.toFixed(digits);
}

export function formatMemoryPathRows(rows: readonly MemoryPathRow[]): string[] {
  const lines: string[][] = [['case', 'ns/float', 'GB/s', '× case 1', 'µs/dispatch', 'note']];
  for (const r of rows) {
    lines.push([r.case, fmt(r.nsPerFloat, 3), fmt(r.gbPerS, 2), r.ratio === null ? '—' : `${r.ratio.toFixed(2)}×`, fmt(r.usPerDispatch, 1), r.note ?? '']);
  }
  const widths = lines[0].map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  return lines.map((l) =>
    l
      .map((c, i) => (i === 0 || i === 5 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd(),
  );
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const gpu = await initGpu();
  try {
    const info = gpu.adapterInfo;
    const adapter = `${info.description || info.device || info.vendor || 'adapter'} via ${info.path}${info.isSoftware ? ' (software)' : ''}`;
    const l = gpu.device.limits;
    const limits = `maxUniformBufferBindingSize ${l.maxUniformBufferBindingSize}, maxTextureDimension2D ${l.maxTextureDimension2D}, maxStorageBufferBindingSize ${l.maxStorageBufferBindingSize}`;
    if (json) console.log(JSON.stringify({ adapter, limits, invocations: N, perInvocation: K, dispatches: DISPATCHES, runs: RUNS }));
    else {
      console.log(`adapter: ${adapter}`);
      console.log(`limits: ${limits}`);
      console.log(`${N} invocations × ${K} loads/stores, best of ${RUNS} runs of ${DISPATCHES} dispatches per command buffer`);
    }
    const rows = await runMemoryPaths(gpu, json ? () => {} : (line) => console.error(line));
    if (json) for (const r of rows) console.log(JSON.stringify(r));
    else for (const line of formatMemoryPathRows(rows)) console.log(line);
  } finally {
    gpu.destroy();
  }
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
