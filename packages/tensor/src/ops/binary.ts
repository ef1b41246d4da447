import { dispatch, resolveBackend } from '../dispatch.ts';
import { DtypeMismatchError, InvalidArgumentError } from '../errors.ts';
import { COMPARISON_OPS, type BinaryOp } from '../primitives.ts';
import { broadcastShapes } from '../shape.ts';
import type { TensorLike } from '../tensor.ts';
import type { Tensor } from '../tensor.ts';

/**
 * Elementwise binary primitive with NumPy broadcasting (kernel: shaders/tensor/elementwise.wgsl).
 * Either operand may be a JS number: it is passed to the kernel as a uniform, never uploaded.
 * Comparisons return f32 masks of 0/1.
 * @example add(tensor([[1], [2]]), tensor([10, 20])) // [[11, 21], [12, 22]]
 */
export function binary(op: BinaryOp, a: TensorLike, b: TensorLike): Tensor {
  resolveBackend(op, [a, b], ['a', 'b']);
  for (const [value, name] of [
    [a, 'a'],
    [b, 'b'],
  ] as const) {
    if (typeof value === 'number' && Number.isNaN(value)) throw new InvalidArgumentError(op, name, 'is NaN');
  }
  const dtype = typeof a === 'number' ? (b as Tensor).dtype : a.dtype;
  if (typeof b !== 'number' && b.dtype !== dtype) {
    throw new DtypeMismatchError(op, 'b', `is ${b.dtype} but 'a' is ${dtype}`);
  }
  if (dtype === 'i32' && op === 'pow') throw new DtypeMismatchError(op, 'a', 'pow needs f32 operands');
  const shape = broadcastShapes(op, [typeof a === 'number' ? [] : a.shape, typeof b === 'number' ? [] : b.shape], ['a', 'b']);
  return dispatch(op, [a, b], {}, { shape, dtype: COMPARISON_OPS.has(op) ? 'f32' : dtype }, ['a', 'b']);
}

export const add = (a: TensorLike, b: TensorLike): Tensor => binary('add', a, b);
export const sub = (a: TensorLike, b: TensorLike): Tensor => binary('sub', a, b);
export const mul = (a: TensorLike, b: TensorLike): Tensor => binary('mul', a, b);
export const div = (a: TensorLike, b: TensorLike): Tensor => binary('div', a, b);
export const pow = (a: TensorLike, b: TensorLike): Tensor => binary('pow', a, b);
export const maximum = (a: TensorLike, b: TensorLike): Tensor => binary('maximum', a, b);
export const minimum = (a: TensorLike, b: TensorLike): Tensor => binary('minimum', a, b);
export const eq = (a: TensorLike, b: TensorLike): Tensor => binary('eq', a, b);
export const ne = (a: TensorLike, b: TensorLike): Tensor => binary('ne', a, b);
export const lt = (a: TensorLike, b: TensorLike): Tensor => binary('lt', a, b);
export const le = (a: TensorLike, b: TensorLike): Tensor => binary('le', a, b);
export const gt = (a: TensorLike, b: TensorLike): Tensor => binary('gt', a, b);
export const ge = (a: TensorLike, b: TensorLike): Tensor => binary('ge', a, b);
