import { initGpu, randn, scope, tensor, type GpuContext } from '@fairgpu/tensor';
import { conv2d, convAlgorithmFor, manualSeed, SGD, SimpleConvNet, type ConvAlgorithm } from '@fairgpu/nn';
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
