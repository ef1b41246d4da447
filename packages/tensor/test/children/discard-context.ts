/**
 * Child script of lifetime.gpu.test.ts: `await initGpu()` with its result discarded, then a few
 * forward + backward passes with forced garbage collections in between (run with --expose-gc).
 * dawn.node crashes natively when its GPU object is collected under a live device.
 */
import { initGpu, randn, scope } from '@fairgpu/tensor';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

await initGpu();
for (let i = 0; i < 6; i++) {
  gc();
  await new Promise((r) => setTimeout(r, 10));
  const value = await scope(async () => {
    const x = randn([16, 8], { seed: i, requiresGrad: true });
    const w = randn([8, 4], { seed: 100 + i });
    const loss = x.normalize(1).matmul(w).softmax(1).square().mean();
    await loss.backward();
    const g = await x.grad!.toArray();
    if (!g.every(Number.isFinite)) throw new Error('non-finite gradient');
    return loss.item();
  });
  gc();
  console.log(`step ${i} loss ${value.toFixed(4)}`);
}
console.log('done');
process.exit(0);
