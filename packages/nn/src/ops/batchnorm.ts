/**
 * Batch normalisation in training mode as a custom op with a closed-form backward, and the
 * per-channel kernel both directions use (shaders/nn/channel-linear.wgsl).
 *
 * Forward: y = (x − μ_c)·invstd_c·w_c + b_c with batch statistics μ, σ² (biased) over every axis
 * but 1. Backward (x̂ = (x − μ)·invstd, N values per channel):
 *   dx = w·invstd·(g − mean(g) − x̂·mean(g·x̂)),  dw = Σ g·x̂,  db = Σ g.
 * dx is again per-channel linear in (g, x), so it runs through the same kernel; the channel sums
 * are plain reductions. The statistics enter as inputs computed without gradient: the closed form
 * already accounts for their dependence on x.
 */
import { bufferOf, concat, customOp, grid1d, noGrad, ParamWriter, type CpuOperand, type CustomOpDefinition, type StorageView, type Tensor } from '@fairgpu/tensor';
import { channelLinearWgsl } from '../generated/wgsl.ts';
import { specialize } from './specialize.ts';

const vals = (x: CpuOperand) => (x as { values: Float64Array }).values;

function layout(shape: readonly number[]): { channels: number; inner: number; total: number } {
  const total = shape.reduce((p, d) => p * d, 1);
  return { channels: shape[1], inner: shape.slice(2).reduce((p, d) => p * d, 1), total };
}

/** out = a[c]·u + b[c]·v + d[c]; inputs [u, coef] or [u, v, coef], coef = concat(a, b, d). */
const channelLinearOp: CustomOpDefinition = {
  name: 'channelLinear',
  gpu(rec, inputs, out, dst) {
    const { channels, inner, total } = layout(out.shape);
    if (!total) return;
    const hasV = inputs.length === 3;
    const u = bufferOf(inputs[0] as StorageView);
    const v = hasV ? bufferOf(inputs[1] as StorageView) : u;
    const coef = bufferOf(inputs[inputs.length - 1] as StorageView);
    const values = [total, inner, channels, hasV ? 1 : 0];
    const params = new ParamWriter();
    values.forEach((v, i) => params.u(i, v));
    rec.dispatch('channel-linear', specialize(channelLinearWgsl, 'Params', values), params.buffer, [u, v, coef, dst], grid1d(total));
  },
  cpu(inputs, out) {
    const { channels, inner, total } = layout(out.shape);
    const u = vals(inputs[0]);
    const v = inputs.length === 3 ? vals(inputs[1]) : null;
    const coef = vals(inputs[inputs.length - 1]);
    const y = new Float64Array(total);
    for (let i = 0; i < total; i++) {
      const c = Math.floor(i / inner) % channels;
      y[i] = coef[c] * u[i] + (v ? coef[channels + c] * v[i] : 0) + coef[2 * channels + c];
    }
    return y;
  },
};

/** a[c]·u + b[c]·v + d[c] over axis 1 (v may be null). Not differentiable itself. */
export function channelLinear(u: Tensor, v: Tensor | null, a: Tensor, b: Tensor, d: Tensor): Tensor {
  const coef = concat([a, b, d], 0);
  return customOp(channelLinearOp, v ? [u, v, coef] : [u, coef], { shape: u.shape, dtype: 'f32' }, {}, v ? ['u', 'v', 'coef'] : ['u', 'coef']);
}

const reduceAxes = (rank: number) => [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2)];

/**
 * y = a[c]·x + d[c] with a = w·invstd, d = b − μ·a. Inputs [x, coef, w, b, mean, invstd]: `coef`
 * (concat(a, 0, d), computed without gradient) drives the kernel; w, b, mean, invstd are there for
 * the VJP, so autograd routes dw and db to the affine parameters.
 */
const batchNormTrainOp: CustomOpDefinition = {
  name: 'batchNormTrain',
  gpu(rec, inputs, out, dst, attrs) {
    channelLinearOp.gpu(rec, [inputs[0], inputs[1]], out, dst, attrs);
  },
  cpu(inputs, out, attrs) {
    return channelLinearOp.cpu([inputs[0], inputs[1]], out, attrs);
  },
  vjp(g, { inputs }) {
    const [x, , w, , mean, invstd] = inputs as Tensor[];
    const axes = reduceAxes(x.rank);
    const n = axes.reduce((p, a) => p * x.shape[a], 1);
    const zero = mean.mul(0);
    const xhat = channelLinear(x, null, invstd, zero, mean.mul(invstd).neg());
    const sumG = g.sum(axes);
    const sumGX = g.mul(xhat).sum(axes);
    const k = w.mul(invstd);
    // dx = k·g − k·invstd·(Σg·x̂/n)·x + k·(μ·invstd·(Σg·x̂/n) − Σg/n)
    const mgx = sumGX.div(n);
    const dx = channelLinear(g, x, k, k.mul(invstd).mul(mgx).neg(), k.mul(mean.mul(invstd).mul(mgx).sub(sumG.div(n))));
    return [dx, null, sumGX, sumG, null, null];
  },
};

/**
 * Training-mode batch norm of x [N, C, …] with affine w, b (per channel): returns y and the batch
 * statistics (mean, biased variance) for the running averages.
 */
export function batchNormTrain(x: Tensor, w: Tensor, b: Tensor, eps: number): { y: Tensor; mean: Tensor; variance: Tensor } {
  const axes = reduceAxes(x.rank);
  return noGradStats(() => {
    const xd = x.detach();
    const mean = xd.mean(axes);
    const zero = mean.mul(0);
    const centered = channelLinear(xd, null, zero.add(1), zero, mean.neg());
    const variance = centered.mul(centered).mean(axes);
    const invstd = variance.add(eps).sqrt().recip();
    const a = w.detach().mul(invstd);
    const coef = concat([a, zero, b.detach().sub(mean.mul(a))], 0);
    return { mean, variance, invstd, coef };
  }, ({ mean, variance, invstd, coef }) => {
    const y = customOp(batchNormTrainOp, [x, coef, w, b, mean, invstd], { shape: x.shape, dtype: 'f32' }, {}, ['x', 'coef', 'weight', 'bias', 'mean', 'invstd']);
    return { y, mean, variance };
  });
}

function noGradStats<S, R>(stats: () => S, then: (s: S) => R): R {
  return then(noGrad(stats));
}
