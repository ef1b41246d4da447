import { assertKnownOptions, InvalidArgumentError } from '@fairgpu/tensor';
import { checkImpl, checkNonNegative, checkPositive, type Impl } from '@fairgpu/kernels';

/**
 * Option types shared by the losses, and their validation. Every option has a documented default;
 * every check throws an `InvalidArgumentError` naming the option.
 */

/** `paper`: the formula as published (sane edges). `released`: the authors' code, quirks included. */
export type Variant = 'paper' | 'released';
/** `fused`: O(M·d) kernels of @fairgpu/kernels (default). `composite`: M×M tensor ops (the reference). */
export type { Impl };

export interface CommonOptions {
  /** Default `'paper'`. */
  variant?: Variant;
  /** Default `'fused'`. */
  impl?: Impl;
}

export interface TemperatureOptions {
  /** τ > 0. */
  temperature?: number;
  /** Each anchor term is multiplied by τ / baseTemperature. Default: τ (factor 1). */
  baseTemperature?: number;
}

/** Anchors against a larger reference set (e.g. a memory queue), as pytorch-metric-learning's `ref_emb`. */
export interface ReferenceOptions {
  /** Raw reference features [N, d] (L2-normalised like x). No pair is excluded against them. */
  refEmbeddings?: import('@fairgpu/tensor').Tensor;
  /** Labels of the reference rows (length N); required with refEmbeddings for supervised losses. */
  refLabels?: ArrayLike<number> | import('@fairgpu/tensor').Tensor;
}

/**
 * The option keys each loss reads. Any other key is an InvalidArgumentError naming 'options' and
 * listing these (a misspelt `temprature` is never silently the default). `variant` and `impl` are
 * accepted by every loss (a uniform API for registry callers), even where both values agree.
 */
export const LOSS_OPTIONS = {
  supcon: ['temperature', 'baseTemperature', 'refEmbeddings', 'refLabels', 'variant', 'impl'],
  'nt-xent': ['temperature', 'variant', 'impl'],
  'eps-supinfonce': ['temperature', 'baseTemperature', 'epsilon', 'form', 'logEps', 'refEmbeddings', 'refLabels', 'variant', 'impl'],
  'eps-supcon': ['temperature', 'baseTemperature', 'epsilon', 'logEps', 'refEmbeddings', 'refLabels', 'variant', 'impl'],
  fairkl: ['temperature', 'kld', 'symmetric', 'varianceEps', 'variant', 'impl'],
  end: ['alpha', 'beta', 'variant', 'impl'],
  'y-aware': ['temperature', 'baseTemperature', 'kernel', 'sigma', 'refEmbeddings', 'refTargets', 'variant', 'impl'],
  'l-exp': ['temperature', 'baseTemperature', 'kernel', 'sigma', 'refEmbeddings', 'refTargets', 'variant', 'impl'],
  'l-thr': ['temperature', 'baseTemperature', 'kernel', 'sigma', 'deltaReduction', 'variant', 'impl'],
  'cross-entropy': ['labelSmoothing', 'variant', 'impl'],
} as const satisfies Record<string, readonly string[]>;

export type LossOptionsOp = keyof typeof LOSS_OPTIONS;

/** `options` as a record (undefined/null → {}), with every key checked against LOSS_OPTIONS[op]. */
export function checkObject(op: LossOptionsOp, options: unknown): Record<string, unknown> {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object') throw new InvalidArgumentError(op, 'options', `must be an object, got ${typeof options}`);
  assertKnownOptions(op, options, LOSS_OPTIONS[op]);
  return options as Record<string, unknown>;
}

export function variantOf(op: string, value: unknown): Variant {
  if (value === undefined) return 'paper';
  if (value !== 'paper' && value !== 'released') throw new InvalidArgumentError(op, 'variant', `must be 'paper' or 'released', got ${String(value)}`);
  return value;
}

/** `impl` (default 'fused'): the kernels' own check, so both packages word the error alike. */
export const implOf: (op: string, value: unknown) => Impl = checkImpl;

/** A finite number > 0 (the kernels' checkPositive), `fallback` when undefined. */
export function positive(op: string, name: string, value: unknown, fallback: number): number {
  return checkPositive(op, name, value === undefined ? fallback : value);
}

/** A finite number ≥ 0 (the kernels' checkNonNegative), `fallback` when undefined. */
export function nonNegative(op: string, name: string, value: unknown, fallback: number): number {
  return checkNonNegative(op, name, value, fallback);
}

export function finite(op: string, name: string, value: unknown, fallback: number): number {
  const v = value === undefined ? fallback : value;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidArgumentError(op, name, `must be a finite number, got ${String(v)}`);
  return v;
}

export function flag(op: string, name: string, value: unknown, fallback: boolean): boolean {
  const v = value === undefined ? fallback : value;
  if (typeof v !== 'boolean') throw new InvalidArgumentError(op, name, `must be a boolean, got ${String(v)}`);
  return v;
}

export function oneOf<T extends string>(op: string, name: string, value: unknown, allowed: readonly T[], fallback: T): T {
  const v = value === undefined ? fallback : value;
  if (!allowed.includes(v as T)) throw new InvalidArgumentError(op, name, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${String(v)}`);
  return v as T;
}

/** τ and the τ/baseTemperature scale. */
export function temperatureOf(op: string, o: Record<string, unknown>, fallback: number): { tau: number; scale: number } {
  const tau = positive(op, 'temperature', o.temperature, fallback);
  const base = positive(op, 'baseTemperature', o.baseTemperature, tau);
  return { tau, scale: tau / base };
}
