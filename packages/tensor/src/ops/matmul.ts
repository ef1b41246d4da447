import { dispatch, resolveBackend } from '../dispatch.ts';
import { DtypeMismatchError, InvalidArgumentError, ShapeMismatchError } from '../errors.ts';
import { broadcastShapes, formatShape } from '../shape.ts';
import type { Tensor } from '../tensor.ts';

/**
 * Batched matrix product of [..., M, K] and [..., K, N] with broadcast batch axes
 * (kernels: shaders/tensor/matmul-blocked.wgsl on software adapters, matmul-tiled.wgsl on GPUs).
 * @example matmul(randn([8, 32, 16]), randn([16, 4])) // shape [8, 32, 4]
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  return matmulTransposed(a, b, false, false);
}

/**
 * matmul reading either operand transposed (its last two axes swapped) without copying it:
 * what the backward pass uses for Aᵀ·G and G·Bᵀ.
 */
export function matmulTransposed(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor {
  resolveBackend('matmul', [a, b], ['a', 'b']);
  for (const [x, name] of [
    [a, 'a'],
    [b, 'b'],
  ] as const) {
    if (x.rank < 2)
      throw new InvalidArgumentError('matmul', name, `must have rank ≥ 2, got shape ${formatShape(x.shape)} (reshape vectors to [1, n] or [n, 1])`);
    if (x.dtype !== 'f32') throw new DtypeMismatchError('matmul', name, `must be f32, got ${x.dtype}`);
  }
  const [am, ak] = transA ? [a.shape[a.rank - 1], a.shape[a.rank - 2]] : [a.shape[a.rank - 2], a.shape[a.rank - 1]];
  const [bk, bn] = transB ? [b.shape[b.rank - 1], b.shape[b.rank - 2]] : [b.shape[b.rank - 2], b.shape[b.rank - 1]];
  if (ak !== bk) {
    throw new ShapeMismatchError('matmul', 'b', `inner dimensions differ: a is ${formatShape(a.shape)}, b is ${formatShape(b.shape)} (${ak} ≠ ${bk})`);
  }
  const batch = broadcastShapes('matmul', [a.shape.slice(0, -2), b.shape.slice(0, -2)], ['a', 'b']);
  return dispatch('matmul', [a, b], { transA, transB }, { shape: [...batch, am, bn], dtype: 'f32' }, ['a', 'b']);
}
