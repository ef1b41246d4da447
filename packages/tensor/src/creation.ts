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

function make(values: ArrayLike<number>, shape: readonly number[], options: CreateOptions, op: string): Tensor {
  const dtype = options.dtype ?? 'f32';
  if (!isDType(dtype)) throw new InvalidArgumentError(op, 'dtype', `must be 'f32' or 'i32', got ${String(dtype)}`);
  const backend = resolveDevice(options.device, op);
  const t = new Tensor(backend, backend.upload(values, dtype), shape, dtype);
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
  if (sizeOf(finalShape) !== values.length) {
    throw new InvalidArgumentError('tensor', 'shape', `${formatShape(finalShape)} holds ${sizeOf(finalShape)} elements but data has ${values.length}`);
  }
  if (!options.allowNonFinite) {
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i])) throw new NonFiniteError('tensor', 'data', `contains ${values[i]} at flat index ${i} (pass allowNonFinite: true to keep it)`);
    }
  }
  return make(values, finalShape, options, 'tensor');
}

export function full(shape: readonly number[], value: number, options: CreateOptions = {}): Tensor {
  const s = validateShape(shape, 'full');
  if (Number.isNaN(value)) throw new NonFiniteError('full', 'value', 'is NaN');
  return make(new Float64Array(sizeOf(s)).fill(value), s, options, 'full');
}

export const zeros = (shape: readonly number[], options: CreateOptions = {}): Tensor => full(shape, 0, options);
export const ones = (shape: readonly number[], options: CreateOptions = {}): Tensor => full(shape, 1, options);
export const zerosLike = (t: Tensor, options: CreateOptions = {}): Tensor =>
  full(t.shape, 0, { dtype: t.dtype, device: t.backend, ...options });
export const onesLike = (t: Tensor, options: CreateOptions = {}): Tensor =>
  full(t.shape, 1, { dtype: t.dtype, device: t.backend, ...options });

/** [start, start + step, …) below `end`, like torch.arange. dtype i32 when all arguments are integers. */
export function arange(start: number, end?: number, step = 1, options: CreateOptions = {}): Tensor {
  const [lo, hi] = end === undefined ? [0, start] : [start, end];
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || !Number.isFinite(step) || step === 0) {
    throw new InvalidArgumentError('arange', 'step', `needs finite bounds and a non-zero step, got (${lo}, ${hi}, ${step})`);
  }
  const n = Math.max(0, Math.ceil((hi - lo) / step));
  const values = Array.from({ length: n }, (_, i) => lo + i * step);
  const dtype = options.dtype ?? ([lo, hi, step].every(Number.isInteger) ? 'i32' : 'f32');
  return make(values, [n], { ...options, dtype }, 'arange');
}

export interface RandomOptions extends CreateOptions {
  /** Seed of the xoshiro128** generator (see random.ts). Defaults to 0. */
  seed?: number;
}

/** Uniform [0, 1) (seeded). */
export function rand(shape: readonly number[], options: RandomOptions = {}): Tensor {
  const s = validateShape(shape, 'rand');
  const rng = new Rng(options.seed ?? 0);
  const values = new Float64Array(sizeOf(s));
  for (let i = 0; i < values.length; i++) values[i] = rng.uniform();
  return make(values, s, options, 'rand');
}

/** Standard normal (seeded). */
export function randn(shape: readonly number[], options: RandomOptions = {}): Tensor {
  const s = validateShape(shape, 'randn');
  const rng = new Rng(options.seed ?? 0);
  const values = new Float64Array(sizeOf(s));
  for (let i = 0; i < values.length; i++) values[i] = rng.normal();
  return make(values, s, options, 'randn');
}
