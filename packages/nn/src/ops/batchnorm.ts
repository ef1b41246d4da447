/**
 * Batch normalisation in training mode as custom ops with a closed-form backward, and the
 * per-channel kernel both the normalisation and eval mode use (shaders/nn/channel-linear.wgsl).
 *
 * Forward: y = (x − μ_c)·invstd_c·w_c + b_c with batch statistics μ, σ² (biased) over every axis
 * but 1. One kernel (batchnorm-stats.wgsl, a workgroup per channel) computes μ, σ², invstd and the
 * affine map a = w·invstd, d = b − μ·a, and updates the running statistics in place; a second
 * (channel-linear) applies y = a·x + d. Backward (x̂ = (x − μ)·invstd, N values per channel):
 *   dx = w·invstd·(g − mean(g) − x̂·mean(g·x̂)),  dw = Σ g·x̂,  db = Σ g,
 * one kernel for the two channel sums, written straight into dw and db (a multi-output op: no
 * slices of a packed [2, C]), one for dx; on software adapters the two are one dispatch, the
 * workgroup that reduced a channel going on to write its dx. Three or four dispatches per layer
 * and step instead of ~50 small tensor ops (each ~0.2 ms on llvmpipe). The statistics enter the
 * normalisation as an input computed without gradient: the closed form already accounts for
 * their dependence on x.
 *
 * `relu` fuses a following ReLU into the same kernels: the forward clamps at 0, and both backward
 * kernels mask g by [a·x + d > 0], the pre-activation recomputed from the statistics. That saves
 * the ReLU's forward and its two backward dispatches (a mask and a product) per layer and step.
 */
import { concat, noGrad, type StorageView, type Tensor } from '@fairgpu/tensor';
import {
  bufferOf,
  customOp,
  customOpOutputs,
  elementCount,
  f32Input,
  fillMarker,
  grid1d,
  packU32,
  ParamWriter,
  workgroupSumWgsl,
  type CustomOpDefinition,
  type MultiOutputOpDefinition,
  type Recorder,
} from '@fairgpu/tensor/internal';
import {
  batchnormChannelDxWgsl,
  batchnormDxCoefficientsWgsl,
  batchnormGradSumsWgsl,
  batchnormInputGradWgsl,
  batchnormStatsWgsl,
  channelLinearWgsl,
} from '../generated/wgsl.ts';
import { f32Literal, specialize } from './specialize.ts';
import { byTexels, outputBinding, planeTexels, planeWindowWgsl } from './texels.ts';

/**
 * The read-only f32 inputs of a kernel through f32Input (texels on software adapters when large),
 * named and bound in order from binding `first`: the WGSL to prepend and the resources to bind.
 */
function f32Inputs(rec: Recorder, first: number, inputs: Record<string, StorageView>): { wgsl: string; resources: ReturnType<typeof f32Input>['resource'][] } {
  const bound = Object.entries(inputs).map(([name, view], k) => f32Input(rec, name, first + k, bufferOf(view), elementCount(view)));
  return { wgsl: bound.map((b) => b.wgsl).join(''), resources: bound.map((b) => b.resource) };
}

/** The ops of this file without attributes. */
type NoAttrs = Record<string, never>;

function layout(shape: readonly number[]): { outer: number; channels: number; inner: number; total: number } {
  const total = shape.reduce((p, d) => p * d, 1);
  return { outer: shape[0], channels: shape[1], inner: shape.slice(2).reduce((p, d) => p * d, 1), total };
}

/** out = a[c]·u + b[c]·v + d[c] (v optional), coef starting with rows a, b, d; clamped at 0 with `relu`. */
interface ChannelLinearInputs {
  u: Tensor;
  v?: Tensor;
  coef: Tensor;
}

/** Whether a ReLU follows, fused into the kernels. */
interface ReluAttrs {
  relu: boolean;
}

const channelLinearOp: CustomOpDefinition<ReluAttrs, ChannelLinearInputs> = {
  name: 'channelLinear',
  gpu(rec, inputs, out, dst, { relu }) {
    const { channels, inner, total } = layout(out.shape);
    if (!total) return;
    const u = f32Input(rec, 'u', 1, bufferOf(inputs.u), total);
    // Without v nothing is bound at 2 and v_at is a constant (has_v = 0 never calls it).
    const v = inputs.v
      ? f32Input(rec, 'v', 2, bufferOf(inputs.v), total)
      : { resource: null, wgsl: 'fn v_at(i: u32) -> f32 { return 0.0; }\nfn v_texel(t: u32) -> vec4<f32> { return vec4<f32>(0.0); }\n' };
    const coef = f32Input(rec, 'coef', 3, bufferOf(inputs.coef), elementCount(inputs.coef));
    const texels = byTexels(rec, inner);
    const values = [total, inner, channels, inputs.v ? 1 : 0, relu ? 1 : 0, texels ? 1 : 0];
    const source = u.wgsl + v.wgsl + coef.wgsl + outputBinding(4, 'out', texels) + specialize(channelLinearWgsl, 'Params', values);
    rec.dispatch('channel-linear', source, packU32(values), [u.resource, v.resource, coef.resource, dst], grid1d(total / inner));
  },
  cpu(inputs, out, { relu }) {
    const { channels, inner, total } = layout(out.shape);
    const u = inputs.u.values;
    const v = inputs.v ? inputs.v.values : null;
    const coef = inputs.coef.values;
    const y = new Float64Array(total);
    for (let i = 0; i < total; i++) {
      const c = Math.floor(i / inner) % channels;
      const value = coef[c] * u[i] + (v ? coef[channels + c] * v[i] : 0) + coef[2 * channels + c];
      y[i] = relu ? Math.max(value, 0) : value;
    }
    return y;
  },
};

/** a[c]·u + b[c]·v + d[c] over axis 1 (v may be null), max(·, 0) with `relu`. Not differentiable itself. */
export function channelLinear(u: Tensor, v: Tensor | null, a: Tensor, b: Tensor, d: Tensor, options: { relu?: boolean } = {}): Tensor {
  const coef = concat([a, b, d], 0);
  return customOp(channelLinearOp, { u, v: v ?? undefined, coef }, { shape: u.shape, dtype: 'f32' }, { relu: options.relu ?? false });
}

/** The workgroup reductions of batchnorm-stats.wgsl (mean, then variance) and batchnorm-grad-sums.wgsl (both sums at once). */
const STATS_SUMS = workgroupSumWgsl('workgroup_sum', 'f32') + workgroupSumWgsl('workgroup_sum2', 'f32');
const GRAD_SUMS = workgroupSumWgsl('workgroup_sum', 'vec2<f32>');

/** Rows of the statistics tensor [6, C] written by batchnorm-stats.wgsl. */
export const STATS = { a: 0, zero: 1, d: 2, mean: 3, variance: 4, invstd: 5 } as const;

interface StatsAttrs {
  eps: number;
  momentum: number;
  track: boolean;
}

function shapeParams(shape: readonly number[]): number[] {
  const { outer, channels, inner } = layout(shape);
  return [outer, channels, inner, outer * inner];
}

interface StatsInputs {
  x: Tensor;
  weight: Tensor;
  bias: Tensor;
  runningMean: Tensor;
  runningVar: Tensor;
  numBatchesTracked: Tensor;
}

/**
 * → [6, C] statistics; with `track` the three running tensors are updated in place (as `assign`
 * would).
 */
const batchNormStatsOp: CustomOpDefinition<StatsAttrs, StatsInputs> = {
  name: 'batchNormStats',
  gpu(rec, inputs, out, dst, { eps, momentum, track }) {
    const [outer, channels, inner, count] = shapeParams(inputs.x.shape);
    if (!channels) return;
    const floats = [eps, momentum, 1 - momentum, (momentum * count) / Math.max(count - 1, 1)];
    const texels = planeTexels(rec, inner);
    const params = new ParamWriter()
      .u(0, outer)
      .u(1, channels)
      .u(2, inner)
      .u(3, count)
      .u(4, track ? 1 : 0)
      .u(9, texels);
    floats.forEach((v, i) => params.f(5 + i, v));
    const { x, weight, bias, runningMean, runningVar, numBatchesTracked } = inputs;
    const read = f32Inputs(rec, 1, { x, weight, bias });
    const source =
      read.wgsl +
      STATS_SUMS +
      planeWindowWgsl +
      specialize(batchnormStatsWgsl, 'Params', [outer, channels, inner, count, track ? 1 : 0, ...floats.map(f32Literal), texels]);
    const inPlace = [runningMean, runningVar, numBatchesTracked].map(bufferOf);
    rec.dispatch('batchnorm-stats', source, params.buffer, [...read.resources, ...inPlace, dst], [channels, 1, 1]);
  },
  cpu(inputs, _out, { eps, momentum, track }) {
    const { x, weight: w, bias: b, runningMean: rm, runningVar: rv, numBatchesTracked: nbt } = mapValues(inputs);
    const [outer, channels, inner, count] = shapeParams(inputs.x.shape);
    const stats = new Float64Array(6 * channels);
    for (let c = 0; c < channels; c++) {
      let s = 0;
      for (let n = 0; n < outer; n++) for (let q = 0; q < inner; q++) s += x[(n * channels + c) * inner + q];
      const mean = s / count;
      let v = 0;
      for (let n = 0; n < outer; n++) for (let q = 0; q < inner; q++) v += (x[(n * channels + c) * inner + q] - mean) ** 2;
      const variance = v / count;
      const invstd = 1 / Math.sqrt(variance + eps);
      const a = w[c] * invstd;
      [a, 0, b[c] - mean * a, mean, variance, invstd].forEach((value, row) => (stats[row * channels + c] = value));
      if (track) {
        rm[c] = rm[c] * (1 - momentum) + mean * momentum;
        rv[c] = rv[c] * (1 - momentum) + variance * ((momentum * count) / Math.max(count - 1, 1));
      }
    }
    if (track) nbt[0] += 1;
    return stats;
  },
};

/** Each input's float64 values, by name. */
function mapValues<K extends string>(inputs: { readonly [k in K]: { readonly values: Float64Array } }): Record<K, Float64Array> {
  const out = {} as Record<K, Float64Array>;
  for (const k of Object.keys(inputs) as K[]) out[k] = inputs[k].values;
  return out;
}

/** The ReLU mask of the fused backward: g where the pre-activation a·x + d is positive, else 0. */
function reluMasked(g: number, x: number, a: number, d: number): number {
  return a * x + d > 0 ? g : 0;
}

/** The backward's kernels: the two channel sums, then the input gradient (or both at once, `fused`). */
interface BackwardBuffers {
  g: StorageView;
  x: StorageView;
  weight: StorageView;
  stats: StorageView;
  dx: GPUBuffer;
  dweight: GPUBuffer;
  dbias: GPUBuffer;
}

/**
 * batchnorm-grad-sums.wgsl, a workgroup per channel writing dweight = Σ g·x̂ and dbias = Σ g; with
 * `fused` the same workgroup then writes the channel's dx (batchnorm-channel-dx.wgsl).
 */
function encodeGradSums(rec: Recorder, b: BackwardBuffers, relu: boolean, fused: boolean): void {
  const shape = [...shapeParams(b.g.shape), relu ? 1 : 0];
  const texels = planeTexels(rec, shape[2]);
  shape.push(texels);
  const channels = shape[1];
  const read = f32Inputs(rec, 1, { g: b.g, x: b.x, stats: b.stats });
  const sums = specialize(batchnormGradSumsWgsl, 'Params', shape);
  if (!fused) {
    rec.dispatch(
      'batchnorm-grad-sums',
      read.wgsl + GRAD_SUMS + planeWindowWgsl + sums,
      packU32(shape),
      [...read.resources, b.dweight, b.dbias],
      [channels, 1, 1],
    );
    return;
  }
  const weight = f32Input(rec, 'weight', 6, bufferOf(b.weight), channels);
  rec.dispatch(
    'batchnorm-backward',
    read.wgsl +
      weight.wgsl +
      outputBinding(7, 'dx', texels === 1) +
      GRAD_SUMS +
      planeWindowWgsl +
      batchnormDxCoefficientsWgsl +
      batchnormChannelDxWgsl +
      fusedSums(sums),
    packU32(shape),
    [...read.resources, b.dweight, b.dbias, weight.resource, b.dx],
    [channels, 1, 1],
  );
}

const fusedSources = new Map<string, string>();

/** grad-sums' specialised source with the fused dx call filled in, once per source (the fill is a regex pass). */
function fusedSums(sums: string): string {
  let source = fusedSources.get(sums);
  if (source === undefined) fusedSources.set(sums, (source = fillMarker(sums, 'THEN', ['channel_dx(c, lane, total.x, total.y);'], '  ')));
  return source;
}

/** batchnorm-input-grad.wgsl, an invocation per (n, c) plane, from the sums in dweight and dbias. */
function encodeInputGrad(rec: Recorder, b: BackwardBuffers, relu: boolean): void {
  const shape = [...shapeParams(b.g.shape), relu ? 1 : 0];
  const [outer, channels, inner] = shape;
  const texels = planeTexels(rec, inner);
  shape.push(texels);
  const read = f32Inputs(rec, 1, { g: b.g, x: b.x, weight: b.weight, stats: b.stats });
  const sums = [f32Input(rec, 'dweight', 5, b.dweight, channels), f32Input(rec, 'dbias', 6, b.dbias, channels)];
  rec.dispatch(
    'batchnorm-input-grad',
    read.wgsl +
      sums.map((s) => s.wgsl).join('') +
      outputBinding(7, 'dx', texels === 1) +
      batchnormDxCoefficientsWgsl +
      specialize(batchnormInputGradWgsl, 'Params', shape),
    packU32(shape),
    [...read.resources, ...sums.map((s) => s.resource), b.dx],
    grid1d(outer * channels),
  );
}

/**
 * [g, x, weight, stats] → dx, dweight = Σ g·x̂, dbias = Σ g (g masked by the fused ReLU with
 * `relu`), one op for the backward's three results. On software adapters one dispatch: a
 * workgroup per channel reduces the sums, then writes that channel's dx (one dispatch floor, ~0.1
 * ms on llvmpipe, fewer per layer and step). Elsewhere two: the sums, then an invocation per plane
 * for dx, since a workgroup per channel would leave most of a hardware GPU idle on large planes.
 */
const batchNormBackwardOp: MultiOutputOpDefinition<ReluAttrs, { g: Tensor; x: Tensor; weight: Tensor; stats: Tensor }, 'dx' | 'dweight' | 'dbias'> = {
  name: 'batchNormBackward',
  gpu(rec, { g, x, weight, stats }, outs, { relu }) {
    const [outer, channels] = shapeParams(g.shape);
    if (!(outer * channels)) return;
    const buffers = { g, x, weight, stats, ...outs };
    encodeGradSums(rec, buffers, relu, rec.isSoftware);
    if (!rec.isSoftware) encodeInputGrad(rec, buffers, relu);
  },
  cpu(inputs, _outs, { relu }) {
    const { g, x, weight: w, stats } = mapValues(inputs);
    const [outer, channels, inner, count] = shapeParams(inputs.g.shape);
    const dweight = new Float64Array(channels);
    const dbias = new Float64Array(channels);
    const dx = new Float64Array(g.length);
    for (let c = 0; c < channels; c++) {
      const mean = stats[STATS.mean * channels + c];
      const invstd = stats[STATS.invstd * channels + c];
      const [a, d] = [stats[STATS.a * channels + c], stats[STATS.d * channels + c]];
      const masked = (i: number) => (relu ? reluMasked(g[i], x[i], a, d) : g[i]);
      for (let n = 0; n < outer; n++)
        for (let q = 0; q < inner; q++) {
          const i = (n * channels + c) * inner + q;
          dweight[c] += masked(i) * (x[i] - mean) * invstd;
          dbias[c] += masked(i);
        }
      const k = w[c] * invstd;
      const mgx = dweight[c] / count;
      const c0 = k * (mean * invstd * mgx - dbias[c] / count);
      for (let n = 0; n < outer; n++)
        for (let q = 0; q < inner; q++) {
          const i = (n * channels + c) * inner + q;
          dx[i] = k * masked(i) - k * invstd * mgx * x[i] + c0;
        }
    }
    return { dx, dweight, dbias };
  },
};

/**
 * y = a[c]·x + d[c] from the statistics (rows a, 0, d drive the channel-linear kernel), max(y, 0)
 * with `relu`. weight and bias are inputs for the VJP, so autograd routes dw and db to the affine
 * parameters.
 */
const batchNormTrainOp: CustomOpDefinition<ReluAttrs, { x: Tensor; stats: Tensor; weight: Tensor; bias: Tensor }> = {
  name: 'batchNormTrain',
  gpu(rec, { x, stats }, out, dst, attrs) {
    channelLinearOp.gpu(rec, { u: x, coef: stats }, out, dst, attrs);
  },
  cpu({ x, stats }, out, attrs) {
    return channelLinearOp.cpu({ u: x, coef: stats }, out, attrs);
  },
  vjp(g, { inputs: { x, stats, weight }, attrs }) {
    return batchNormTrainGrad(g, x, stats, weight, attrs.relu);
  },
};

/**
 * The closed-form backward of training-mode batch norm (with the fused ReLU's mask when `relu`):
 * g on y → dx, dweight, dbias. Also the backward of the kernels that apply the normalisation on the
 * fly (the BatchNorm → ReLU → Conv2d fusion, ops/conv.ts).
 */
export function batchNormTrainGrad(g: Tensor, x: Tensor, stats: Tensor, weight: Tensor, relu: boolean): { x: Tensor; weight: Tensor; bias: Tensor } {
  const channel = { shape: [x.shape[1]], dtype: 'f32' } as const;
  const { dx, dweight, dbias } = customOpOutputs(
    batchNormBackwardOp,
    { g, x, weight, stats },
    { dx: { shape: x.shape, dtype: 'f32' }, dweight: channel, dbias: channel },
    { relu },
  );
  return { x: dx, weight: dweight, bias: dbias };
}

export interface RunningStats {
  mean: Tensor;
  variance: Tensor;
  /** i32 scalar, incremented per call. */
  batchesTracked: Tensor;
  momentum: number;
}

/**
 * Training-mode batch norm of x [N, C, …] with affine w, b (per channel). Updates `running` in
 * place (PyTorch's momentum rule, unbiased variance) and returns y and the [6, C] statistics
 * (rows `STATS`: a, 0, d, mean, biased variance, invstd). With `relu`, y is relu(batchnorm(x)),
 * forward and backward fused.
 */
export function batchNormTrain(
  x: Tensor,
  w: Tensor,
  b: Tensor,
  eps: number,
  running: RunningStats,
  options: { relu?: boolean } = {},
): { y: Tensor; stats: Tensor } {
  const stats = batchNormTrainStats(x, w, b, eps, running);
  const y = customOp(batchNormTrainOp, { x, stats, weight: w, bias: b }, { shape: x.shape, dtype: 'f32' }, { relu: options.relu ?? false });
  return { y, stats };
}

/**
 * The [6, C] training statistics of x (rows `STATS`) with the running statistics updated in place,
 * without applying the normalisation: for a consumer that applies it on the fly (the next
 * convolution's im2col, ops/conv.ts).
 */
export function batchNormTrainStats(x: Tensor, w: Tensor, b: Tensor, eps: number, running: RunningStats): Tensor {
  return noGrad(() =>
    customOp(
      batchNormStatsOp,
      { x, weight: w, bias: b, runningMean: running.mean, runningVar: running.variance, numBatchesTracked: running.batchesTracked },
      { shape: [6, x.shape[1]], dtype: 'f32' },
      { eps, momentum: running.momentum, track: true },
    ),
  );
}
