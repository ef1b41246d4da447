/**
 * Typed errors. Every failure caused by bad input (malformed bytes, a file that lies about its
 * size, an invalid option) is one of these, so callers can tell "your data is broken" apart from
 * a bug, and the fuzz tests can assert that nothing else ever escapes a reader.
 */

/** Shared by every fairgpu package, so `isFairgpuError` works across package boundaries. */
export const FAIRGPU_ERROR = Symbol.for('fairgpu.error');

/** Bytes or files that do not follow the format they claim (IDX, .npy, PNG, TSV, folder layout). */
export class DatasetFormatError extends Error {
  override readonly name = 'DatasetFormatError';
  readonly [FAIRGPU_ERROR] = true;
  /** Which format was being read, e.g. `'idx'`, `'npy'`, `'png'`. */
  readonly format: string;

  constructor(format: string, message: string, options?: { cause?: unknown }) {
    super(`${format}: ${message}`, options);
    this.format = format;
  }
}

/** An option or argument outside its allowed range; the message names the argument. */
export class DatasetArgumentError extends RangeError {
  override readonly name = 'DatasetArgumentError';
  readonly [FAIRGPU_ERROR] = true;
  readonly argument: string;

  constructor(argument: string, message: string) {
    super(`${argument}: ${message}`);
    this.argument = argument;
  }
}

export function isFairgpuError(value: unknown): value is Error {
  return value instanceof Error && (value as unknown as Record<symbol, unknown>)[FAIRGPU_ERROR] === true;
}

/** Throws a DatasetArgumentError unless `value` is an integer in [min, max]. */
export function checkInteger(argument: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new DatasetArgumentError(argument, `expected an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

/** Throws a DatasetArgumentError unless `value` is a finite number in [min, max]. */
export function checkNumber(argument: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new DatasetArgumentError(argument, `expected a number in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}
