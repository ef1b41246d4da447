import type { DType } from './dtype.ts';
import type { Shape } from './shape.ts';
import type { CustomOpDefinition } from './custom.ts';

/**
 * The closed primitive set. Every tensor operation reaches a backend as one of these; everything
 * else (logsumexp, softmax, normalize, mean, variance, …) is a composite written with them, so it
 * runs on every backend and gets its gradient for free. Adding a primitive means: a name here, its
 * params in `PrimitiveParams`, a rule in `autograd/vjp.ts` (the table's type makes a missing rule a
 * compile error), a CPU reference in `cpu/backend.ts` and a GPU kernel in `gpu/`.
 */
export const UNARY_OPS = ['neg', 'exp', 'log', 'sqrt', 'abs', 'sign', 'tanh', 'sigmoid', 'relu', 'sin', 'cos', 'recip', 'floor'] as const;
export type UnaryOp = (typeof UNARY_OPS)[number];

/** Comparisons return f32 0/1 masks. */
export const BINARY_OPS = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const;
export type BinaryOp = (typeof BINARY_OPS)[number];
export const COMPARISON_OPS: ReadonlySet<BinaryOp> = new Set(['eq', 'ne', 'lt', 'le', 'gt', 'ge']);

export type NoParams = Record<string, never>;

/** Who an out-of-range gather/scatter index is blamed on: `op: argument '…' rule`. */
export interface IndexCheck {
  readonly op: string;
  readonly argument: string;
  readonly rule: string;
}

export type PrimitiveParams = { [U in UnaryOp]: NoParams } & { [B in BinaryOp]: NoParams } & {
  /** where(cond, a, b): cond ≠ 0 picks a. */
  where: NoParams;
  /** Sum over `axes` (sorted, unique); `keepdim` keeps them as size 1. */
  sum: { axes: readonly number[]; keepdim: boolean };
  /** Max over `axes`; the gradient is split evenly between ties. */
  max: { axes: readonly number[]; keepdim: boolean };
  /** Batched matmul of [..., M, K] × [..., K, N]; trans flags read an operand transposed without a copy. */
  matmul: { transA: boolean; transB: boolean };
  reshape: { shape: Shape };
  permute: { axes: readonly number[] };
  expand: { shape: Shape };
  /** Per-axis start, exclusive end and positive step. */
  slice: { starts: readonly number[]; ends: readonly number[]; steps: readonly number[] };
  /** Constant padding: widths[axis] = [before, after], both ≥ 0. */
  pad: { widths: readonly (readonly [number, number])[]; value: number };
  concat: { axis: number };
  /**
   * torch.gather(input, axis, index) with index of dtype i32. `check` names the op and argument
   * an out-of-range index is reported against (see ops/gather.ts).
   */
  gather: { axis: number; check?: IndexCheck };
  /** The adjoint of gather: out (of `shape`) [.., index[.., j, ..], ..] += values[.., j, ..]. */
  scatterAdd: { axis: number; shape: Shape; check?: IndexCheck };
  cast: { dtype: DType };
  /**
   * The extension point: an op defined outside the core (a fused kernel) with its own GPU
   * encoding, float64 CPU reference and VJP. See custom.ts.
   */
  custom: { op: CustomOpDefinition; attrs: Readonly<Record<string, unknown>> };
};

export type Primitive = keyof PrimitiveParams;
export type Params<P extends Primitive> = PrimitiveParams[P];

export function isUnaryOp(p: Primitive): p is UnaryOp {
  return (UNARY_OPS as readonly string[]).includes(p);
}
export function isBinaryOp(p: Primitive): p is BinaryOp {
  return (BINARY_OPS as readonly string[]).includes(p);
}
