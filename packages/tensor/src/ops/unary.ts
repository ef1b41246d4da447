import { dispatch, resolveBackend } from '../dispatch.ts';
import { DtypeMismatchError } from '../errors.ts';
import type { UnaryOp } from '../primitives.ts';
import type { Tensor } from '../tensor.ts';

/** Unary ops that are defined on i32 too; the rest need f32. */
const INTEGER_SAFE: ReadonlySet<UnaryOp> = new Set(['neg', 'abs', 'sign']);

/**
 * Elementwise unary primitive (kernel: shaders/tensor/elementwise.wgsl).
 * @example exp(tensor([0, 1])) // [1, 2.718…]
 */
export function unary(op: UnaryOp, x: Tensor): Tensor {
  resolveBackend(op, [x], ['x']);
  if (x.dtype !== 'f32' && !INTEGER_SAFE.has(op)) {
    throw new DtypeMismatchError(op, 'x', `needs f32, got ${x.dtype} (cast it first)`);
  }
  return dispatch(op, [x], {}, { shape: x.shape, dtype: x.dtype }, ['x']);
}

export const neg = (x: Tensor): Tensor => unary('neg', x);
export const exp = (x: Tensor): Tensor => unary('exp', x);
export const log = (x: Tensor): Tensor => unary('log', x);
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
export const abs = (x: Tensor): Tensor => unary('abs', x);
export const sign = (x: Tensor): Tensor => unary('sign', x);
export const tanh = (x: Tensor): Tensor => unary('tanh', x);
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
export const relu = (x: Tensor): Tensor => unary('relu', x);
export const sin = (x: Tensor): Tensor => unary('sin', x);
export const cos = (x: Tensor): Tensor => unary('cos', x);
export const recip = (x: Tensor): Tensor => unary('recip', x);
export const floor = (x: Tensor): Tensor => unary('floor', x);
