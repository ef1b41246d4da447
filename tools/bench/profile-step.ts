/**
 * Profile of one training step of the main job's quick models (tools/cli/job.ts): phase times
 * (batch building, upload, forward, loss, backward, optimizer), dispatch/submit/readback counts,
 * and the GPU time of each kernel, measured by replaying every dispatch of one step on its own
 * (sync before and after) and summing per kernel label.
 *
 *   npx tsx --conditions=@fairgpu/source tools/bench/profile-step.ts [--model ce|fairkl|both] [--batch 128] [--steps 5] [--replay 3] [--repeat 1]
 */
import { parseArgs } from 'node:util';
import { colourBiasMnist, createLoader, createRng, loadMnist, permutation, type HostBatch } from '@fairgpu/datasets/node';
import * as lossesLib from '@fairgpu/losses';
import * as nnLib from '@fairgpu/nn';
import * as tensorLib from '@fairgpu/tensor';
import { initGpu, scope, tensor, type GpuContext } from '@fairgpu/tensor';
import type { Binding } from '../../packages/tensor/src/gpu/kernels/common.ts';
import { QUICK } from '../../packages/cli/src/experiments/biased-mnist/config.ts';
import { quickModel, type Phase } from './quick-steps.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'both' },
    batch: { type: 'string', default: String(QUICK.batch) },
    steps: { type: 'string', default: '5' },
    replay: { type: 'string', default: '3' },
    repeat: { type: 'string', default: '1' },
    channels: { type: 'string' },
    strides: { type: 'string' },
    kernel: { type: 'string' },
  },
});
const batchSize = Number(values.batch);
const steps = Number(values.steps);
const replays = Number(values.replay);
// Dispatches of the same kernel between two syncs in the replay (the time is per dispatch).
const repeats = Math.max(1, Number(values.repeat));
const channels = values.channels ? values.channels.split(',').map(Number) : QUICK.channels;
const strides = values.strides ? values.strides.split(',').map(Number) : QUICK.strides;
const kernelSize = values.kernel ? Number(values.kernel) : QUICK.kernelSize;

interface Recorded {
  label: string;
  source: string;
  params: ArrayBuffer;
  buffers: readonly (Binding | null)[];
  grid: readonly [number, number, number];
}

function makeModel(kind: 'ce' | 'fairkl') {
  return quickModel(kind, { T: tensorLib, N: nnLib, L: lossesLib, quick: QUICK }, { kernelSize, channels, strides });
}

async function profile(gpu: GpuContext, kind: 'ce' | 'fairkl', loaderBatch: (i: number) => HostBatch): Promise<void> {
  const model = makeModel(kind);
  const be = gpu.backend;
  const noMark = async () => {};
  const run = (i: number, mark: (p: Phase) => Promise<void>) =>
    scope(async () => {
      const b = loaderBatch(i);
      const x = tensor(b.images, b.shape);
      const loss = await model.step(x, b, mark);
      return loss.detach();
    });
  // Warm-up: pipeline compilation.
  const warm0 = performance.now();
  for (let i = 0; i < 2; i++) (await run(i, noMark)).dispose();
  await gpu.sync();
  const warmMs = performance.now() - warm0;

  // 1. End to end, no syncs inside the steps (as the job runs).
  const s0 = { ...be.stats };
  const pipes0 = be.pipelines.size;
  let t0 = performance.now();
  for (let i = 0; i < steps; i++) (await run(i + 2, noMark)).dispose();
  await gpu.sync();
  const e2e = (performance.now() - t0) / 1000 / steps;
  const per = (k: keyof typeof s0) => ((be.stats[k] - s0[k]) / steps).toFixed(1);
  console.log(`\n== ${kind}: ${channels.join('/')} k${kernelSize} strides ${strides.join('/')}, batch ${batchSize}`);
  console.log(`warm-up (2 steps, every pipeline compiled): ${warmMs.toFixed(0)} ms`);
  console.log(
    `step ${(e2e * 1000).toFixed(0)} ms = ${(batchSize / e2e).toFixed(1)} images/s; per step: ${per('dispatches')} dispatches, ${per('submits')} submits, ${per('readbacks')} readbacks, ${per('texelCopies')} texel copies, ${be.pipelines.size - pipes0} new pipelines`,
  );

  // 2. Host batch building alone.
  t0 = performance.now();
  for (let i = 0; i < steps; i++) loaderBatch(i);
  console.log(`host batch (loader.batch) ${((performance.now() - t0) / steps).toFixed(1)} ms`);

  // 3. Phases, sync between them.
  const phases: Record<string, number> = {};
  for (let i = 0; i < steps; i++) {
    await gpu.sync();
    let last = performance.now();
    const mark = async (p: Phase) => {
      await gpu.sync();
      const now = performance.now();
      phases[p] = (phases[p] ?? 0) + (now - last);
      last = now;
    };
    (await run(i + 2, mark)).dispose();
  }
  console.log(
    'phases (sync between): ' +
      Object.entries(phases)
        .map(([k, v]) => `${k} ${(v / steps).toFixed(0)} ms`)
        .join(', '),
  );

  // 4. Host-side encoding cost: the same step with dispatches recorded but not executed.
  const recorded: Recorded[] = [];
  const original = be.dispatch.bind(be);
  be.dispatch = (label, source, params, buffers, grid) => {
    recorded.push({ label, source, params: params.slice(0), buffers, grid });
    original(label, source, params, buffers, grid);
  };
  await gpu.sync();
  t0 = performance.now();
  (await run(9, noMark)).dispose();
  const hostMs = performance.now() - t0;
  await gpu.sync();
  const totalMs = performance.now() - t0;
  be.dispatch = original;
  console.log(`one step: ${recorded.length} dispatches, host time until the step returns ${hostMs.toFixed(0)} ms, total ${totalMs.toFixed(0)} ms`);

  // 5. Replay each dispatch alone: GPU time per kernel label (includes one sync's overhead each).
  const emptyT0 = performance.now();
  for (let r = 0; r < 20; r++) await gpu.sync();
  const syncMs = (performance.now() - emptyT0) / 20;
  const byLabel = new Map<string, { ms: number; n: number; shapes: string[] }>();
  for (const d of recorded) {
    let best = Infinity;
    for (let r = 0; r < replays; r++) {
      await gpu.sync();
      const t = performance.now();
      for (let k = 0; k < repeats; k++) original(d.label, d.source, d.params, d.buffers, d.grid);
      await gpu.sync();
      best = Math.min(best, (performance.now() - t) / repeats);
    }
    const e = byLabel.get(d.label) ?? { ms: 0, n: 0, shapes: [] as string[] };
    e.ms += best;
    e.n++;
    if (d.label.startsWith('matmul')) {
      const u = new Uint32Array(d.params);
      e.shapes.push(`${u[0]}x${u[1]}x${u[2]}(${(best).toFixed(1)}ms)`);
    } else e.shapes.push(`grid ${d.grid.join('x')}(${best.toFixed(1)}ms)`);
    byLabel.set(d.label, e);
  }
  const sum = [...byLabel.values()].reduce((a, e) => a + e.ms, 0);
  console.log(`replayed alone: sum ${sum.toFixed(0)} ms (sync overhead ≈ ${syncMs.toFixed(2)} ms each, ${(syncMs * recorded.length).toFixed(0)} ms in all)`);
  for (const [label, e] of [...byLabel.entries()].sort((a, b) => b[1].ms - a[1].ms)) {
    const shapes = [...e.shapes].slice(0, 8).join(' ');
    console.log(
      `  ${label.padEnd(28)} ${e.ms.toFixed(1).padStart(8)} ms  ${String(e.n).padStart(4)}×  ${label.startsWith('matmul') ? `MxNxK ${shapes}` : shapes}`,
    );
  }
  model.dispose();
}

// A large pool: the replay below reuses the step's scratch buffers, which eviction would destroy.
const gpu = await initGpu({ maxPooledBytes: 8 * 2 ** 30 });
try {
  const source = loadMnist('train');
  // trainSize 0 means all images (the quick protocol's setting).
  const subset = QUICK.trainSize ? permutation(source.count, createRng(0, 7001)).slice(0, QUICK.trainSize).sort() : undefined;
  const train = colourBiasMnist(source, { rho: 0.997, seed: 0, ...(subset ? { subset } : {}) });
  const loader = createLoader(train, { batchSize, seed: 0, dropLast: true, prefetch: 0 });
  const batchOf = (i: number) => loader.batch(0, i % loader.batchesPerEpoch);
  console.log(`adapter: ${gpu.adapterInfo.description || gpu.adapterInfo.device} (${gpu.adapterInfo.path})`);
  const kinds = values.model === 'both' ? (['ce', 'fairkl'] as const) : ([values.model as 'ce' | 'fairkl'] as const);
  for (const k of kinds) await profile(gpu, k, batchOf);
} finally {
  gpu.destroy();
}
process.exit(0);
