import { dispatch, resolveBackend } from '../dispatch.ts';
import { InvalidArgumentError, ShapeMismatchError, DtypeMismatchError } from '../errors.ts';
import { formatShape, normalizeAxes, sizeOf, validateShape } from '../shape.ts';
import type { DType } from '../dtype.ts';
import type { Tensor } from '../tensor.ts';

/**
 * Movement primitives: reshape shares storage; permute, expand, slice, pad and concat copy into a
 * new contiguous tensor (kernel: shaders/tensor/movement.wgsl).
 */

/**
 * A view with a new shape and the same elements; one axis may be -1 (inferred). Shares storage.
 * @example reshape(arange(6), [2, -1]) // shape [2, 3]
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  resolveBackend('reshape', [x], ['x']);
  const inferred = shape.filter((d) => d === -1).length;
  if (inferred > 1) throw new InvalidArgumentError('reshape', 'shape', `may contain at most one -1, got ${formatShape(shape)}`);
  const known = sizeOf(shape.filter((d) => d !== -1));
  const resolved = shape.map((d) => (d === -1 ? (known === 0 ? 0 : x.size / known) : d));
  validateShape(resolved, 'reshape');
  if (sizeOf(resolved) !== x.size) {
    throw new ShapeMismatchError('reshape', 'shape', `cannot reshape ${formatShape(x.shape)} (${x.size} elements) to ${formatShape(shape)}`);
  }
  return dispatch('reshape', [x], { shape: resolved }, { shape: resolved, dtype: x.dtype }, ['x']);
}

/**
 * Reorders axes: out axis i is input axis axes[i].
 * @example permute(zeros([2, 3, 4]), [2, 0, 1]) // shape [4, 2, 3]
 */
export function permute(x: Tensor, axes: readonly number[]): Tensor {
  resolveBackend('permute', [x], ['x']);
  if (axes.length !== x.rank) throw new InvalidArgumentError('permute', 'axes', `must list all ${x.rank} axes, got [${axes.join(', ')}]`);
  const normalized = axes.map((a) => normalizeAxes('permute', a, x.rank, 'axes')[0]);
  if (new Set(normalized).size !== normalized.length) throw new InvalidArgumentError('permute', 'axes', `repeats an axis: [${axes.join(', ')}]`);
  return dispatch('permute', [x], { axes: normalized }, { shape: normalized.map((a) => x.shape[a]), dtype: x.dtype }, ['x']);
}

/**
 * Broadcasts size-1 axes (and new leading axes) to `shape`; -1 keeps an axis.
 * @example expand(tensor([[1], [2]]), [2, 3]) // [[1, 1, 1], [2, 2, 2]]
 */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  resolveBackend('expand', [x], ['x']);
  const lead = shape.length - x.rank;
  if (lead < 0) throw new ShapeMismatchError('expand', 'shape', `${formatShape(shape)} has fewer axes than ${formatShape(x.shape)}`);
  const resolved = shape.map((d, i) => (d === -1 && i >= lead ? x.shape[i - lead] : d));
  validateShape(resolved, 'expand');
  x.shape.forEach((d, i) => {
    if (d !== 1 && d !== resolved[i + lead]) {
      throw new ShapeMismatchError('expand', 'shape', `cannot expand ${formatShape(x.shape)} to ${formatShape(shape)} (axis ${i + lead})`);
    }
  });
  return dispatch('expand', [x], { shape: resolved }, { shape: resolved, dtype: x.dtype }, ['x']);
}

/**
 * Takes [start, end) with a positive step on each axis; negative start/end count from the end,
 * missing trailing axes are taken whole.
 * @example slice(arange(10), [2], [8], [3]) // [2, 5]
 */
export function slice(x: Tensor, starts: readonly number[], ends?: readonly number[], steps?: readonly number[]): Tensor {
  resolveBackend('slice', [x], ['x']);
  if (starts.length > x.rank) throw new InvalidArgumentError('slice', 'starts', `has ${starts.length} entries for a tensor of rank ${x.rank}`);
  const s: number[] = [];
  const e: number[] = [];
  const st: number[] = [];
  for (let i = 0; i < x.rank; i++) {
    const d = x.shape[i];
    const step = steps?.[i] ?? 1;
    if (!Number.isInteger(step) || step < 1) throw new InvalidArgumentError('slice', 'steps', `must be positive integers, got ${step} on axis ${i}`);
    const clampIndex = (v: number) => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
    const start = clampIndex(starts[i] ?? 0);
    const end = Math.max(clampIndex(ends?.[i] ?? d), start);
    for (const [v, name] of [
      [starts[i], 'starts'],
      [ends?.[i], 'ends'],
    ] as const) {
      if (v !== undefined && !Number.isInteger(v)) throw new InvalidArgumentError('slice', name, `must be integers, got ${v} on axis ${i}`);
    }
    s.push(start);
    e.push(end);
    st.push(step);
  }
  const shape = s.map((start, i) => Math.ceil((e[i] - start) / st[i]));
  return dispatch('slice', [x], { starts: s, ends: e, steps: st }, { shape, dtype: x.dtype }, ['x']);
}

/**
 * Pads with a constant: widths[axis] = [before, after]; missing trailing axes are not padded.
 * @example pad(ones([2, 2]), [[1, 1], [0, 0]]) // shape [4, 2]
 */
export function pad(x: Tensor, widths: readonly (readonly [number, number])[], value = 0): Tensor {
  resolveBackend('pad', [x], ['x']);
  if (widths.length > x.rank) throw new InvalidArgumentError('pad', 'widths', `has ${widths.length} entries for a tensor of rank ${x.rank}`);
  const full = x.shape.map((_, i) => widths[i] ?? ([0, 0] as const));
  for (const [before, after] of full) {
    if (!Number.isInteger(before) || !Number.isInteger(after) || before < 0 || after < 0) {
      throw new InvalidArgumentError('pad', 'widths', `must be non-negative integers, got [${before}, ${after}]`);
    }
  }
  if (!Number.isFinite(value)) throw new InvalidArgumentError('pad', 'value', `must be finite, got ${value}`);
  const shape = x.shape.map((d, i) => d + full[i][0] + full[i][1]);
  return dispatch('pad', [x], { widths: full, value }, { shape, dtype: x.dtype }, ['x']);
}

/**
 * Joins tensors along an existing axis.
 * @example concat([zeros([2, 3]), ones([1, 3])], 0) // shape [3, 3]
 */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new InvalidArgumentError('concat', 'tensors', 'must be a non-empty array of tensors');
  const names = tensors.map((_, i) => `tensors[${i}]`);
  resolveBackend('concat', tensors, names);
  const first: Tensor = tensors[0];
  const [a] = normalizeAxes('concat', axis, first.rank);
  tensors.forEach((t, i) => {
    if (t.dtype !== first.dtype) throw new DtypeMismatchError('concat', names[i], `is ${t.dtype} but tensors[0] is ${first.dtype}`);
    if (t.rank !== first.rank || t.shape.some((d: number, j: number) => j !== a && d !== first.shape[j])) {
      throw new ShapeMismatchError('concat', names[i], `${formatShape(t.shape)} does not match ${formatShape(first.shape)} outside axis ${a}`);
    }
  });
  const shape = first.shape.map((d: number, j: number) => (j === a ? tensors.reduce((s, t) => s + t.shape[a], 0) : d));
  return dispatch('concat', tensors, { axis: a }, { shape, dtype: first.dtype }, names);
}

/**
 * Converts between f32 and i32 (f32 → i32 truncates toward zero).
 * @example cast(tensor([1.7, -1.7]), 'i32') // [1, -1]
 */
export function cast(x: Tensor, dtype: DType): Tensor {
  resolveBackend('cast', [x], ['x']);
  if (dtype !== 'f32' && dtype !== 'i32') throw new InvalidArgumentError('cast', 'dtype', `must be 'f32' or 'i32', got ${String(dtype)}`);
  if (dtype === x.dtype) return dispatch('reshape', [x], { shape: x.shape }, { shape: x.shape, dtype }, ['x']);
  return dispatch('cast', [x], { dtype }, { shape: x.shape, dtype }, ['x']);
}
