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
  constructor(readonly op: string, readonly argument: string, detail: string) {
    super(`${op}: argument '${argument}' ${detail}`);
  }
}

/** Shapes that cannot be combined (broadcasting, matmul inner dimensions, concat, …). */
export class ShapeMismatchError extends FairgpuError {
  constructor(readonly op: string, readonly argument: string, detail: string) {
    super(`${op}: shape mismatch in '${argument}': ${detail}`);
  }
}

export class DtypeMismatchError extends FairgpuError {
  constructor(readonly op: string, readonly argument: string, detail: string) {
    super(`${op}: dtype mismatch in '${argument}': ${detail}`);
  }
}

/** Tensors on different devices (a GPU context vs the CPU reference) used together. */
export class DeviceMismatchError extends FairgpuError {
  constructor(readonly op: string, readonly argument: string, detail: string) {
    super(`${op}: device mismatch in '${argument}': ${detail}`);
  }
}

/** A tensor was used after `dispose()`. */
export class DisposedTensorError extends FairgpuError {
  constructor(readonly op: string, readonly argument: string) {
    super(`${op}: argument '${argument}' is a disposed tensor (it was used after dispose())`);
  }
}

/** NaN or ±Inf where the op forbids it. */
export class NonFiniteError extends FairgpuError {
  constructor(readonly op: string, readonly argument: string, detail = 'contains NaN or Inf') {
    super(`${op}: argument '${argument}' ${detail}`);
  }
}

/** backward() misuse: non-scalar without a seed gradient, nothing requires grad, freed graph. */
export class GradientError extends FairgpuError {}

/** No WebGPU adapter could be obtained. `attempts` lists every path tried and why it failed. */
export class NoAdapterError extends FairgpuError {
  constructor(readonly attempts: readonly string[], hint: string) {
    super(`no WebGPU adapter found. Tried:\n  - ${attempts.join('\n  - ')}\n${hint}`);
  }
}

/** The GPU device was lost (driver reset, destroy(), out of memory). Create a new context. */
export class DeviceLostError extends FairgpuError {
  constructor(readonly reason: string, detail: string) {
    super(`WebGPU device lost (${reason}): ${detail}. Call initGpu() again to get a new device.`);
  }
}

/** A WGSL module failed to compile or a pipeline failed validation. */
export class WgslCompileError extends FairgpuError {
  constructor(readonly label: string, detail: string, excerpt: string) {
    super(`WGSL compile error in '${label}': ${detail}\n${excerpt}`);
  }
}

/** The GPU reported a validation or out-of-memory error for work fairgpu submitted. */
export class GpuValidationError extends FairgpuError {}
