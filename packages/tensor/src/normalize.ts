/**
 * Row-wise L2 normalisation (the last axis) as one fused custom op each way
 * (shaders/tensor/normalize.wgsl), where the composite took 5 dispatches forward and ~12 backward:
 * the contrastive losses normalise their features, so a FairKL step ran three of these chains.
 * The composite in composites.ts stays the definition: `normalizeComposite` is what the tests hold
 * this to.
 */
import { customOp, type CustomOpDefinition } from './custom.ts';
import { normalizeWgsl } from './generated/wgsl.ts';
import { bufferOf, f32Input, grid1d, ParamWriter } from './gpu/kernels/index.ts';
import type { Tensor } from './tensor.ts';

interface NormalizeAttrs {
  /** max(eps², smallest normal): the norm's square is clamped to at least this. */
  floor: number;
}

function params(rows: number, width: number, floor: number): ArrayBuffer {
  return new ParamWriter().u(0, rows).u(1, width).f(2, floor).buffer;
}

const shape2d = (shape: readonly number[]): [number, number] => {
  const width = shape.at(-1)!;
  return [width ? shape.reduce((a, d) => a * d, 1) / width : 0, width];
};

const normalizeGradOp: CustomOpDefinition<NormalizeAttrs, { x: Tensor; g: Tensor }> = {
  name: 'normalizeGrad',
  gpu(rec, { x, g }, _out, dst, { floor }) {
    const [rows, width] = shape2d(x.shape);
    if (!rows || !width) return;
    const xi = f32Input(rec, 'x', 1, bufferOf(x), rows * width);
    const gi = f32Input(rec, 'g', 2, bufferOf(g), rows * width);
    rec.dispatch(
      'normalize-grad',
      `const GRAD = true;\n${xi.wgsl}${gi.wgsl}${normalizeWgsl}`,
      params(rows, width, floor),
      [xi.resource, gi.resource, dst],
      grid1d(rows),
    );
  },
  cpu({ x, g }, _out, { floor }) {
    const [rows, width] = shape2d(x.shape);
    const dx = new Float64Array(rows * width);
    for (let r = 0; r < rows; r++) {
      let ss = 0;
      let gx = 0;
      for (let j = 0; j < width; j++) {
        ss += x.values[r * width + j] ** 2;
        gx += g.values[r * width + j] * x.values[r * width + j];
      }
      const n = Math.sqrt(Math.max(ss, floor));
      const c = (gx * (ss > floor ? 1 : ss === floor ? 0.5 : 0)) / (n * n * n);
      for (let j = 0; j < width; j++) dx[r * width + j] = g.values[r * width + j] / n - x.values[r * width + j] * c;
    }
    return dx;
  },
};

const normalizeOp: CustomOpDefinition<NormalizeAttrs, { x: Tensor }> = {
  name: 'normalize',
  gpu(rec, { x }, _out, dst, { floor }) {
    const [rows, width] = shape2d(x.shape);
    if (!rows || !width) return;
    const xi = f32Input(rec, 'x', 1, bufferOf(x), rows * width);
    const g = 'fn g_at(i: u32) -> f32 { return 0.0; }\n';
    rec.dispatch('normalize', `const GRAD = false;\n${xi.wgsl}${g}${normalizeWgsl}`, params(rows, width, floor), [xi.resource, null, dst], grid1d(rows));
  },
  cpu({ x }, _out, { floor }) {
    const [rows, width] = shape2d(x.shape);
    const y = new Float64Array(rows * width);
    for (let r = 0; r < rows; r++) {
      let ss = 0;
      for (let j = 0; j < width; j++) ss += x.values[r * width + j] ** 2;
      const n = Math.sqrt(Math.max(ss, floor));
      for (let j = 0; j < width; j++) y[r * width + j] = x.values[r * width + j] / n;
    }
    return y;
  },
  vjp(g, { inputs: { x }, attrs }) {
    return { x: customOp(normalizeGradOp, { x, g }, { shape: x.shape, dtype: 'f32' }, attrs) };
  },
};

/** x / √max(Σx², floor) along the last axis of an f32 tensor, fused. */
export function fusedNormalize(x: Tensor, floor: number): Tensor {
  return customOp(normalizeOp, { x }, { shape: x.shape, dtype: 'f32' }, { floor });
}
