/**
 * The cross-runtime suite: one runtime-neutral program run as-is by Node (run-node.mjs, dawn.node),
 * Deno (run-deno.mjs, its built-in WebGPU) and headless Chromium (run-browser.mjs, bundled by
 * esbuild). It imports the packages by name (`@fairgpu/losses`, …): each runner resolves those
 * names to the same TypeScript sources (Node: the `@fairgpu/source` export condition; Deno: an
 * import map built from packages/<pkg>/deno.json; esbuild: the same condition), so the run proves
 * the sources load in that runtime without npm.
 *
 * Checks, every one against a value that does not come from the code under test:
 *   tensor    create + readback, elementwise, matmul vs float64, two backward passes vs closed forms
 *   losses    one vector per family (ε-SupInfoNCE, SupCon, FairKL, EnD, L^exp): loss and gradient
 *             vs float64 PyTorch (fixtures.ts), through the fused @fairgpu/kernels statistics
 *   nn        SGD on a small SimpleConvNet: the loss decreases, and the first step's loss and
 *             gradient norm match the float64 CPU backend run on the same weights in the same run
 *   metrics   Grad-CAM on the GPU vs the float64 CPU backend; heatmapMass and groupAccuracy vs
 *             values worked out by hand
 *   datasets  colourBiasMnist on synthetic digits: every colour assignment the protocol fixes
 *   memory    nothing left allocated, no uncaptured GPU errors
 * Each check runs in its own scope; a failing check does not stop the others. While the suite runs
 * a dispatch listener counts the primitives and custom ops dispatched on the GPU (`ops`).
 */
import {
  initGpu,
  tensor,
  randn,
  matmul,
  memory,
  scope,
  Rng,
  NoAdapterError,
  crossEntropy,
  type Backend,
  type Device,
  type GpuContext,
  type InitGpuOptions,
  type MemoryInfo,
  type Tensor,
} from '@fairgpu/tensor';
import { lossRegistry, type LossBatch } from '@fairgpu/losses';
import { SGD, SimpleConvNet } from '@fairgpu/nn';
import { gradCam, groupAccuracy, heatmapMass, argmaxRows } from '@fairgpu/metrics';
import { colourBiasMnist, type MnistSource } from '@fairgpu/datasets';
// Not part of the public API: the off-by-default hook the op × runtime table is built from.
import { setDispatchListener } from '../../packages/tensor/src/dispatch.ts';
import { LOSS_VECTORS, type LossVector } from './fixtures.ts';

export interface RuntimeCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface SuiteResult {
  /** True when an adapter was found and every check passed. */
  ok: boolean;
  /** One line naming the adapter (null when none was found). */
  adapter: string | null;
  adapterInfo: GpuContext['adapterInfo'] | null;
  /** True when initGpu() found no adapter at all (the runners skip or fail on this). */
  noAdapter: boolean;
  /** Why the suite could not run (no adapter, init failure). */
  reason?: string;
  checks: RuntimeCheck[];
  /** Dispatches on the GPU per primitive (custom ops as `custom:<name>`). */
  ops: Record<string, number>;
  ms: number;
}

export interface SuiteOptions {
  /** Where progress lines go (default console.log). */
  log?: (line: string) => void;
  init?: InitGpuOptions;
  /** Only run checks whose name contains one of these (default: all). */
  only?: readonly string[];
}

const now = (): number => globalThis.performance?.now?.() ?? Date.now();
const RTOL = 1e-4;
const ATOL = 1e-5;

interface Outcome {
  ok: boolean;
  detail: string;
}

/** Largest violation of |got - want| <= atol + rtol |want|, or a length/NaN problem. */
function compare(got: ArrayLike<number>, want: ArrayLike<number>, rtol = RTOL, atol = ATOL): Outcome {
  if (got.length !== want.length) return { ok: false, detail: `length ${got.length}, expected ${want.length}` };
  let worst = 0;
  let worstAt = -1;
  let maxAbs = 0;
  for (let i = 0; i < want.length; i++) {
    if (!Number.isFinite(got[i])) return { ok: false, detail: `element ${i} is ${got[i]}, expected ${want[i]}` };
    const err = Math.abs(got[i] - want[i]);
    maxAbs = Math.max(maxAbs, err);
    const ratio = err / (atol + rtol * Math.abs(want[i]));
    if (ratio > worst) {
      worst = ratio;
      worstAt = i;
    }
  }
  if (worst > 1) return { ok: false, detail: `element ${worstAt} is ${got[worstAt]}, expected ${want[worstAt]} (max abs error ${maxAbs.toExponential(2)})` };
  return { ok: true, detail: `max abs error ${maxAbs.toExponential(2)}` };
}

const fmt = (a: ArrayLike<number>): string => `[${Array.from(a, (v) => +v.toPrecision(6)).join(', ')}]`;

export function describeAdapter(info: GpuContext['adapterInfo']): string {
  // Browsers leave description/device empty and give vendor + architecture (e.g. google swiftshader).
  const name = info.description || info.device || [info.vendor, info.architecture].filter(Boolean).join(' ') || 'unnamed adapter';
  const extra = [info.path, info.isSoftware ? 'software' : 'hardware'];
  if (info.vendor && !name.includes(info.vendor)) extra.push(`vendor ${info.vendor}`);
  if (info.architecture && !name.includes(info.architecture)) extra.push(`arch ${info.architecture}`);
  return `${name} (${extra.join(', ')})`;
}

/** Float64 row-major matmul. */
function matmul64(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
      out[i * n + j] = s;
    }
  }
  return out;
}

/** What randn(shape, { seed }) uploads: the same generator, rounded to f32. */
function hostRandn(size: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const out = new Float64Array(size);
  for (let i = 0; i < size; i++) out[i] = Math.fround(rng.normal());
  return out;
}

// ---- losses ----

/** The spec's tolerances: |loss − exp| ≤ 1e-4·max(1, |exp|), max|g − g_exp| ≤ 1e-4·max(1, max|g_exp|). */
function lossAgainstVector(v: LossVector, loss: number, grad: ArrayLike<number>): Outcome {
  const want = v.expectedGrad.flat();
  const lossTol = 1e-4 * Math.max(1, Math.abs(v.expectedLoss));
  let gradErr = grad.length === want.length ? 0 : Infinity;
  let gradMax = 0;
  for (let i = 0; i < want.length; i++) {
    gradErr = Math.max(gradErr, Number.isFinite(grad[i]) ? Math.abs(grad[i] - want[i]) : Infinity);
    gradMax = Math.max(gradMax, Math.abs(want[i]));
  }
  const gradTol = 1e-4 * Math.max(1, gradMax);
  const lossErr = Number.isFinite(loss) ? Math.abs(loss - v.expectedLoss) : Infinity;
  return {
    ok: lossErr <= lossTol && gradErr <= gradTol,
    detail: `loss ${loss} vs ${v.expectedLoss} (err ${lossErr.toExponential(2)}, tol ${lossTol.toExponential(1)}), max grad err ${gradErr.toExponential(2)} (tol ${gradTol.toExponential(1)})`,
  };
}

/** The vector's loss through lossRegistry (snake_case params → camelCase options, as packages/losses/test/vectors.ts). */
function lossOf(v: LossVector): (x: Tensor) => Tensor {
  const p = v.params;
  const batch: LossBatch = {
    ...(v.labels ? { labels: v.labels } : {}),
    ...(v.biasLabels ? { biasLabels: v.biasLabels } : {}),
    ...(v.targets ? { targets: v.targets } : {}),
    ...(p.n_views !== undefined ? { nViews: p.n_views as number } : {}),
  };
  const common = { variant: 'released' as const };
  const temp = { temperature: p.temperature as number, ...(p.base_temperature !== undefined ? { baseTemperature: p.base_temperature as number } : {}) };
  const R = lossRegistry;
  switch (v.loss) {
    case 'eps_supinfonce':
      return (x) => R['eps-supinfonce'](x, batch, { ...common, ...temp, epsilon: p.epsilon, logEps: p.log_eps });
    case 'supcon':
      return (x) => R.supcon(x, batch, { ...common, ...temp });
    case 'fairkl':
      return (x) => R.fairkl(x, batch, { ...common, temperature: p.temperature, kld: p.kld }).mul(p.lambd as number);
    case 'end':
      return (x) => R.end(x, batch, { ...common, alpha: p.alpha, beta: p.beta });
    case 'kernel_expw':
      return (x) => R['l-exp'](x, batch, { ...common, ...temp, kernel: p.kernel, sigma: p.sigma });
  }
}

// ---- nn ----

/** 3×8×8 images: a bar, vertical (class 0) or horizontal (class 1), in one channel, over noise. */
function bars(n: number, seed: number): { images: Float32Array; labels: Int32Array } {
  const rng = new Rng(seed);
  const side = 8;
  const images = new Float32Array(n * 3 * side * side);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    labels[i] = label;
    const channel = rng.int(3);
    const at = rng.int(side);
    const base = i * 3 * side * side;
    for (let p = 0; p < 3 * side * side; p++) images[base + p] = 0.3 * rng.normal();
    for (let k = 2; k < 6; k++) images[base + channel * side * side + (label ? at * side + k : k * side + at)] += 1.5;
  }
  return { images, labels };
}

const netOptions = { kernelSize: 3, channels: [4, 8, 8, 8], strides: [1, 2, 1, 1], numClasses: 2 } as const;

interface StepRecord {
  losses: number[];
  gradNorm: number;
}

/** `steps` SGD steps of a SimpleConvNet made from `seed` on `device`: every loss, and the gradient norm of the first step. */
async function trainNet(device: Device, seed: number, steps: number, x: { images: Float32Array; labels: Int32Array }): Promise<StepRecord> {
  const net = new SimpleConvNet({ device, rng: new Rng(seed), ...netOptions });
  const opt = new SGD(net.parameters(), { lr: 0.1 });
  const n = x.labels.length;
  const images = tensor(x.images, [n, 3, 8, 8], { device });
  const labels = tensor(x.labels, [n], { device, dtype: 'i32' });
  const losses: number[] = [];
  let gradNorm = Number.NaN;
  try {
    for (let s = 0; s < steps; s++) {
      await scope(async () => {
        opt.zeroGrad();
        const loss = crossEntropy(net.forward(images), labels);
        await loss.backward();
        losses.push(await loss.item());
        if (s === 0) {
          let sq = 0;
          for (const p of net.parameters()) if (p.grad) sq += await p.grad.square().sum().item();
          gradNorm = Math.sqrt(sq);
        }
        opt.step();
      });
    }
  } finally {
    images.dispose();
    labels.dispose();
    opt.dispose();
    net.dispose();
  }
  return { losses, gradNorm };
}

// ---- datasets ----

/** `perClass` synthetic 28×28 digits per class; image i lights pixels of column 3 + (i mod 22) and row i mod 28. */
function syntheticMnist(perClass: number): MnistSource {
  const count = 10 * perClass;
  const pixels = new Uint8Array(count * 28 * 28);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = i % 10;
    const col = 3 + (i % 22);
    const row = i % 28;
    for (let r = 0; r < 28; r++) pixels[i * 784 + r * 28 + col] = 200;
    for (let c = 0; c < 28; c++) pixels[i * 784 + row * 28 + c] = 90;
  }
  return { count, rows: 28, cols: 28, pixels, labels };
}

/** Bahng et al.'s ten background colours (ICML 2020), indexed by bias class, copied from the paper's code. */
const BAHNG_COLOURS: readonly (readonly [number, number, number])[] = [
  [255, 0, 0],
  [0, 255, 0],
  [0, 0, 255],
  [225, 225, 0],
  [225, 0, 225],
  [0, 255, 255],
  [255, 128, 0],
  [255, 0, 128],
  [128, 0, 255],
  [128, 128, 128],
];

/** Every pixel of every coloured image: digit pixels white, background the bias colour. */
function checkColouring(source: MnistSource, set: ReturnType<typeof colourBiasMnist>): string[] {
  const problems: string[] = [];
  const seen = new Set<number>();
  for (let j = 0; j < set.length && problems.length < 5; j++) {
    const s = set.sourceIndices[j];
    seen.add(s);
    if (set.labels[j] !== source.labels[s]) problems.push(`image ${j}: label ${set.labels[j]}, source ${s} is a ${source.labels[s]}`);
    const [r, g, b] = BAHNG_COLOURS[set.biasLabels[j]];
    for (let p = 0; p < 784; p++) {
      const want = source.pixels[s * 784 + p] !== 0 ? [255, 255, 255] : [r, g, b];
      const q = (j * 784 + p) * 3;
      if (set.images[q] !== want[0] || set.images[q + 1] !== want[1] || set.images[q + 2] !== want[2]) {
        problems.push(`image ${j} pixel ${p}: (${set.images[q]}, ${set.images[q + 1]}, ${set.images[q + 2]}), expected (${want.join(', ')})`);
        break;
      }
    }
  }
  if (seen.size !== source.count) problems.push(`${seen.size} distinct source images of ${source.count}`);
  return problems;
}

export async function runSuite(options: SuiteOptions = {}): Promise<SuiteResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const t0 = now();
  const checks: RuntimeCheck[] = [];
  const ops: Record<string, number> = {};
  const result = (extra: Partial<SuiteResult>): SuiteResult => ({
    ok: false,
    adapter: null,
    adapterInfo: null,
    noAdapter: false,
    checks,
    ops,
    ms: Math.round(now() - t0),
    ...extra,
  });

  let gpu: GpuContext;
  try {
    gpu = await initGpu(options.init);
  } catch (e) {
    const message = String((e as Error)?.message ?? e);
    const noAdapter = e instanceof NoAdapterError;
    log(`suite: ${noAdapter ? 'no WebGPU adapter' : 'initGpu failed'}: ${message}`);
    return result({ noAdapter, reason: message });
  }
  const adapter = describeAdapter(gpu.adapterInfo);
  log(`suite: adapter ${adapter}`);

  const gpuErrors: string[] = [];
  gpu.device.addEventListener?.('uncapturederror', (event) => {
    gpuErrors.push(String((event as GPUUncapturedErrorEvent).error?.message ?? event));
  });
  const onGpu = (backend: Backend) => backend === gpu.backend;
  const previousListener = setDispatchListener((op, backend) => {
    if (onGpu(backend)) ops[op] = (ops[op] ?? 0) + 1;
  });

  const check = async (name: string, body: () => Promise<Outcome>): Promise<void> => {
    if (options.only && !options.only.some((o) => name.includes(o))) return;
    const start = now();
    let outcome: Outcome;
    try {
      // Each check runs in its own scope so a failing one cannot leak into the memory check.
      outcome = await scope(body);
    } catch (e) {
      outcome = { ok: false, detail: `threw ${(e as Error)?.name ?? 'Error'}: ${String((e as Error)?.message ?? e)}` };
    }
    const entry = { name, ok: outcome.ok, detail: `${outcome.detail} (${Math.round(now() - start)} ms)` };
    checks.push(entry);
    log(`suite: ${entry.ok ? 'ok  ' : 'FAIL'} ${name}: ${entry.detail}`);
  };

  const baseline: MemoryInfo = memory();

  try {
    // ---- tensor ----
    await check('tensor: create + readback', async () => {
      const x = tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]);
      const i = tensor(new Int32Array([7, -8, 9]), [3], { dtype: 'i32' });
      const [xv, iv] = await Promise.all([x.toArray(), i.toArray()]);
      const ok =
        x.shape.join('x') === '2x3' && xv instanceof Float32Array && fmt(xv) === '[1, 2, 3, 4, 5, 6]' && iv instanceof Int32Array && fmt(iv) === '[7, -8, 9]';
      return { ok, detail: `f32 ${fmt(xv)} shape [${x.shape.join(', ')}], i32 ${fmt(iv)}` };
    });

    await check('tensor: elementwise (broadcast sub, mul, exp)', async () => {
      const x = tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]);
      const y = x
        .sub(tensor([1, 2, 3]))
        .mul(0.5)
        .exp();
      const want = [0, 0, 0, 3, 3, 3].map((v) => Math.exp(0.5 * v));
      const got = await y.toArray();
      const c = compare(got, want);
      return { ok: c.ok, detail: `exp(0.5 (x - [1, 2, 3])) = ${fmt(got)}, ${c.detail}` };
    });

    await check('tensor: matmul 37x53 @ 53x29 vs float64', async () => {
      const [m, k, n] = [37, 53, 29];
      const c = matmul(randn([m, k], { seed: 11 }), randn([k, n], { seed: 12 }));
      const want = matmul64(hostRandn(m * k, 11), hostRandn(k * n, 12), m, k, n);
      const r = compare(await c.toArray(), want);
      return { ok: r.ok && c.shape.join('x') === `${m}x${n}`, detail: `shape [${c.shape.join(', ')}], ${r.detail} (rtol ${RTOL}, atol ${ATOL})` };
    });

    await check('tensor: backward of sum(a @ a)', async () => {
      const a = tensor(
        [
          [1, 2],
          [3, 4],
        ],
        undefined,
        { requiresGrad: true },
      );
      const loss = a.matmul(a).sum();
      await loss.backward();
      if (!a.grad) return { ok: false, detail: 'a.grad is null after backward()' };
      const [gv, lv] = await Promise.all([a.grad.toArray(), loss.toArray()]);
      // d sum(A A) / dA = J Aᵀ + Aᵀ J (J all ones) = [[3, 7], [3, 7]] + [[4, 4], [6, 6]] = [[7, 11], [9, 13]].
      const ok = compare(gv, [7, 11, 9, 13]).ok && compare(lv, [54]).ok;
      return { ok, detail: `sum = ${fmt(lv)} (want [54]), a.grad = ${fmt(gv)} (want [7, 11, 9, 13])` };
    });

    await check('tensor: backward of sum(logsumexp(x)) + sum(softmax(x) * w)', async () => {
      const rows = [
        [1, 2, 3],
        [0.5, -1, 0],
      ];
      const weights = [
        [1, -1, 2],
        [0, 3, -2],
      ];
      const x = tensor(rows, undefined, { requiresGrad: true });
      const loss = x
        .logsumexp(-1)
        .sum()
        .add(x.softmax(-1).mul(tensor(weights)).sum());
      await loss.backward();
      if (!x.grad) return { ok: false, detail: 'x.grad is null after backward()' };
      // By hand: with s = softmax(row), d logsumexp/dx = s and d <s, w>/dx = s * (w - <s, w>).
      let wantLoss = 0;
      const wantGrad: number[] = [];
      rows.forEach((row, r) => {
        const mx = Math.max(...row);
        const e = row.map((v) => Math.exp(v - mx));
        const z = e.reduce((p, q) => p + q, 0);
        const s = e.map((v) => v / z);
        const sw = s.reduce((p, v, j) => p + v * weights[r][j], 0);
        wantLoss += mx + Math.log(z) + sw;
        s.forEach((v, j) => wantGrad.push(v + v * (weights[r][j] - sw)));
      });
      const [gv, lv] = await Promise.all([x.grad.toArray(), loss.toArray()]);
      const g = compare(gv, wantGrad);
      const l = compare(lv, [wantLoss]);
      return { ok: g.ok && l.ok, detail: `loss ${fmt(lv)} (want ${+wantLoss.toPrecision(6)}), x.grad ${g.detail}` };
    });

    // ---- losses: one vector per family against float64 PyTorch ----
    for (const v of LOSS_VECTORS) {
      await check(`losses: ${v.loss} forward + backward vs float64 PyTorch (${v.file})`, async () => {
        const x = tensor(v.features.flat(), [v.features.length, v.features[0].length], { requiresGrad: true });
        const loss = lossOf(v)(x);
        const value = await loss.item();
        await loss.backward();
        if (!x.grad) return { ok: false, detail: 'x.grad is null after backward()' };
        return lossAgainstVector(v, value, await x.grad.toArray());
      });
    }

    // ---- nn: SGD on a SimpleConvNet, GPU vs the float64 CPU backend ----
    await check('nn: SimpleConvNet SGD steps, loss decreases; first step vs float64 CPU', async () => {
      const data = bars(8, 21);
      const steps = 4;
      const onDevice = await trainNet(gpu, 5, steps, data);
      const reference = await trainNet('cpu', 5, 1, data);
      const [l0, g0] = [reference.losses[0], reference.gradNorm];
      const lossOk = Math.abs(onDevice.losses[0] - l0) <= 1e-3 * Math.abs(l0) + 1e-5;
      const gradOk = Math.abs(onDevice.gradNorm - g0) <= 2e-3 * Math.abs(g0) + 1e-5;
      const decreased = onDevice.losses[steps - 1] < onDevice.losses[0];
      return {
        ok: lossOk && gradOk && decreased && onDevice.losses.every(Number.isFinite),
        detail:
          `losses ${fmt(onDevice.losses)}${decreased ? '' : ' (did not decrease)'}; step 1 loss ${onDevice.losses[0]} vs CPU ${l0}${lossOk ? '' : ' (off)'}, ` +
          `grad norm ${onDevice.gradNorm} vs CPU ${g0}${gradOk ? '' : ' (off)'}`,
      };
    });

    // ---- metrics ----
    await check('metrics: Grad-CAM on the GPU vs float64 CPU, heatmapMass', async () => {
      const data = bars(4, 33);
      const maps: Float32Array[] = [];
      const masses: (number | null)[][] = [];
      // The vertical bar's pixels of image 0 (class 0): where a bar detector should look.
      const mask = new Uint8Array(64).fill(1, 0, 32);
      for (const device of [gpu, 'cpu'] as const) {
        const net = new SimpleConvNet({ device, rng: new Rng(9), ...netOptions }).eval();
        try {
          const x = tensor(data.images, [4, 3, 8, 8], { device });
          const m = await gradCam(net, x, { layer: 'extracter', targets: data.labels });
          maps.push((await m.toArray()) as Float32Array);
          masses.push(await heatmapMass(m, mask));
        } finally {
          net.dispose();
        }
      }
      const c = compare(maps[0], maps[1], 2e-3, 2e-3);
      // An all-zero map has no mass (null); it must be null on both devices.
      const massOk = masses[0].every((m, i) => {
        const r = masses[1][i];
        return m === null || r === null ? m === r : Math.abs(m - r) <= 2e-3 + 2e-3 * Math.abs(r);
      });
      const showMass = (ms: (number | null)[]) => `[${ms.map((m) => (m === null ? 'null' : +m.toPrecision(6))).join(', ')}]`;
      // heatmapMass by hand: maps [[1, 3], [0, 4]] and [[2, 0], [0, 0]], mask [[1, 0], [0, 1]]: (1 + 4) / 8 and 2 / 2.
      const hand = await heatmapMass(tensor([1, 3, 0, 4, 2, 0, 0, 0], [2, 2, 2]), [1, 0, 0, 1]);
      const handOk = compare(hand as number[], [5 / 8, 1]).ok;
      return {
        ok: c.ok && massOk && handOk,
        detail: `maps [4, 8, 8] GPU vs CPU ${c.detail}; mass ${showMass(masses[0])} vs CPU ${showMass(masses[1])}; hand mass ${fmt(hand as number[])} (want [0.625, 1])`,
      };
    });

    await check('metrics: groupAccuracy (aligned / conflicting / unbiased / worst group) vs hand values', async () => {
      // argmax of [[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]] is [1, 0, 1].
      const argmax = Array.from(argmaxRows([0.1, 0.9, 0.8, 0.2, 0.3, 0.7], 3, 2));
      // Samples (pred, label, bias): (0,0,0) ✓ aligned, (1,1,0) ✓ conflicting, (1,0,0) ✗ aligned,
      // (2,2,2) ✓ aligned, (2,1,1) ✗ aligned, (0,0,1) ✓ conflicting. Cells (0,0) 1/2, (0,1) 1,
      // (1,0) 1, (1,1) 0, (2,2) 1: unbiased 3.5/5 = 0.7, worst 0.
      const r = groupAccuracy({ predictions: [0, 1, 1, 2, 2, 0], labels: [0, 1, 0, 2, 1, 0], biasLabels: [0, 0, 0, 2, 1, 1] });
      const got = [r.accuracy, r.aligned ?? Number.NaN, r.conflicting ?? Number.NaN, r.unbiased, r.worstGroup, r.cells.length, r.counts.aligned];
      const want = [4 / 6, 0.5, 1, 0.7, 0, 5, 4];
      const c = compare(got, want, 1e-12, 1e-12);
      const argOk = argmax.join() === '1,0,1';
      return { ok: c.ok && argOk, detail: `[accuracy, aligned, conflicting, unbiased, worst, cells, nAligned] = ${fmt(got)}, argmaxRows ${argmax}` };
    });

    // ---- datasets ----
    await check('datasets: colourBiasMnist colour assignments on synthetic digits', async () => {
      const problems: string[] = [];
      // ρ = 1: every image is bias-aligned, its background the colour of its class.
      const two = syntheticMnist(2);
      const aligned = colourBiasMnist(two, { rho: 1, seed: 3 });
      problems.push(...checkColouring(two, aligned));
      for (let j = 0; j < aligned.length; j++)
        if (aligned.biasLabels[j] !== aligned.labels[j]) problems.push(`ρ 1: image ${j} has colour ${aligned.biasLabels[j]}`);
      // ρ = 0 with 9 images per class: ⌈9/9⌉ = 1 image per conflicting colour, so class c gets each
      // of the nine other colours exactly once.
      const nine = syntheticMnist(9);
      const conflicting = colourBiasMnist(nine, { rho: 0, seed: 3 });
      problems.push(...checkColouring(nine, conflicting));
      for (let c = 0; c < 10; c++) {
        const colours = [];
        for (let j = 0; j < conflicting.length; j++) if (conflicting.labels[j] === c) colours.push(conflicting.biasLabels[j]);
        const want = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].filter((k) => k !== c).join();
        if (colours.sort((a, b) => a - b).join() !== want) problems.push(`ρ 0: class ${c} has colours [${colours}], expected [${want}]`);
      }
      // ρ = 0.5 with 2 per class: ⌊2·0.5⌋ = 1 aligned and 1 conflicting image per class.
      const half = colourBiasMnist(two, { rho: 0.5, seed: 8 });
      problems.push(...checkColouring(two, half));
      for (let c = 0; c < 10; c++) {
        let same = 0;
        for (let j = 0; j < half.length; j++) if (half.labels[j] === c && half.biasLabels[j] === c) same++;
        if (same !== 1) problems.push(`ρ 0.5: class ${c} has ${same} aligned images, expected 1`);
      }
      return { ok: problems.length === 0, detail: problems.length ? problems.slice(0, 6).join('; ') : '20 + 90 + 20 images, every pixel as the protocol says' };
    });

    // ---- memory and errors ----
    await check('memory: nothing left allocated after the suite', async () => {
      await gpu.sync();
      const after = memory();
      const ok = after.tensors === baseline.tensors && after.bytesInUse === baseline.bytesInUse;
      return { ok, detail: `start {tensors ${baseline.tensors}, inUse ${baseline.bytesInUse}} end {tensors ${after.tensors}, inUse ${after.bytesInUse}}` };
    });

    await check('no uncaptured GPU errors', async () => {
      await gpu.sync();
      return { ok: gpuErrors.length === 0, detail: gpuErrors.length ? gpuErrors.join(' | ') : 'none' };
    });
  } finally {
    setDispatchListener(previousListener);
    gpu.destroy();
  }

  return result({ ok: checks.length > 0 && checks.every((c) => c.ok), adapter, adapterInfo: gpu.adapterInfo });
}
