/**
 * The mean of per-anchor terms −scale·(a − b)/max(n, 1) read from columns of the contrastive
 * statistics table, as one fused custom op each way (shaders/losses/row-terms-mean.wgsl):
 * ε-SupInfoNCE's `out` form in one dispatch forward and one backward, where column slices and
 * elementwise ops took ~15 and ~25. The composite (contrastive.ts) stays its definition and runs
 * with `impl: 'composite'`.
 */
import type { Tensor } from '@fairgpu/tensor';
import { bufferOf, customOp, fillMarker, grid1d, ParamWriter, workgroupSumWgsl, type CustomOpDefinition } from '@fairgpu/tensor/internal';
import { rowTermsMeanWgsl } from './generated/wgsl.ts';

export interface RowTermsAttrs {
  /** Columns of a, b and n. */
  a: number;
  b: number;
  n: number;
  scale: number;
  /** true: only rows with n > 0 count, in the sum and the divisor (the `meanValid` reduction). */
  valid: boolean;
}

const sources = new Map<string, string>();
function source(grad: boolean, valid: boolean): string {
  const key = `${grad}|${valid}`;
  let s = sources.get(key);
  if (!s) {
    const header = [
      `const GRAD = ${grad};`,
      `const VALID = ${valid};`,
      grad ? '@group(0) @binding(3) var<storage, read> upstream: array<f32>;' : 'var<private> upstream: array<f32, 1>;',
    ];
    s = workgroupSumWgsl('workgroup_sum', 'vec2<f32>') + fillMarker(rowTermsMeanWgsl, 'GRAD_BINDING', header);
    sources.set(key, s);
  }
  return s;
}

function params(shape: readonly number[], { a, b, n, scale }: RowTermsAttrs): ArrayBuffer {
  return new ParamWriter().u(0, shape[0]).u(1, shape[1]).u(2, a).u(3, b).u(4, n).f(5, scale).buffer;
}

/** Rows that count and the mean's divisor, in float64. */
function divisorOf(stats: Float64Array, rows: number, cols: number, { n, valid }: RowTermsAttrs): number {
  if (!valid) return rows;
  let k = 0;
  for (let r = 0; r < rows; r++) if (stats[r * cols + n] > 0) k++;
  return Math.max(k, 1);
}

const rowTermsGradOp: CustomOpDefinition<RowTermsAttrs, { stats: Tensor; g: Tensor }> = {
  name: 'rowTermsMeanGrad',
  gpu(rec, { stats, g }, _out, dst, attrs) {
    rec.dispatch('row-terms-mean-grad', source(true, attrs.valid), params(stats.shape, attrs), [bufferOf(stats), dst, bufferOf(g)], grid1d(stats.shape[0]));
  },
  cpu({ stats, g }, _out, attrs) {
    const [rows, cols] = stats.shape;
    const v = stats.values;
    const grad = new Float64Array(rows * cols);
    const w = g.values[0] / divisorOf(v, rows, cols, attrs);
    for (let r = 0; r < rows; r++) {
      const count = v[r * cols + attrs.n];
      if (attrs.valid && !(count > 0)) continue;
      const safe = Math.max(count, 1);
      grad[r * cols + attrs.a] = (-attrs.scale * w) / safe;
      grad[r * cols + attrs.b] = (attrs.scale * w) / safe;
      const share = count > 1 ? 1 : count === 1 ? 0.5 : 0;
      grad[r * cols + attrs.n] = ((attrs.scale * (v[r * cols + attrs.a] - v[r * cols + attrs.b])) / (safe * safe)) * share * w;
    }
    return grad;
  },
};

const rowTermsOp: CustomOpDefinition<RowTermsAttrs, { stats: Tensor }> = {
  name: 'rowTermsMean',
  gpu(rec, { stats }, _out, dst, attrs) {
    rec.dispatch('row-terms-mean', source(false, attrs.valid), params(stats.shape, attrs), [bufferOf(stats), dst], [1, 1, 1]);
  },
  cpu({ stats }, _out, attrs) {
    const [rows, cols] = stats.shape;
    const v = stats.values;
    let total = 0;
    for (let r = 0; r < rows; r++) {
      const count = v[r * cols + attrs.n];
      if (attrs.valid && !(count > 0)) continue;
      total += (-attrs.scale * (v[r * cols + attrs.a] - v[r * cols + attrs.b])) / Math.max(count, 1);
    }
    return Float64Array.of(total / divisorOf(v, rows, cols, attrs));
  },
  vjp(g, { inputs: { stats }, attrs }) {
    return { stats: customOp(rowTermsGradOp, { stats, g }, { shape: stats.shape, dtype: 'f32' }, attrs) };
  },
};

/** mean_i −scale·(a_i − b_i)/max(n_i, 1) over the rows of a statistics table [M, C] (rows with n > 0 only with `valid`), fused. */
export function rowTermsMean(stats: Tensor, attrs: RowTermsAttrs): Tensor {
  return customOp(rowTermsOp, { stats }, { shape: [], dtype: 'f32' }, attrs);
}
