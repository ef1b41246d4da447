import { dispatch, resolveBackend } from '../dispatch.ts';
import { DtypeMismatchError } from '../errors.ts';
import { broadcastShapes } from '../shape.ts';
import type { Tensor, TensorLike } from '../tensor.ts';

/**
 * where(cond, a, b): a where cond ≠ 0, else b, broadcasting all three
 * (kernel: shaders/tensor/elementwise.wgsl).
 * @example where(x.gt(0), x, 0) // relu
 */
export function where(cond: TensorLike, a: TensorLike, b: TensorLike): Tensor {
  const names = ['cond', 'a', 'b'];
  resolveBackend('where', [cond, a, b], names);
  const dtype = typeof a !== 'number' ? a.dtype : typeof b !== 'number' ? b.dtype : 'f32';
  if (typeof a !== 'number' && typeof b !== 'number' && a.dtype !== b.dtype) {
    throw new DtypeMismatchError('where', 'b', `is ${b.dtype} but 'a' is ${a.dtype}`);
  }
  const shapeOf = (x: TensorLike) => (typeof x === 'number' ? [] : x.shape);
  const shape = broadcastShapes('where', [shapeOf(cond), shapeOf(a), shapeOf(b)], names);
  return dispatch('where', [cond, a, b], {}, { shape, dtype }, names);
}
