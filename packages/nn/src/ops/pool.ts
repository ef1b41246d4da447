/**
 * Pooling. Max pooling is a custom op (first maximum in row-major window order gets the gradient,
 * as PyTorch); average pooling is im2col + a mean over the window (zero padding counted, PyTorch's
 * `count_include_pad=True` default), so its gradient is col2im; global average pooling is a mean.
 */
import { assertKnownOptions, InvalidArgumentError, type Tensor } from '@fairgpu/tensor';
import { bufferOf, customOp, f32Input, grid1d, packU32, type CustomOpDefinition } from '@fairgpu/tensor/internal';
import { globalAvgPoolWgsl, maxpoolGradWgsl, maxpoolWgsl } from '../generated/wgsl.ts';
import { specialize } from './specialize.ts';
import { geometry, geometryKernel, withGeometry, type Geometry, type Pair } from './geometry.ts';
import { im2col } from './conv.ts';

const MAXPOOL = withGeometry(maxpoolWgsl);
const MAXPOOL_GRAD = withGeometry(maxpoolGradWgsl);

interface PoolAttrs {
  geometry: Geometry;
}

/** Index (within its plane) of the first maximum of window (oy, ox) of plane bc, or -1. */
function argmaxCpu(g: Geometry, xs: Float64Array, bc: number, oy: number, ox: number): number {
  let best = -Infinity;
  let at = -1;
  for (let ky = 0; ky < g.kh; ky++)
    for (let kx = 0; kx < g.kw; kx++) {
      const iy = oy * g.sh + ky - g.ph;
      const ix = ox * g.sw + kx - g.pw;
      if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
      const v = xs[bc * g.h * g.w + iy * g.w + ix];
      if (v > best || at < 0) {
        best = v;
        at = iy * g.w + ix;
      }
    }
  return at;
}

const maxPoolGradOp: CustomOpDefinition<PoolAttrs, { x: Tensor; g: Tensor }> = {
  name: 'maxPool2dGrad',
  gpu(rec, { x, g: grad }, out, dst, { geometry: g }) {
    const total = g.batch * g.c * g.h * g.w;
    if (!total) return;
    const xs = f32Input(rec, 'x', 1, bufferOf(x), total);
    const gs = f32Input(rec, 'g', 2, bufferOf(grad), g.batch * g.c * g.ho * g.wo);
    const [source, params] = geometryKernel(MAXPOOL_GRAD, g, total);
    rec.dispatch('maxpool2d-grad', xs.wgsl + gs.wgsl + source, params, [xs.resource, gs.resource, dst], grid1d(total));
  },
  cpu({ x, g: grad }, _out, { geometry: g }) {
    const xs = x.values;
    const gs = grad.values;
    const dx = new Float64Array(g.batch * g.c * g.h * g.w);
    for (let bc = 0; bc < g.batch * g.c; bc++)
      for (let oy = 0; oy < g.ho; oy++)
        for (let ox = 0; ox < g.wo; ox++) {
          const at = argmaxCpu(g, xs, bc, oy, ox);
          if (at >= 0) dx[bc * g.h * g.w + at] += gs[(bc * g.ho + oy) * g.wo + ox];
        }
    return dx;
  },
};

const maxPoolOp: CustomOpDefinition<PoolAttrs, { x: Tensor }> = {
  name: 'maxPool2d',
  gpu(rec, { x }, out, dst, { geometry: g }) {
    const total = g.batch * g.c * g.ho * g.wo;
    if (!total) return;
    const input = f32Input(rec, 'x', 1, bufferOf(x), g.batch * g.c * g.h * g.w);
    const [source, params] = geometryKernel(MAXPOOL, g, total);
    rec.dispatch('maxpool2d', input.wgsl + source, params, [input.resource, dst], grid1d(total));
  },
  cpu({ x }, _out, { geometry: g }) {
    const xs = x.values;
    const y = new Float64Array(g.batch * g.c * g.ho * g.wo);
    for (let bc = 0; bc < g.batch * g.c; bc++)
      for (let oy = 0; oy < g.ho; oy++)
        for (let ox = 0; ox < g.wo; ox++) {
          y[(bc * g.ho + oy) * g.wo + ox] = xs[bc * g.h * g.w + argmaxCpu(g, xs, bc, oy, ox)];
        }
    return y;
  },
  vjp(grad, { inputs: { x }, attrs }) {
    return { x: customOp(maxPoolGradOp, { x, g: grad }, { shape: x.shape, dtype: 'f32' }, attrs) };
  },
};

export interface PoolOptions {
  /** Default: the kernel size (PyTorch). */
  stride?: Pair;
  padding?: Pair;
}

function poolGeometry(op: string, x: Tensor, kernelSize: Pair, options: PoolOptions): Geometry {
  assertKnownOptions(op, options, ['stride', 'padding']);
  const g = geometry(op, x, kernelSize, { stride: options.stride ?? kernelSize, padding: options.padding ?? 0 });
  if (2 * g.ph > g.kh || 2 * g.pw > g.kw) {
    // PyTorch's rule: a window made only of padding would have no maximum.
    throw new InvalidArgumentError(op, 'padding', `must be at most half the kernel size (${g.kh}×${g.kw}), got ${g.ph}×${g.pw}`);
  }
  return g;
}

/** PyTorch's `F.max_pool2d(x, kernelSize, stride = kernelSize, padding)` on NCHW. */
export function maxPool2d(x: Tensor, kernelSize: Pair, options: PoolOptions = {}): Tensor {
  const g = poolGeometry('maxPool2d', x, kernelSize, options);
  return customOp(maxPoolOp, { x }, { shape: [g.batch, g.c, g.ho, g.wo], dtype: 'f32' }, { geometry: g });
}

/** PyTorch's `F.avg_pool2d` (count_include_pad = true). */
export function avgPool2d(x: Tensor, kernelSize: Pair, options: PoolOptions = {}): Tensor {
  const g = poolGeometry('avgPool2d', x, kernelSize, options);
  const cols = im2col(x, g).reshape([g.batch, g.c, g.kh * g.kw, g.ho * g.wo]);
  return cols.mean(2).reshape([g.batch, g.c, g.ho, g.wo]);
}

/** Plane means [B, C, H, W] → [B, C] (dir 0) or their gradient [B, C] → [B, C, H, W] (dir 1). */
const globalAvgPoolOp: CustomOpDefinition<{ dims: readonly [number, number, 0 | 1] }, { x: Tensor }> = {
  name: 'globalAvgPool2d',
  gpu(rec, { x }, out, dst, attrs) {
    const [planes, inner, dir] = attrs.dims;
    if (!planes || !inner) return;
    const values = [planes, inner, dir, 0];
    const input = f32Input(rec, 'src', 1, bufferOf(x), dir === 0 ? planes * inner : planes);
    rec.dispatch('global-avg-pool', input.wgsl + specialize(globalAvgPoolWgsl, 'Params', values), packU32(values), [input.resource, dst], grid1d(planes));
  },
  cpu({ x }, out, attrs) {
    const [planes, inner, dir] = attrs.dims;
    const xs = x.values;
    const y = new Float64Array(dir === 0 ? planes : planes * inner);
    for (let pl = 0; pl < planes; pl++) {
      if (dir === 0) {
        let s = 0;
        for (let q = 0; q < inner; q++) s += xs[pl * inner + q];
        y[pl] = s / inner;
      } else {
        for (let q = 0; q < inner; q++) y[pl * inner + q] = xs[pl] / inner;
      }
    }
    return y;
  },
  vjp(g, { inputs: { x }, attrs }) {
    const [planes, inner] = attrs.dims;
    return { x: customOp(globalAvgPoolOp, { x: g }, { shape: x.shape, dtype: 'f32' }, { dims: [planes, inner, 1] }) };
  },
};

/** Mean over H and W: [B, C, H, W] → [B, C] (PyTorch's `adaptive_avg_pool2d(x, 1).flatten(1)`). */
export function globalAvgPool2d(x: Tensor): Tensor {
  const g = geometry('globalAvgPool2d', x, 1);
  if (g.h * g.w === 0) throw new InvalidArgumentError('globalAvgPool2d', 'x', 'has no elements to average over');
  return customOp(globalAvgPoolOp, { x }, { shape: [g.batch, g.c], dtype: 'f32' }, { dims: [g.batch * g.c, g.h * g.w, 0] });
}
