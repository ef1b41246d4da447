import { afterAll, describe, expect, it } from 'vitest';
import { crossEntropy, gather, InvalidArgumentError, isFairgpuError, memory, normalize, tensor, zeros } from '../src/index.ts';
import { errorCases } from './edge.ts';
import { gpuOrSkip } from './helpers.ts';

const gpu = await gpuOrSkip();
afterAll(() => gpu?.destroy());

describe.runIf(gpu)('bad inputs on the GPU', () => {
  it.each(errorCases.map((c) => [c.name, c] as const))('%s (typed error, memory at baseline)', async (_n, c) => {
    const inputs = c.inputs?.(gpu!) ?? [];
    const before = memory(gpu!);
    let error: unknown;
    try {
      c.run(gpu!, ...inputs);
    } catch (e) {
      error = e;
    }
    expect(error, 'it must throw').toBeInstanceOf(c.error);
    expect(isFairgpuError(error)).toBe(true);
    expect((error as Error).message).toMatch(c.message);
    const after = memory(gpu!);
    expect(after.tensors, 'tensors').toBe(before.tensors);
    expect(after.bytesInUse, 'bytes').toBe(before.bytesInUse);
    for (const t of inputs) t.dispose();
  });

  it('an index computed on the device is checked by the kernel and reported at the next readback', async () => {
    const x = tensor([1, 2, 3], [3], { device: gpu! });
    const idx = tensor([0, 1], [2], { device: gpu!, dtype: 'i32' }).add(2); // [2, 3]: no host range
    const g = gather(x, 0, idx); // no throw: the values are on the device
    const before = memory(gpu!);
    const error = await g.toArray().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toMatch(/^gather: argument 'index' must hold indices in \[0, 3\).*found on the GPU/);
    expect(memory(gpu!)).toMatchObject({ tensors: before.tensors, bytesInUse: before.bytesInUse });
    // The flag is cleared by the readback that reported it: the next one succeeds.
    expect(Array.from(await idx.toArray())).toEqual([2, 3]);
    // sync() reports it too.
    const g2 = gather(x, 0, idx);
    await expect(gpu!.backend.sync()).rejects.toThrowError(/gather: argument 'index'/);
    await gpu!.backend.sync();
    for (const t of [x, idx, g, g2]) t.dispose();
  });

  it('crossEntropy with device-computed targets names crossEntropy / targets; valid ones read normally', async () => {
    const logits = tensor([1, 2, 3, 4, 5, 6, 7, 8], [2, 4], { device: gpu!, requiresGrad: true });
    const bad = tensor([0, 2], [2], { device: gpu!, dtype: 'i32' }).add(2); // [2, 4]
    const loss = crossEntropy(logits, bad);
    await loss.backward();
    await expect(loss.item()).rejects.toThrowError(/^crossEntropy: argument 'targets' must hold indices in \[0, 4\)/);
    // The bad row read 0 (finite): no NaN reached the gradient.
    expect(Array.from(await logits.grad!.toArray()).every(Number.isFinite)).toBe(true);
    const good = tensor([0, 1], [2], { device: gpu!, dtype: 'i32' }).add(1);
    const ok = crossEntropy(logits, good);
    expect(Number.isFinite(await ok.item())).toBe(true);
    for (const t of [logits, bad, loss, good, ok]) t.dispose();
  });

  it('normalize: a zero row is finite forward and backward in f32 (gradient g / eps)', async () => {
    const x = zeros([2, 3], { device: gpu!, requiresGrad: true });
    const w = tensor([1, 2, 3, 4, 5, 6], [2, 3], { device: gpu! });
    const loss = normalize(x).mul(w).sum();
    expect(await loss.item()).toBe(0);
    await loss.backward();
    const g = Array.from(await x.grad!.toArray());
    g.forEach((v, k) => expect(v / ((k + 1) * 1e12)).toBeCloseTo(1, 5));
    for (const t of [x, w, loss]) t.dispose();
  });
});
