import { initGpu, randn, scope, type GpuContext, type Tensor } from '@fairgpu/tensor';
import { contrastiveRowStats, pairMoments } from '@fairgpu/kernels';
import { lossRegistry, type Impl, type LossName } from '@fairgpu/losses';
import type { Row } from './tensor.ts';

/**
 * Loss benchmarks: forward + backward of every loss of @fairgpu/losses at M = 1,024 and 4,096
 * (d = 128), the fused path against the composite path measured in the same run (ratio =
 * composite time / fused time), and the peak GPU bytes of the seed's objective
 * ε-SupInfoNCE + FairKL (weights 1 and 1) at M = 16,384 on the fused path.
 */
export interface LossBenchOptions {
  sizes?: number[];
  d?: number;
  /** Only these losses (default: all). */
  losses?: LossName[];
  /** M of the memory row (default 16,384; 0 skips it). */
  memoryM?: number;
  /** Called with each row as soon as it is measured (long runs on software adapters). */
  onRow?: (row: Row) => void;
}

function batchFor(name: LossName, M: number): { batch: Record<string, unknown>; options: Record<string, unknown> } {
  const B = M / 2;
  const labels = Array.from({ length: B }, (_, i) => (i * 7919) % 10);
  const biasLabels = labels.map((l, i) => (l + (i % 3 === 0 ? 1 : 0)) % 2);
  const targets = labels.map((l, i) => 20 + 5 * l + (i % 5));
  switch (name) {
    case 'nt-xent':
      return { batch: { nViews: 2 }, options: { temperature: 0.5 } };
    case 'fairkl':
    case 'end':
      return { batch: { labels, biasLabels, nViews: 2 }, options: {} };
    case 'y-aware':
    case 'l-exp':
    case 'l-thr':
      return { batch: { targets, nViews: 2 }, options: { temperature: 0.1, kernel: 'rbf', sigma: 5 } };
    case 'cross-entropy':
      return { batch: { labels: Array.from({ length: M }, (_, i) => i % 128) }, options: { labelSmoothing: 0.1 } };
    default:
      return { batch: { labels, nViews: 2 }, options: { temperature: 0.1, epsilon: 0.1 } };
  }
}

/** Whether @fairgpu/kernels has its fused ops in this build. */
function fusedAvailable(ctx: GpuContext): boolean {
  try {
    const z = randn([2, 2], { device: ctx, seed: 1 }).normalize(-1);
    const labels = randn([2], { device: ctx, seed: 2 }).gt(100).cast('i32');
    contrastiveRowStats(z, { temperature: 1, labels, impl: 'fused' }).dispose();
    pairMoments(z, { temperature: 1, labels, biasLabels: labels, pairs: 'all', impl: 'fused' }).dispose();
    z.dispose();
    labels.dispose();
    return true;
  } catch {
    return false;
  }
}

async function forwardBackward(ctx: GpuContext, x: Tensor, fn: () => Tensor): Promise<void> {
  await scope(async () => {
    const loss = fn();
    await loss.backward();
    x.zeroGrad();
  });
  await ctx.sync();
}

async function timeIt(ctx: GpuContext, x: Tensor, fn: () => Tensor, reps: number): Promise<number> {
  await forwardBackward(ctx, x, fn); // warm-up: pipelines compiled, pool filled
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) await forwardBackward(ctx, x, fn);
  return (performance.now() - t0) / reps;
}

export async function benchLosses(options: LossBenchOptions = {}): Promise<{ adapter: string; rows: Row[] }> {
  const ctx = await initGpu();
  const adapter = `${ctx.adapterInfo.description || ctx.adapterInfo.device} [${ctx.adapterInfo.path}]`;
  const rows: Row[] = [];
  const push = (row: Row) => {
    rows.push(row);
    options.onRow?.(row);
  };
  const d = options.d ?? 128;
  const sizes = options.sizes ?? [1024, 4096];
  const names = options.losses ?? (Object.keys(lossRegistry) as LossName[]);
  const impls: Impl[] = fusedAvailable(ctx) ? ['fused', 'composite'] : ['composite'];
  try {
    for (const M of sizes) {
      const x = randn([M, d], { device: ctx, seed: 7, requiresGrad: true });
      for (const name of names) {
        const { batch, options: o } = batchFor(name, M);
        const ms: Partial<Record<Impl, number>> = {};
        for (const impl of impls) {
          ms[impl] = await timeIt(ctx, x, () => lossRegistry[name](x, batch, { ...o, impl }), M >= 4096 ? 1 : 2);
        }
        const first = impls[0];
        push({
          case: `${name} fwd+bwd M=${M} d=${d} (${first})`,
          value: ms[first]!,
          unit: 'ms',
          ...(ms.fused !== undefined && ms.composite !== undefined ? { baseline: 'composite', ratio: ms.composite / ms.fused } : {}),
        });
        if (first === 'fused') push({ case: `${name} fwd+bwd M=${M} d=${d} (composite)`, value: ms.composite!, unit: 'ms' });
      }
      x.dispose();
    }
    const memoryM = options.memoryM ?? 16384;
    // The composite path materialises M×M matrices (1 GiB each at M = 16,384): only the fused one is measured.
    if (memoryM > 0 && impls.includes('fused')) push(await memoryRow(ctx, memoryM, d, 'fused'));
    else if (memoryM > 0) console.warn(`memory row skipped: @fairgpu/kernels has no fused path in this build`);
  } finally {
    ctx.destroy();
  }
  return { adapter, rows };
}

/**
 * Peak GPU bytes of one forward + backward of ε-SupInfoNCE + FairKL (weights 1 and 1) at M rows,
 * measured by the buffer pool's high-water mark (reset just before, inputs included).
 */
export async function memoryRow(ctx: GpuContext, M: number, d: number, impl: Impl): Promise<Row> {
  const B = M / 2;
  const labels = Array.from({ length: B }, (_, i) => (i * 7919) % 10);
  const biasLabels = labels.map((l, i) => (l + (i % 3 === 0 ? 1 : 0)) % 2);
  const batch = { labels, biasLabels, nViews: 2 };
  const x = randn([M, d], { device: ctx, seed: 9, requiresGrad: true });
  await ctx.sync();
  ctx.backend.pool.resetPeak();
  const t0 = performance.now();
  let value = NaN;
  await scope(async () => {
    const loss = lossRegistry['eps-supinfonce'](x, batch, { temperature: 0.1, epsilon: 0.1, impl }).add(lossRegistry.fairkl(x, batch, { impl }));
    await loss.backward();
    value = await loss.item();
    await x.grad!.toArray();
  });
  const ms = performance.now() - t0;
  const peak = ctx.memory().peakBytesInUse;
  x.dispose();
  return {
    case: `eps-supinfonce + fairkl fwd+bwd M=${M} d=${d} (${impl}) peak GPU memory; loss ${value.toFixed(4)}, ${(ms / 1000).toFixed(1)} s`,
    value: peak / 2 ** 20,
    unit: 'MiB',
    baseline: '512 MiB budget',
    ratio: peak / 2 ** 20 / 512,
  };
}
