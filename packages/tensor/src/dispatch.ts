import type { Backend, OutputSpec, StorageView } from './backend.ts';
import { NONDIFFERENTIABLE, vjpRules } from './autograd/vjp.ts';
import { GraphNode, isGradEnabled, type GradSource } from './autograd/graph.ts';
import { DeviceMismatchError, InvalidArgumentError } from './errors.ts';
import type { Params, Primitive } from './primitives.ts';
import { Tensor, type TensorLike } from './tensor.ts';

/**
 * Checks the tensor operands of an op (not disposed, one backend) and returns that backend.
 * `names` name each operand in error messages.
 */
export function resolveBackend(op: string, inputs: readonly TensorLike[], names: readonly string[]): Backend {
  let backend: Backend | undefined;
  let first = '';
  inputs.forEach((x, i) => {
    if (typeof x === 'number') return;
    if (!(x instanceof Tensor)) throw new InvalidArgumentError(op, names[i] ?? `input ${i}`, `must be a Tensor or a number, got ${typeof x}`);
    x.view(op, names[i] ?? `input ${i}`);
    if (!backend) {
      backend = x.backend;
      first = names[i];
    } else if (x.backend !== backend) {
      throw new DeviceMismatchError(op, names[i], `is on ${x.backend.name} but '${first}' is on ${backend.name}`);
    }
  });
  if (!backend) throw new InvalidArgumentError(op, names[0] ?? 'input', 'needs at least one Tensor operand');
  return backend;
}

/**
 * Called with each op that ran: the primitive's name (a custom op as `custom:<its name>`) and its
 * backend. Off (null) by default, so a dispatch costs one null check; the cross-runtime suites
 * (tools/runtimes) set one to count which primitives and kernels each runtime dispatched.
 */
export type DispatchListener = (op: string, backend: Backend) => void;
let dispatchListener: DispatchListener | null = null;

/** Installs the one dispatch listener (null removes it) and returns the previous one. */
export function setDispatchListener(listener: DispatchListener | null): DispatchListener | null {
  const previous = dispatchListener;
  dispatchListener = listener;
  return previous;
}

function isDifferentiable<P extends Primitive>(primitive: P, params: Params<P>): boolean {
  return primitive !== 'custom' || (params as Params<'custom'>).op.vjp !== undefined;
}

/**
 * The single entry point of every primitive: runs it on the operands' backend and, when gradients
 * are being recorded and an input requires grad, records a graph node. Op files validate their
 * arguments and compute `out` before calling this.
 */
export function dispatch<P extends Primitive>(
  primitive: P,
  inputs: readonly TensorLike[],
  params: Params<P>,
  out: OutputSpec,
  names: readonly string[],
): Tensor {
  const backend = resolveBackend(primitive, inputs, names);
  const views = inputs.map((x, i) => (typeof x === 'number' ? x : x.view(primitive, names[i])));
  // reshape (and a same-dtype cast) is a view: it shares the input's storage instead of copying.
  const storage = primitive === 'reshape' ? (views[0] as StorageView).storage.retain() : backend.run(primitive, views, params, out);
  const result = new Tensor(backend, storage, out.shape, out.dtype);
  if (dispatchListener) dispatchListener(primitive === 'custom' ? `custom:${(params as Params<'custom'>).op.name}` : primitive, backend);
  if (
    isGradEnabled() &&
    out.dtype === 'f32' &&
    vjpRules[primitive] !== NONDIFFERENTIABLE &&
    isDifferentiable(primitive, params) &&
    inputs.some((x) => typeof x !== 'number' && x.requiresGrad)
  ) {
    const sources: GradSource[] = inputs.map((x) => {
      if (typeof x === 'number' || !x.requiresGrad) return null;
      return x.node ? { node: x.node } : { leaf: x };
    });
    const saved = inputs.map((x) => (typeof x === 'number' ? x : x.share()));
    result.node = new GraphNode(primitive, params, sources, saved, result.share());
    result.requiresGrad = true;
  }
  return result;
}
