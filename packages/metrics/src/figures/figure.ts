/** The figure value every builder returns, and argument checks shared by the builders. */
import { InvalidArgumentError } from '@fairgpu/tensor';

/**
 * A figure: `svg` is a complete standalone SVG document; `data` holds the numbers behind it (the
 * JSON sidecar that `writeFigure` from `@fairgpu/metrics/node` writes next to the PNG and SVG).
 */
export interface Figure {
  /** File stem: `writeFigure` writes `<name>.png`, `<name>.svg`, `<name>.json`. */
  name: string;
  title: string;
  width: number;
  height: number;
  svg: string;
  data: unknown;
}

/** Options every builder accepts. */
export interface FigureOptions {
  name?: string;
  title?: string;
}

export function fail(op: string, argument: string, detail: string): never {
  throw new InvalidArgumentError(op, argument, detail);
}

export function describe(v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  return typeof v;
}

export function checkObject(op: string, arg: string, v: unknown): asserts v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) fail(op, arg, `must be an object, got ${describe(v)}`);
}

export function checkFinite(op: string, arg: string, v: unknown, range?: { min?: number; max?: number; positive?: boolean }): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(op, arg, `must be a finite number, got ${describe(v)}`);
  if (range?.positive && !(v > 0)) fail(op, arg, `must be > 0, got ${v}`);
  if (range?.min !== undefined && v < range.min) fail(op, arg, `must be ≥ ${range.min}, got ${v}`);
  if (range?.max !== undefined && v > range.max) fail(op, arg, `must be ≤ ${range.max}, got ${v}`);
  return v;
}

export function checkCount(op: string, arg: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(op, arg, `must be a non-negative integer, got ${describe(v)}`);
  return v;
}

export function checkString(op: string, arg: string, v: unknown): string {
  if (typeof v !== 'string') fail(op, arg, `must be a string, got ${describe(v)}`);
  return v;
}

export function checkArrayLike(op: string, arg: string, v: unknown, length?: number): ArrayLike<number> {
  if (v == null || typeof v !== 'object' || typeof (v as ArrayLike<number>).length !== 'number')
    fail(op, arg, `must be an array of numbers, got ${describe(v)}`);
  const a = v as ArrayLike<number>;
  if (length !== undefined && a.length !== length) fail(op, arg, `must have length ${length}, got ${a.length}`);
  for (let i = 0; i < a.length; i++) {
    if (typeof a[i] !== 'number' || !Number.isFinite(a[i])) fail(op, `${arg}[${i}]`, `must be a finite number, got ${describe(a[i])}`);
  }
  return a;
}

export function checkNonEmptyArray<T>(op: string, arg: string, v: unknown): T[] {
  if (!Array.isArray(v) || v.length === 0) fail(op, arg, `must be a non-empty array, got ${describe(v)}`);
  return v as T[];
}

/** Figure names become file names: letters, digits, '.', '_', '-'; no path separators. */
export function checkName(op: string, arg: string, v: unknown): string {
  const s = checkString(op, arg, v);
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(s) || s.length > 200)
    fail(op, arg, `must be a file stem of letters, digits, '.', '_' or '-' (no '/'), got ${JSON.stringify(s)}`);
  return s;
}

/** Rounds for the JSON sidecar (keeps it small and diff-able). */
export function round(v: number, digits = 6): number {
  return Number(v.toPrecision(digits));
}
