/**
 * Typed errors. Every error fairgpu throws is a `FairgpuError` carrying a `Symbol.for` marker, so
 * `isFairgpuError` works across duplicated package copies (bundles, Deno + npm), and a specific
 * subclass so callers can branch on `instanceof` or `error.name`.
 */
const marker = Symbol.for('fairgpu.error');

export class FairgpuError extends Error {
  readonly [marker] = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export function isFairgpuError(value: unknown): value is FairgpuError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
}

/** An argument has the wrong value, type or range. `op` and `argument` name the culprit. */
export class InvalidArgumentError extends FairgpuError {
  constructor(
    readonly op: string,
    readonly argument: string,
    detail: string,
  ) {
    super(`${op}: argument '${argument}' ${detail}`);
  }
}

/** Shapes that cannot be combined (broadcasting, matmul inner dimensions, concat, …). */
export class ShapeMismatchError extends FairgpuError {
  constructor(
    readonly op: string,
    readonly argument: string,
    detail: string,
  ) {
    super(`${op}: shape mismatch in '${argument}': ${detail}`);
  }
}

export class DtypeMismatchError extends FairgpuError {
  constructor(
    readonly op: string,
    readonly argument: string,
    detail: string,
  ) {
    super(`${op}: dtype mismatch in '${argument}': ${detail}`);
  }
}

/** Tensors on different devices (a GPU context vs the CPU reference) used together. */
export class DeviceMismatchError extends FairgpuError {
  constructor(
    readonly op: string,
    readonly argument: string,
    detail: string,
  ) {
    super(`${op}: device mismatch in '${argument}': ${detail}`);
  }
}

/** A tensor was used after `dispose()`. */
export class DisposedTensorError extends FairgpuError {
  constructor(
    readonly op: string,
    readonly argument: string,
  ) {
    super(`${op}: argument '${argument}' is a disposed tensor (it was used after dispose())`);
  }
}

/** NaN or ±Inf where the op forbids it. */
export class NonFiniteError extends FairgpuError {
  constructor(
    readonly op: string,
    readonly argument: string,
    detail = 'contains NaN or Inf',
  ) {
    super(`${op}: argument '${argument}' ${detail}`);
  }
}

/** backward() misuse: non-scalar without a seed gradient, nothing requires grad, freed graph. */
export class GradientError extends FairgpuError {}

/** No WebGPU adapter could be obtained. `attempts` lists every path tried and why it failed. */
export class NoAdapterError extends FairgpuError {
  constructor(
    readonly attempts: readonly string[],
    hint: string,
  ) {
    super(`no WebGPU adapter found. Tried:\n  - ${attempts.join('\n  - ')}\n${hint}`);
  }
}

/**
 * Node only: the npm package that provides dawn.node (`webgpu`, an optional peer dependency of
 * @fairgpu/tensor) is not installed. A NoAdapterError, so code that handles "no GPU here" also
 * handles this; `packageName` is what to install.
 */
export class WebGpuPackageMissingError extends NoAdapterError {
  constructor(
    readonly packageName: string,
    detail: string,
  ) {
    super([`dawn.node (npm package '${packageName}'): not installed (${detail})`], `Fix: npm install ${packageName}`);
    this.message =
      `initGpu: the npm package '${packageName}' (dawn.node, WebGPU for Node) is not installed. @fairgpu/tensor imports it only in Node, ` +
      `as an optional peer dependency, so it is not installed with it. Fix: npm install ${packageName} (${detail})`;
  }
}

/** The GPU device was lost (driver reset, destroy(), out of memory). Create a new context. */
export class DeviceLostError extends FairgpuError {
  constructor(
    readonly reason: string,
    detail: string,
  ) {
    super(`WebGPU device lost (${reason}): ${detail}. Call initGpu() again to get a new device.`);
  }
}

/** A WGSL module failed to compile or a pipeline failed validation. */
export class WgslCompileError extends FairgpuError {
  constructor(
    readonly label: string,
    detail: string,
    excerpt: string,
  ) {
    super(`WGSL compile error in '${label}': ${detail}\n${excerpt}`);
  }
}

/** The GPU reported a validation or out-of-memory error for work fairgpu submitted. */
export class GpuValidationError extends FairgpuError {}

/**
 * Throws `InvalidArgumentError(op, 'options', …)` for any own enumerable key of `options` that is
 * not in `known` (a key whose value is `undefined` is checked too), suggesting the closest known
 * key when it is within 2 edits:
 * `supcon: argument 'options' unknown option 'temprature' (did you mean 'temperature'?); known options: …`.
 * `undefined`/`null` options pass. A misspelt option is an error rather than a silent default.
 */
export function assertKnownOptions(op: string, options: object | undefined | null, known: readonly string[]): void {
  if (options === undefined || options === null) return;
  if (typeof options !== 'object' && typeof options !== 'function') {
    throw new InvalidArgumentError(op, 'options', `must be an object, got ${typeof options}`);
  }
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
    const list = known.length === 0 ? 'none' : known.join(', ');
    throw new InvalidArgumentError(op, 'options', `unknown option '${key}'${hint}; known options: ${list}`);
  }
}

/** Optimal string alignment distance (insertions, deletions, substitutions, adjacent swaps). */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row = new Array<number>(b.length + 1);
    row[0] = i;
    rows.push(row);
  }
  for (let j = 0; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}
