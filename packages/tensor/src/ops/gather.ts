import { dispatch, resolveBackend } from '../dispatch.ts';
import { DtypeMismatchError, InvalidArgumentError, ShapeMismatchError } from '../errors.ts';
import { formatShape, normalizeAxes, validateShape } from '../shape.ts';
import type { Tensor } from '../tensor.ts';

function checkIndex(op: string, index: Tensor, rank: number, shape: readonly number[], axis: number, argument: string): void {
  if (index.dtype !== 'i32') throw new DtypeMismatchError(op, 'index', `must be i32, got ${index.dtype}`);
  if (index.rank !== rank || index.shape.some((d, i) => i !== axis && d !== shape[i])) {
    throw new ShapeMismatchError(op, 'index', `${formatShape(index.shape)} must match ${argument} ${formatShape(shape)} on every axis but ${axis}`);
  }
}

/**
 * torch.gather: out[.., j, ..] = x[.., index[.., j, ..], ..] along `axis`; index is i32 with the
 * same shape as x except on `axis`. Out-of-range indices are clamped on the GPU (kernel:
 * shaders/tensor/gather.wgsl); validate labels before building an index from them.
 * @example gather(logits, 1, targets.reshape([-1, 1])) // the logit of each target class
 */
export function gather(x: Tensor, axis: number, index: Tensor): Tensor {
  resolveBackend('gather', [x, index], ['x', 'index']);
  const [a] = normalizeAxes('gather', axis, x.rank);
  checkIndex('gather', index, x.rank, x.shape, a, 'x');
  if (x.shape[a] === 0 && index.shape[a] > 0) throw new InvalidArgumentError('gather', 'x', `has an empty axis ${a} to gather from`);
  return dispatch('gather', [x, index], { axis: a }, { shape: index.shape, dtype: x.dtype }, ['x', 'index']);
}

/**
 * The adjoint of gather: a tensor of `shape`, zero except out[.., index[.., j, ..], ..] += values[.., j, ..].
 * Runs without atomics (kernel: shaders/tensor/gather.wgsl).
 */
export function scatterAdd(values: Tensor, axis: number, index: Tensor, shape: readonly number[]): Tensor {
  resolveBackend('scatterAdd', [values, index], ['values', 'index']);
  const outShape = validateShape([...shape], 'scatterAdd');
  const [a] = normalizeAxes('scatterAdd', axis, outShape.length);
  checkIndex('scatterAdd', index, outShape.length, outShape, a, 'shape');
  if (formatShape(values.shape) !== formatShape(index.shape)) {
    throw new ShapeMismatchError('scatterAdd', 'values', `${formatShape(values.shape)} must equal the index shape ${formatShape(index.shape)}`);
  }
  return dispatch('scatterAdd', [values, index], { axis: a, shape: outShape }, { shape: outShape, dtype: values.dtype }, ['values', 'index']);
}
