import { describe, expect, it } from 'vitest';
import * as T from '../src/index.ts';
import { gradcheck, type Tensor } from '../src/index.ts';
import { randomData } from './helpers.ts';

/**
 * Every differentiable primitive's VJP rule against central finite differences in float64 on the
 * CPU reference, on shapes with broadcasting and size-1 axes.
 */
const input = (shape: number[], seed: number, kind: 'normal' | 'positive' = 'normal') => ({
  data: randomData(
    shape.reduce((p, d) => p * d, 1),
    seed,
    kind,
  ),
  shape,
});

const idx = (data: number[], shape: number[]) => T.tensor(data, shape, { device: 'cpu', dtype: 'i32' });

const checks: [string, (...xs: Tensor[]) => Tensor, ReturnType<typeof input>[]][] = [
  ['neg/exp/tanh/sigmoid', (x) => x.neg().exp().add(x.tanh()).add(x.sigmoid()), [input([3, 4], 1)]],
  ['log/sqrt/recip', (x) => x.log().add(x.sqrt()).add(x.recip()), [input([5], 2, 'positive')]],
  ['sin/cos/abs/relu', (x) => x.sin().mul(x.cos()).add(x.abs()).add(x.relu()), [input([7], 3)]],
  ['add/sub/mul/div broadcast', (a, b) => a.add(b).mul(a.sub(b)).div(b.abs().add(1)), [input([2, 3, 4], 4), input([3, 1], 5)]],
  ['pow', (a, b) => a.pow(b).add(a.pow(3)), [input([4, 2], 6, 'positive'), input([2], 7)]],
  ['maximum/minimum', (a, b) => a.maximum(b).add(a.minimum(b).mul(2)), [input([3, 5], 8), input([5], 9)]],
  ['where', (a, b) => T.where(a.gt(0), a.mul(b), b), [input([4, 3], 10), input([3], 11)]],
  ['sum keepdim / axes', (x) => x.sum([0, 2], true).mul(x).sum(1), [input([2, 3, 4], 12)]],
  ['max', (x) => x.max(1).mul(x.max(0, true).sum()), [input([4, 5], 13)]],
  ['matmul batched broadcast', (a, b) => a.matmul(b), [input([2, 3, 4], 14), input([4, 5], 15)]],
  ['matmul transposed', (a, b) => T.matmulTransposed(a, b, true, true), [input([4, 3], 16), input([5, 4], 17)]],
  ['reshape/permute/expand', (x) => x.reshape([3, 2, 2]).permute([2, 0, 1]).expand([2, 2, 3, 2]).mul(x.sum()), [input([2, 6], 18)]],
  ['slice with steps', (x) => x.slice([1, 0], [6, 5], [2, 3]).mul(3), [input([7, 5], 19)]],
  [
    'pad',
    (x) =>
      x
        .pad(
          [
            [2, 1],
            [0, 2],
          ],
          1.5,
        )
        .square(),
    [input([3, 2], 20)],
  ],
  ['concat', (a, b) => T.concat([a, b.mul(2)], 1).square(), [input([2, 3], 21), input([2, 2], 22)]],
  ['gather', (x) => x.gather(1, idx([0, 2, 2, 1, 1, 0], [3, 2])).square(), [input([3, 4], 23)]],
  ['logsumexp/softmax', (x) => x.logsumexp(1).add(x.softmax(0).sum(1)), [input([3, 5], 24)]],
  ['normalize/variance', (x) => x.normalize(1).mul(x.variance(0)), [input([4, 3], 25)]],
  ['crossEntropy', (x) => T.crossEntropy(x, idx([2, 0, 1], [3])), [input([3, 4], 26)]],
];

describe('autograd matches central finite differences (float64 CPU reference)', () => {
  for (const [name, fn, inputs] of checks) {
    it(name, async () => {
      const r = await gradcheck(fn, inputs);
      expect(r.maxAbsError, `max abs error ${r.maxAbsError}`).toBeLessThan(1e-6);
      expect(r.ok).toBe(true);
    });
  }

  it('detects a wrong gradient (the check can fail)', async () => {
    // floor is recorded as non-differentiable: its true derivative is 0 a.e., but x + floor(x)·0
    // hides nothing; a function whose autograd is deliberately cut by detach() must fail.
    const r = await gradcheck((x) => x.mul(x.detach()), [input([3], 27)]);
    expect(r.ok).toBe(false);
  });
});
