import type { Params, Primitive } from '../primitives.ts';
import type { Tensor } from '../tensor.ts';
import * as ops from '../ops/index.ts';
import { sliceGrad } from '../composites.ts';

export interface VjpContext<P extends Primitive> {
  /** The op's inputs as they were (private handles; numbers for scalar operands). */
  readonly inputs: readonly (Tensor | number)[];
  /** The op's output. */
  readonly output: Tensor;
  readonly params: Params<P>;
  /**
   * Per input: whether its gradient is used (a leaf with requiresGrad, or a node on a path to
   * one). A rule may return null for the others instead of computing a gradient the engine
   * would drop (a convolution's input gradient at the first layer is a whole matmul).
   */
  readonly needsGrad: readonly boolean[];
}

/**
 * A vector-Jacobian product: the gradient flowing into the output → one gradient per input (null
 * for inputs that get none). Gradients may have the output's broadcast shape; the engine sums
 * them down to each input's shape once (autograd/backward.ts), so rules never repeat that.
 */
export type VjpRule<P extends Primitive> = (g: Tensor, ctx: VjpContext<P>) => readonly (Tensor | null)[];

/** Ops whose gradient is zero almost everywhere: nothing is recorded for them. */
export const NONDIFFERENTIABLE = 'nondifferentiable' as const;

const t = (x: Tensor | number): Tensor => x as Tensor;

/**
 * The gradient table. Its mapped type makes a primitive without an entry a compile error.
 */
export const vjpRules: { [P in Primitive]: VjpRule<P> | typeof NONDIFFERENTIABLE } = {
  neg: (g) => [ops.neg(g)],
  exp: (g, { output }) => [ops.mul(g, output)],
  log: (g, { inputs: [x] }) => [ops.div(g, x)],
  sqrt: (g, { output }) => [ops.div(ops.mul(g, 0.5), output)],
  abs: (g, { inputs: [x] }) => [ops.mul(g, ops.sign(t(x)))],
  sign: NONDIFFERENTIABLE,
  floor: NONDIFFERENTIABLE,
  tanh: (g, { output }) => [ops.mul(g, ops.sub(1, ops.mul(output, output)))],
  sigmoid: (g, { output }) => [ops.mul(g, ops.mul(output, ops.sub(1, output)))],
  relu: (g, { inputs: [x] }) => [ops.mul(g, ops.gt(x, 0))],
  sin: (g, { inputs: [x] }) => [ops.mul(g, ops.cos(t(x)))],
  cos: (g, { inputs: [x] }) => [ops.neg(ops.mul(g, ops.sin(t(x))))],
  recip: (g, { output }) => [ops.neg(ops.mul(g, ops.mul(output, output)))],
  add: (g) => [g, g],
  sub: (g) => [g, ops.neg(g)],
  mul: (g, { inputs: [a, b], needsGrad: [da, db] }) => [da ? ops.mul(g, b) : null, db ? ops.mul(g, a) : null],
  div: (g, { inputs: [, b], output }) => [ops.div(g, b), ops.neg(ops.div(ops.mul(g, output), b))],
  pow: (g, { inputs: [a, b], output }) => [
    ops.mul(g, ops.mul(b, ops.pow(a, typeof b === 'number' ? b - 1 : ops.sub(b, 1)))),
    typeof b === 'number' ? null : ops.mul(g, ops.mul(output, ops.log(t(a)))),
  ],
  // Ties split the gradient evenly, as PyTorch's maximum/minimum do.
  maximum: (g, { inputs: [a, b] }) => {
    const share = ops.add(ops.gt(a, b), ops.mul(ops.eq(a, b), 0.5));
    return [ops.mul(g, share), ops.mul(g, ops.sub(1, share))];
  },
  minimum: (g, { inputs: [a, b] }) => {
    const share = ops.add(ops.lt(a, b), ops.mul(ops.eq(a, b), 0.5));
    return [ops.mul(g, share), ops.mul(g, ops.sub(1, share))];
  },
  eq: NONDIFFERENTIABLE,
  ne: NONDIFFERENTIABLE,
  lt: NONDIFFERENTIABLE,
  le: NONDIFFERENTIABLE,
  gt: NONDIFFERENTIABLE,
  ge: NONDIFFERENTIABLE,
  where: (g, { inputs: [cond] }) => [null, ops.where(cond, g, 0), ops.where(cond, 0, g)],
  sum: (g, { inputs: [x], params }) => [ops.expand(keepdimShape(g, t(x).shape, params), t(x).shape)],
  // The gradient of a max goes to every position equal to it, split evenly between ties.
  max: (g, { inputs: [x], output, params }) => {
    const input = t(x);
    const m = keepdimShape(output, input.shape, params);
    const mask = ops.eq(input, m);
    const count = ops.sum(mask, params.axes, true);
    return [ops.mul(mask, ops.div(keepdimShape(g, input.shape, params), count))];
  },
  matmul: (g, { inputs: [a, b], params: { transA, transB }, needsGrad: [da, db] }) => [
    !da ? null : transA ? ops.matmulTransposed(t(b), g, transB, true) : ops.matmulTransposed(g, t(b), false, !transB),
    !db ? null : transB ? ops.matmulTransposed(g, t(a), true, transA) : ops.matmulTransposed(t(a), g, !transA, false),
  ],
  reshape: (g, { inputs: [x] }) => [ops.reshape(g, t(x).shape)],
  permute: (g, { params: { axes } }) => {
    const inverse = new Array<number>(axes.length);
    axes.forEach((a, i) => (inverse[a] = i));
    return [ops.permute(g, inverse)];
  },
  expand: (g) => [g],
  slice: (g, { inputs: [x], params }) => [sliceGrad(g, t(x).shape, params)],
  pad: (g, { inputs: [x], params: { widths } }) => [
    ops.slice(
      g,
      widths.map(([before]) => before),
      widths.map(([before], i) => before + t(x).shape[i]),
    ),
  ],
  concat: (g, { inputs, params: { axis } }) => {
    let offset = 0;
    return inputs.map((x) => {
      const shape = t(x).shape;
      const starts = shape.map((_, i) => (i === axis ? offset : 0));
      const ends = shape.map((d, i) => (i === axis ? offset + d : d));
      offset += shape[axis];
      return ops.slice(g, starts, ends);
    });
  },
  gather: (g, { inputs: [x, index], params: { axis } }) => [ops.scatterAdd(g, axis, t(index), t(x).shape), null],
  scatterAdd: (g, { inputs: [, index], params: { axis } }) => [ops.gather(g, axis, t(index)), null],
  cast: (g, { inputs: [x] }) => [t(x).dtype === 'f32' ? g : null],
  custom: (g, { inputs, output, params: { op, attrs }, needsGrad }) => {
    if (!op.vjp) throw new Error(`custom op '${op.name}' has no vjp but was recorded for autograd`);
    return op.vjp(g, { inputs, output, attrs, needsGrad });
  },
};

/** Reshapes a reduced tensor to the keepdim form so it broadcasts against the input. */
function keepdimShape(v: Tensor, inShape: readonly number[], params: { axes: readonly number[]; keepdim: boolean }): Tensor {
  if (params.keepdim) return v;
  return ops.reshape(
    v,
    inShape.map((d, i) => (params.axes.includes(i) ? 1 : d)),
  );
}
