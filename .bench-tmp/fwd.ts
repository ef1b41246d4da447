import { initGpu, randn, scope, tensor, Rng } from '@fairgpu/tensor';
import { contrastiveRowStats, l2Normalize } from '@fairgpu/kernels';
const ctx = await initGpu();
const M = Number(process.argv[2] ?? 4096), d = 128;
const rng = new Rng(7);
const labels = tensor(Array.from({ length: M }, () => Math.floor(rng.uniform() * 10)), [M], { device: ctx, dtype: 'i32' });
const x = l2Normalize(randn([M, d], { device: ctx, seed: 1 }));
for (const mode of ['nolabels', 'labels']) {
  const opts = mode === 'labels' ? { temperature: 0.1, labels, columns: ['lseAll', 'sumPosLogit', 'countPos'] as const } : { temperature: 0.1 };
  await scope(async () => { await contrastiveRowStats(x.slice([0, 0], [256, d]), opts.labels ? { ...opts, labels: labels.slice([0], [256]), columns: [...(opts as any).columns] } : opts).toArray(); });
  for (let r = 0; r < 2; r++) {
    const t0 = performance.now();
    await scope(async () => { await contrastiveRowStats(x, { ...opts, columns: (opts as any).columns ? [...(opts as any).columns] : undefined } as any).toArray(); });
    console.log(`${mode} M=${M} fwd ${(performance.now() - t0).toFixed(0)} ms`);
  }
}
process.exit(0);
