/**
 * 2-D convolution as custom ops, two algorithms:
 *  - im2col: a gather kernel unrolls the windows into columns [B, C·kh·kw, Ho·Wo] and one batched
 *    matmul with the weight [Co, C·kh·kw] does the arithmetic; autograd differentiates the matmul,
 *    and col2im (the adjoint gather) is im2col's VJP.
 *  - direct: one kernel computes 4 output channels per invocation straight from the input, with
 *    its own input-gradient and weight-gradient kernels.
 * `conv2d` picks per adapter class (`convAlgorithm`), from `npm run bench -- train` measurements.
 */
import { assertKnownOptions, concat, InvalidArgumentError, ShapeMismatchError, type Tensor } from '@fairgpu/tensor';
import {
  bufferOf,
  customOp,
  customOpOutputs,
  f32Input,
  fillMarker,
  grid1d,
  matmulBuffers,
  matmulPlanar,
  matmulSplitWithRowSums,
  matmulTransposed,
  packU32,
  pickForBackend,
  workgroupSumWgsl,
  type Binding,
  type CustomOpDefinition,
  type MultiOutputOpDefinition,
  type Recorder,
} from '@fairgpu/tensor/internal';
import {
  channelSumWgsl,
  channelTransposeWgsl,
  col2imWgsl,
  convDirectInputGradWgsl,
  convDirectWeightGradWgsl,
  convDirectWgsl,
  im2colWgsl,
} from '../generated/wgsl.ts';
import { batchNormTrainGrad, STATS } from './batchnorm.ts';
import { specialize } from './specialize.ts';
import { byTexels, outputBinding, planeTexels, planeWindowWgsl } from './texels.ts';
import { geometry, geometryKernel, withGeometry, type Geometry, type Pair } from './geometry.ts';

/** Elements per invocation of im2col (PER_INVOCATION in shaders/nn/conv-geometry.wgsl). */
const PER_INVOCATION = 4;

const IM2COL = withGeometry(im2colWgsl);
const COL2IM = withGeometry(col2imWgsl);
const DIRECT = withGeometry(convDirectWgsl);
const DIRECT_DX = withGeometry(convDirectInputGradWgsl);
const DIRECT_DW = withGeometry(convDirectWeightGradWgsl);

/**
 * Column layouts: 'batch' is [B, C·kh·kw, Ho·Wo] (F.unfold's), 'wide' is [C·kh·kw, B·Ho·Wo], one
 * matrix for the whole batch, so the convolution is a single large matmul (better tile use when
 * Ho·Wo is small).
 */
export type ColumnLayout = 'batch' | 'wide';

/** The window ops' attrs: the geometry and, for im2col / col2im, the column layout. */
interface GeometryAttrs {
  geometry: Geometry;
  layout?: ColumnLayout;
}

const layoutOf = (attrs: GeometryAttrs) => (attrs.layout === 'wide' ? 1 : 0);

/** cols index of (b, c, ky, kx, q = oy·Wo + ox). */
function colIndex(g: Geometry, b: number, c: number, ky: number, kx: number, q: number, layout: number): number {
  const r = (c * g.kh + ky) * g.kw + kx;
  const hw = g.ho * g.wo;
  return layout === 1 ? (r * g.batch + b) * hw + q : (b * g.c * g.kh * g.kw + r) * hw + q;
}

function colShape(g: Geometry, layout: ColumnLayout): number[] {
  const k = g.c * g.kh * g.kw;
  return layout === 'wide' ? [k, g.batch * g.ho * g.wo] : [g.batch, k, g.ho * g.wo];
}

/**
 * Texels im2col's row-taps mode fetches per invocation: floats start .. start + 3·sw + kw − 1 of
 * one input row, start anywhere in its texel. Beyond MAX_ROW_TAP_TEXELS (wide windows or strides)
 * the unrolled body grows past what the saving pays for, and the one-element mode runs instead.
 */
const rowTapTexels = (g: Geometry) => ((3 + 3 * g.sw + g.kw - 1) >> 2) + 1;
const MAX_ROW_TAP_TEXELS = 8;

const rowKernels = new Map<string, string>();

/**
 * A row-mode kernel's filled source, built once per key (geometry, layout, input size): the fills
 * are regex passes over the whole kernel, ~10 µs each, on every dispatch otherwise.
 */
function rowKernel(key: string, build: () => string): string {
  let source = rowKernels.get(key);
  if (source === undefined) rowKernels.set(key, (source = build()));
  return source;
}

/**
 * The unrolled body of im2col.wgsl's `row_taps` (the {{ROW_TAPS}} marker): fetch the window's
 * texels once, then for each kx pick the four values (element e reads window offset
 * d = e·sw + kx past `off`, in texel d / 4 or the next) and store them, a vec4 when every column
 * quad is a texel of cols (`quads`), else one float each inside the row.
 */
function rowTapsBody(g: Geometry, floats: number, quads: boolean): string[] {
  const last = Math.ceil(floats / 4) - 1;
  const lines: string[] = [];
  for (let k = 0; k < rowTapTexels(g); k++) lines.push(`let w${k} = x_texel(u32(clamp(t0 + ${k}, 0, ${last})));`);
  for (let kx = 0; kx < g.kw; kx++) {
    const taps = [0, 1, 2, 3].map((e) => {
      const d = e * g.sw + kx;
      const a = d >> 2;
      // off + d % 4 ≤ 3 + d % 4 reaches the next texel only when d % 4 > 0.
      return `tap(w${a}, w${d & 3 ? a + 1 : a}, off + ${d & 3}u, ix0 + ${d}, row_in, coef)`;
    });
    if (quads) {
      lines.push(`cols_set4(col_at(r0 + ${kx}u, b, q0) / 4u, vec4<f32>(${taps.join(', ')}));`);
    } else {
      taps.forEach((tap, e) => lines.push(`if (ox0 + ${e}u < p.wo) { cols_set(col_at(r0 + ${kx}u, b, q0 + ${e}u), ${tap}); }`));
    }
  }
  return lines;
}

/**
 * Whether im2col runs its row-taps mode (im2col.wgsl): on software adapters, for rows of at least
 * 3 output columns (narrower rows would leave most of each 4-column quad idle) and windows of at
 * most MAX_ROW_TAP_TEXELS texels.
 */
const rowTaps = (rec: Recorder, g: Geometry) => rec.isSoftware && g.wo >= 3 && rowTapTexels(g) <= MAX_ROW_TAP_TEXELS;

/**
 * im2col's dispatch. With `normalize`, x is a batch norm's input and the kernel gathers
 * y = a[c]·x + d[c] (max(y, 0) with `relu`), a and d the statistics' rows 0 and 2, computed as
 * channel-linear.wgsl computes them: the normalised tensor is never written.
 */
function encodeIm2col(rec: Recorder, x: GPUBuffer, dst: GPUBuffer, attrs: GeometryAttrs, normalize?: { stats: GPUBuffer; relu: boolean }): void {
  const g = attrs.geometry;
  const total = g.batch * g.c * g.kh * g.kw * g.ho * g.wo;
  if (!total) return;
  const floats = g.batch * g.c * g.h * g.w;
  const input = f32Input(rec, 'x', 1, x, floats);
  let prelude: string;
  let resources: Binding[];
  if (normalize) {
    const stats = f32Input(rec, 'stats', 3, normalize.stats, 6 * g.c);
    const y = 'coef.x * v + coef.y';
    prelude =
      `${input.wgsl}${stats.wgsl}fn channel_coef(c: u32) -> vec2<f32> { return vec2<f32>(stats_at(c), stats_at(${2 * g.c}u + c)); }\n` +
      `fn mapped(v: f32, coef: vec2<f32>) -> f32 { return ${normalize.relu ? `max(${y}, 0.0)` : y}; }\n`;
    resources = [input.resource, dst, stats.resource];
  } else {
    prelude = `${input.wgsl}fn channel_coef(c: u32) -> vec2<f32> { return vec2<f32>(1.0, 0.0); }\nfn mapped(v: f32, coef: vec2<f32>) -> f32 { return v; }\n`;
    resources = [input.resource, dst];
  }
  const layout = layoutOf(attrs);
  if (rowTaps(rec, g)) {
    // Every column quad is a texel of cols when Wo is a multiple of 4 (in both layouts).
    const quads = g.wo % 4 === 0;
    const invocations = g.batch * g.c * g.kh * g.ho * Math.ceil(g.wo / 4);
    const [source, params] = geometryKernel(IM2COL, g, invocations, 1, layout);
    const body = rowKernel(`im2col|${Object.values(g).join(',')}|${layout}|${floats}`, () =>
      fillMarker(source, 'ROW_TAPS', rowTapsBody(g, floats, quads), '  '),
    );
    rec.dispatch('im2col', prelude + outputBinding(2, 'cols', quads) + body, params, resources, grid1d(invocations));
    return;
  }
  const [source, params] = geometryKernel(IM2COL, g, total, 0, layout);
  rec.dispatch('im2col', prelude + outputBinding(2, 'cols', false) + source, params, resources, grid1d(Math.ceil(total / PER_INVOCATION)));
}

export const im2colOp: CustomOpDefinition<GeometryAttrs, { x: Tensor }> = {
  name: 'im2col',
  gpu(rec, { x }, _out, dst, attrs) {
    encodeIm2col(rec, bufferOf(x), dst, attrs);
  },
  cpu({ x }, _out, attrs) {
    return im2colCpu(x.values, attrs);
  },
  vjp(grad, { attrs }) {
    return { x: col2im(grad, attrs.geometry, attrs.layout) };
  },
};

/**
 * im2col of relu?(batchnorm(x)) in training mode, the normalisation applied by the gather from
 * the statistics (ops/batchnorm.ts `batchNormTrainStats`): what Sequential runs for BatchNorm2d →
 * ReLU → Conv2d. weight and bias (the batch norm's) are inputs for the VJP: col2im, then the batch
 * norm's closed-form backward.
 */
const im2colNormalizedOp: CustomOpDefinition<GeometryAttrs & { relu: boolean }, { x: Tensor; stats: Tensor; weight: Tensor; bias: Tensor }> = {
  name: 'im2colNormalized',
  gpu(rec, { x, stats }, _out, dst, attrs) {
    encodeIm2col(rec, bufferOf(x), dst, attrs, { stats: bufferOf(stats), relu: attrs.relu });
  },
  cpu({ x, stats }, _out, attrs) {
    const g = attrs.geometry;
    const plane = g.h * g.w;
    const y = x.values.map((v, i) => {
      const c = Math.floor(i / plane) % g.c;
      const t = stats.values[STATS.a * g.c + c] * v + stats.values[STATS.d * g.c + c];
      return attrs.relu ? Math.max(t, 0) : t;
    });
    return im2colCpu(y, attrs);
  },
  vjp(grad, { inputs: { x, stats, weight }, attrs }) {
    const dy = col2im(grad, attrs.geometry, attrs.layout);
    return { ...batchNormTrainGrad(dy, x, stats, weight, attrs.relu), stats: null };
  },
};

/**
 * Every (input element, column element) pair a window reads, in the reference's order: im2col's
 * CPU reference copies along them, col2im's (its adjoint) adds back along them.
 */
function forEachWindowTap(attrs: GeometryAttrs, visit: (xIndex: number, colIndex: number) => void): void {
  const g = attrs.geometry;
  for (let b = 0; b < g.batch; b++)
    for (let c = 0; c < g.c; c++)
      for (let ky = 0; ky < g.kh; ky++)
        for (let kx = 0; kx < g.kw; kx++)
          for (let oy = 0; oy < g.ho; oy++)
            for (let ox = 0; ox < g.wo; ox++) {
              const iy = oy * g.sh + ky - g.ph;
              const ix = ox * g.sw + kx - g.pw;
              if (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w)
                visit(((b * g.c + c) * g.h + iy) * g.w + ix, colIndex(g, b, c, ky, kx, oy * g.wo + ox, layoutOf(attrs)));
            }
}

function im2colCpu(xs: Float64Array, attrs: GeometryAttrs): Float64Array {
  const g = attrs.geometry;
  const cols = new Float64Array(g.batch * g.c * g.kh * g.kw * g.ho * g.wo);
  forEachWindowTap(attrs, (xi, ci) => (cols[ci] = xs[xi]));
  return cols;
}

/**
 * Pixels per invocation of col2im's row-sums mode (SEG in col2im.wgsl): 4·sw·m, so each kernel
 * column kx is read by 4·m of them at 4·m consecutive output columns (m + 1 texels); m = 2 at
 * stride 1 unless the row is narrower. null where the mode does not run: hardware adapters, and
 * strides past 4 (the unrolled body outgrows the saving).
 */
function rowSumsSegment(rec: Recorder, g: Geometry): number | null {
  if (!rec.isSoftware || g.sw > 4) return null;
  return 4 * g.sw * (g.sw === 1 && g.w > 4 ? 2 : 1);
}

/** The unrolled parts of col2im.wgsl's `row_sums` for SEG = seg pixels. */
function rowSumsBody(g: Geometry, floats: number, seg: number): { init: string[]; sums: string[]; stores: string[] } {
  const last = Math.ceil(floats / 4) - 1;
  const init = Array.from({ length: seg }, (_, e) => `var s${e} = 0.0;`);
  const sums: string[] = [];
  for (let kx = 0; kx < g.kw; kx++) {
    // Pixels e with e + pw − kx ≡ 0 (mod sw) read output column ox0 + j, j = (e + pw − kx) / sw.
    const hits = init.map((_, e) => e).filter((e) => (((e + g.pw - kx) % g.sw) + g.sw) % g.sw === 0);
    const js = hits.map((e) => (e + g.pw - kx) / g.sw);
    const jMin = js[0];
    const texels = ((3 + js.length - 1) >> 2) + 1;
    sums.push('{');
    sums.push(`  let f = i32(col_at(r0 + ${kx}u, b, oy * p.wo)) + ox0 + (${jMin});`);
    sums.push('  let t0 = f >> 2u;', '  let off = u32(f - 4 * t0);');
    for (let k = 0; k < texels; k++) sums.push(`  let w${k} = cols_texel(u32(clamp(t0 + ${k}, 0, ${last})));`);
    hits.forEach((e, i) => {
      const d = js[i] - jMin;
      const a = d >> 2;
      // off + d % 4 ≤ 3 + d % 4 reaches the next texel only when d % 4 > 0.
      sums.push(`  s${e} += tap(w${a}, w${d & 3 ? a + 1 : a}, off + ${d & 3}u, ox0 + (${js[i]}));`);
    });
    sums.push('}');
  }
  const stores =
    g.w % 4 === 0
      ? Array.from(
          { length: seg / 4 },
          (_, k) => `if (ix0 + ${4 * k}u < p.w) { x_set4(i0 / 4u + ${k}u, vec4<f32>(s${4 * k}, s${4 * k + 1}, s${4 * k + 2}, s${4 * k + 3})); }`,
        )
      : init.map((_, e) => `if (ix0 + ${e}u < p.w) { x_set(i0 + ${e}u, s${e}); }`);
  return { init, sums, stores };
}

export const col2imOp: CustomOpDefinition<GeometryAttrs, { cols: Tensor }> = {
  name: 'col2im',
  gpu(rec, { cols }, out, dst, attrs) {
    const g = attrs.geometry;
    if (!(g.batch * g.c * g.h * g.w)) return;
    const floats = g.batch * g.c * g.kh * g.kw * g.ho * g.wo;
    const input = f32Input(rec, 'cols', 1, bufferOf(cols), floats);
    const seg = rowSumsSegment(rec, g);
    if (seg !== null) {
      const total = g.batch * g.c * g.sh * Math.ceil(g.h / g.sh) * Math.ceil(g.w / seg);
      const [source, params] = geometryKernel(COL2IM, g, total, 1, layoutOf(attrs));
      const filled = rowKernel(`col2im|${Object.values(g).join(',')}|${layoutOf(attrs)}|${floats}`, () => {
        const body = rowSumsBody(g, floats, seg);
        return fillMarker(
          fillMarker(fillMarker(source, 'ROW_SUMS_INIT', body.init, '  '), 'ROW_SUMS', body.sums, '    '),
          'ROW_SUMS_STORES',
          body.stores,
          '  ',
        );
      });
      const quads = g.w % 4 === 0;
      rec.dispatch('col2im', `${input.wgsl}${outputBinding(2, 'x', quads)}const SEG: u32 = ${seg}u;\n${filled}`, params, [input.resource, dst], grid1d(total));
      return;
    }
    // Strided windows enumerate the input by stride residue (col2im.wgsl, strided_element): the
    // grid covers ⌈h/sh⌉·sh × ⌈w/sw⌉·sw positions per plane, the few past the edge return at once.
    const strided = g.sh > 1 || g.sw > 1;
    const total = strided ? g.batch * g.c * Math.ceil(g.h / g.sh) * g.sh * Math.ceil(g.w / g.sw) * g.sw : g.batch * g.c * g.h * g.w;
    const [source, params] = geometryKernel(COL2IM, g, total, 0, layoutOf(attrs));
    // SEG is declared for row_sums, which is compiled in but does not run here.
    rec.dispatch('col2im', `${input.wgsl}${outputBinding(2, 'x', false)}const SEG: u32 = 4u;\n${source}`, params, [input.resource, dst], grid1d(total));
  },
  cpu({ cols }, _out, attrs) {
    const g = attrs.geometry;
    const x = new Float64Array(g.batch * g.c * g.h * g.w);
    forEachWindowTap(attrs, (xi, ci) => (x[xi] += cols.values[ci]));
    return x;
  },
  vjp(grad, { attrs }) {
    return { cols: im2col(grad, attrs.geometry, attrs.layout) };
  },
};

/** [B, C, H, W] → [B, C·kh·kw, Ho·Wo] (PyTorch's `F.unfold`), or [C·kh·kw, B·Ho·Wo] ('wide'). */
export function im2col(x: Tensor, g: Geometry, layout: ColumnLayout = 'batch'): Tensor {
  return customOp(im2colOp, { x }, { shape: colShape(g, layout), dtype: 'f32' }, { geometry: g, layout });
}

/** The adjoint of im2col (PyTorch's `F.fold` for the 'batch' layout) → [B, C, H, W]. */
export function col2im(cols: Tensor, g: Geometry, layout: ColumnLayout = 'batch'): Tensor {
  return customOp(col2imOp, { cols }, { shape: [g.batch, g.c, g.h, g.w], dtype: 'f32' }, { geometry: g, layout });
}

function directCpu(g: Geometry, xs: Float64Array, ws: Float64Array, kind: 'y' | 'dx' | 'dw', gs?: Float64Array): Float64Array {
  const out = new Float64Array(kind === 'y' ? g.batch * g.co * g.ho * g.wo : kind === 'dx' ? g.batch * g.c * g.h * g.w : g.co * g.c * g.kh * g.kw);
  for (let b = 0; b < g.batch; b++)
    for (let o = 0; o < g.co; o++)
      for (let oy = 0; oy < g.ho; oy++)
        for (let ox = 0; ox < g.wo; ox++) {
          const yi = ((b * g.co + o) * g.ho + oy) * g.wo + ox;
          for (let c = 0; c < g.c; c++)
            for (let ky = 0; ky < g.kh; ky++)
              for (let kx = 0; kx < g.kw; kx++) {
                const iy = oy * g.sh + ky - g.ph;
                const ix = ox * g.sw + kx - g.pw;
                if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
                const xi = ((b * g.c + c) * g.h + iy) * g.w + ix;
                const wi = ((o * g.c + c) * g.kh + ky) * g.kw + kx;
                if (kind === 'y') out[yi] += ws[wi] * xs[xi];
                else if (kind === 'dx') out[xi] += gs![yi] * ws[wi];
                else out[wi] += gs![yi] * xs[xi];
              }
        }
  return out;
}

const directInputGradOp: CustomOpDefinition<GeometryAttrs, { g: Tensor; weight: Tensor }> = {
  name: 'conv2dDirectInputGrad',
  gpu(rec, { g: grad, weight }, out, dst, attrs) {
    const g = attrs.geometry;
    const total = g.batch * g.c * g.h * g.w;
    if (total) rec.dispatch('conv2d-direct-dx', ...geometryKernel(DIRECT_DX, g, total), [bufferOf(grad), bufferOf(weight), dst], grid1d(total));
  },
  cpu({ g: grad, weight }, _out, attrs) {
    return directCpu(attrs.geometry, new Float64Array(0), weight.values, 'dx', grad.values);
  },
};

/** Chunks of the B·Ho·Wo reduction so the weight gradient keeps enough invocations busy. */
function weightGradChunks(g: Geometry): number {
  const weights = g.co * g.c * g.kh * g.kw;
  const n = g.batch * g.ho * g.wo;
  return Math.max(1, Math.min(Math.ceil(8192 / weights), Math.ceil(n / 64)));
}

const directWeightGradOp: CustomOpDefinition<GeometryAttrs & { chunks: number }, { g: Tensor; x: Tensor }> = {
  name: 'conv2dDirectWeightGrad',
  gpu(rec, { g: grad, x }, out, dst, attrs) {
    const g = attrs.geometry;
    const chunks = attrs.chunks;
    const total = g.co * g.c * g.kh * g.kw * chunks;
    if (total) rec.dispatch('conv2d-direct-dw', ...geometryKernel(DIRECT_DW, g, total, chunks), [bufferOf(grad), bufferOf(x), dst], grid1d(total));
  },
  cpu({ g: grad, x }, _out, attrs) {
    // One chunk holds the whole sum; the others are zero (same total as the GPU's split).
    const dw = directCpu(attrs.geometry, x.values, new Float64Array(0), 'dw', grad.values);
    const out = new Float64Array(dw.length * attrs.chunks);
    out.set(dw);
    return out;
  },
};

export const conv2dDirectOp: CustomOpDefinition<GeometryAttrs, { x: Tensor; weight: Tensor }> = {
  name: 'conv2dDirect',
  gpu(rec, { x, weight }, out, dst, attrs) {
    const g = attrs.geometry;
    const total = g.batch * Math.ceil(g.co / 4) * g.ho * g.wo;
    if (total) rec.dispatch('conv2d-direct', ...geometryKernel(DIRECT, g, total), [bufferOf(x), bufferOf(weight), dst], grid1d(total));
  },
  cpu({ x, weight }, _out, attrs) {
    return directCpu(attrs.geometry, x.values, weight.values, 'y');
  },
  vjp(grad, { inputs: { x, weight }, attrs, needsGrad }) {
    // The first layer's input (images) needs no gradient: skip its kernel.
    const dx = needsGrad?.x === false ? null : customOp(directInputGradOp, { g: grad, weight }, { shape: x.shape, dtype: 'f32' }, attrs);
    const chunks = weightGradChunks(attrs.geometry);
    const partial = customOp(directWeightGradOp, { g: grad, x }, { shape: [chunks, ...weight.shape], dtype: 'f32' }, { ...attrs, chunks });
    return { x: dx, weight: partial.sum(0) };
  },
};

/**
 * The conv output transpose [Co, B, P] → [B, Co, P] plus bias (dir 0) or back without one
 * (dir 1), one kernel: the fallback of the wide product's ops below where the planar products
 * do not run (hardware adapters, P not a multiple of 4).
 */
function encodeTranspose(rec: Recorder, src: GPUBuffer, bias: GPUBuffer | null, dst: GPUBuffer, dims: readonly [number, number, number], dir: 0 | 1): void {
  const [batch, channels, inner] = dims;
  const total = batch * channels * inner;
  if (!total) return;
  const texels = byTexels(rec, inner);
  const values = [total, inner, channels, batch, dir, texels ? 1 : 0];
  const input = f32Input(rec, 'src', 1, src, total);
  const biasInput = bias ? f32Input(rec, 'bias', 2, bias, channels) : null;
  rec.dispatch(
    'conv-output-transpose',
    input.wgsl +
      (biasInput ? biasInput.wgsl : 'fn bias_at(c: u32) -> f32 { return 0.0; }\n') +
      outputBinding(3, 'out', texels) +
      specialize(channelTransposeWgsl, 'Params', values),
    packU32(values),
    [input.resource, biasInput ? biasInput.resource : null, dst],
    grid1d(batch * channels),
  );
}

/**
 * The wide im2col product of a convolution and its two gradients, each one custom op on NCHW
 * tensors. dims = [B, Co, P]: y [B, Co, P] = W [Co, K] · cols [K, B·P] + bias, read and written
 * in place as the [Co, B·P] matrix by the planar products on software adapters
 * (`matmulPlanar`: no transpose pass each way); elsewhere a plain product and a transpose.
 */
interface ProductAttrs {
  dims: readonly [number, number, number];
}

/**
 * Whether the gradient products read g [B, Co, P] in place (planar A or B): software adapters (the
 * VJP asks the tensor's backend, the kernels the recorder), P a multiple of 4 so a texel never
 * spans two planes. The forward writes its planar output on every software adapter (any P: one
 * float per store where P is not a multiple of 4), so planes of 49 floats (7 × 7) skip the
 * forward transpose too.
 */
const planar = (isSoftware: boolean, inner: number) => isSoftware && inner % 4 === 0;

/** g [B, Co, P] as [Co, B·P] in a scratch buffer: the gradient products' fallback input. */
function channelMajorScratch(rec: Recorder, g: GPUBuffer, dims: readonly [number, number, number]): GPUBuffer {
  const gt = rec.scratch(dims[0] * dims[1] * dims[2] * 4).buffer;
  encodeTranspose(rec, g, null, gt, dims, 1);
  return gt;
}

/** The float64 reference of that transpose: [B, Co, P] → [Co, B·P]. */
function channelMajor(g: Float64Array, [batch, co, inner]: readonly [number, number, number]): Float64Array {
  const out = new Float64Array(batch * co * inner);
  for (let b = 0; b < batch; b++) for (let o = 0; o < co; o++) for (let q = 0; q < inner; q++) out[(o * batch + b) * inner + q] = g[(b * co + o) * inner + q];
  return out;
}

/** g [B, Co, P] → [Co, B·P], one transpose for both gradient products where they are not planar. */
const gradTransposeOp: CustomOpDefinition<ProductAttrs, { g: Tensor }> = {
  name: 'convOutputTransposeBack',
  gpu(rec, { g }, _out, dst, { dims }) {
    encodeTranspose(rec, bufferOf(g), null, dst, dims, 1);
  },
  cpu({ g }, _out, { dims }) {
    return channelMajor(g.values, dims);
  },
};

const convProductGradOp: CustomOpDefinition<ProductAttrs, { weight: Tensor; g: Tensor }> = {
  name: 'convProductColumnGrad',
  gpu(rec, { weight, g }, _out, dst, { dims }) {
    const [batch, co, inner] = dims;
    const k = weight.shape[1];
    const product = { m: k, n: batch * inner, k: co, a: bufferOf(weight), transA: true };
    if (planar(rec.isSoftware, inner) && matmulPlanar(rec, dst, { ...product, b: bufferOf(g), bPlane: inner })) return;
    matmulBuffers(rec, dst, { ...product, b: channelMajorScratch(rec, bufferOf(g), dims) });
  },
  cpu({ weight, g }, _out, { dims }) {
    // Wᵀ [K, Co] · g as [Co, B·P].
    const [batch, co, inner] = dims;
    const [k, n] = [weight.shape[1], batch * inner];
    const gt = channelMajor(g.values, dims);
    const cols = new Float64Array(k * n);
    for (let r = 0; r < k; r++)
      for (let o = 0; o < co; o++) {
        const w = weight.values[o * k + r];
        for (let j = 0; j < n; j++) cols[r * n + j] += w * gt[o * n + j];
      }
    return cols;
  },
};

const convWeightGradOp: CustomOpDefinition<ProductAttrs, { g: Tensor; cols: Tensor }> = {
  name: 'convProductWeightGrad',
  gpu(rec, { g, cols }, _out, dst, { dims }) {
    const [batch, co, inner] = dims;
    const k = cols.shape[0];
    const product = { m: co, n: k, k: batch * inner, b: bufferOf(cols), transB: true };
    if (planar(rec.isSoftware, inner) && matmulPlanar(rec, dst, { ...product, a: bufferOf(g), aPlane: inner })) return;
    matmulBuffers(rec, dst, { ...product, a: channelMajorScratch(rec, bufferOf(g), dims) });
  },
  cpu({ g, cols }, _out, { dims }) {
    // g as [Co, B·P] · colsᵀ.
    const [batch, co, inner] = dims;
    const [k, n] = [cols.shape[0], batch * inner];
    const gt = channelMajor(g.values, dims);
    const dw = new Float64Array(co * k);
    for (let o = 0; o < co; o++)
      for (let r = 0; r < k; r++) {
        let acc = 0;
        for (let j = 0; j < n; j++) acc += gt[o * n + j] * cols.values[r * n + j];
        dw[o * k + r] = acc;
      }
    return dw;
  },
};

/**
 * The weight and bias gradients together: dW = g·colsᵀ and db = Σ g per channel, from g as
 * [B, Co, P] (`planar`) or already [Co, B·P]. On software adapters one split-K product whose final
 * pass also sums g's rows (`matmulSplitWithRowSums`): the channel sum's dispatch is saved. Else
 * the product and a channel sum.
 */
const convParamGradsOp: MultiOutputOpDefinition<ProductAttrs & { planar: boolean }, { g: Tensor; cols: Tensor }, 'weight' | 'bias'> = {
  name: 'convProductParamGrads',
  gpu(rec, { g, cols }, outs, { dims, planar: isPlanar }) {
    const [batch, co, inner] = dims;
    const k = cols.shape[0];
    const product = { m: co, n: k, k: batch * inner, a: bufferOf(g), b: bufferOf(cols) };
    if (matmulSplitWithRowSums(rec, outs.weight, outs.bias, { ...product, aPlane: isPlanar ? inner : 0 })) return;
    if (!(isPlanar && matmulPlanar(rec, outs.weight, { ...product, transB: true, aPlane: inner })))
      matmulBuffers(rec, outs.weight, { ...product, transB: true, a: isPlanar ? channelMajorScratch(rec, bufferOf(g), dims) : bufferOf(g) });
    // g's channel sums: over [B, Co, P] planes, or the rows of [Co, B·P] (one plane each).
    encodeChannelSum(rec, bufferOf(g), outs.bias, isPlanar ? dims : [1, co, batch * inner]);
  },
  cpu({ g, cols }, _outs, { dims, planar: isPlanar }) {
    const [batch, co, inner] = dims;
    const [k, n] = [cols.shape[0], batch * inner];
    const gt = isPlanar ? channelMajor(g.values, dims) : g.values;
    const weight = new Float64Array(co * k);
    const bias = new Float64Array(co);
    for (let o = 0; o < co; o++) {
      for (let j = 0; j < n; j++) bias[o] += gt[o * n + j];
      for (let r = 0; r < k; r++) {
        let acc = 0;
        for (let j = 0; j < n; j++) acc += gt[o * n + j] * cols.values[r * n + j];
        weight[o * k + r] = acc;
      }
    }
    return { weight, bias };
  },
};

const convProductOp: CustomOpDefinition<ProductAttrs, { weight: Tensor; cols: Tensor; bias?: Tensor }> = {
  name: 'convProduct',
  gpu(rec, { weight, cols, bias }, _out, dst, { dims }) {
    const [batch, co, inner] = dims;
    const product = { m: co, n: batch * inner, k: weight.shape[1], a: bufferOf(weight), b: bufferOf(cols) };
    const biasBuffer = bias ? bufferOf(bias) : null;
    if (rec.isSoftware && matmulPlanar(rec, dst, { ...product, outPlane: inner, bias: biasBuffer })) return;
    const y = rec.scratch(batch * co * inner * 4).buffer;
    matmulBuffers(rec, y, product);
    encodeTranspose(rec, y, biasBuffer, dst, dims, 0);
  },
  cpu({ weight, cols, bias }, _out, { dims }) {
    const [batch, co, inner] = dims;
    const k = weight.shape[1];
    const y = new Float64Array(batch * co * inner);
    for (let b = 0; b < batch; b++)
      for (let o = 0; o < co; o++)
        for (let q = 0; q < inner; q++) {
          let acc = bias ? bias.values[o] : 0;
          for (let r = 0; r < k; r++) acc += weight.values[o * k + r] * cols.values[(r * batch + b) * inner + q];
          y[(b * co + o) * inner + q] = acc;
        }
    return y;
  },
  vjp(g, { inputs: { weight, cols, bias }, attrs, needsGrad }) {
    const dims = attrs.dims;
    const [batch, co, inner] = dims;
    const wantWeight = needsGrad?.weight !== false;
    const wantCols = needsGrad?.cols !== false;
    const isPlanar = planar(g.backend.capabilities.isSoftware, inner);
    // Not planar (hardware adapters, planes of P % 4 ≠ 0): g as [Co, B·P] once for every product.
    const gt = isPlanar || !(wantWeight || wantCols) ? g : customOp(gradTransposeOp, { g }, { shape: [co, batch * inner], dtype: 'f32' }, attrs);
    // Both parameter gradients from one op where both are wanted (the channel sum rides on the
    // weight gradient's last pass on software adapters).
    const params =
      bias && wantWeight
        ? customOpOutputs(
            convParamGradsOp,
            { g: gt, cols },
            { weight: { shape: weight.shape, dtype: 'f32' }, bias: { shape: [co], dtype: 'f32' } },
            { dims, planar: isPlanar },
          )
        : {
            weight: !wantWeight
              ? null
              : isPlanar
                ? customOp(convWeightGradOp, { g, cols }, { shape: weight.shape, dtype: 'f32' }, attrs)
                : matmulTransposed(gt, cols, false, true),
            bias: bias ? customOp(channelSumOp, { x: g }, { shape: [co], dtype: 'f32' }, { dims }) : null,
          };
    const colsGrad = !wantCols
      ? null
      : isPlanar
        ? customOp(convProductGradOp, { weight, g }, { shape: cols.shape, dtype: 'f32' }, attrs)
        : matmulTransposed(weight, gt, true, false);
    return { weight: params.weight, cols: colsGrad, bias: params.bias };
  },
};

const CHANNEL_SUM = workgroupSumWgsl('workgroup_sum', 'f32');

/** channel-sum.wgsl: Σ over N and inner of x [N, C, inner] into dst [C], a workgroup per channel. */
function encodeChannelSum(rec: Recorder, x: GPUBuffer, dst: GPUBuffer, dims: readonly [number, number, number]): void {
  const [outer, channels, inner] = dims;
  if (!channels) return;
  const values = [outer, channels, inner, outer * inner, planeTexels(rec, inner)];
  const input = f32Input(rec, 'x', 1, x, outer * channels * inner);
  rec.dispatch(
    'channel-sum',
    input.wgsl + CHANNEL_SUM + planeWindowWgsl + specialize(channelSumWgsl, 'Params', values),
    packU32(values),
    [input.resource, dst],
    [channels, 1, 1],
  );
}

/** Σ over N and inner of x [N, C, inner] → [C] (the conv bias gradient), one dispatch. */
const channelSumOp: CustomOpDefinition<{ dims: readonly [number, number, number] }, { x: Tensor }> = {
  name: 'channelSum',
  gpu(rec, { x }, _out, dst, { dims }) {
    encodeChannelSum(rec, bufferOf(x), dst, dims);
  },
  cpu({ x }, _out, { dims }) {
    const [outer, channels, inner] = dims;
    const out = new Float64Array(channels);
    for (let n = 0; n < outer; n++) for (let c = 0; c < channels; c++) for (let q = 0; q < inner; q++) out[c] += x.values[(n * channels + c) * inner + q];
    return out;
  },
};

/** [B, Co, P] = W [Co, K] · cols [K, B·P] (+ bias per channel): the wide im2col product in NCHW. */
function wideProduct(w2: Tensor, cols: Tensor, bias: Tensor | null, batch: number, channels: number, inner: number): Tensor {
  return customOp(
    convProductOp,
    { weight: w2, cols, bias: bias ?? undefined },
    { shape: [batch, channels, inner], dtype: 'f32' },
    { dims: [batch, channels, inner] },
  );
}

export type ConvAlgorithm = 'direct' | 'im2col';

/**
 * The algorithm used per adapter class when `conv2d` is called without one. Measured with
 * `npm run bench -- train` (see docs/nn.md): on llvmpipe im2col + the blocked matmul wins; on an
 * NVIDIA H100 (dawn.node, Vulkan) the direct kernel ran the forward 4.0–6.6× faster and a
 * SimpleConvNet SGD step 1.1–1.27× faster than im2col. Change it with `setConvAlgorithm`.
 */
const defaultAlgorithm: { software: ConvAlgorithm; hardware: ConvAlgorithm } = { software: 'im2col', hardware: 'direct' };

export function setConvAlgorithm(adapterClass: 'software' | 'hardware', algorithm: ConvAlgorithm): void {
  if (adapterClass !== 'software' && adapterClass !== 'hardware')
    throw new InvalidArgumentError('setConvAlgorithm', 'adapterClass', `must be 'software' or 'hardware', got ${String(adapterClass)}`);
  if (algorithm !== 'direct' && algorithm !== 'im2col')
    throw new InvalidArgumentError('setConvAlgorithm', 'algorithm', `must be 'direct' or 'im2col', got ${String(algorithm)}`);
  defaultAlgorithm[adapterClass] = algorithm;
}

export function convAlgorithmFor(x: Tensor): ConvAlgorithm {
  // The CPU reference takes the software choice (pickForBackend's default).
  return pickForBackend(x.backend, defaultAlgorithm);
}

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  /** Default: the measured choice for the tensor's adapter class. */
  algorithm?: ConvAlgorithm;
}

/**
 * Bytes one im2col buffer may take: the batch is split into chunks beyond this. 128 MiB is
 * WebGPU's default maxStorageBufferBindingSize (core and compatibility), so every adapter binds
 * it; each chunk costs a slice, a concat and their gradients (a tenth of the published
 * network's step at 64 MiB on llvmpipe), so chunks are as large as the binding allows.
 */
const MAX_COLS_BYTES = 128 * 2 ** 20;

/**
 * PyTorch's `F.conv2d(x, weight, bias, stride, padding)`: x [B, C, H, W], weight [Co, C, kh, kw],
 * bias [Co] or null → [B, Co, Ho, Wo].
 */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, options: Conv2dOptions = {}): Tensor {
  return convolve(x, weight, bias, options);
}

/** A training-mode batch norm (and ReLU) that the convolution's im2col applies on the fly. */
export interface NormalizedInput {
  /** The [6, C] statistics of `batchNormTrainStats` (rows STATS). */
  stats: Tensor;
  /** The batch norm's affine parameters (their gradients flow through the fused backward). */
  weight: Tensor;
  bias: Tensor;
  relu: boolean;
}

/**
 * conv2d(relu(batchNorm(x))) (without the ReLU unless `relu`) in training mode, the im2col
 * algorithm gathering the normalised values from x and the statistics: one dispatch and one
 * tensor's memory pass fewer per layer than the two ops. What Sequential runs for BatchNorm2d →
 * ReLU → Conv2d when the convolution takes im2col.
 */
export function conv2dOfBatchNorm(x: Tensor, input: NormalizedInput, weight: Tensor, bias: Tensor | null, options: Conv2dOptions = {}): Tensor {
  if ((options.algorithm ?? convAlgorithmFor(x)) !== 'im2col')
    throw new InvalidArgumentError('conv2dOfBatchNorm', 'options.algorithm', 'must be im2col (the normalisation is applied by its gather)');
  return convolve(x, weight, bias, options, input);
}

function convolve(x: Tensor, weight: Tensor, bias: Tensor | null, options: Conv2dOptions, normalized?: NormalizedInput): Tensor {
  assertKnownOptions('conv2d', options, ['stride', 'padding', 'algorithm']);
  if (weight.rank !== 4) throw new ShapeMismatchError('conv2d', 'weight', `must be [Co, C, kh, kw], got shape [${weight.shape.join(', ')}]`);
  const [co, ci, kh, kw] = weight.shape;
  const g = geometry('conv2d', x, [kh, kw], { ...options, co });
  if (ci !== g.c) throw new ShapeMismatchError('conv2d', 'weight', `expects ${ci} input channels, x has ${g.c}`);
  if (bias && (bias.rank !== 1 || bias.shape[0] !== co))
    throw new ShapeMismatchError('conv2d', 'bias', `must be [${co}], got shape [${bias.shape.join(', ')}]`);
  const algorithm = options.algorithm ?? convAlgorithmFor(x);
  if (algorithm !== 'direct' && algorithm !== 'im2col')
    throw new InvalidArgumentError('conv2d', 'options.algorithm', `must be 'direct' or 'im2col', got ${String(algorithm)}`);
  let y: Tensor;
  if (algorithm === 'direct') {
    y = customOp(conv2dDirectOp, { x, weight }, { shape: [g.batch, co, g.ho, g.wo], dtype: 'f32' }, { geometry: g });
  } else {
    const perImage = ci * kh * kw * g.ho * g.wo * 4;
    const chunk = Math.max(1, Math.floor(MAX_COLS_BYTES / perImage));
    const w2 = weight.reshape([co, ci * kh * kw]);
    const parts: Tensor[] = [];
    for (let b0 = 0; b0 < g.batch; b0 += chunk) {
      const xs = chunk >= g.batch ? x : x.slice([b0, 0, 0, 0], [Math.min(g.batch, b0 + chunk), g.c, g.h, g.w]);
      const nb = xs.shape[0];
      const gs = { ...g, batch: nb };
      const cols = normalized
        ? customOp(
            im2colNormalizedOp,
            { x: xs, stats: normalized.stats, weight: normalized.weight, bias: normalized.bias },
            { shape: colShape(gs, 'wide'), dtype: 'f32' },
            { geometry: gs, layout: 'wide', relu: normalized.relu },
          )
        : im2col(xs, gs, 'wide');
      // One wide product, written as [B, Co, P] with the bias added.
      parts.push(wideProduct(w2, cols, bias, nb, co, g.ho * g.wo));
    }
    const flat = parts.length === 1 ? parts[0] : concat(parts, 0);
    return flat.reshape([g.batch, co, g.ho, g.wo]);
  }
  return bias ? y.add(bias.reshape([1, co, 1, 1])) : y;
}
