/** Argument checks shared by the privacy functions: typed errors that name the argument. */
import { DtypeMismatchError, InvalidArgumentError, isTensor, NonFiniteError, type Tensor } from '@fairgpu/tensor';

/** Group or class labels: integers, as an array, a typed array or an i32 tensor [n]. */
export type AttributeLike =
  | readonly number[]
  | Int32Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | Int16Array
  | Int8Array
  | Float64Array
  | Float32Array
  | Tensor;

export function checkEmbeddings(op: string, argument: string, x: unknown): Tensor {
  if (!isTensor(x)) throw new InvalidArgumentError(op, argument, `must be a Tensor [n, d], got ${x === null ? 'null' : typeof x}`);
  if (x.isDisposed) throw new InvalidArgumentError(op, argument, 'is a disposed tensor');
  if (x.rank !== 2) throw new InvalidArgumentError(op, argument, `must have rank 2 ([n, d]), got shape [${x.shape.join(', ')}]`);
  if (x.dtype !== 'f32') throw new DtypeMismatchError(op, argument, `must be f32, got ${x.dtype}`);
  if (x.shape[1] < 1) throw new InvalidArgumentError(op, argument, `must have at least one feature, got shape [${x.shape.join(', ')}]`);
  return x;
}

/** Reads labels to the host as an Int32Array, checking the length and that every value is an integer. */
export async function readAttribute(op: string, argument: string, values: unknown, n: number): Promise<Int32Array> {
  let host: ArrayLike<number>;
  if (isTensor(values)) {
    if (values.isDisposed) throw new InvalidArgumentError(op, argument, 'is a disposed tensor');
    if (values.rank !== 1 && !(values.rank === 2 && values.shape[1] === 1)) {
      throw new InvalidArgumentError(op, argument, `must be a tensor of shape [n], got [${values.shape.join(', ')}]`);
    }
    if (values.dtype !== 'i32') throw new DtypeMismatchError(op, argument, `must be an i32 tensor, got ${values.dtype}`);
    host = await values.toArray();
  } else if (Array.isArray(values) || (ArrayBuffer.isView(values) && !(values instanceof DataView))) {
    host = values as ArrayLike<number>;
  } else {
    throw new InvalidArgumentError(op, argument, `must be a number array, a typed array or an i32 tensor, got ${values === null ? 'null' : typeof values}`);
  }
  if (host.length !== n) throw new InvalidArgumentError(op, argument, `has ${host.length} values but the embeddings have ${n} rows`);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = host[i];
    if (typeof v !== 'number' || Number.isNaN(v)) throw new NonFiniteError(op, argument, `has ${String(v)} at index ${i}`);
    if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31)
      throw new InvalidArgumentError(op, argument, `must hold 32-bit integers, got ${v} at index ${i}`);
    out[i] = v;
  }
  return out;
}

/** Sorted distinct values. */
export function distinct(values: Int32Array): number[] {
  return [...new Set(values)].sort((a, b) => a - b);
}

export function positiveInteger(op: string, argument: string, value: unknown, min = 1): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new InvalidArgumentError(op, argument, `must be an integer ≥ ${min}, got ${String(value)}`);
  }
  return value;
}

export function positiveNumber(op: string, argument: string, value: unknown, allowZero = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new InvalidArgumentError(op, argument, `must be a finite number ${allowZero ? '≥' : '>'} 0, got ${String(value)}`);
  }
  return value;
}

export function checkFinite(op: string, argument: string, values: ArrayLike<number>, what: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new NonFiniteError(op, argument, `contains NaN or Inf (${what} ${i} is ${values[i]})`);
  }
}
