import { dispatch, resolveBackend } from '../dispatch.ts';
import { InvalidArgumentError } from '../errors.ts';
import { normalizeAxes } from '../shape.ts';
import type { Tensor } from '../tensor.ts';

function reduceShape(shape: readonly number[], axes: readonly number[], keepdim: boolean): number[] {
  return keepdim ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

/**
 * Sum over `axis` (a number, a list, or all axes when omitted) (kernel: shaders/tensor/reduce.wgsl).
 * @example sum(tensor([[1, 2], [3, 4]]), 1) // [3, 7]
 */
export function sum(x: Tensor, axis?: number | readonly number[], keepdim = false): Tensor {
  resolveBackend('sum', [x], ['x']);
  const axes = normalizeAxes('sum', axis, x.rank);
  return dispatch('sum', [x], { axes, keepdim }, { shape: reduceShape(x.shape, axes, keepdim), dtype: x.dtype }, ['x']);
}

/**
 * Maximum over `axis`; the gradient is shared evenly between ties (kernel: shaders/tensor/reduce.wgsl).
 * @example max(tensor([[1, 5], [3, 4]]), 1) // [5, 4]
 */
export function max(x: Tensor, axis?: number | readonly number[], keepdim = false): Tensor {
  resolveBackend('max', [x], ['x']);
  const axes = normalizeAxes('max', axis, x.rank);
  if (axes.some((a) => x.shape[a] === 0)) {
    throw new InvalidArgumentError('max', 'x', 'cannot reduce an empty axis with max');
  }
  return dispatch('max', [x], { axes, keepdim }, { shape: reduceShape(x.shape, axes, keepdim), dtype: x.dtype }, ['x']);
}
