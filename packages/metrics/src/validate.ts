import { DtypeMismatchError, InvalidArgumentError, isTensor, noGrad, ShapeMismatchError, type Tensor } from '@fairgpu/tensor';

/**
 * Argument validation shared by the metric functions: every refusal is a typed error naming the
 * function and the argument (`InvalidArgumentError`, `ShapeMismatchError`, `DtypeMismatchError`).
 */

/** A host vector: a number array or any typed array. */
export type NumericArray = ArrayLike<number>;
/** Host labels, or an i32 [n] tensor (read back once). */
export type LabelsInput = NumericArray | Tensor;

function isArrayLike(x: unknown): x is NumericArray {
  if (Array.isArray(x)) return true;
  return ArrayBuffer.isView(x) && !(x instanceof DataView);
}

/**
 * A host vector of finite numbers (or of integers), non-empty, of length `n` when given.
 * Returns it as a Float64Array (a copy: callers never see later mutations of the input).
 */
export function hostVector(op: string, name: string, x: unknown, options: { integer?: boolean; length?: number; lengthOf?: string } = {}): Float64Array {
  if (isTensor(x)) throw new InvalidArgumentError(op, name, `must be a number array or typed array, got a Tensor (pass \`await t.toArray()\`)`);
  if (!isArrayLike(x)) throw new InvalidArgumentError(op, name, `must be a number array or typed array, got ${x === null ? 'null' : typeof x}`);
  const n = x.length;
  if (n === 0) throw new InvalidArgumentError(op, name, 'is empty: need at least one sample');
  if (options.length !== undefined && n !== options.length) {
    throw new ShapeMismatchError(op, name, `has length ${n}, expected ${options.length} (the length of '${options.lengthOf ?? 'the first argument'}')`);
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = x[i];
    if (typeof v !== 'number' && typeof v !== 'bigint') throw new InvalidArgumentError(op, name, `element ${i} is not a number (${String(v)})`);
    const f = Number(v);
    if (!Number.isFinite(f)) throw new InvalidArgumentError(op, name, `element ${i} is ${f} (NaN and ±Infinity are refused)`);
    if (options.integer && !Number.isInteger(f)) throw new InvalidArgumentError(op, name, `element ${i} is ${f}: labels must be integers`);
    out[i] = f;
  }
  return out;
}

/** Integer labels from a host array or an i32 [n] tensor (read back). */
export async function labelsOf(op: string, name: string, x: unknown, n: number, lengthOf: string): Promise<Float64Array> {
  if (isTensor(x)) {
    if (x.dtype !== 'i32') throw new DtypeMismatchError(op, name, `must be an i32 tensor (or a number array), got ${x.dtype}`);
    if (x.rank !== 1) throw new ShapeMismatchError(op, name, `must have shape [${n}], got [${x.shape.join(', ')}]`);
    if (x.shape[0] !== n) throw new ShapeMismatchError(op, name, `has length ${x.shape[0]}, expected ${n} (the rows of '${lengthOf}')`);
    return Float64Array.from(await x.toArray());
  }
  return hostVector(op, name, x, { integer: true, length: n, lengthOf });
}

/** Dense codes 0 … C−1 of integer labels (ascending label order), and the distinct labels. */
export function denseCodes(values: Float64Array): { codes: Int32Array; classes: number[] } {
  const classes = [...new Set(values)].sort((a, b) => a - b);
  const index = new Map(classes.map((c, k) => [c, k]));
  const codes = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) codes[i] = index.get(values[i])!;
  return { codes, classes };
}

/** An f32 [n, d] embeddings tensor with n ≥ 1, d ≥ 1. */
export function checkEmbeddings(op: string, name: string, x: unknown): Tensor {
  if (!isTensor(x)) throw new InvalidArgumentError(op, name, 'must be a Tensor [n, d]');
  if (x.isDisposed) throw new InvalidArgumentError(op, name, 'is a disposed tensor');
  if (x.dtype !== 'f32') throw new DtypeMismatchError(op, name, `must be f32, got ${x.dtype}`);
  if (x.rank !== 2) throw new ShapeMismatchError(op, name, `must be 2-D [n, d], got [${x.shape.join(', ')}]`);
  if (x.shape[0] < 1 || x.shape[1] < 1) throw new InvalidArgumentError(op, name, `is empty: shape [${x.shape.join(', ')}] (need n ≥ 1 rows and d ≥ 1 columns)`);
  return x;
}

/**
 * Refuses embeddings with NaN or ±Infinity: the row sums are computed where the tensor lives and
 * read back ([n] floats, one readback); NaN and ±Inf propagate through a sum. A finite row whose
 * f32 sum overflows is refused too (its norm would overflow in the cosine anyway).
 */
export async function checkFiniteRows(op: string, name: string, x: Tensor): Promise<void> {
  const sums = noGrad(() => x.sum(1));
  try {
    const v = await sums.toArray();
    for (let i = 0; i < v.length; i++) {
      if (!Number.isFinite(v[i])) throw new InvalidArgumentError(op, name, `row ${i} contains NaN or ±Infinity (or overflows float32)`);
    }
  } finally {
    sums.dispose();
  }
}

export function checkOptions(op: string, options: unknown): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new InvalidArgumentError(op, 'options', 'must be an object');
  return options as Record<string, unknown>;
}

export function checkInteger(op: string, name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw new InvalidArgumentError(op, name, `must be an integer in [${min}, ${max}], got ${String(v)}`);
  return v;
}

export function checkBoolean(op: string, name: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new InvalidArgumentError(op, name, `must be a boolean, got ${String(v)}`);
  return v;
}
