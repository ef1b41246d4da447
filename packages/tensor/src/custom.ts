import type { Operand, OutputSpec } from './backend.ts';
import type { DType } from './dtype.ts';
import { dispatch } from './dispatch.ts';
import type { Recorder } from './gpu/kernels/index.ts';
import type { Shape } from './shape.ts';
import type { Tensor, TensorLike } from './tensor.ts';

/** A CPU operand of a custom op: its float64 values (i32 tensors hold integers). */
export type CpuOperand = { readonly values: Float64Array; readonly shape: Shape; readonly dtype: DType } | number;

export interface CustomVjpContext {
  readonly inputs: readonly (Tensor | number)[];
  readonly output: Tensor;
  readonly attrs: Readonly<Record<string, unknown>>;
}

/**
 * An op defined outside the core, typically a fused kernel (packages/kernels): one output tensor
 * (pack several statistics as columns), a GPU encoding through the backend's recorder (one or more
 * dispatches into the shared command encoder: no readback, no extra submit), a float64 CPU
 * reference, and optionally a VJP built from tensor ops (often another custom op). Define it once
 * at module level and call it with `customOp(def, inputs, out, attrs)`.
 */
export interface CustomOpDefinition {
  readonly name: string;
  gpu(rec: Recorder, inputs: readonly Operand[], out: OutputSpec, dst: GPUBuffer, attrs: Readonly<Record<string, unknown>>): void;
  cpu(inputs: readonly CpuOperand[], out: OutputSpec, attrs: Readonly<Record<string, unknown>>): Float64Array;
  /** Omit for ops that are not differentiable (nothing is recorded for them). */
  vjp?(g: Tensor, ctx: CustomVjpContext): readonly (Tensor | null)[];
}

/**
 * Runs a custom op through the single dispatch path (validation of the operands' backend,
 * autograd recording, scopes). `names` name the inputs in error messages.
 */
export function customOp(
  op: CustomOpDefinition,
  inputs: readonly TensorLike[],
  out: OutputSpec,
  attrs: Readonly<Record<string, unknown>> = {},
  names: readonly string[] = inputs.map((_, i) => `input ${i}`),
): Tensor {
  return dispatch('custom', inputs, { op, attrs }, out, names.length ? names : [op.name]);
}
