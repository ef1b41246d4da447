import { dispatch, resolveBackend } from '../dispatch.ts';
import { DtypeMismatchError, InvalidArgumentError, ShapeMismatchError } from '../errors.ts';
import type { IndexCheck } from '../primitives.ts';
import { formatShape, normalizeAxes, validateShape } from '../shape.ts';
import type { Tensor } from '../tensor.ts';

/** Names for the error an out-of-range index raises (default: the gather op and 'index'). */
export interface IndexCheckOptions {
  /** The op to blame, e.g. 'crossEntropy'. */
  op?: string;
  /** The argument to blame, e.g. 'targets'. */
  argument?: string;
}

function checkIndex(op: string, index: Tensor, rank: number, shape: readonly number[], axis: number, argument: string): void {
  if (index.dtype !== 'i32') throw new DtypeMismatchError(op, 'index', `must be i32, got ${index.dtype}`);
  if (index.rank !== rank || index.shape.some((d, i) => i !== axis && d !== shape[i])) {
    throw new ShapeMismatchError(op, 'index', `${formatShape(index.shape)} must match ${argument} ${formatShape(shape)} on every axis but ${axis}`);
  }
}

/** [min, max] of an index when the host knows it: every CPU tensor, GPU tensors uploaded from host data. */
function knownRange(index: Tensor): readonly [number, number] | undefined {
  const storage = index.view('gather', 'index').storage;
  if (storage.range) return storage.range;
  if (index.backend.kind !== 'cpu') return undefined;
  const values = storage.handle as Float64Array;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < index.size; i++) {
    lo = Math.min(lo, values[i]);
    hi = Math.max(hi, values[i]);
  }
  return [lo, hi];
}

/**
 * Every index must lie in [0, extent). Known on the host: a synchronous InvalidArgumentError.
 * Otherwise the GPU kernel checks each index, writes 0 for a bad one and raises a device flag
 * that the next readback (toArray, item, sync) turns into this same InvalidArgumentError.
 */
export function indexCheck(primitive: string, index: Tensor, extent: number, axis: number, names: IndexCheckOptions | undefined): IndexCheck {
  const op = names?.op ?? primitive;
  const argument = names?.argument ?? 'index';
  const rule = `must hold indices in [0, ${extent}) (axis ${axis} has ${extent} entries)`;
  if (index.size > 0) {
    const range = knownRange(index);
    if (range && (range[0] < 0 || range[1] >= extent)) {
      throw new InvalidArgumentError(op, argument, `${rule}; got values in [${range[0]}, ${range[1]}]`);
    }
  }
  return { op, argument, rule };
}

/**
 * torch.gather: out[.., j, ..] = x[.., index[.., j, ..], ..] along `axis`; index is i32 with the
 * same shape as x except on `axis`. Every index must be in [0, x.shape[axis]): with values known
 * on the host (CPU tensors, tensors made by `tensor()`) a bad one throws here; on the GPU the
 * kernel (shaders/tensor/gather.wgsl) flags it and the next readback throws the same
 * InvalidArgumentError (the bad entries read as 0 meanwhile). `names` picks the op and argument
 * the error names.
 * @example gather(logits, 1, targets.reshape([-1, 1])) // the logit of each target class
 */
export function gather(x: Tensor, axis: number, index: Tensor, names?: IndexCheckOptions): Tensor {
  resolveBackend('gather', [x, index], ['x', 'index']);
  const [a] = normalizeAxes('gather', axis, x.rank);
  checkIndex('gather', index, x.rank, x.shape, a, 'x');
  if (x.shape[a] === 0 && index.shape[a] > 0) throw new InvalidArgumentError('gather', 'x', `has an empty axis ${a} to gather from`);
  const check = indexCheck('gather', index, x.shape[a], a, names);
  return dispatch('gather', [x, index], { axis: a, check }, { shape: index.shape, dtype: x.dtype }, ['x', 'index']);
}

/**
 * The adjoint of gather: a tensor of `shape`, zero except out[.., index[.., j, ..], ..] += values[.., j, ..].
 * Runs without atomics (kernel: shaders/tensor/gather.wgsl). Indices are checked as in gather.
 */
export function scatterAdd(values: Tensor, axis: number, index: Tensor, shape: readonly number[], names?: IndexCheckOptions): Tensor {
  resolveBackend('scatterAdd', [values, index], ['values', 'index']);
  const outShape = validateShape([...shape], 'scatterAdd');
  const [a] = normalizeAxes('scatterAdd', axis, outShape.length);
  checkIndex('scatterAdd', index, outShape.length, outShape, a, 'shape');
  if (formatShape(values.shape) !== formatShape(index.shape)) {
    throw new ShapeMismatchError('scatterAdd', 'values', `${formatShape(values.shape)} must equal the index shape ${formatShape(index.shape)}`);
  }
  const check = indexCheck('scatterAdd', index, outShape[a], a, names);
  return dispatch('scatterAdd', [values, index], { axis: a, shape: outShape, check }, { shape: outShape, dtype: values.dtype }, ['values', 'index']);
}
