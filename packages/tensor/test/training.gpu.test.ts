import { afterAll, describe, expect, it } from 'vitest';
import { DeviceLostError, initGpu, noGrad, randn, scope, tensor, zeros, type Tensor } from '../src/index.ts';
import { gpuOrSkip } from './helpers.ts';

const gpu = await gpuOrSkip();
afterAll(() => gpu?.destroy());

/** A 2-layer MLP regression step: forward, backward, SGD update in place, no readback. */
function makeMlp(device: NonNullable<typeof gpu>) {
  const w1 = randn([8, 16], { device, seed: 1 }).mul(0.3).requiresGrad_();
  const b1 = zeros([16], { device, requiresGrad: true });
  const w2 = randn([16, 1], { device, seed: 2 }).mul(0.3).requiresGrad_();
  const b2 = zeros([1], { device, requiresGrad: true });
  const params = [w1, b1, w2, b2];
  const x = randn([32, 8], { device, seed: 3 });
  const y = x.sum(1, true).tanh();
  const step = async (lr: number): Promise<Tensor> =>
    scope(async () => {
      const pred = x.matmul(w1).add(b1).relu().matmul(w2).add(b2);
      const loss = pred.sub(y).square().mean();
      await loss.backward();
      noGrad(() => {
        for (const p of params) {
          p.assign(p.sub(p.grad!.mul(lr)));
          p.zeroGrad();
        }
      });
      return loss;
    });
  /**
   * The same step with no scope: every handle disposed by hand (a user evaluating without
   * noGrad and freeing outputs). Disposing the last handle of the graph's output frees it.
   */
  const manualStep = async (lr: number): Promise<Tensor> => {
    const h1 = x.matmul(w1);
    const h2 = h1.add(b1);
    const h3 = h2.relu();
    const h4 = h3.matmul(w2);
    const pred = h4.add(b2);
    const err = pred.sub(y);
    const sq = err.square();
    const loss = sq.mean();
    for (const t of [h1, h2, h3, h4, pred, err, sq]) t.dispose();
    await loss.backward();
    noGrad(() => {
      for (const p of params) {
        const delta = p.grad!.mul(lr);
        const next = p.sub(delta);
        p.assign(next);
        delta.dispose();
        next.dispose();
        p.zeroGrad();
      }
    });
    return loss;
  };
  return { params, step, manualStep, dispose: () => [...params, x, y].forEach((t) => t.dispose()) };
}

async function flatOver10k(step: (lr: number) => Promise<Tensor>): Promise<void> {
  // Warm-up: pipelines, pool sizes and the readback staging buffer.
  for (let i = 0; i < 3; i++) {
    const loss = await step(0.05);
    await loss.item();
    loss.dispose();
  }
  const before = gpu!.memory();
  const createdBefore = gpu!.backend.pool.created;
  let first = 0;
  let last = 0;
  for (let i = 0; i < 10_000; i++) {
    const loss = await step(0.05);
    if (i === 0) first = await loss.item();
    if (i === 9_999) last = await loss.item();
    loss.dispose();
  }
  const after = gpu!.memory();
  expect(after.bytesInUse).toBe(before.bytesInUse);
  expect(after.tensors).toBe(before.tensors);
  // The pool reaches a steady state: no new buffers after warm-up.
  expect(gpu!.backend.pool.created).toBe(createdBefore);
  expect(last).toBeLessThan(first * 0.2);
}

describe.runIf(gpu)('training on the GPU', () => {
  it('10,000 forward+backward+update iterations leave bytesInUse and the tensor count unchanged', async () => {
    const mlp = makeMlp(gpu!);
    await flatOver10k(mlp.step);
    mlp.dispose();
  }, 300_000);

  it('the same 10,000 steps with manual disposal instead of scope() stay flat too', async () => {
    const mlp = makeMlp(gpu!);
    await flatOver10k(mlp.manualStep);
    mlp.dispose();
  }, 300_000);
});

describe.runIf(gpu)('device loss', () => {
  it('turns into a typed error on the next call, not a hang', async () => {
    const ctx = await initGpu({ setDefault: false });
    const t = tensor([1, 2, 3], undefined, { device: ctx });
    ctx.device.destroy();
    await ctx.device.lost;
    expect(() => t.mul(2)).toThrowError(DeviceLostError);
    await expect(t.toArray()).rejects.toThrowError(DeviceLostError);
    ctx.destroy();
  });
});
