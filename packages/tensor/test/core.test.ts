import { describe, expect, it } from 'vitest';
import * as T from '../src/index.ts';
import {
  DisposedTensorError,
  DtypeMismatchError,
  GradientError,
  InvalidArgumentError,
  NonFiniteError,
  ShapeMismatchError,
  isFairgpuError,
  memory,
  noGrad,
  Rng,
  scope,
  tensor,
  tidy,
} from '../src/index.ts';

const cpu = { device: 'cpu' as const };

describe('typed errors name the op and the argument', () => {
  it('mismatched shapes', () => {
    const a = tensor([1, 2, 3], undefined, cpu);
    const b = tensor([1, 2], undefined, cpu);
    expect(() => a.add(b)).toThrowError(ShapeMismatchError);
    expect(() => a.add(b)).toThrowError(/add: shape mismatch in 'b'/);
    expect(() => T.matmul(tensor([[1, 2]], undefined, cpu), tensor([[1, 2]], undefined, cpu))).toThrowError(/matmul: shape mismatch in 'b': inner dimensions/);
    expect(() => a.reshape([2, 2])).toThrowError(ShapeMismatchError);
  });

  it('mismatched dtypes', () => {
    const f = tensor([1, 2], undefined, cpu);
    const i = tensor([1, 2], undefined, { ...cpu, dtype: 'i32' });
    expect(() => f.add(i)).toThrowError(DtypeMismatchError);
    expect(() => f.add(i)).toThrowError(/add: dtype mismatch in 'b'/);
    expect(() => i.exp()).toThrowError(/exp: dtype mismatch in 'x'/);
    expect(() => f.gather(0, f)).toThrowError(/gather: dtype mismatch in 'index'/);
  });

  it('use after dispose', () => {
    const a = tensor([1, 2], undefined, cpu);
    a.dispose();
    expect(() => a.mul(2)).toThrowError(DisposedTensorError);
    expect(() => a.mul(2)).toThrowError(/mul: argument 'a' is a disposed tensor/);
    expect(() => T.matmul(tensor([[1]], undefined, cpu), a)).toThrowError(/matmul: argument 'b' is a disposed tensor/);
    return expect(a.toArray()).rejects.toThrowError(/toArray: argument 'tensor' is a disposed tensor/);
  });

  it('backward of a non-scalar without a seed gradient', async () => {
    const x = tensor([1, 2], undefined, { ...cpu, requiresGrad: true });
    await expect(x.mul(2).backward()).rejects.toThrowError(GradientError);
    await expect(x.mul(2).backward()).rejects.toThrowError(/argument 'gradient' is required/);
    await expect(tensor([1], undefined, cpu).backward()).rejects.toThrowError(/does not require grad/);
  });

  it('NaN where an op forbids it', () => {
    expect(() => tensor([1, Number.NaN], undefined, cpu)).toThrowError(NonFiniteError);
    expect(() => tensor([1, Number.NaN], undefined, cpu)).toThrowError(/tensor: argument 'data' contains NaN at flat index 1/);
    expect(() => tensor([1, 2], undefined, cpu).mul(Number.NaN)).toThrowError(/mul: argument 'b' is NaN/);
    expect(tensor([Infinity], undefined, { ...cpu, allowNonFinite: true }).size).toBe(1);
  });

  it('bad arguments', () => {
    const x = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      undefined,
      cpu,
    );
    expect(() => x.sum(2)).toThrowError(InvalidArgumentError);
    expect(() => x.sum(2)).toThrowError(/sum: argument 'axis' 2 is out of range/);
    expect(() => x.permute([0, 0])).toThrowError(/permute: argument 'axes'/);
    expect(() => x.slice([0], [1], [0])).toThrowError(/slice: argument 'steps'/);
    expect(() => tensor([1, 2, 3], [2, 2], cpu)).toThrowError(/tensor: argument 'shape'/);
    expect(() => T.zeros([2, -1], cpu)).toThrowError(/zeros|full: argument 'shape'/);
    expect(isFairgpuError(new ShapeMismatchError('a', 'b', 'c'))).toBe(true);
  });
});

describe('autograd engine', () => {
  it('accumulates gradients, zeroGrad clears, detach stops them', async () => {
    const x = tensor([1, 2, 3], undefined, { ...cpu, requiresGrad: true });
    await x.mul(x).sum().backward();
    await x.mul(3).sum().backward();
    expect([...(await x.grad!.toArray())]).toEqual([5, 7, 9]);
    x.zeroGrad();
    expect(x.grad).toBeNull();
    await x.mul(x.detach()).sum().backward();
    expect([...(await x.grad!.toArray())]).toEqual([1, 2, 3]);
  });

  it('noGrad records nothing, including across await', async () => {
    const x = tensor([1, 2], undefined, { ...cpu, requiresGrad: true });
    expect(noGrad(() => x.mul(2)).requiresGrad).toBe(false);
    const y = await noGrad(async () => {
      await Promise.resolve();
      return x.mul(2);
    });
    expect(y.requiresGrad).toBe(false);
    expect(x.mul(2).requiresGrad).toBe(true);
  });

  it('refuses a second backward through a freed graph unless retainGraph', async () => {
    const x = tensor([1, 2], undefined, { ...cpu, requiresGrad: true });
    const y = x.exp().sum();
    await y.backward(undefined, { retainGraph: true });
    await y.backward();
    expect([...(await x.grad!.toArray())].map((v) => +v.toFixed(4))).toEqual([5.4366, 14.7781]);
    await expect(y.backward()).rejects.toThrowError(/already freed/);
  });

  it('lets intermediates be disposed before backward', async () => {
    const x = tensor([1, 2], undefined, { ...cpu, requiresGrad: true });
    const h = x.mul(x);
    const y = h.mul(3).sum();
    h.dispose();
    await y.backward();
    expect([...(await x.grad!.toArray())]).toEqual([6, 12]);
  });

  it('typed VJP table covers every primitive', () => {
    for (const p of [...T.UNARY_OPS, ...T.BINARY_OPS]) expect(T.vjpRules[p]).toBeDefined();
  });
});

describe('memory ownership', () => {
  it('tidy disposes intermediates and keeps results', () => {
    const before = memory('cpu');
    const kept = tidy(() => {
      const a = tensor([1, 2, 3], undefined, cpu);
      return { out: a.mul(2).add(1).exp() };
    });
    expect(memory('cpu').tensors).toBe(before.tensors + 1);
    kept.out.dispose();
    expect(memory('cpu').tensors).toBe(before.tensors);
    expect(memory('cpu').bytesInUse).toBe(before.bytesInUse);
  });

  it('scope works across await and frees graphs never back-propagated', async () => {
    const before = memory('cpu');
    const w = tensor([0.5, -0.5], undefined, { ...cpu, requiresGrad: true });
    const mid = memory('cpu');
    const value = await scope(async () => {
      const loss = w.mul(w).sum();
      await Promise.resolve();
      const unused = w.exp().mul(3);
      void unused;
      await loss.backward();
      return loss.item();
    });
    expect(value).toBeCloseTo(0.5);
    // w and its grad remain; everything else is gone.
    expect(memory('cpu').tensors).toBe(mid.tensors + 1);
    w.dispose();
    expect(memory('cpu').tensors).toBe(before.tensors);
    expect(memory('cpu').bytesInUse).toBe(before.bytesInUse);
  });

  it('assign overwrites in place and keeps identity', async () => {
    const p = tensor([1, 2], undefined, cpu);
    p.assign(tensor([5, 6], undefined, cpu));
    expect([...(await p.toArray())]).toEqual([5, 6]);
    expect(() => p.assign(tensor([1], undefined, cpu))).toThrowError(ShapeMismatchError);
  });
});

describe('seeded random numbers (xoshiro128**)', () => {
  it('is deterministic per seed and has the right moments', async () => {
    const a = await T.randn([4000], { ...cpu, seed: 7 }).toArray();
    const b = await T.randn([4000], { ...cpu, seed: 7 }).toArray();
    const c = await T.randn([4000], { ...cpu, seed: 8 }).toArray();
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    const values = Array.from(a);
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length;
    expect(Math.abs(mean)).toBeLessThan(0.06);
    expect(Math.abs(variance - 1)).toBeLessThan(0.08);
    const u = await T.rand([4000], { ...cpu, seed: 1 }).toArray();
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    expect(new Rng(3).nextUint32()).toBe(new Rng(3).nextUint32());
  });

  it('arange and full', async () => {
    expect([...(await T.arange(5, undefined, 1, cpu).toArray())]).toEqual([0, 1, 2, 3, 4]);
    expect(T.arange(0, 1, 0.25, cpu).dtype).toBe('f32');
    expect([...(await T.full([2], 3, cpu).toArray())]).toEqual([3, 3]);
  });
});
