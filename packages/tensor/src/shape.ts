import { InvalidArgumentError, ShapeMismatchError } from './errors.ts';

export type Shape = readonly number[];

export const MAX_RANK = 8;

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Row-major element strides of a contiguous tensor. */
export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

export function validateShape(shape: unknown, op: string, argument = 'shape'): number[] {
  if (!Array.isArray(shape)) throw new InvalidArgumentError(op, argument, `must be an array of non-negative integers, got ${String(shape)}`);
  if (shape.length > MAX_RANK) throw new InvalidArgumentError(op, argument, `has rank ${shape.length}; at most ${MAX_RANK} is supported`);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new InvalidArgumentError(op, argument, `must contain non-negative integers, got [${shape.join(', ')}]`);
  }
  return [...shape];
}

/** NumPy broadcasting of any number of shapes; names the offending argument on failure. */
export function broadcastShapes(op: string, shapes: readonly Shape[], names: readonly string[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (let k = 0; k < shapes.length; k++) {
    const s = shapes[k];
    for (let i = 0; i < s.length; i++) {
      const axis = rank - s.length + i;
      const d = s[i];
      if (d === out[axis] || d === 1) continue;
      if (out[axis] === 1) {
        out[axis] = d;
        continue;
      }
      throw new ShapeMismatchError(
        op,
        names[k] ?? `input ${k}`,
        `cannot broadcast [${s.join(', ')}] with [${shapes
          .filter((_, j) => j !== k)
          .map((x) => x.join(', '))
          .join('], [')}]`,
      );
    }
  }
  return out;
}

/** Strides that read an input of `shape` broadcast to `outShape` (0 on broadcast axes). */
export function broadcastStrides(shape: Shape, outShape: Shape): number[] {
  const strides = contiguousStrides(shape);
  const offset = outShape.length - shape.length;
  return outShape.map((d, axis) => {
    const i = axis - offset;
    if (i < 0 || shape[i] === 1) return 0;
    return strides[i];
  });
}

/** Normalises axes (negative counts from the end), rejecting duplicates and out-of-range values. */
export function normalizeAxes(op: string, axes: number | readonly number[] | undefined, rank: number, argument = 'axis'): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : [...axes];
  const out: number[] = [];
  for (const a of list) {
    if (!Number.isInteger(a) || a < -rank || a >= Math.max(rank, 1)) {
      throw new InvalidArgumentError(op, argument, `${a} is out of range for a tensor of rank ${rank}`);
    }
    const n = a < 0 ? a + rank : a;
    if (out.includes(n)) throw new InvalidArgumentError(op, argument, `repeats axis ${a}`);
    out.push(n);
  }
  return out.sort((x, y) => x - y);
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}
