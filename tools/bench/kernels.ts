import { arange, initGpu, randn, Rng, scope, tensor, type GpuContext, type Tensor } from '@fairgpu/tensor';
import { createRequire } from 'node:module';
import { contrastiveRowStats, l2Normalize, maskedLogSumExp, STAT } from '@fairgpu/kernels';

/**
 * `npm run bench -- kernels [--json] [--sizes 1024,4096] [--allow-slow]`: forward+backward of a
 * SupCon-style loss (L2 normalise → similarities/τ → masked log-sum-exps → mean) at d = 128,
 * three ways on the same adapter, all timed in this run:
 *   fused      contrastiveRowStats (fused WGSL kernels, O(M·d) memory)
 *   composite  the same loss materialised from tensor primitives (M×M logits and masks)
 *   tfjs       TensorFlow.js's webgpu backend running the composite loss with tf.grad
 * peakBytes: the pool's high-water mark over the step (fairgpu); for TF.js, which has no peak counter,
 * tf.memory().numBytes after the step (tensors still held, a lower bound).
 */
export interface KernelRow {
  case: string;
  M: number;
  d: number;
  impl: 'fused' | 'composite' | 'tfjs-webgpu';
  /** Milliseconds per forward+backward; null when it could not run (see note). */
  ms: number | null;
  peakBytes: number | null;
  note?: string;
}

export interface KernelBenchOptions {
  sizes?: number[];
  d?: number;
  /** Run sizes whose estimated time exceeds the budget instead of printing an estimate. */
  allowSlow?: boolean;
  /** Seconds one measurement may take before larger sizes are estimated instead (default 600). */
  budgetS?: number;
  /** Skip TensorFlow.js. */
  skipTfjs?: boolean;
  log?: (line: string) => void;
}

const TEMPERATURE = 0.1;
const CLASSES = 10;
const CASE = 'supcon fwd+bwd';

function labelsOf(m: number): number[] {
  const rng = new Rng(7);
  return Array.from({ length: m }, () => Math.floor(rng.uniform() * CLASSES));
}

/** SupCon from the row statistics: −(Σ_p l_ip − |P|·lseAll)/|P|, mean over anchors with positives. */
function supconFused(x: Tensor, labels: Tensor): Tensor {
  // The three columns SupCon reads: the fused forward is then a single pass.
  const st = contrastiveRowStats(l2Normalize(x), { temperature: TEMPERATURE, labels, columns: ['lseAll', 'sumPosLogit', 'countPos'] });
  const m = x.shape[0];
  const col = (k: number) => st.slice([0, k], [m, k + 1]);
  const count = col(STAT.countPos);
  const has = count.gt(0);
  const per = col(STAT.sumPosLogit)
    .sub(count.mul(col(STAT.lseAll)))
    .div(count.maximum(1))
    .neg()
    .mul(has);
  return per.sum().div(has.sum().maximum(1));
}

/** The same loss materialised: M×M logits, masks and a masked log-sum-exp. */
function supconComposite(x: Tensor, labels: Tensor): Tensor {
  const m = x.shape[0];
  const z = l2Normalize(x);
  const logits = z.matmul(z.transpose()).div(TEMPERATURE);
  const idx = arange(m, undefined, 1, { device: x.backend });
  const notSelf = idx.reshape([m, 1]).ne(idx.reshape([1, m]));
  const pos = labels
    .reshape([m, 1])
    .eq(labels.reshape([1, m]))
    .mul(notSelf);
  const lse = maskedLogSumExp(logits, notSelf).reshape([m, 1]);
  const count = pos.sum(1, true);
  const has = count.gt(0);
  const per = logits.mul(pos).sum(1, true).sub(count.mul(lse)).div(count.maximum(1)).neg().mul(has);
  return per.sum().div(has.sum().maximum(1));
}

interface Measured {
  ms: number;
  peakBytes: number;
}

/**
 * The pool's high-water mark for one fused step that is encoded but not run (allocations happen
 * when ops are encoded, so this is the figure a run would report), for sizes too slow to execute
 * here. The commands are never submitted; the caller must not flush this context afterwards.
 */
async function encodedPeak(ctx: GpuContext, m: number, d: number): Promise<{ peakBytes: number; submits: number; readbacks: number }> {
  const x = randn([m, d], { device: ctx, seed: 1 }).requiresGrad_();
  const labels = tensor(labelsOf(m), [m], { device: ctx, dtype: 'i32' });
  ctx.backend.pool.resetPeak();
  const before = { ...ctx.backend.stats };
  await supconFused(x, labels).backward();
  const after = ctx.backend.stats;
  return { peakBytes: ctx.memory().peakBytesInUse, submits: after.submits - before.submits, readbacks: after.readbacks - before.readbacks };
}

async function timeStep(ctx: GpuContext, impl: 'fused' | 'composite', m: number, d: number, reps: number): Promise<Measured> {
  const x = randn([m, d], { device: ctx, seed: 1 }).requiresGrad_();
  const labels = tensor(labelsOf(m), [m], { device: ctx, dtype: 'i32' });
  const loss = impl === 'fused' ? supconFused : supconComposite;
  const step = () =>
    scope(async () => {
      x.zeroGrad();
      const l = loss(x, labels);
      await l.backward();
      await x.grad!.toArray(); // one readback: the step has completed on the GPU
    });
  try {
    // Compile the pipelines first (they are specialised on d, not M) at a small M: a warm-up at
    // full size would double the cost of the large rows.
    if (m > 256) {
      const xs = randn([256, d], { device: ctx, seed: 2 }).requiresGrad_();
      const ls = tensor(labelsOf(256), [256], { device: ctx, dtype: 'i32' });
      await scope(async () => {
        await loss(xs, ls).backward();
        await xs.grad!.toArray();
      });
      xs.zeroGrad();
      xs.dispose();
      ls.dispose();
    } else {
      await step();
    }
    ctx.backend.pool.resetPeak();
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) await step();
    return { ms: (performance.now() - t0) / reps, peakBytes: ctx.memory().peakBytesInUse };
  } finally {
    x.zeroGrad();
    x.dispose();
    labels.dispose();
  }
}

/** TensorFlow.js on its webgpu backend (dawn.node, the same OpenGL adapter as fairgpu here). */
interface Tfjs {
  // Loosely typed: TF.js is an optional devDependency of the bench only.
  tf: typeof import('@tensorflow/tfjs-core');
}

async function loadTfjs(): Promise<Tfjs> {
  const g = globalThis as Record<string, unknown>;
  if (!(g.navigator as { gpu?: unknown } | undefined)?.gpu) {
    const { create, globals } = (await import('webgpu')) as unknown as { create: (flags: string[]) => unknown; globals: object };
    Object.assign(globalThis, globals);
    // dawn's OpenGL backend only offers compatibility-mode adapters; TF.js asks without a feature
    // level, so add it (on adapters with a core mode the plain request is used first).
    const gpu = create(['backend=opengl']) as GPU;
    const requestAdapter = async (o: GPURequestAdapterOptions = {}) =>
      (await gpu.requestAdapter(o)) ?? gpu.requestAdapter({ ...o, featureLevel: 'compatibility' } as GPURequestAdapterOptions);
    const wrapped = { requestAdapter, getPreferredCanvasFormat: () => gpu.getPreferredCanvasFormat(), wgslLanguageFeatures: gpu.wgslLanguageFeatures };
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: wrapped }, configurable: true, writable: true });
  }
  // The CommonJS builds: the ESM ones use directory imports Node's resolver rejects. The backend
  // registers its kernels on load; tfjs-core's Node bundle has no gradients (the @tensorflow/tfjs
  // union package imports them), so bundle its register_all_gradients module with esbuild and run
  // it: the registries live on a global, shared with the CommonJS instance.
  const require = createRequire(import.meta.url);
  const tf = require('@tensorflow/tfjs-core') as typeof import('@tensorflow/tfjs-core');
  require('@tensorflow/tfjs-backend-webgpu');
  const esbuild = require('esbuild') as typeof import('esbuild');
  const bundle = esbuild.buildSync({
    entryPoints: [require.resolve('@tensorflow/tfjs-core/dist/register_all_gradients.js')],
    bundle: true,
    format: 'cjs',
    platform: 'node',
    write: false,
    logLevel: 'silent',
  });
  new Function('module', 'exports', 'require', bundle.outputFiles[0].text)({ exports: {} }, {}, require);
  if (!(await tf.setBackend('webgpu'))) throw new Error("tf.setBackend('webgpu') returned false");
  await tf.ready();
  return { tf };
}

async function tfjsStep({ tf }: Tfjs, m: number, d: number, reps: number): Promise<Measured> {
  const labels = labelsOf(m);
  const x = tf.randomNormal([m, d], 0, 1, 'float32', 1);
  const lab = tf.tensor1d(labels, 'int32');
  const idx = tf.range(0, m, 1, 'int32');
  const notSelf = tf.cast(tf.notEqual(tf.reshape(idx, [m, 1]), tf.reshape(idx, [1, m])), 'float32');
  const pos = tf.mul(tf.cast(tf.equal(tf.reshape(lab, [m, 1]), tf.reshape(lab, [1, m])), 'float32'), notSelf);
  const count = tf.sum(pos, 1, true);
  const has = tf.cast(tf.greater(count, 0), 'float32');
  const notSelfBool = tf.greater(notSelf, 0);
  const fill = tf.fill([m, m], -3e38);
  // The same composite: normalise → z zᵀ/τ → masked log-sum-exp → mean over anchors with positives.
  // (Functional tf.* calls: the chained methods need a side-effect import.)
  const loss = (xv: import('@tensorflow/tfjs-core').Tensor) => {
    const z = tf.div(xv, tf.maximum(tf.sqrt(tf.sum(tf.square(xv), 1, true)), 1e-12));
    const logits = tf.div(tf.matMul(z, z, false, true), TEMPERATURE);
    const mx = tf.max(tf.where(notSelfBool, logits, fill), 1, true);
    const lse = tf.add(tf.log(tf.sum(tf.mul(tf.exp(tf.sub(logits, mx)), notSelf), 1, true)), mx);
    const per = tf.mul(tf.neg(tf.div(tf.sub(tf.sum(tf.mul(logits, pos), 1, true), tf.mul(count, lse)), tf.maximum(count, 1))), has);
    return tf.div(tf.sum(per), tf.maximum(tf.sum(has), 1)) as import('@tensorflow/tfjs-core').Scalar;
  };
  const grad = tf.grad(loss);
  const step = async () => {
    const g = tf.tidy(() => grad(x));
    await g.data();
    g.dispose();
  };
  try {
    await step();
    const t0 = performance.now();
    let peak = 0;
    for (let i = 0; i < reps; i++) {
      await step();
      peak = Math.max(peak, tf.memory().numBytes);
    }
    return { ms: (performance.now() - t0) / reps, peakBytes: peak };
  } finally {
    tf.dispose([x, lab, idx, notSelf, pos, count, has, notSelfBool, fill]);
  }
}

const f32Matrix = (m: number) => m * m * 4;

export async function benchKernels(options: KernelBenchOptions = {}): Promise<{ adapter: string; rows: KernelRow[] }> {
  const sizes = [...(options.sizes ?? [1024, 4096, 16384, 65536])].sort((a, b) => a - b);
  const d = options.d ?? 128;
  const budgetMs = (options.budgetS ?? 600) * 1000;
  const log = options.log ?? (() => {});
  const ctx = await initGpu({ setDefault: false });
  const adapter = `${ctx.adapterInfo.description || ctx.adapterInfo.device} [${ctx.adapterInfo.path}]`;
  const maxBinding = ctx.device.limits.maxStorageBufferBindingSize;
  const rows: KernelRow[] = [];
  let tfjs: Tfjs | undefined;
  let encodedOnly = false;
  let tfjsError: string | undefined = options.skipTfjs ? 'skipped (--no-tfjs)' : undefined;
  // Time per M²·d measured at the largest size so far, per implementation: the estimate for the next.
  const rate: Partial<Record<KernelRow['impl'], { perUnit: number; m: number }>> = {};
  for (const m of sizes) {
    for (const impl of ['fused', 'composite', 'tfjs-webgpu'] as const) {
      const row: KernelRow = { case: CASE, M: m, d, impl, ms: null, peakBytes: null };
      rows.push(row);
      if (impl !== 'fused' && f32Matrix(m) > maxBinding) {
        row.note = `cannot run: one M×M f32 matrix is ${(f32Matrix(m) / 2 ** 30).toFixed(2)} GiB, over this adapter's ${(maxBinding / 2 ** 20).toFixed(0)} MiB storage-binding limit`;
        continue;
      }
      if (impl === 'tfjs-webgpu' && !tfjs && !tfjsError) {
        try {
          tfjs = await loadTfjs();
        } catch (e) {
          tfjsError = `cannot run: ${(e as Error).message.split('\n')[0]}`;
        }
      }
      if (impl === 'tfjs-webgpu' && !tfjs) {
        row.note = tfjsError;
        continue;
      }
      const measured = rate[impl];
      const estimate = measured === undefined ? undefined : measured.perUnit * m * m * d;
      if (estimate !== undefined && estimate > budgetMs && !options.allowSlow) {
        row.note = `not run: estimated ${(estimate / 60000).toFixed(1)} min (O(M²·d) from M = ${measured!.m} in this run); pass --allow-slow`;
        if (impl === 'fused' && m === sizes[sizes.length - 1]) {
          // Last size: encode one step without running it to report its memory.
          const e = await encodedPeak(ctx, m, d);
          row.peakBytes = e.peakBytes;
          row.note += `; peakBytes: pool peak of one encoded, unexecuted step (${e.submits} submits, ${e.readbacks} readbacks while encoding)`;
          encodedOnly = true;
        }
        continue;
      }
      try {
        const r = impl === 'tfjs-webgpu' ? await tfjsStep(tfjs!, m, d, 1) : await timeStep(ctx, impl, m, d, 1);
        row.ms = r.ms;
        row.peakBytes = r.peakBytes;
        rate[impl] = { perUnit: r.ms / (m * m * d), m };
        log(`${impl} M=${m}: ${r.ms.toFixed(0)} ms, peak ${(r.peakBytes / 2 ** 20).toFixed(1)} MiB`);
      } catch (e) {
        row.note = `failed: ${(e as Error).message.split('\n')[0]}`;
      }
    }
  }
  // destroy() flushes: after an encoded-only step that would run it. The process exits instead.
  if (!encodedOnly) ctx.destroy();
  return { adapter, rows };
}

/** Table rows for tools/bench/main.ts: one line per (M, impl) and the ratios measured in this run. */
export function formatKernelRows(rows: readonly KernelRow[]): string[] {
  const lines: string[][] = [['case', 'M', 'd', 'impl', 'ms', 'peak MiB', 'fused speed-up / note']];
  for (const r of rows) {
    const fused = rows.find((x) => x.M === r.M && x.impl === 'fused');
    const ratio = r.impl !== 'fused' && r.ms !== null && fused?.ms ? `${(r.ms / fused.ms).toFixed(2)}× (fused vs ${r.impl})` : '';
    lines.push([
      r.case,
      String(r.M),
      String(r.d),
      r.impl,
      r.ms === null ? '—' : r.ms.toFixed(0),
      r.peakBytes === null ? '—' : (r.peakBytes / 2 ** 20).toFixed(1),
      r.note ?? ratio,
    ]);
  }
  const widths = lines[0].map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  return lines.map((l) =>
    l
      .map((c, i) => c.padEnd(widths[i]))
      .join('  │  ')
      .trimEnd(),
  );
}
