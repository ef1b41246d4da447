import { DtypeMismatchError, InvalidArgumentError, ShapeMismatchError } from './errors.ts';
import { fusedCrossEntropy } from './cross-entropy.ts';
import { fusedNormalize } from './normalize.ts';
import { resolveBackend } from './dispatch.ts';
import { indexCheck } from './ops/gather.ts';
import * as ops from './ops/index.ts';
import type { Params } from './primitives.ts';
import { tidy } from './scope.ts';
import { normalizeAxes } from './shape.ts';
import type { Tensor } from './tensor.ts';

/**
 * Composite ops: plain compositions of primitives, so they run on every backend and differentiate
 * through the primitives' rules. A fused kernel that replaces one must match it in a test.
 */

export const square = (x: Tensor): Tensor => ops.mul(x, x);

export function min(x: Tensor, axis?: number | readonly number[], keepdim = false): Tensor {
  return ops.neg(ops.max(ops.neg(x), axis, keepdim));
}

function countOf(x: Tensor, axis: number | readonly number[] | undefined): number {
  return normalizeAxes('mean', axis, x.rank).reduce((n, a) => n * x.shape[a], 1);
}

/** Mean over `axis` (all axes when omitted). */
export function mean(x: Tensor, axis?: number | readonly number[], keepdim = false): Tensor {
  const n = countOf(x, axis);
  if (n === 0) throw new InvalidArgumentError('mean', 'x', 'has no elements to average over');
  return ops.div(ops.sum(x, axis, keepdim), n);
}

export interface VarianceOptions {
  keepdim?: boolean;
  /** Bessel's correction: divide by n - correction (PyTorch's default is 1). */
  correction?: number;
}

/** Variance over `axis` with Bessel's correction (PyTorch's `var(correction=1)` by default). */
export function variance(x: Tensor, axis?: number | readonly number[], options: VarianceOptions = {}): Tensor {
  const { keepdim = false, correction = 1 } = options;
  const n = countOf(x, axis);
  if (n - correction <= 0) throw new InvalidArgumentError('variance', 'x', `has ${n} elements on the reduced axes; need more than correction = ${correction}`);
  const centered = ops.sub(x, mean(x, axis, true));
  return ops.div(ops.sum(ops.mul(centered, centered), axis, keepdim), n - correction);
}

/**
 * log Σ exp(x) over `axis`, stable: the max is subtracted first, and rows whose max is -Inf-like
 * (every entry masked with a large negative sentinel) stay finite.
 */
export function logsumexp(x: Tensor, axis?: number | readonly number[], keepdim = false, op = 'logsumexp'): Tensor {
  resolveBackend(op, [x], ['x']);
  const axes = normalizeAxes(op, axis, x.rank);
  const m = ops.max(x, axes, true);
  // The max is a constant shift: its gradient cancels exactly, so detach it to keep the graph small.
  const shift = m.detach();
  const s = ops.log(ops.sum(ops.exp(ops.sub(x, shift)), axes, true));
  const out = ops.add(s, shift);
  if (keepdim) return out;
  return ops.reshape(
    out,
    x.shape.filter((_, i) => !axes.includes(i)),
  );
}

function singleAxis(op: string, x: Tensor, axis: unknown): number {
  resolveBackend(op, [x], ['x']);
  const rank = x.rank;
  if (typeof axis !== 'number') throw new InvalidArgumentError(op, 'axis', `must be an integer axis, got ${String(axis)}`);
  return normalizeAxes(op, axis, rank)[0];
}

export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return ops.sub(x, logsumexp(x, singleAxis('logSoftmax', x, axis), true, 'logSoftmax'));
}

export function softmax(x: Tensor, axis = -1): Tensor {
  const a = singleAxis('softmax', x, axis);
  return ops.exp(ops.sub(x, logsumexp(x, a, true, 'softmax')));
}

/**
 * x / max(‖x‖₂, eps) along `axis` (PyTorch's F.normalize), with PyTorch's gradient: a row with
 * ‖x‖ ≤ eps (a zero row, e.g. dead-ReLU features) is divided by eps, so its value is x / eps and
 * its gradient g / eps — finite, never 0/0. Written as x / sqrt(max(Σx², eps²)) so the backward
 * never evaluates sqrt' at 0. eps must be finite and > 0; on the GPU (f32) eps² is floored at the
 * smallest normal f32 (2⁻¹²⁶), so an eps below ~1.1e-19 acts as 1.1e-19.
 */
export function normalize(x: Tensor, axis = -1, eps = 1e-12): Tensor {
  const a = singleAxis('normalize', x, axis);
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps <= 0) {
    throw new InvalidArgumentError('normalize', 'eps', `must be a finite number > 0, got ${String(eps)}`);
  }
  const floor = Math.max(eps * eps, x.backend.kind === 'gpu' ? 2 ** -126 : 2 ** -1022);
  // Along the last axis of an f32 tensor: one fused kernel each way (normalize.ts).
  if (a === x.rank - 1 && x.dtype === 'f32') return fusedNormalize(x, floor);
  return normalizeComposite(x, a, floor);
}

/** normalize as plain primitives (the definition the fused kernel is tested against); `floor` as normalize computes it. */
export function normalizeComposite(x: Tensor, axis: number, floor: number): Tensor {
  const sumSq = ops.sum(ops.mul(x, x), axis, true);
  return ops.div(x, ops.sqrt(ops.maximum(sumSq, floor)));
}

export function clamp(x: Tensor, lo?: number, hi?: number): Tensor {
  let out = x;
  if (lo !== undefined) out = ops.maximum(out, lo);
  if (hi !== undefined) out = ops.minimum(out, hi);
  return out === x ? ops.reshape(x, x.shape) : out;
}

export function transpose(x: Tensor, axis0 = -2, axis1 = -1): Tensor {
  const [a] = normalizeAxes('transpose', axis0, x.rank, 'axis0');
  const [b] = normalizeAxes('transpose', axis1, x.rank, 'axis1');
  const axes = x.shape.map((_, i) => (i === a ? b : i === b ? a : i));
  return ops.permute(x, axes);
}

export function flatten(x: Tensor, startAxis = 0, endAxis = -1): Tensor {
  if (x.rank === 0) return ops.reshape(x, [1]);
  const [s] = normalizeAxes('flatten', startAxis, x.rank, 'startAxis');
  const [e] = normalizeAxes('flatten', endAxis, x.rank, 'endAxis');
  const shape = [...x.shape.slice(0, s), x.shape.slice(s, e + 1).reduce((p, d) => p * d, 1), ...x.shape.slice(e + 1)];
  return ops.reshape(x, shape);
}

/**
 * Cross-entropy of logits [N, C] against i32 class indices [N], averaged. A class id outside
 * [0, C) is an InvalidArgumentError naming `names.argument` (default 'targets'): thrown here when
 * the ids are known on the host, else at the next readback (see ops/gather.ts).
 */
export function crossEntropy(logits: Tensor, targets: Tensor, names: { op?: string; argument?: string } = {}): Tensor {
  const op = names.op ?? 'crossEntropy';
  const argument = names.argument ?? 'targets';
  resolveBackend(op, [logits, targets], ['logits', argument]);
  if (logits.rank !== 2) throw new ShapeMismatchError(op, 'logits', `must be 2-D [N, C], got [${logits.shape.join(', ')}]`);
  if (targets.dtype !== 'i32') throw new DtypeMismatchError(op, argument, `must be i32 class ids, got ${targets.dtype}`);
  if (targets.size !== logits.shape[0])
    throw new ShapeMismatchError(op, argument, `must hold N = ${logits.shape[0]} class ids, got shape [${targets.shape.join(', ')}]`);
  const [rows, classes] = logits.shape;
  // One fused kernel each way (cross-entropy.ts); the composite keeps the errors of empty inputs.
  if (rows > 0 && classes > 0) return fusedCrossEntropy(logits, targets, indexCheck('gather', targets, classes, 1, { op, argument }));
  return crossEntropyComposite(logits, targets, { op, argument });
}

/** crossEntropy as plain primitives: its definition, which the fused kernel is tested against. */
export function crossEntropyComposite(logits: Tensor, targets: Tensor, names: { op: string; argument: string }): Tensor {
  // tidy: an invalid id throws from gather after logSoftmax ran; its tensors must not leak.
  return tidy(() => ops.neg(mean(ops.gather(logSoftmax(logits, -1), 1, ops.reshape(targets, [-1, 1]), names))));
}

/**
 * The gradient of a strided slice: `g` placed back at the sliced positions of a zero tensor of
 * `inShape`. Each strided axis is spread by padding a new trailing axis to the step.
 */
export function sliceGrad(g: Tensor, inShape: readonly number[], params: Params<'slice'>): Tensor {
  let out = g;
  for (let axis = 0; axis < inShape.length; axis++) {
    const step = params.steps[axis];
    const n = out.shape[axis];
    if (step > 1 && n > 0) {
      const withStep = ops.reshape(out, [...out.shape.slice(0, axis + 1), 1, ...out.shape.slice(axis + 1)]);
      const widths = withStep.shape.map((_, i) => (i === axis + 1 ? ([0, step - 1] as const) : ([0, 0] as const)));
      const spread = ops.pad(withStep, widths);
      out = ops.reshape(spread, [...out.shape.slice(0, axis), n * step, ...out.shape.slice(axis + 1)]);
    }
  }
  const widths = inShape.map((d, axis) => {
    const before = params.starts[axis];
    const after = d - before - out.shape[axis];
    return after >= 0 ? ([before, after] as const) : ([before, 0] as const);
  });
  // A strided spread can overrun the input's end by up to step - 1 zeros: trim them first.
  const trimmed = ops.slice(
    out,
    out.shape.map(() => 0),
    out.shape.map((d, axis) => Math.min(d, inShape[axis] - params.starts[axis])),
  );
  return ops.pad(trimmed, widths);
}
