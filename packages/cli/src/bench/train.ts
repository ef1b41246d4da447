import { crossEntropy, initGpu, randn, scope, tensor, type GpuContext } from '@fairgpu/tensor';
import { setSoftwareMatmul, type SoftwareMatmul } from '@fairgpu/tensor/internal';
import { Adam, conv2d, convAlgorithmFor, manualSeed, SGD, SimpleConvNet, type ConvAlgorithm } from '@fairgpu/nn';
import type { Row } from './tensor.ts';
import { QUICK } from '../experiments/biased-mnist/config.ts';

/**
 * Training benchmarks of @fairgpu/nn: conv2d forward GFLOP/s per algorithm (im2col + matmul vs
 * direct), and images/s of one full SGD step (forward, cross-entropy, backward, update) of
 * SimpleConvNet at 28×28×3: at batch 256 with the algorithm conv2d picks for the adapter, and both
 * algorithms at a smaller batch (ratio direct vs im2col, measured in the same run), and the main
 * job's quick network (tools/cli/job.ts) at its batch of 128. Every figure comes from this run.
 * For where a step's time goes, kernel by kernel: tools/bench/profile-step.ts.
 */
export interface TrainBenchOptions {
  /**
   * Batch of the SGD-step rows with the chosen algorithm. Default 256, the published protocol, on
   * hardware adapters; 8 on software adapters, where one batch-256 step of the 7×7 network
   * (≈ 0.64 TFLOP with its backward pass) would take about 40 minutes at the measured conv speed.
   * Images/s hardly depend on the batch there: the convolutions are compute-bound.
   */
  batch?: number;
  /** Kernel sizes of the SGD-step rows; default [7, 3]. */
  kernels?: number[];
  /** Timed SGD steps per row (after a warm-up step on 2 images); default 1. */
  steps?: number;
  /** Channels of SimpleConvNet; default the spec's [16, 32, 64, 128]. */
  channels?: number[];
  algorithms?: ConvAlgorithm[];
  /**
   * Batch of the direct-vs-im2col step comparison; default 8 (see `batch`).
   */
  compareBatch?: number;
  /**
   * Also time the main job's quick network (tools/cli/job.ts QUICK: kernel, channels, strides) at
   * its batch (128), `quickSteps` steps; default true.
   */
  quick?: boolean;
  quickSteps?: number;
  /** Progress lines (each row as it is measured). */
  log?: (line: string) => void;
}

async function timeConv(
  ctx: GpuContext,
  algorithm: ConvAlgorithm,
  shape: { b: number; c: number; co: number; k: number; hw: number },
  reps: number,
): Promise<number> {
  return scope(async () => {
    const x = randn([shape.b, shape.c, shape.hw, shape.hw], { seed: 1 });
    const w = randn([shape.co, shape.c, shape.k, shape.k], { seed: 2 });
    conv2d(x, w, null, { padding: shape.k >> 1, algorithm }).dispose();
    await ctx.sync();
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) conv2d(x, w, null, { padding: shape.k >> 1, algorithm }).dispose();
    await ctx.sync();
    const s = (performance.now() - t0) / 1000 / reps;
    return (2 * shape.b * shape.co * shape.c * shape.k * shape.k * shape.hw * shape.hw) / s / 1e9;
  });
}

async function timeStep(
  ctx: GpuContext,
  algorithm: ConvAlgorithm,
  k: number,
  batch: number,
  steps: number,
  channels: number[],
  strides?: number[],
): Promise<number> {
  manualSeed(0);
  const model = new SimpleConvNet({ kernelSize: k, channels, strides, algorithm });
  const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9, weightDecay: 1e-4 });
  const data = (n: number) => ({
    x: randn([n, 3, 28, 28], { seed: 3 }),
    y: tensor(
      Int32Array.from({ length: n }, (_, i) => i % 10),
      [n],
      { dtype: 'i32' },
    ),
  });
  const { x, y } = data(batch);
  const step = (b = { x, y }) =>
    scope(async () => {
      const loss = model
        .forward(b.x)
        .logSoftmax(-1)
        .gather(1, b.y.reshape([-1, 1]))
        .mean()
        .neg();
      await loss.backward();
      opt.step();
      opt.zeroGrad();
    });
  try {
    // Warm-up (pipeline compilation) on 2 images: a step of the 7×7 network costs ~2.5 GFLOP per image.
    const small = data(2);
    await step(small);
    await ctx.sync();
    small.x.dispose();
    small.y.dispose();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) await step();
    await ctx.sync();
    return (batch * steps) / ((performance.now() - t0) / 1000);
  } finally {
    model.dispose();
    opt.dispose();
    x.dispose();
    y.dispose();
  }
}

export async function benchTrain(options: TrainBenchOptions = {}): Promise<{ adapter: string; rows: Row[] }> {
  const { kernels = [7, 3], steps = 1, channels = [16, 32, 64, 128], algorithms = ['im2col', 'direct'], compareBatch = 8, log } = options;
  const ctx = await initGpu();
  const batch = options.batch ?? (ctx.adapterInfo.isSoftware ? 8 : 256);
  const adapter = ctx.adapterInfo.description || ctx.adapterInfo.device || ctx.adapterInfo.vendor;
  const rows: Row[] = [];
  try {
    for (const shape of [
      { b: 32, c: 32, co: 64, k: 3, hw: 28 },
      { b: 8, c: 32, co: 64, k: 7, hw: 28 },
    ]) {
      const got: Partial<Record<ConvAlgorithm, number>> = {};
      for (const a of algorithms) {
        got[a] = await timeConv(ctx, a, shape, 3);
        log?.(`conv2d ${a} k${shape.k}: ${got[a]!.toFixed(3)} GFLOP/s`);
        rows.push({
          case: `conv2d fwd ${a} ${shape.k}×${shape.k} ${shape.c}→${shape.co} ${shape.hw}² b${shape.b}`,
          value: got[a]!,
          unit: 'GFLOP/s',
          ...(a === 'direct' && got.im2col ? { baseline: 'im2col', ratio: got[a]! / got.im2col } : {}),
        });
      }
    }
    const push = (row: Row) => {
      rows.push(row);
      log?.(`${row.case}: ${row.value.toFixed(2)} ${row.unit}`);
    };
    const probe = randn([1], { seed: 0 });
    const chosen = convAlgorithmFor(probe);
    probe.dispose();
    if (options.quick ?? true) {
      const [k, ch, st, b] = [QUICK.kernelSize, QUICK.channels, QUICK.strides, QUICK.batch];
      push({
        case: `quick SimpleConvNet k=${k} [${ch.join(',')}] strides [${st.join(',')}] SGD step b${b} (${chosen})`,
        value: await timeStep(ctx, chosen, k, b, options.quickSteps ?? 5, ch, st),
        unit: 'images/s',
      });
    }
    // The algorithm conv2d picks on this adapter at `batch` (unless that is the comparison batch),
    // then both algorithms at the comparison batch.
    if (batch !== compareBatch) {
      for (const k of kernels) {
        push({
          case: `SimpleConvNet k=${k} [${channels.join(',')}] SGD step b${batch} (${chosen})`,
          value: await timeStep(ctx, chosen, k, batch, steps, channels),
          unit: 'images/s',
        });
      }
    }
    for (const k of kernels) {
      const got: Partial<Record<ConvAlgorithm, number>> = {};
      for (const a of algorithms) {
        got[a] = await timeStep(ctx, a, k, compareBatch, steps, channels);
        push({
          case: `SimpleConvNet k=${k} [${channels.join(',')}] SGD step b${compareBatch} ${a}`,
          value: got[a]!,
          unit: 'images/s',
          ...(a === 'direct' && got.im2col ? { baseline: 'im2col', ratio: got[a]! / got.im2col } : {}),
        });
      }
    }
  } finally {
    ctx.destroy();
  }
  return { adapter, rows };
}

/** One network of the PyTorch comparison: the same shapes, batch, optimizer and loss on both sides. */
export interface TorchCase {
  name: string;
  kernel: number;
  channels: number[];
  strides: number[];
  batch: number;
  /** Timed fairgpu steps (after a warm-up step at the same batch). */
  steps: number;
}

/** The issue's two rows: the quick job's network at its batch, and the published network at 32. */
export const TORCH_CASES: readonly TorchCase[] = [
  { name: 'quick SimpleConvNet', kernel: QUICK.kernelSize, channels: [...QUICK.channels], strides: [...QUICK.strides], batch: QUICK.batch, steps: 20 },
  { name: 'published SimpleConvNet', kernel: 7, channels: [16, 32, 64, 128], strides: [1, 1, 1, 1], batch: 32, steps: 1 },
];

export interface TorchBenchOptions {
  cases?: readonly TorchCase[];
  /** The python with torch; default /usr/bin/python3 (Debian's python3-torch), or $FAIRGPU_TORCH_PYTHON. */
  python?: string;
  /**
   * Also time fairgpu with the software matmul switched back to the earlier kernels:
   * matmul-blocked (before issue 16) and matmul-uniform (issue 16's first kernel). Only the
   * products change: the other speed-ups (texel inputs, skipped gradients) apply to all three.
   */
  compareBlocked?: boolean;
  log?: (line: string) => void;
}

interface TorchResult {
  ok: boolean;
  error?: string;
  torch?: string;
  threads?: number;
  images_per_s?: number;
}

/** Runs tools/bench/torch_train_step.py (2 threads); a missing torch or script is a note, not an error. */
async function torchStep(c: TorchCase, python: string): Promise<TorchResult> {
  const [{ spawnSync }, { existsSync }, { fileURLToPath }] = await Promise.all([import('node:child_process'), import('node:fs'), import('node:url')]);
  // The script lives in the repository's tools/ (not shipped with the package).
  const script = fileURLToPath(new URL('../../../../tools/bench/torch_train_step.py', import.meta.url));
  if (!existsSync(script)) return { ok: false, error: `${script} not found (run from the repository)` };
  const args = [script, '--kernel', String(c.kernel), '--channels', c.channels.join(','), '--strides', c.strides.join(','), '--batch', String(c.batch)];
  args.push('--threads', '2', '--steps', String(Math.max(3, c.steps)), '--warmup', '1');
  const run = spawnSync(python, args, { encoding: 'utf8', timeout: 600_000 });
  if (run.error) return { ok: false, error: `${python}: ${run.error.message}` };
  const line = run.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as TorchResult;
  } catch {
    return { ok: false, error: `unexpected output from ${script}: ${(run.stderr || line).slice(0, 300)}` };
  }
}

/** Timed runs of `steps` steps per fairgpu measurement; the fastest counts. */
const FAIRGPU_RUNS = 3;

/** images/s of `steps` Adam + cross-entropy steps of SimpleConvNet (after warm-up; the best of FAIRGPU_RUNS runs). */
async function fairgpuStep(ctx: GpuContext, c: TorchCase): Promise<number> {
  manualSeed(0);
  const model = new SimpleConvNet({ kernelSize: c.kernel, channels: c.channels, strides: c.strides });
  const opt = new Adam(model.parameters(), { lr: 1e-3, weightDecay: 1e-4 });
  const x = randn([c.batch, 3, 28, 28], { seed: 3 });
  const y = tensor(
    Int32Array.from({ length: c.batch }, (_, i) => i % 10),
    [c.batch],
    { dtype: 'i32' },
  );
  const step = () =>
    scope(async () => {
      await crossEntropy(model.forward(x), y).backward();
      opt.step();
      opt.zeroGrad();
    });
  try {
    // Warm-up: the first step compiles the pipelines, the second reuses them all.
    for (let i = 0; i < (c.steps > 1 ? 2 : 1); i++) await step();
    await ctx.sync();
    // The best of three timed runs: on a shared 2-core machine a run's spread is ±15 %, mostly
    // other processes (PyTorch's side takes the faster of its two runs for the same reason).
    let best = Infinity;
    for (let run = 0; run < FAIRGPU_RUNS; run++) {
      const t0 = performance.now();
      for (let i = 0; i < c.steps; i++) await step();
      await ctx.sync();
      best = Math.min(best, performance.now() - t0);
    }
    return (c.batch * c.steps) / (best / 1000);
  } finally {
    model.dispose();
    opt.dispose();
    x.dispose();
    y.dispose();
  }
}

/**
 * `npm run bench -- train --vs-torch`: one Adam + cross-entropy step of each network in PyTorch on
 * the CPU (2 threads, tools/bench/torch_train_step.py) and in fairgpu on this adapter, in the same
 * run, with the ratio fairgpu / PyTorch. PyTorch is timed before and after fairgpu and the faster of
 * the two is the baseline (on a shared machine the two figures show the drift; the ratio is conservative). With `compareBlocked`, fairgpu
 * also runs with the software matmul set back to matmul-blocked (the kernel before issue 16) and matmul-uniform.
 */
export async function benchTrainVsTorch(options: TorchBenchOptions = {}): Promise<{ adapter: string; rows: Row[] }> {
  const cases = options.cases ?? TORCH_CASES;
  const python = options.python ?? globalThis.process?.env?.FAIRGPU_TORCH_PYTHON ?? '/usr/bin/python3';
  const log = options.log;
  const ctx = await initGpu();
  const adapter = ctx.adapterInfo.description || ctx.adapterInfo.device || ctx.adapterInfo.vendor;
  const rows: Row[] = [];
  const push = (row: Row) => {
    rows.push(row);
    log?.(`${row.case}: ${row.value.toFixed(2)} ${row.unit}${row.ratio === undefined ? '' : ` (${row.ratio.toFixed(3)}× vs ${row.baseline})`}`);
  };
  try {
    for (const c of cases) {
      const label = `${c.name} k=${c.kernel} [${c.channels.join(',')}] strides [${c.strides.join(',')}] Adam+CE step b${c.batch}`;
      const before = await torchStep(c, python);
      if (!before.ok) log?.(`PyTorch baseline unavailable: ${before.error}`);
      const variants: SoftwareMatmul[] = options.compareBlocked && ctx.adapterInfo.isSoftware ? ['blocked', 'uniform', 'texture'] : ['texture'];
      const got: Partial<Record<SoftwareMatmul, number>> = {};
      for (const v of variants) {
        const previous = setSoftwareMatmul(v);
        try {
          got[v] = await fairgpuStep(ctx, c);
        } finally {
          setSoftwareMatmul(previous);
        }
      }
      const after = before.ok ? await torchStep(c, python) : before;
      // The faster of the two PyTorch runs: on a shared machine the slower one is mostly contention.
      const torchRate = before.ok && after.ok ? Math.max(before.images_per_s!, after.images_per_s!) : undefined;
      if (torchRate !== undefined) {
        push({
          case: `${label}, PyTorch ${before.torch} CPU ${before.threads} threads (before ${before.images_per_s!.toFixed(1)}, after ${after.images_per_s!.toFixed(1)})`,
          value: torchRate,
          unit: 'images/s',
        });
      }
      for (const v of variants) {
        const name = ctx.adapterInfo.isSoftware ? { texture: ', matmul-texture', uniform: ', matmul-uniform', blocked: ', matmul-blocked' }[v] : '';
        push({
          case: `${label}, fairgpu${name}`,
          value: got[v]!,
          unit: 'images/s',
          ...(torchRate !== undefined ? { baseline: 'PyTorch', ratio: got[v]! / torchRate } : {}),
        });
      }
    }
  } finally {
    ctx.destroy();
  }
  return { adapter, rows };
}
