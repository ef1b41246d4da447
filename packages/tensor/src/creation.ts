import { resolveDevice, type Device } from './device.ts';
import { isDType, type DType } from './dtype.ts';
import { InvalidArgumentError, NonFiniteError } from './errors.ts';
import { Rng } from './random.ts';
import { sizeOf, validateShape, formatShape } from './shape.ts';
import { Tensor } from './tensor.ts';

export interface CreateOptions {
  dtype?: DType;
  /** Defaults to the device set by initGpu() (or setDefaultDevice), else the CPU reference. */
  device?: Device;
  requiresGrad?: boolean;
}

export interface TensorOptions extends CreateOptions {
  /** Accept NaN/±Inf in `data` (rejected by default: a silent NaN is never what a loss wants). */
  allowNonFinite?: boolean;
}

export type NestedArray = number | readonly NestedArray[];

function flattenNested(data: NestedArray, op: string): { values: number[]; shape: number[] } {
  const shape: number[] = [];
  let probe: NestedArray = data;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
  }
  const values: number[] = [];
  const walk = (v: NestedArray, depth: number) => {
    if (depth === shape.length) {
      if (typeof v !== 'number') throw new InvalidArgumentError(op, 'data', 'is ragged or contains a non-number');
      values.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) throw new InvalidArgumentError(op, 'data', 'is a ragged nested array');
    for (const x of v) walk(x, depth + 1);
  };
  walk(data, 0);
  return { values, shape };
}

/** Largest element count a tensor may have: kernels index with u32 and hosts allocate typed arrays. */
const MAX_ELEMENTS = 2 ** 31 - 1;
const F32_MAX = 3.4028234663852886e38;

/** Rejects shapes too large to allocate with a typed error instead of a bare RangeError. */
function checkElements(op: string, shape: readonly number[]): number {
  const n = sizeOf(shape);
  if (n > MAX_ELEMENTS) {
    throw new InvalidArgumentError(op, 'shape', `${formatShape(shape)} has ${n} elements; at most ${MAX_ELEMENTS} (2^31 − 1) are supported`);
  }
  return n;
}

/** A host buffer of n float64s; an allocation failure becomes a typed error naming the shape. */
function hostBuffer(op: string, shape: readonly number[]): Float64Array {
  const n = checkElements(op, shape);
  try {
    return new Float64Array(n);
  } catch (e) {
    throw new InvalidArgumentError(
      op,
      'shape',
      `${formatShape(shape)} needs ${n * 8} bytes of host memory, which could not be allocated (${(e as Error).message})`,
    );
  }
}

function checkDtype(op: string, dtype: unknown): DType {
  if (!isDType(dtype)) throw new InvalidArgumentError(op, 'dtype', `must be 'f32' or 'i32', got ${String(dtype)}`);
  return dtype;
}

/** i32 data must be integers in range (no silent truncation or wrap); f32 data must not overflow to ±Inf. */
function checkValues(op: string, argument: string, values: ArrayLike<number>, dtype: DType): void {
  if (values instanceof Int32Array || (dtype === 'f32' && values instanceof Float32Array)) return;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (dtype === 'i32') {
      if (!Number.isInteger(v) || v < -(2 ** 31) || v > 2 ** 31 - 1) {
        throw new InvalidArgumentError(op, argument, `[${i}] is ${v}; dtype 'i32' needs integers in [-2^31, 2^31 − 1] (round or cast explicitly)`);
      }
    } else if (Number.isFinite(v) && Math.abs(v) > F32_MAX) {
      throw new NonFiniteError(op, argument, `[${i}] is ${v}, which overflows f32 to ${v > 0 ? '+' : '-'}Inf`);
    }
  }
}

function rangeOf(values: ArrayLike<number>): readonly [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

function make(
  values: ArrayLike<number>,
  shape: readonly number[],
  options: CreateOptions,
  op: string,
  dtype: DType = checkDtype(op, options.dtype ?? 'f32'),
): Tensor {
  // Everything that can throw runs before the upload, so an error leaves no tensor behind.
  if (options.requiresGrad && dtype !== 'f32')
    throw new InvalidArgumentError(op, 'requiresGrad', `needs dtype 'f32', got '${dtype}' (integer tensors have no gradient)`);
  const backend = resolveDevice(options.device, op);
  const storage = backend.upload(values, dtype);
  if (dtype === 'i32') storage.range = rangeOf(values);
  const t = new Tensor(backend, storage, shape, dtype);
  if (options.requiresGrad) t.requiresGrad = true;
  return t;
}

/**
 * Creates a tensor from a typed array, a flat array with a shape, a nested array or a number.
 * @example
 * const x = tensor([[1, 2], [3, 4]]);                 // shape [2, 2], f32
 * const y = tensor(new Int32Array([0, 1, 1]), [3], { dtype: 'i32' });
 */
export function tensor(data: NestedArray | ArrayLike<number>, shape?: readonly number[], options: TensorOptions = {}): Tensor {
  let values: ArrayLike<number>;
  let inferred: number[];
  if (typeof data === 'number') {
    values = [data];
    inferred = [];
  } else if (ArrayBuffer.isView(data)) {
    values = data as unknown as ArrayLike<number>;
    inferred = [values.length];
  } else if (Array.isArray(data)) {
    ({ values, shape: inferred } = flattenNested(data as NestedArray, 'tensor'));
  } else {
    throw new InvalidArgumentError('tensor', 'data', `must be a number, an array or a typed array, got ${typeof data}`);
  }
  const finalShape = shape ? validateShape(shape, 'tensor') : inferred;
  checkElements('tensor', finalShape);
  if (sizeOf(finalShape) !== values.length) {
    throw new InvalidArgumentError('tensor', 'shape', `${formatShape(finalShape)} holds ${sizeOf(finalShape)} elements but data has ${values.length}`);
  }
  const dtype = checkDtype('tensor', options.dtype ?? 'f32');
  if (!options.allowNonFinite || dtype === 'i32') {
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i])) {
        throw new NonFiniteError(
          'tensor',
          'data',
          `contains ${values[i]} at flat index ${i}${dtype === 'i32' ? " (dtype 'i32' holds no NaN/Inf)" : ' (pass allowNonFinite: true to keep it)'}`,
        );
      }
    }
  }
  checkValues('tensor', 'data', values, dtype);
  return make(values, finalShape, options, 'tensor', dtype);
}

export function full(shape: readonly number[], value: number, options: CreateOptions = {}): Tensor {
  const s = validateShape(shape, 'full');
  if (typeof value !== 'number') throw new InvalidArgumentError('full', 'value', `must be a number, got ${typeof value}`);
  if (Number.isNaN(value)) throw new NonFiniteError('full', 'value', 'is NaN');
  const dtype = checkDtype('full', options.dtype ?? 'f32');
  checkValues('full', 'value', [value], dtype);
  return make(hostBuffer('full', s).fill(value), s, options, 'full', dtype);
}

export const zeros = (shape: readonly number[], options: CreateOptions = {}): Tensor => full(shape, 0, options);
export const ones = (shape: readonly number[], options: CreateOptions = {}): Tensor => full(shape, 1, options);
export const zerosLike = (t: Tensor, options: CreateOptions = {}): Tensor => full(t.shape, 0, { dtype: t.dtype, device: t.backend, ...options });
export const onesLike = (t: Tensor, options: CreateOptions = {}): Tensor => full(t.shape, 1, { dtype: t.dtype, device: t.backend, ...options });

/** [start, start + step, …) below `end`, like torch.arange. dtype i32 when all arguments are integers. */
export function arange(start: number, end?: number, step = 1, options: CreateOptions = {}): Tensor {
  const [lo, hi] = end === undefined ? [0, start] : [start, end];
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || !Number.isFinite(step) || step === 0) {
    throw new InvalidArgumentError('arange', 'step', `needs finite bounds and a non-zero step, got (${lo}, ${hi}, ${step})`);
  }
  const n = Math.max(0, Math.ceil((hi - lo) / step));
  const values = hostBuffer('arange', [n]);
  for (let i = 0; i < n; i++) values[i] = lo + i * step;
  const dtype = checkDtype('arange', options.dtype ?? ([lo, hi, step].every(Number.isInteger) ? 'i32' : 'f32'));
  checkValues('arange', 'end', values, dtype);
  return make(values, [n], options, 'arange', dtype);
}

export interface RandomOptions extends CreateOptions {
  /** Seed of the xoshiro128** generator (see random.ts). Defaults to 0. */
  seed?: number;
}

function seedOf(op: string, seed: unknown): number {
  if (seed === undefined) return 0;
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) throw new InvalidArgumentError(op, 'seed', `must be an integer, got ${String(seed)}`);
  return seed;
}

/** Uniform [0, 1) (seeded). */
export function rand(shape: readonly number[], options: RandomOptions = {}): Tensor {
  const s = validateShape(shape, 'rand');
  const rng = new Rng(seedOf('rand', options.seed));
  const values = hostBuffer('rand', s);
  for (let i = 0; i < values.length; i++) values[i] = rng.uniform();
  return make(values, s, options, 'rand');
}

/** Standard normal (seeded). */
export function randn(shape: readonly number[], options: RandomOptions = {}): Tensor {
  const s = validateShape(shape, 'randn');
  const rng = new Rng(seedOf('randn', options.seed));
  const values = hostBuffer('randn', s);
  for (let i = 0; i < values.length; i++) values[i] = rng.normal();
  return make(values, s, options, 'randn');
}
