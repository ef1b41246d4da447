import { InvalidArgumentError, ShapeMismatchError, type Tensor } from '@fairgpu/tensor';
import { packU32 } from '@fairgpu/tensor/internal';
import { convGeometryWgsl } from '../generated/wgsl.ts';
import { specialize } from './specialize.ts';

/** A pair (height, width) from a number or a pair, as PyTorch's `_pair`. */
export type Pair = number | readonly [number, number];

export function pair(op: string, argument: string, value: Pair, min: number): [number, number] {
  const v: [number, number] = typeof value === 'number' ? [value, value] : [value[0], value[1]];
  if (!v.every((d) => Number.isInteger(d) && d >= min)) {
    throw new InvalidArgumentError(op, argument, `must be an integer ≥ ${min} or a pair of them, got ${JSON.stringify(value)}`);
  }
  return v;
}

/**
 * The window geometry shared by convolution and pooling: input [B, C, H, W], a kh×kw window with
 * stride and zero padding, output Ho×Wo (floor mode, as PyTorch).
 */
export interface Geometry {
  batch: number;
  c: number;
  h: number;
  w: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  ho: number;
  wo: number;
  /** Output channels (convolution only; pooling keeps c). */
  co: number;
}

export function geometry(op: string, x: Tensor, kernel: Pair, options: { stride?: Pair; padding?: Pair; co?: number } = {}): Geometry {
  if (x.rank !== 4) throw new ShapeMismatchError(op, 'x', `must be NCHW (rank 4), got shape [${x.shape.join(', ')}]`);
  if (x.dtype !== 'f32') throw new InvalidArgumentError(op, 'x', `must be f32, got ${x.dtype}`);
  const [kh, kw] = pair(op, 'kernelSize', kernel, 1);
  const [sh, sw] = pair(op, 'stride', options.stride ?? 1, 1);
  const [ph, pw] = pair(op, 'padding', options.padding ?? 0, 0);
  const [batch, c, h, w] = x.shape;
  const ho = Math.floor((h + 2 * ph - kh) / sh) + 1;
  const wo = Math.floor((w + 2 * pw - kw) / sw) + 1;
  if (ho < 1 || wo < 1) {
    throw new InvalidArgumentError(op, 'kernelSize', `${kh}×${kw} window does not fit the padded ${h + 2 * ph}×${w + 2 * pw} input`);
  }
  return { batch, c, h, w, kh, kw, sh, sw, ph, pw, ho, wo, co: options.co ?? c };
}

const geometryValues = (g: Geometry, total: number, extra: number, layout: number) => [
  total,
  g.batch,
  g.c,
  g.h,
  g.w,
  g.ho,
  g.wo,
  g.kh,
  g.kw,
  g.sh,
  g.sw,
  g.ph,
  g.pw,
  g.co,
  extra,
  layout,
];

/** The uniform block of shaders/nn/conv-geometry.wgsl. */
export function geometryParams(g: Geometry, total: number, extra = 0, layout = 0): ArrayBuffer {
  return packU32(geometryValues(g, total, extra, layout));
}

/**
 * A geometry kernel (from `withGeometry`) specialised for one geometry — its values baked in as
 * constants, see specialize.ts — and the matching uniform block.
 */
export function geometryKernel(source: string, g: Geometry, total: number, extra = 0, layout = 0): [string, ArrayBuffer] {
  return [specialize(source, 'Geometry', geometryValues(g, total, extra, layout)), geometryParams(g, total, extra, layout)];
}

/** A kernel source with the shared geometry header. */
export const withGeometry = (source: string): string => `${convGeometryWgsl}\n${source}`;
