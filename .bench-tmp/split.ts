import { initGpu, randn, scope, tensor, Rng } from '@fairgpu/tensor';
import { contrastiveRowStats, l2Normalize, STAT } from '@fairgpu/kernels';
const ctx = await initGpu();
const M = Number(process.argv[2] ?? 2048), d = 128;
const rng = new Rng(7);
const labels = tensor(Array.from({ length: M }, () => Math.floor(rng.uniform() * 10)), [M], { device: ctx, dtype: 'i32' });
const x = randn([M, d], { device: ctx, seed: 1 }).requiresGrad_();
const extra = process.argv[3] ? JSON.parse(process.argv[3]) : {};
const loss = () => {
  const st = contrastiveRowStats(l2Normalize(x), { temperature: 0.1, labels, ...extra });
  const col = (k: number) => st.slice([0, k], [M, k + 1]);
  const count = col(STAT.countPos);
  const has = count.gt(0);
  return col(STAT.sumPosLogit).sub(count.mul(col(STAT.lseAll))).div(count.maximum(1)).neg().mul(has).sum().div(has.sum().maximum(1));
};
// warm-up compile at small size
await scope(async () => { const l = loss(); await l.backward(); await x.grad!.toArray(); x.zeroGrad(); });
for (let r = 0; r < Number(process.env.REPS ?? 3); r++) {
  const t0 = performance.now();
  const v = await scope(async () => { const l = loss(); return (await l.toArray())[0]; });
  const t1 = performance.now();
  await scope(async () => { x.zeroGrad(); const l = loss(); await l.backward(); await x.grad!.toArray(); });
  const t2 = performance.now();
  console.log(`M=${M} fwd ${(t1 - t0).toFixed(0)} ms, fwd+bwd ${(t2 - t1).toFixed(0)} ms, loss ${v}`);
}
process.exit(0);
