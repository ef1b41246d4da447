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

/** Throws a DatasetArgumentError unless `value` is an integer seed (a safe integer: NaN or 1.5 would silently alias another seed). */
export function checkSeed(argument: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new DatasetArgumentError(argument, `expected an integer seed, got ${String(value)}`);
  }
  return value;
}

/** Throws a DatasetArgumentError unless `value` is an options object (e.g. a required options argument left out). */
export function checkOptionsObject(argument: string, value: unknown, required: string): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new DatasetArgumentError(
      argument,
      `expected an options object with ${required}, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`,
    );
  }
}

/**
 * Throws a DatasetArgumentError naming `argument` for any own key of `options` that is not in
 * `known`, suggesting the closest known key within 2 edits: a misspelt option is an error rather
 * than a silent default. `undefined`/`null` options pass. (The same rule as `assertKnownOptions`
 * of @fairgpu/tensor, which this package does not depend on.)
 */
export function checkKnownOptions(argument: string, options: object | undefined | null, known: readonly string[]): void {
  if (options === undefined || options === null) return;
  if (typeof options !== 'object') throw new DatasetArgumentError(argument, `expected an options object, got ${typeof options}`);
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    let best: string | undefined;
    let bestDistance = 3;
    for (const candidate of known) {
      const d = editDistance(key, candidate);
      if (d < bestDistance) {
        bestDistance = d;
        best = candidate;
      }
    }
    const hint = best === undefined ? '' : ` (did you mean '${best}'?)`;
    throw new DatasetArgumentError(argument, `unknown option '${key}'${hint}; known options: ${known.length ? known.join(', ') : 'none'}`);
  }
}

/** Optimal string alignment distance, capped at 3. */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}
