import type { Operand, OutputSpec, StorageView } from './backend.ts';
import { coerce, type DType } from './dtype.ts';
import { dispatch, resolveBackend } from './dispatch.ts';
import { InvalidArgumentError } from './errors.ts';
import { bufferOf } from './gpu/kernels/common.ts';
import type { Recorder } from './gpu/kernels/index.ts';
import type { Shape } from './shape.ts';
import { Tensor, type TensorLike } from './tensor.ts';

/** A tensor input of a custom op on the CPU reference: its float64 values (i32 tensors hold integers). */
export interface CpuTensor {
  readonly values: Float64Array;
  readonly shape: Shape;
  readonly dtype: DType;
}

/** A CPU operand of a positional custom op: a tensor's float64 values or a JS scalar. */
export type CpuOperand = CpuTensor | number;

/** The positional input list of the legacy form (`CustomOpDefinition` with no type arguments). */
export type PositionalInputs = readonly TensorLike[];

/**
 * A custom op's inputs by name: every property is a Tensor, optional properties are inputs that
 * may be absent (the op sees `undefined`, nothing is bound or recorded for them).
 */
export type NamedInputs<Inputs> = { readonly [K in keyof Inputs]?: Tensor };

/** What `gpu()` receives for named inputs: each present input's storage view. */
export type GpuInputs<Inputs> = Inputs extends PositionalInputs ? readonly Operand[] : { readonly [K in keyof Inputs]: StorageView };
/** What `cpu()` receives for named inputs: each present input's float64 values. */
export type CpuInputs<Inputs> = Inputs extends PositionalInputs ? readonly CpuOperand[] : { readonly [K in keyof Inputs]: CpuTensor };
/** What `vjp()` sees of the inputs: the saved tensors (absent optional inputs stay absent). */
export type VjpInputs<Inputs> = Inputs extends PositionalInputs ? readonly (Tensor | number)[] : { readonly [K in keyof Inputs]: Tensor };
/** What `vjp()` returns: a gradient per input name; omitted or null means none (positional form: one per input). */
export type InputGradients<Inputs> = Inputs extends PositionalInputs ? readonly (Tensor | null)[] : { readonly [K in keyof Inputs]?: Tensor | null };

export interface CustomVjpContext<Attrs = Readonly<Record<string, unknown>>, Inputs = PositionalInputs> {
  readonly inputs: VjpInputs<Inputs>;
  readonly output: Tensor;
  readonly attrs: Readonly<Attrs>;
  /**
   * Whether each input's gradient is used (by name for named inputs): return null for the others
   * to skip their work. Absent when a caller builds the context itself: compute every gradient.
   */
  readonly needsGrad?: Inputs extends PositionalInputs ? readonly boolean[] : { readonly [K in keyof Inputs]?: boolean };
}

/**
 * An op defined outside the core, typically a fused kernel (packages/kernels): one output tensor
 * (pack several statistics as columns), a GPU encoding through the backend's recorder (one or more
 * dispatches into the shared command encoder: no readback, no extra submit), a float64 CPU
 * reference, and optionally a VJP built from tensor ops (often another custom op). Define it once
 * at module level and call it with `customOp(def, inputs, out, attrs)`.
 *
 * Typed form, `CustomOpDefinition<Attrs, Inputs>`: `Attrs` is the op's attribute object and
 * `Inputs` an object type naming its tensor inputs, optional properties for inputs that may be
 * absent, e.g. `{ x: Tensor; bias?: Tensor }`. `gpu`, `cpu` and `vjp` get the inputs by name and
 * `vjp` returns gradients by name.
 *
 * Legacy form, `CustomOpDefinition` with no type arguments: positional inputs (`customOp(def,
 * [a, b], out, attrs, names)`) and `Record<string, unknown>` attrs. The 'custom' primitive carries
 * this form; a typed definition is lowered to it by `customOp`.
 */
export interface CustomOpDefinition<
  Attrs extends object = Readonly<Record<string, unknown>>,
  Inputs extends PositionalInputs | NamedInputs<Inputs> = PositionalInputs,
> {
  readonly name: string;
  gpu(rec: Recorder, inputs: GpuInputs<Inputs>, out: OutputSpec, dst: GPUBuffer, attrs: Readonly<Attrs>): void;
  cpu(inputs: CpuInputs<Inputs>, out: OutputSpec, attrs: Readonly<Attrs>): Float64Array;
  /** Omit for ops that are not differentiable (nothing is recorded for them). */
  vjp?(g: Tensor, ctx: CustomVjpContext<Attrs, Inputs>): InputGradients<Inputs>;
}

/** The attrs a lowered typed op carries through the primitive: the present inputs' names and the op's attrs. */
interface LoweredAttrs {
  readonly names: readonly string[];
  readonly attrs: object;
}

type AnyTyped = CustomOpDefinition<object, Record<string, Tensor | undefined>>;

const lowered = new WeakMap<AnyTyped, CustomOpDefinition>();

function byName<T>(names: readonly string[], values: readonly T[]): Record<string, T> {
  const out: Record<string, T> = {};
  names.forEach((n, i) => (out[n] = values[i]));
  return out;
}

/** The positional form of a typed definition (cached: one per definition). */
function lower(def: AnyTyped): CustomOpDefinition {
  let op = lowered.get(def);
  if (op) return op;
  const split = (attrs: Readonly<Record<string, unknown>>) => attrs as unknown as LoweredAttrs;
  op = {
    name: def.name,
    gpu(rec, inputs, out, dst, attrs) {
      const { names, attrs: a } = split(attrs);
      def.gpu(rec, byName(names, inputs as readonly StorageView[]), out, dst, a);
    },
    cpu(inputs, out, attrs) {
      const { names, attrs: a } = split(attrs);
      return def.cpu(byName(names, inputs as readonly CpuTensor[]), out, a);
    },
  };
  if (def.vjp) {
    const vjp = def.vjp.bind(def);
    op.vjp = (g, { inputs, output, attrs, needsGrad }) => {
      const { names, attrs: a } = split(attrs);
      const ctx = { inputs: byName(names, inputs as readonly Tensor[]), output, attrs: a, ...(needsGrad ? { needsGrad: byName(names, needsGrad) } : {}) };
      const grads = vjp(g, ctx);
      return names.map((n) => grads[n] ?? null);
    };
  }
  lowered.set(def, op);
  return op;
}

/**
 * Runs a custom op through the single dispatch path (validation of the operands' backend,
 * autograd recording, scopes). Typed form: `inputs` by name (the names appear in error
 * messages; absent optional inputs are left out). Legacy form: positional `inputs`, with
 * `names` naming them in error messages.
 */
export function customOp<Attrs extends object, Inputs extends NamedInputs<Inputs>>(
  op: CustomOpDefinition<Attrs, Inputs>,
  inputs: Inputs,
  out: OutputSpec,
  attrs: NoInfer<Attrs>,
): Tensor;
export function customOp(
  op: CustomOpDefinition,
  inputs: PositionalInputs,
  out: OutputSpec,
  attrs?: Readonly<Record<string, unknown>>,
  names?: readonly string[],
): Tensor;
export function customOp(
  op: { readonly name: string },
  inputs: PositionalInputs | Readonly<Record<string, Tensor | undefined>>,
  out: OutputSpec,
  attrs: object = {},
  names?: readonly string[],
): Tensor {
  if (Array.isArray(inputs)) {
    const list = inputs as PositionalInputs;
    const labels = names ?? list.map((_, i) => `input ${i}`);
    return dispatch(
      'custom',
      list,
      { op: op as unknown as CustomOpDefinition, attrs: attrs as Readonly<Record<string, unknown>> },
      out,
      labels.length ? labels : [op.name],
    );
  }
  const present = Object.keys(inputs).filter((k) => (inputs as Record<string, Tensor | undefined>)[k] !== undefined);
  const tensors = present.map((k) => (inputs as Record<string, Tensor>)[k]);
  const params = { op: lower(op as unknown as AnyTyped), attrs: { names: present, attrs } satisfies LoweredAttrs };
  return dispatch('custom', tensors, params, out, present.length ? present : [op.name]);
}

/**
 * An op with several outputs that one kernel computes together (per-channel sums that two
 * parameters' gradients read, statistics with their counts), instead of one packed output sliced
 * apart by extra dispatches. Not differentiable: its outputs never require grad, as a
 * `CustomOpDefinition` without `vjp`; use it for statistics and inside VJPs. `gpu()` gets each
 * output's buffer and must write every element of each (pooled buffers hold stale data); `cpu()`
 * returns each output's float64 values.
 */
export interface MultiOutputOpDefinition<Attrs extends object, Inputs extends NamedInputs<Inputs>, Outputs extends string> {
  readonly name: string;
  gpu(rec: Recorder, inputs: GpuInputs<Inputs>, outs: { readonly [K in Outputs]: GPUBuffer }, attrs: Readonly<Attrs>): void;
  cpu(inputs: CpuInputs<Inputs>, outs: { readonly [K in Outputs]: OutputSpec }, attrs: Readonly<Attrs>): { [K in Outputs]: Float64Array };
}

/**
 * Storage for an output computed by another op's kernel: the backend's usual allocation (pool
 * buffer, CPU array) through the 'custom' primitive with nothing encoded.
 */
const ALLOCATE: CustomOpDefinition = {
  name: 'allocate',
  gpu() {},
  cpu(_inputs, out) {
    return new Float64Array(out.shape.reduce((p, d) => p * d, 1));
  },
};

interface MultiAttrs {
  readonly names: readonly string[];
  readonly outputs: readonly string[];
  readonly specs: Readonly<Record<string, OutputSpec>>;
  readonly attrs: object;
}

type AnyMulti = MultiOutputOpDefinition<object, Record<string, Tensor | undefined>, string>;
const loweredMulti = new WeakMap<AnyMulti, CustomOpDefinition>();

/**
 * The single-output form of a multi-output op: the first output is the primitive's own; the
 * others arrive allocated, after the inputs, and the kernel writes them (the CPU reference fills
 * their arrays).
 */
function lowerMulti(def: AnyMulti): CustomOpDefinition {
  let op = loweredMulti.get(def);
  if (op) return op;
  const split = (attrs: Readonly<Record<string, unknown>>) => attrs as unknown as MultiAttrs;
  op = {
    name: def.name,
    gpu(rec, inputs, out, dst, attrs) {
      const { names, outputs, attrs: a } = split(attrs);
      const views = inputs as readonly StorageView[];
      const buffers: Record<string, GPUBuffer> = { [outputs[0]]: dst };
      outputs.slice(1).forEach((n, k) => (buffers[n] = bufferOf(views[names.length + k])));
      def.gpu(rec, byName(names, views.slice(0, names.length)), buffers, a);
    },
    cpu(inputs, _out, attrs) {
      const { names, outputs, specs, attrs: a } = split(attrs);
      const tensors = inputs as readonly CpuTensor[];
      const values = def.cpu(byName(names, tensors.slice(0, names.length)), specs, a);
      outputs.forEach((n, k) => {
        const size = specs[n].shape.reduce((p, d) => p * d, 1);
        if (values[n]?.length !== size)
          throw new Error(
            `custom op '${def.name}': cpu() returned ${values[n]?.length ?? 'no'} values for output '${n}' of shape [${specs[n].shape.join(', ')}]`,
          );
        if (k > 0) tensors[names.length + k - 1].values.set(specs[n].dtype === 'i32' ? values[n].map((v) => coerce(v, 'i32')) : values[n]);
      });
      return values[outputs[0]];
    },
  };
  loweredMulti.set(def, op);
  return op;
}

/**
 * Runs a multi-output op (`MultiOutputOpDefinition`) through the single dispatch path: one
 * recorded kernel, one tensor per entry of `outs` (in its order; the first names the op in
 * listeners). Inputs by name as `customOp`'s typed form.
 */
export function customOpOutputs<Attrs extends object, Inputs extends NamedInputs<Inputs>, Outputs extends string>(
  op: MultiOutputOpDefinition<Attrs, Inputs, Outputs>,
  inputs: Inputs,
  outs: { readonly [K in Outputs]: OutputSpec },
  attrs: NoInfer<Attrs>,
): { [K in Outputs]: Tensor } {
  const outputs = Object.keys(outs) as Outputs[];
  if (!outputs.length) throw new InvalidArgumentError(op.name, 'outs', 'must name at least one output');
  const present = Object.keys(inputs).filter((k) => (inputs as Record<string, Tensor | undefined>)[k] !== undefined);
  const tensors = present.map((k) => (inputs as Record<string, Tensor>)[k]);
  const backend = resolveBackend(op.name, tensors, present);
  const allocated = outputs.slice(1).map((n) => {
    const spec = outs[n];
    return new Tensor(backend, backend.run('custom', [], { op: ALLOCATE, attrs: {} }, spec), spec.shape, spec.dtype);
  });
  const params = { op: lowerMulti(op as unknown as AnyMulti), attrs: { names: present, outputs, specs: outs, attrs } satisfies MultiAttrs };
  const first = dispatch('custom', [...tensors, ...allocated], params, outs[outputs[0]], [...present, ...outputs.slice(1).map((n) => `output '${n}'`)]);
  const result = { [outputs[0]]: first } as { [K in Outputs]: Tensor };
  outputs.slice(1).forEach((n, k) => (result[n] = allocated[k]));
  return result;
}
