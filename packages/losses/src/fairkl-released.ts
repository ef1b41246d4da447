/**
 * FairKL's `released` regularizer from the pair-moment table as one fused custom op
 * (shaders/losses/fairkl-released.wgsl): one dispatch forward and one backward where the composite
 * of scalar tensor ops (`fairKLReleasedComposite` in debias.ts, its definition, kept for the tests)
 * took ~50 forward and ~100 backward, each ~0.1 ms of fixed cost on software adapters.
 */
import { MOMENT, PAIR } from '@fairgpu/kernels';
import type { Tensor } from '@fairgpu/tensor';
import { bufferOf, customOp, fillMarker, ParamWriter, type CustomOpDefinition } from '@fairgpu/tensor/internal';
import { fairklReleasedWgsl } from './generated/wgsl.ts';

interface ReleasedAttrs {
  /** T = M², the entries of each masked M×M matrix. */
  total: number;
  kld: number;
}

const forwardSource = fillMarker(fairklReleasedWgsl, 'GRAD_BINDING', ['const GRAD = false;', 'var<private> upstream: array<f32, 1>;']);
const gradSource = fillMarker(fairklReleasedWgsl, 'GRAD_BINDING', ['const GRAD = true;', '@group(0) @binding(3) var<storage, read> upstream: array<f32>;']);

const denom = (total: number) => Math.max(total - 1, 1);

function params(mom: { shape: readonly number[] }, { total, kld }: ReleasedAttrs): ArrayBuffer {
  return new ParamWriter().f(0, total).f(1, denom(total)).f(2, kld).u(3, mom.shape[1]).buffer;
}

/** μ, v, sd of each set (rows PA, PC, NA, NC) in float64, as the kernel computes them. */
function setStats(mom: Float64Array, cols: number, total: number) {
  return [PAIR.PA, PAIR.PC, PAIR.NA, PAIR.NC].map((row) => {
    const n = mom[row * cols + MOMENT.count];
    const s = mom[row * cols + MOMENT.sum];
    const s2 = mom[row * cols + MOMENT.sumSq];
    const mu = n > 0 ? s / n : 0;
    const v = (s2 - (s * s) / total) / denom(total);
    return { row, n, s, mu, v, sd: n > 0 && v > 0 ? Math.sqrt(v) : 0 };
  });
}

const releasedGradOp: CustomOpDefinition<ReleasedAttrs, { mom: Tensor; g: Tensor }> = {
  name: 'fairklReleasedGrad',
  gpu(rec, { mom, g }, _out, dst, attrs) {
    rec.dispatch('fairkl-released-grad', gradSource, params(mom, attrs), [bufferOf(mom), dst, bufferOf(g)], [1, 1, 1]);
  },
  cpu({ mom, g }, _out, { total, kld }) {
    const cols = mom.shape[1];
    const [pa, pc, na, nc] = setStats(mom.values, cols, total);
    const dp = 2 * (pc.mu - pa.mu);
    const dn = 2 * (na.mu - nc.mu);
    const dsp = 2 * kld * (pa.sd - pc.sd);
    const dsn = 2 * kld * (na.sd - nc.sd);
    const grad = new Float64Array(mom.values.length);
    const rows: [typeof pa, number, number][] = [
      [pa, -dp, dsp],
      [pc, dp - 1, -dsp],
      [na, dn + 1, dsn],
      [nc, -dn, -dsn],
    ];
    for (const [st, dmu, dsd] of rows) {
      const dv = st.n > 0 && st.v > 0 ? (dsd * 0.5) / st.sd : 0;
      grad[st.row * cols + MOMENT.count] = g.values[0] * (st.n > 0 ? (-dmu * st.s) / (st.n * st.n) : 0);
      grad[st.row * cols + MOMENT.sum] = g.values[0] * ((st.n > 0 ? dmu / st.n : 0) + dv * ((-2 * st.s) / (total * denom(total))));
      grad[st.row * cols + MOMENT.sumSq] = (g.values[0] * dv) / denom(total);
    }
    return grad;
  },
};

const releasedOp: CustomOpDefinition<ReleasedAttrs, { mom: Tensor }> = {
  name: 'fairklReleased',
  gpu(rec, { mom }, _out, dst, attrs) {
    rec.dispatch('fairkl-released', forwardSource, params(mom, attrs), [bufferOf(mom), dst], [1, 1, 1]);
  },
  cpu({ mom }, _out, { total, kld }) {
    const [pa, pc, na, nc] = setStats(mom.values, mom.shape[1], total);
    const r = (pc.mu - pa.mu) ** 2 + (na.mu - nc.mu) ** 2 + kld * ((pa.sd - pc.sd) ** 2 + (na.sd - nc.sd) ** 2) - pc.mu + na.mu;
    return Float64Array.of(r);
  },
  vjp(g, { inputs: { mom }, attrs }) {
    return { mom: customOp(releasedGradOp, { mom, g }, { shape: mom.shape, dtype: 'f32' }, attrs) };
  },
};

/** The released FairKL value R (a scalar) from the [4, ≥3] pair-moment table, fused. */
export function fairKLReleased(mom: Tensor, total: number, kld: number): Tensor {
  return customOp(releasedOp, { mom }, { shape: [], dtype: 'f32' }, { total, kld });
}
