import type { Backend, Tensor } from '@fairgpu/tensor';
import {
  bufferOf,
  bufferOr,
  customOp,
  fillMarker,
  grid1d,
  ParamWriter,
  pickForBackend,
  type CpuTensor,
  type CustomOpDefinition,
} from '@fairgpu/tensor/internal';
import {
  commonWgsl,
  packColumnsWgsl,
  pairMomentsGradWgsl,
  rowStatsGradLanesWgsl,
  rowStatsLanesWgsl,
  pairMomentsWgsl,
  pairReduceWgsl,
  rowStatsGradWgsl,
  rowStatsWgsl,
  tileRegister4AccWgsl,
  tileRegister4Wgsl,
  tileRegisterAccWgsl,
  tileRegisterWgsl,
  tileWorkgroupAccWgsl,
  tileWorkgroupWgsl,
} from './generated/wgsl.ts';
import { STATS_WGSL_PRELUDE } from './stats.ts';

/** The shared statistics helpers, after the column constants generated from STAT. */
const COMMON = `${STATS_WGSL_PRELUDE}\n${commonWgsl}`;
import type { KernelType } from './options.ts';
import type { ResolvedPairOptions } from './pairs.ts';
import { FUSED_COLUMNS, pairBackward, pairForward, statsBackward, statsForward, type PairProblem, type StatsProblem } from './reference.ts';
import { STATS_COLUMNS, type ResolvedStatsOptions } from './stats.ts';

/**
 * The fused implementations: custom ops (packages/tensor/src/custom.ts) whose GPU encoding
 * issues WGSL dispatches into the shared command encoder (no readback, no extra submit), whose
 * CPU side is the float64 loop of reference.ts, and whose VJP is another custom op — the
 * flash-attention-style backward that recomputes similarities tile by tile. Memory is O(M·d):
 * the only per-pair work lives in registers (or one workgroup tile).
 *
 * Kernel variants (issue item 4, platform.md), picked per adapter and forced by tests:
 *   'lanes'      software adapters, d % 4 == 0: each invocation owns 8 output rows (two quads of
 *                a transposed copy, O(N·d), so SIMD lanes load consecutive memory) and loops over
 *                the other side in blocks of 16 rows (one load per row, the same in every lane):
 *                8 × 16 similarities per block, each loaded value feeding 8–16 FMAs, since loads
 *                bound these kernels on llvmpipe. Forward and backward share the layout; no
 *                workgroup memory, no barriers.
 *   'register'   software adapters otherwise: one row per invocation, 4–8 column rows per step
 *                straight from storage, no workgroup memory, no barriers.
 *   'workgroup'  hardware GPUs: 64 rows per workgroup share 16×64 column tiles staged in
 *                workgroup memory.
 */

export type Variant = 'register' | 'workgroup' | 'lanes';

/**
 * The variant for a backend. The CPU reference never dispatches: it takes 'workgroup', the layout
 * that needs no transposed copies.
 */
export function defaultVariant(backend: Backend, d: number): Variant {
  return pickForBackend(backend, { software: d % 4 === 0 ? 'lanes' : 'register', hardware: 'workgroup', reference: 'workgroup' });
}

/** x [n, d] → xᵀ [d, n8] with n padded to a multiple of 8 by zero rows (no gradient): an even number of quads. */
function transposedQuads(x: Tensor): Tensor {
  const n = x.shape[0];
  const n8 = Math.ceil(n / 8) * 8;
  const base = x.detach();
  return (
    n8 === n
      ? base
      : base.pad([
          [0, n8 - n],
          [0, 0],
        ])
  ).transpose();
}

/** A grid of `groups` workgroups, folded into y past 65,535. */
function groupsGrid(groups: number): [number, number, number] {
  if (groups <= 65535) return [Math.max(groups, 1), 1, 1];
  return [65535, Math.ceil(groups / 65535), 1];
}

const KERNEL_CODE: Record<KernelType, number> = { gaussian: 0, rbf: 1, cauchy: 2 };

interface StatsAttrs {
  self: boolean;
  hasLabels: boolean;
  hasKernel: boolean;
  kernelType: KernelType;
  sigma: number;
  expReleased: boolean;
  metaW: number;
  temperature: number;
  epsilon: number;
  logEps: number;
  /** Bit k set: column k is requested (stats.ts hasColumn). */
  columns: number;
  variant: Variant;
}

/** The backward's attrs: which side's gradient it computes. */
interface StatsGradAttrs extends StatsAttrs {
  mode: 'anchor' | 'ref';
}

/** The lanes backward's attrs: also the owner row count (the transposed owners are padded). */
interface StatsGradLanesAttrs extends StatsGradAttrs {
  owners: number;
}

/**
 * The forward's inputs: the anchors, the reference (absent: self-similarity), the packed per-row
 * labels/targets of each side, and the lanes variant's transposed copies.
 */
interface StatsInputs {
  anchors: Tensor;
  reference?: Tensor;
  rowMeta?: Tensor;
  colMeta?: Tensor;
  referenceT?: Tensor;
  anchorsT?: Tensor;
}

/** The backward's inputs: upstream g, the forward's stats, output-side rows, other-side cols. */
interface StatsGradInputs {
  g: Tensor;
  stats: Tensor;
  rows: Tensor;
  cols: Tensor;
  rowMeta?: Tensor;
  colMeta?: Tensor;
}

/** The lanes backward's inputs: the output rows ("owners") come transposed. */
interface StatsGradLanesInputs {
  g: Tensor;
  stats: Tensor;
  others: Tensor;
  ownersT: Tensor;
  ownerMeta?: Tensor;
  otherMeta?: Tensor;
}

const sources = new Map<string, string>();

function headerOf(all: Record<string, string | number | boolean>): string {
  return Object.entries(all)
    .map(([k, v]) =>
      typeof v === 'boolean'
        ? `const ${k}: bool = ${v};`
        : typeof v === 'number' && Number.isInteger(v)
          ? `const ${k}: u32 = ${v}u;`
          : `const ${k}: f32 = ${v};`,
    )
    .join('\n');
}

const TILES = {
  register: { tj: 4, vw: 1, dots: tileRegisterWgsl, acc: tileRegisterAccWgsl },
  register4: { tj: 8, vw: 4, dots: tileRegister4Wgsl, acc: tileRegister4AccWgsl },
  workgroup: { tj: 16, vw: 1, dots: tileWorkgroupWgsl, acc: tileWorkgroupAccWgsl },
} as const;

/**
 * Header constants + tile helpers + kernel body, cached per specialisation. The register variant
 * reads rows as vec4s (RowT) when d is a multiple of 4.
 */
function specialise(
  name: string,
  body: string,
  variant: Variant,
  d: number,
  consts: Record<string, string | number | boolean>,
  withAcc: boolean,
  withCommon: boolean,
): string {
  if (variant === 'lanes') {
    const key = `${name}:lanes:${d}:${JSON.stringify(consts)}`;
    let lanes = sources.get(key);
    if (!lanes) {
      const all = { D4: d / 4, WG: 16, OB: LANES_BLOCK, ...consts };
      lanes = [headerOf(all), withCommon ? COMMON : '', lanesDots(LANES_BLOCK), body].join('\n');
      sources.set(key, lanes);
    }
    return lanes;
  }
  const tiles = TILES[variant === 'register' && d % 4 === 0 ? 'register4' : variant];
  const key = `${name}:${variant}:${tiles.vw}:${d}:${JSON.stringify(consts)}`;
  let src = sources.get(key);
  if (src) return src;
  const all = { TJ: tiles.tj, VW: tiles.vw, D4: Math.max(1, Math.floor(d / 4)), WG: 64, DC: 64, ...consts };
  const header = headerOf(all);
  const alias = `alias RowT = ${tiles.vw === 4 ? 'vec4<f32>' : 'f32'};`;
  src = [header, alias, withCommon ? COMMON : '', tiles.dots, withAcc ? tiles.acc : '', unrolled(body, tiles.tj), body].join('\n');
  sources.set(key, src);
  return src;
}

/** Other-side rows per block of the lanes kernels: 16 ran the backward 1.3× faster than 8 and as fast as 32. */
const LANES_BLOCK = 16;

/**
 * The lanes kernels' similarity block, shared by forward and backward: ⟨owner, other⟩ for this
 * lane's two owner quads (cq and cq + nq/2, read from ownersᵀ) and the other rows o0 … o0 + ob − 1
 * (read row-major from `others`), as [quad cq: ob vec4s, quad cq + nq/2: ob vec4s]. Unrolled over
 * the rows so the 2·ob accumulators are registers, not a dynamically indexed array.
 */
function lanesDots(ob: number): string {
  const rows = Array.from({ length: ob }, (_, r) => r);
  return [
    `fn lanes_dots(o0: u32, cq: u32) -> array<vec4<f32>, ${2 * ob}> {`,
    '  let half = p.nq / 2u;',
    ...rows.map((r) => `  let a${r} = min(o0 + ${r}u, p.n - 1u) * D4;\n  var s${r} = vec4<f32>(0.0);\n  var t${r} = vec4<f32>(0.0);`),
    '  for (var kk = 0u; kk < D4; kk++) {',
    '    let base = kk * 4u * p.nq + cq;',
    ...[0, 1, 2, 3].map((k) => `    let c${k} = owners_t[base${k ? ` + ${k === 1 ? '' : `${k}u * `}p.nq` : ''}];`),
    ...[0, 1, 2, 3].map((k) => `    let e${k} = owners_t[base + half${k ? ` + ${k === 1 ? '' : `${k}u * `}p.nq` : ''}];`),
    ...rows.map(
      (r) =>
        `    let x${r} = others[a${r} + kk];\n    s${r} += x${r}.x * c0 + x${r}.y * c1 + x${r}.z * c2 + x${r}.w * c3;\n    t${r} += x${r}.x * e0 + x${r}.y * e1 + x${r}.z * e2 + x${r}.w * e3;`,
    ),
    '  }',
    `  return array<vec4<f32>, ${2 * ob}>(${rows.map((r) => `s${r}`).join(', ')}, ${rows.map((r) => `t${r}`).join(', ')});`,
    '}',
  ].join('\n');
}

/**
 * The per-tile loops, unrolled for TJ: each similarity of a tile goes to the body's per-pair
 * function with a constant index, so no array is indexed dynamically (software adapters spill
 * such arrays to memory). Only the helpers the body calls are emitted.
 */
function unrolled(body: string, tj: number): string {
  const q = Array.from({ length: tj }, (_, k) => k);
  const out: string[] = [];
  for (const name of ['visit1', 'visit2', 'visit_pair']) {
    if (body.includes(`${name}_tile(`))
      out.push(`fn ${name}_tile(c0: u32, s: array<f32, TJ>) {\n${q.map((k) => `  ${name}(c0 + ${k}u, s[${k}]);`).join('\n')}\n}`);
  }
  if (body.includes('coef_tile('))
    out.push(
      `fn coef_tile(c0: u32, s: array<f32, TJ>) -> array<f32, TJ> {\n  return array<f32, TJ>(${q.map((k) => `coef_at(c0 + ${k}u, s[${k}])`).join(', ')});\n}`,
    );
  if (body.includes('any_pos_tile(')) out.push(`fn any_pos_tile(c0: u32) -> bool {\n  return ${q.map((k) => `is_pos(c0 + ${k}u)`).join(' || ')};\n}`);
  return out.join('\n');
}

function statsConsts(a: StatsAttrs, mode: number): Record<string, string | number | boolean> {
  return {
    SELF: a.self,
    HAS_LABELS: a.hasLabels,
    HAS_KERNEL: a.hasKernel,
    KERNEL_TYPE: KERNEL_CODE[a.kernelType],
    EXP_RELEASED: a.expReleased,
    T_COL: a.hasLabels ? 1 : 0,
    MODE: mode,
  };
}

/**
 * The kernels' uniform block. `columns` (bit k: column k requested) is a runtime switch rather
 * than a specialisation constant: unrequested columns are written as 0, their gradient terms and
 * the forward's second pass (without epsOut / the released lseExpW) are skipped by uniform
 * branches, and one compiled kernel serves every loss.
 */
function params(
  rows: number,
  cols: number,
  d: number,
  a: { metaW?: number; temperature: number; epsilon?: number; logEps?: number; sigma?: number; columns?: number },
  nq = 0,
): ArrayBuffer {
  return new ParamWriter()
    .u(0, rows)
    .u(1, cols)
    .u(2, d)
    .u(3, a.metaW ?? 0)
    .f(4, 1 / a.temperature)
    .f(5, a.epsilon ?? 0)
    .f(6, a.logEps ?? 0)
    .f(7, a.sigma ?? 1)
    .u(8, nq)
    .u(9, a.columns ?? 0).buffer;
}

function column(values: Float64Array | undefined, width: number, col: number): Float64Array | undefined {
  if (!values) return undefined;
  const out = new Float64Array(values.length / width);
  for (let i = 0; i < out.length; i++) out[i] = values[i * width + col];
  return out;
}

/**
 * Zeroes the unrequested public columns of a [rows, FUSED_COLUMNS] float64 array in place: the
 * forward's values (they are 0 by contract) or the upstream gradient (they carry none).
 */
function maskColumns(values: Float64Array, columns: number): Float64Array {
  for (let k = 1; k < STATS_COLUMNS; k++) {
    if (columns & (1 << k)) continue;
    for (let i = k; i < values.length; i += FUSED_COLUMNS) values[i] = 0;
  }
  return values;
}

/** Rebuilds the float64 problem from the CPU inputs (absent reference: self-similarity). */
function statsProblem(zv: CpuTensor, zr: CpuTensor | undefined, rowMeta: CpuTensor | undefined, colMeta: CpuTensor | undefined, a: StatsAttrs): StatsProblem {
  const zrv = zr ?? zv;
  const tCol = a.hasLabels ? 1 : 0;
  const rm = rowMeta?.values;
  const cm = colMeta?.values ?? rm;
  return {
    m: zv.shape[0],
    n: zrv.shape[0],
    d: zv.shape[1],
    z: zv.values,
    zr: zrv.values,
    self: a.self,
    temperature: a.temperature,
    labels: a.hasLabels ? column(rm, a.metaW, 0) : undefined,
    refLabels: a.hasLabels ? column(cm, a.metaW, 0) : undefined,
    targets: a.hasKernel ? column(rm, a.metaW, tCol) : undefined,
    refTargets: a.hasKernel ? column(cm, a.metaW, tCol) : undefined,
    kernel: a.hasKernel ? { type: a.kernelType, sigma: a.sigma } : undefined,
    epsilon: a.epsilon,
    logEps: a.logEps,
    expVariant: a.expReleased ? 'released' : 'paper',
  };
}

/** The backward: dz (mode 'anchor') or dzr (mode 'ref') from g [M, FUSED_COLUMNS]. */
const statsGradOp: CustomOpDefinition<StatsGradAttrs, StatsGradInputs> = {
  name: 'contrastiveRowStatsGrad',
  gpu(rec, { g, stats, rows: r, cols: c, rowMeta, colMeta }, out, dst, a) {
    const variant = a.variant;
    const mode = a.mode === 'ref' ? 1 : 0;
    const source = specialise('row-stats-grad', rowStatsGradWgsl, variant, r.shape[1], statsConsts(a, mode), true, true);
    const dummy = bufferOf(r);
    rec.dispatch(
      `row-stats-grad-${a.mode}-${variant}`,
      source,
      params(r.shape[0], c.shape[0], r.shape[1], a),
      [bufferOf(r), bufferOf(c), bufferOr(rowMeta, dummy), bufferOr(colMeta, dummy), bufferOf(stats), bufferOf(g), dst],
      grid1d(r.shape[0]),
    );
  },
  cpu({ g, stats, rows, cols, rowMeta, colMeta }, _out, a) {
    const gv = maskColumns(Float64Array.from(g.values), a.columns);
    const sv = stats.values;
    if (a.mode === 'ref') {
      // rows are the reference here: swap back to anchors/reference.
      const p = statsProblem(cols, rows, colMeta, rowMeta, a);
      return statsBackward(p, gv, FUSED_COLUMNS, sv).dzr;
    }
    const p = statsProblem(rows, a.self ? undefined : cols, rowMeta, colMeta, a);
    const { dz, dzr } = statsBackward(p, gv, FUSED_COLUMNS, sv);
    if (a.self) for (let k = 0; k < dz.length; k++) dz[k] += dzr[k];
    return dz;
  },
};

/** Rows of xᵀ [d, n4] back as a row-major [n, d] CPU operand. */
function untranspose(t: CpuTensor, n: number): CpuTensor {
  const [d, n4] = t.shape;
  const values = new Float64Array(n * d);
  for (let j = 0; j < n; j++) for (let k = 0; k < d; k++) values[j * d + k] = t.values[k * n4 + j];
  return { values, shape: [n, d], dtype: 'f32' };
}

/**
 * The 'lanes' backward: output rows ("owners", given transposed) accumulate over the other side.
 * mode 'anchor': owners are the anchors (dz); mode 'ref': owners are the reference rows (dzr).
 */
const statsGradLanesOp: CustomOpDefinition<StatsGradLanesAttrs, StatsGradLanesInputs> = {
  name: 'contrastiveRowStatsGradLanes',
  gpu(rec, { g, stats, others: ov, ownersT: ot, ownerMeta, otherMeta }, out, dst, a) {
    const nq = ot.shape[1] / 4;
    const source = specialise('row-stats-grad-lanes', rowStatsGradLanesWgsl, 'lanes', ov.shape[1], statsConsts(a, a.mode === 'ref' ? 1 : 0), false, true);
    const dummy = bufferOf(ov);
    rec.dispatch(
      `row-stats-grad-lanes-${a.mode}`,
      source,
      params(a.owners, ov.shape[0], ov.shape[1], a, nq),
      [bufferOf(ov), bufferOf(ot), bufferOr(ownerMeta, dummy), bufferOr(otherMeta, dummy), bufferOf(stats), bufferOf(g), dst],
      groupsGrid(Math.ceil(nq / 2 / 16)),
    );
  },
  cpu({ g, stats, others, ownersT, ownerMeta, otherMeta }, out, a) {
    const owners = untranspose(ownersT, a.owners);
    const gv = maskColumns(Float64Array.from(g.values), a.columns);
    const sv = stats.values;
    let grad: Float64Array;
    if (a.mode === 'ref') {
      grad = statsBackward(statsProblem(others, owners, otherMeta, ownerMeta, a), gv, FUSED_COLUMNS, sv).dzr;
    } else {
      const { dz, dzr } = statsBackward(statsProblem(owners, a.self ? undefined : others, ownerMeta, otherMeta, a), gv, FUSED_COLUMNS, sv);
      if (a.self) for (let k = 0; k < dz.length; k++) dz[k] += dzr[k];
      grad = dz;
    }
    // Same transposed, padded layout as the GPU kernel: [d, n4].
    const [d, n4] = out.shape;
    const t = new Float64Array(d * n4);
    for (let j = 0; j < a.owners; j++) for (let k = 0; k < d; k++) t[k * n4 + j] = grad[j * d + k];
    return t;
  },
};

/** Forward: [M, FUSED_COLUMNS] statistics (the public ten and log R). */
const statsOp: CustomOpDefinition<StatsAttrs, StatsInputs> = {
  name: 'contrastiveRowStats',
  gpu(rec, { anchors: zv, reference: zr, rowMeta, colMeta, referenceT, anchorsT }, out, dst, a) {
    const variant = a.variant;
    const zb = bufferOf(zv);
    const n = (zr ?? zv).shape[0];
    if (variant === 'lanes') {
      // The anchors ("owners") are read transposed; the reference row-major.
      const ownersT = (zr ? anchorsT : referenceT)!;
      const nq = ownersT.shape[1] / 4;
      const source = specialise('row-stats-lanes', rowStatsLanesWgsl, variant, zv.shape[1], statsConsts(a, 0), false, true);
      rec.dispatch(
        'row-stats-lanes',
        source,
        params(zv.shape[0], n, zv.shape[1], a, nq),
        [bufferOf(ownersT), bufferOr(zr, zb), bufferOr(rowMeta, zb), bufferOr(colMeta ?? rowMeta, zb), dst],
        groupsGrid(Math.ceil(nq / 2 / 16)),
      );
      return;
    }
    const source = specialise('row-stats', rowStatsWgsl, variant, zv.shape[1], statsConsts(a, 0), false, true);
    rec.dispatch(
      `row-stats-${variant}`,
      source,
      params(zv.shape[0], n, zv.shape[1], a),
      [zb, bufferOr(zr, zb), bufferOr(rowMeta, zb), bufferOr(colMeta ?? rowMeta, zb), dst],
      grid1d(zv.shape[0]),
    );
  },
  cpu({ anchors, reference, rowMeta, colMeta }, _out, a) {
    return maskColumns(statsForward(statsProblem(anchors, reference, rowMeta, colMeta, a)), a.columns);
  },
  vjp(g, { inputs: { anchors: zt, reference: zr, rowMeta, colMeta, referenceT, anchorsT }, output, attrs: a }) {
    const ref = zr ?? zt;
    const cm = colMeta ?? rowMeta;
    if (a.variant === 'lanes') {
      // The kernel writes the gradient transposed (ownersᵀ's layout); transpose it back.
      const lanesGrad = (ownersT: Tensor, others: Tensor, ownerMeta: Tensor | undefined, otherMeta: Tensor | undefined, rows: number, mode: 'anchor' | 'ref') =>
        customOp(
          statsGradLanesOp,
          { g, stats: output, others, ownersT, ownerMeta, otherMeta },
          { shape: ownersT.shape, dtype: 'f32' },
          { ...a, mode, owners: rows },
        )
          .transpose()
          .slice([0, 0], [rows, zt.shape[1]]);
      const dzL = lanesGrad((zr ? anchorsT : referenceT)!, ref, rowMeta, cm, zt.shape[0], 'anchor');
      if (!zr) return { anchors: dzL };
      const dzrL = lanesGrad(referenceT!, zt, cm, rowMeta, zr.shape[0], 'ref');
      return { anchors: dzL, reference: dzrL };
    }
    const dz = customOp(
      statsGradOp,
      { g, stats: output, rows: zt, cols: ref, rowMeta, colMeta: cm },
      { shape: zt.shape, dtype: 'f32' },
      { ...a, mode: 'anchor' },
    );
    if (!zr) return { anchors: dz };
    const dzr = customOp(
      statsGradOp,
      { g, stats: output, rows: zr, cols: zt, rowMeta: cm, colMeta: rowMeta },
      { shape: zr.shape, dtype: 'f32' },
      { ...a, mode: 'ref' },
    );
    return { anchors: dz, reference: dzr };
  },
};

type Columns = { c0: Tensor; c1?: Tensor; c2?: Tensor; c3?: Tensor };

const packSources = new Map<string, string>();

/** [rows] columns (i32 or f32) → [rows, K] f32 side by side, one dispatch (pack-columns.wgsl). Not differentiable. */
const packColumnsOp: CustomOpDefinition<{ rows: number }, Columns> = {
  name: 'packColumns',
  gpu(rec, inputs, _out, dst, { rows }) {
    const columns = [inputs.c0, inputs.c1, inputs.c2, inputs.c3].filter((c) => c !== undefined);
    if (!rows) return;
    const k = columns.length;
    const types = columns.map((c) => (c.dtype === 'i32' ? 'i32' : 'f32'));
    const key = `${rows}|${types.join(',')}`;
    let source = packSources.get(key);
    if (source === undefined) {
      const bindings = types.map((t, j) => `@group(0) @binding(${j + 1}) var<storage, read> c${j}: array<${t}>;\n`).join('');
      const stores = types.map((_, j) => `out[i * K + ${j}u] = f32(c${j}[i]);`);
      source =
        `const ROWS: u32 = ${rows}u;\nconst K: u32 = ${k}u;\n${bindings}@group(0) @binding(${k + 1}) var<storage, read_write> out: array<f32>;\n` +
        fillMarker(packColumnsWgsl, 'STORES', stores, '  ');
      packSources.set(key, source);
    }
    rec.dispatch('pack-columns', source, new ParamWriter().buffer, [...columns.map(bufferOf), dst], grid1d(rows));
  },
  cpu(inputs, _out, { rows }) {
    const columns = [inputs.c0, inputs.c1, inputs.c2, inputs.c3].filter((c) => c !== undefined);
    const out = new Float64Array(rows * columns.length);
    // Labels are integers (exact in f32); values are copied as they are, as the kernel copies f32s.
    columns.forEach((c, j) => c.values.forEach((v, i) => (out[i * columns.length + j] = v)));
    return out;
  },
};

/**
 * Per-row [rows] columns (labels as f32: exact below 2^24; f32 values, detached) packed side by
 * side into [rows, k] in one dispatch, or undefined when there are none.
 */
function packColumns(columns: readonly (Tensor | undefined)[]): Tensor | undefined {
  const present = columns.filter((c): c is Tensor => c !== undefined);
  if (present.length === 0) return undefined;
  if (present.length > 4) throw new Error(`packColumns: at most 4 columns, got ${present.length}`);
  const rows = present[0].size;
  const [c0, c1, c2, c3] = present.map((c) => c.reshape([rows]));
  return customOp(packColumnsOp, { c0, c1, c2, c3 }, { shape: [rows, present.length], dtype: 'f32' }, { rows });
}

/** Per-row labels (as f32: exact below 2^24) and targets packed side by side: [rows, metaW]. */
function packMeta(labels: Tensor | undefined, targets: Tensor | undefined): Tensor | undefined {
  return packColumns([labels, targets]);
}

export function contrastiveRowStatsFused(r: ResolvedStatsOptions, variant?: Variant): Tensor {
  const hasLabels = r.labels !== undefined;
  const hasKernel = r.kernel !== undefined;
  const m = r.anchors.shape[0];
  const d = r.anchors.shape[1];
  const chosen = variant === 'lanes' && d % 4 !== 0 ? 'register' : (variant ?? defaultVariant(r.anchors.backend, d));
  const attrs: StatsAttrs = {
    self: r.reference === undefined,
    hasLabels,
    hasKernel,
    kernelType: r.kernel?.type ?? 'rbf',
    sigma: r.kernel?.sigma ?? 1,
    expReleased: r.expVariant === 'released',
    metaW: (hasLabels ? 1 : 0) + (hasKernel ? 1 : 0),
    temperature: r.temperature,
    epsilon: r.epsilon,
    logEps: r.logEps,
    columns: r.columns,
    variant: chosen,
  };
  const rowMeta = packMeta(r.labels, hasKernel ? r.targets : undefined);
  const colMeta = r.reference ? packMeta(r.refLabels, hasKernel ? r.refTargets : undefined) : undefined;
  // The lanes layout reads the column side transposed (and, for the anchors' backward against a
  // reference, the anchors too): O((M + N)·d) extra memory, never M×N.
  const lanes = chosen === 'lanes';
  const referenceT = lanes ? transposedQuads(r.reference ?? r.anchors) : undefined;
  const anchorsT = lanes && r.reference ? transposedQuads(r.anchors) : undefined;
  const full = customOp(
    statsOp,
    { anchors: r.anchors, reference: r.reference, rowMeta, colMeta, referenceT, anchorsT },
    { shape: [m, FUSED_COLUMNS], dtype: 'f32' },
    attrs,
  );
  return full.slice([0, 0], [m, STATS_COLUMNS]);
}

interface PairAttrs {
  upper: boolean;
  temperature: number;
  variant: Variant;
}

/** The pair ops' inputs: the anchors and their labels / bias labels packed as [M, 2]. */
interface PairInputs {
  anchors: Tensor;
  meta: Tensor;
}

interface PairGradInputs extends PairInputs {
  g: Tensor;
}

function pairConsts(a: PairAttrs) {
  return { UPPER: a.upper, FACTOR: a.upper ? '1.0' : '2.0' };
}

function pairProblem(zv: CpuTensor, meta: CpuTensor, a: PairAttrs): PairProblem {
  const mv = meta.values;
  return {
    m: zv.shape[0],
    d: zv.shape[1],
    z: zv.values,
    temperature: a.temperature,
    labels: column(mv, 2, 0)!,
    biasLabels: column(mv, 2, 1)!,
    pairs: a.upper ? 'upper' : 'all',
  };
}

const pairGradOp: CustomOpDefinition<PairAttrs, PairGradInputs> = {
  name: 'pairMomentsGrad',
  gpu(rec, { g, anchors: zv, meta }, _out, dst, a) {
    const variant = a.variant;
    const zb = bufferOf(zv);
    const source = specialise('pair-moments-grad', pairMomentsGradWgsl, variant, zv.shape[1], pairConsts(a), true, false);
    rec.dispatch(
      `pair-moments-grad-${variant}`,
      source,
      params(zv.shape[0], zv.shape[0], zv.shape[1], a),
      [zb, zb, bufferOf(meta), bufferOf(g), dst],
      grid1d(zv.shape[0]),
    );
  },
  cpu({ g, anchors, meta }, _out, a) {
    return pairBackward(pairProblem(anchors, meta, a), g.values);
  },
};

const pairOp: CustomOpDefinition<PairAttrs, PairInputs> = {
  name: 'pairMoments',
  gpu(rec, { anchors: zv, meta }, _out, dst, a) {
    const variant = a.variant;
    const zb = bufferOf(zv);
    const m = zv.shape[0];
    const partial = rec.scratch(m * 12 * 4).buffer;
    const p = params(m, m, zv.shape[1], a);
    rec.dispatch(
      `pair-moments-${variant}`,
      specialise('pair-moments', pairMomentsWgsl, variant, zv.shape[1], pairConsts(a), false, false),
      p,
      [zb, zb, bufferOf(meta), partial],
      grid1d(m),
    );
    rec.dispatch('pair-reduce', pairReduceWgsl, p, [partial, dst], [1, 1, 1]);
  },
  cpu({ anchors, meta }, _out, a) {
    return pairForward(pairProblem(anchors, meta, a));
  },
  vjp(g, { inputs: { anchors, meta }, attrs }) {
    return { anchors: customOp(pairGradOp, { g, anchors, meta }, { shape: anchors.shape, dtype: 'f32' }, attrs) };
  },
};

export function pairMomentsFused(r: ResolvedPairOptions, variant?: Variant): Tensor {
  const meta = packColumns([r.labels, r.biasLabels])!;
  // Workgroup tiles need 64 invocations and 4 KiB of workgroup memory: every adapter has both.
  const chosen = variant ?? pickForBackend(r.anchors.backend, { software: 'register', hardware: 'workgroup', reference: 'workgroup' });
  const attrs: PairAttrs = { upper: r.pairs === 'upper', temperature: r.temperature, variant: chosen };
  return customOp(pairOp, { anchors: r.anchors, meta }, { shape: [4, 3], dtype: 'f32' }, attrs);
}
