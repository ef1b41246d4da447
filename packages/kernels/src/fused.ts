import {
  bufferOf,
  cast,
  concat,
  customOp,
  type TensorLike,
  grid1d,
  ParamWriter,
  type CpuOperand,
  type CustomOpDefinition,
  type Operand,
  type Recorder,
  type StorageView,
  type Tensor,
} from '@fairgpu/tensor';
import {
  commonWgsl,
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

/** The variant for a backend: GpuBackend exposes isSoftware; the CPU reference never dispatches. */
export function defaultVariant(backend: unknown, d: number): Variant {
  const software = (backend as { isSoftware?: boolean }).isSoftware;
  if (software === undefined || !software) return 'workgroup';
  return d % 4 === 0 ? 'lanes' : 'register';
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
  variant?: Variant;
  mode?: 'anchor' | 'ref';
}

function variantOf(rec: Recorder, attrs: { variant?: Variant }): Variant {
  if (attrs.variant) return attrs.variant;
  // Workgroup tiles need 64 invocations and 4 KiB of workgroup memory: every adapter has both.
  return rec.isSoftware ? 'register' : 'workgroup';
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
      lanes = [headerOf(all), withCommon ? commonWgsl : '', lanesDots(LANES_BLOCK), body].join('\n');
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
  src = [header, alias, withCommon ? commonWgsl : '', tiles.dots, withAcc ? tiles.acc : '', unrolled(body, tiles.tj), body].join('\n');
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

const view = (x: Operand) => x as StorageView;
/** A bound buffer for an absent input (never read: the kernel is specialised without it). */
const orDummy = (x: Operand, dummy: GPUBuffer) => (typeof x === 'number' ? dummy : bufferOf(view(x)));

function cpuValues(x: CpuOperand): Float64Array | undefined {
  return typeof x === 'number' ? undefined : x.values;
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

/** Rebuilds the float64 problem from CPU operands [z, zr|0, rowMeta|0, colMeta|0]. */
function statsProblem(z: CpuOperand, zr: CpuOperand, rowMeta: CpuOperand, colMeta: CpuOperand, a: StatsAttrs): StatsProblem {
  const zv = z as Exclude<CpuOperand, number>;
  const zrv = typeof zr === 'number' ? zv : zr;
  const tCol = a.hasLabels ? 1 : 0;
  const rm = cpuValues(rowMeta);
  const cm = cpuValues(colMeta) ?? rm;
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
const statsGradOp: CustomOpDefinition = {
  name: 'contrastiveRowStatsGrad',
  gpu(rec, [g, st, rows, cols, rowMeta, colMeta], out, dst, attrs) {
    const a = attrs as unknown as StatsAttrs;
    const variant = variantOf(rec, a);
    const r = view(rows);
    const c = view(cols);
    const mode = a.mode === 'ref' ? 1 : 0;
    const source = specialise('row-stats-grad', rowStatsGradWgsl, variant, r.shape[1], statsConsts(a, mode), true, true);
    const dummy = bufferOf(r);
    rec.dispatch(
      `row-stats-grad-${a.mode}-${variant}`,
      source,
      params(r.shape[0], c.shape[0], r.shape[1], a),
      [bufferOf(r), bufferOf(c), orDummy(rowMeta, dummy), orDummy(colMeta, dummy), bufferOf(view(st)), bufferOf(view(g)), dst],
      grid1d(r.shape[0]),
    );
  },
  cpu([g, st, rows, cols, rowMeta, colMeta], _out, attrs) {
    const a = attrs as unknown as StatsAttrs;
    const gv = maskColumns(Float64Array.from((g as Exclude<CpuOperand, number>).values), a.columns);
    const sv = (st as Exclude<CpuOperand, number>).values;
    if (a.mode === 'ref') {
      // rows are the reference here: swap back to anchors/reference.
      const p = statsProblem(cols, rows, colMeta, rowMeta, a);
      return statsBackward(p, gv, FUSED_COLUMNS, sv).dzr;
    }
    const p = statsProblem(rows, a.self ? 0 : cols, rowMeta, colMeta, a);
    const { dz, dzr } = statsBackward(p, gv, FUSED_COLUMNS, sv);
    if (a.self) for (let k = 0; k < dz.length; k++) dz[k] += dzr[k];
    return dz;
  },
};

/** Rows of xᵀ [d, n4] back as a row-major [n, d] CPU operand. */
function untranspose(t: Exclude<CpuOperand, number>, n: number): Exclude<CpuOperand, number> {
  const [d, n4] = t.shape;
  const values = new Float64Array(n * d);
  for (let j = 0; j < n; j++) for (let k = 0; k < d; k++) values[j * d + k] = t.values[k * n4 + j];
  return { values, shape: [n, d], dtype: 'f32' };
}

/**
 * The 'lanes' backward: output rows ("owners", given transposed) accumulate over the other side.
 * mode 'anchor': owners are the anchors (dz); mode 'ref': owners are the reference rows (dzr).
 */
const statsGradLanesOp: CustomOpDefinition = {
  name: 'contrastiveRowStatsGradLanes',
  gpu(rec, [g, st, others, ownersT, ownerMeta, otherMeta], out, dst, attrs) {
    const a = attrs as unknown as StatsAttrs;
    const ov = view(others);
    const ot = view(ownersT);
    const nq = ot.shape[1] / 4;
    const source = specialise('row-stats-grad-lanes', rowStatsGradLanesWgsl, 'lanes', ov.shape[1], statsConsts(a, a.mode === 'ref' ? 1 : 0), false, true);
    const dummy = bufferOf(ov);
    rec.dispatch(
      `row-stats-grad-lanes-${a.mode}`,
      source,
      params((a as StatsAttrs & { owners: number }).owners, ov.shape[0], ov.shape[1], a, nq),
      [bufferOf(ov), bufferOf(ot), orDummy(ownerMeta, dummy), orDummy(otherMeta, dummy), bufferOf(view(st)), bufferOf(view(g)), dst],
      groupsGrid(Math.ceil(nq / 2 / 16)),
    );
  },
  cpu([g, st, others, ownersT, ownerMeta, otherMeta], out, attrs) {
    const a = attrs as unknown as StatsAttrs & { owners: number };
    const owners = untranspose(ownersT as Exclude<CpuOperand, number>, a.owners);
    const gv = maskColumns(Float64Array.from((g as Exclude<CpuOperand, number>).values), a.columns);
    const sv = (st as Exclude<CpuOperand, number>).values;
    let grad: Float64Array;
    if (a.mode === 'ref') {
      grad = statsBackward(statsProblem(others, owners, otherMeta, ownerMeta, a), gv, FUSED_COLUMNS, sv).dzr;
    } else {
      const { dz, dzr } = statsBackward(statsProblem(owners, a.self ? 0 : others, ownerMeta, otherMeta, a), gv, FUSED_COLUMNS, sv);
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
const statsOp: CustomOpDefinition = {
  name: 'contrastiveRowStats',
  gpu(rec, [z, zr, rowMeta, colMeta, colsT, anchorsT], out, dst, attrs) {
    const a = attrs as unknown as StatsAttrs;
    const variant = variantOf(rec, a);
    const zv = view(z);
    const zb = bufferOf(zv);
    const n = typeof zr === 'number' ? zv.shape[0] : view(zr).shape[0];
    if (variant === 'lanes') {
      // The anchors ("owners") are read transposed; the reference row-major.
      const ownersT = view(typeof zr === 'number' ? colsT : anchorsT);
      const nq = ownersT.shape[1] / 4;
      const source = specialise('row-stats-lanes', rowStatsLanesWgsl, variant, zv.shape[1], statsConsts(a, 0), false, true);
      rec.dispatch(
        'row-stats-lanes',
        source,
        params(zv.shape[0], n, zv.shape[1], a, nq),
        [bufferOf(ownersT), orDummy(zr, zb), orDummy(rowMeta, zb), orDummy(colMeta === 0 ? rowMeta : colMeta, zb), dst],
        groupsGrid(Math.ceil(nq / 2 / 16)),
      );
      return;
    }
    const source = specialise('row-stats', rowStatsWgsl, variant, zv.shape[1], statsConsts(a, 0), false, true);
    rec.dispatch(
      `row-stats-${variant}`,
      source,
      params(zv.shape[0], n, zv.shape[1], a),
      [zb, orDummy(zr, zb), orDummy(rowMeta, zb), orDummy(colMeta === 0 ? rowMeta : colMeta, zb), dst],
      grid1d(zv.shape[0]),
    );
  },
  cpu([z, zr, rowMeta, colMeta], _out, attrs) {
    const a = attrs as unknown as StatsAttrs;
    return maskColumns(statsForward(statsProblem(z, zr, rowMeta, colMeta, a)), a.columns);
  },
  vjp(g, { inputs: [z, zr, rowMeta, colMeta, colsT, anchorsT], output, attrs }) {
    const a = attrs as unknown as StatsAttrs;
    const zt = z as Tensor;
    const ref = typeof zr === 'number' ? zt : zr;
    const cm = typeof colMeta === 'number' ? rowMeta : colMeta;
    if (a.variant === 'lanes') {
      // The kernel writes the gradient transposed (ownersᵀ's layout); transpose it back.
      const lanesGrad = (ownersT: Tensor, others: Tensor, ownerMeta: TensorLike, otherMeta: TensorLike, rows: number, mode: 'anchor' | 'ref') =>
        customOp(statsGradLanesOp, [g, output, others, ownersT, ownerMeta, otherMeta], { shape: ownersT.shape, dtype: 'f32' }, { ...a, mode, owners: rows }, [
          'g',
          'stats',
          'others',
          'ownersT',
          'ownerMeta',
          'otherMeta',
        ])
          .transpose()
          .slice([0, 0], [rows, zt.shape[1]]);
      const self = typeof zr === 'number';
      const dzL = lanesGrad((self ? colsT : anchorsT) as Tensor, ref, rowMeta, cm, zt.shape[0], 'anchor');
      if (self) return [dzL, null, null, null, null, null];
      const dzrL = lanesGrad(colsT as Tensor, zt, cm, rowMeta, (zr as Tensor).shape[0], 'ref');
      return [dzL, dzrL, null, null, null, null];
    }
    const dz = customOp(statsGradOp, [g, output, zt, ref, rowMeta, cm], { shape: zt.shape, dtype: 'f32' }, { ...a, mode: 'anchor' }, [
      'g',
      'stats',
      'anchors',
      'reference',
      'rowMeta',
      'colMeta',
    ]);
    if (typeof zr === 'number') return [dz, null, null, null, null, null];
    const dzr = customOp(statsGradOp, [g, output, zr, zt, cm, rowMeta], { shape: zr.shape, dtype: 'f32' }, { ...a, mode: 'ref' }, [
      'g',
      'stats',
      'reference',
      'anchors',
      'colMeta',
      'rowMeta',
    ]);
    return [dz, dzr, null, null, null, null];
  },
};

/** Per-row labels (as f32: exact below 2^24) and targets packed side by side: [rows, metaW]. */
function packMeta(labels: Tensor | undefined, targets: Tensor | undefined): Tensor | undefined {
  const parts: Tensor[] = [];
  if (labels) parts.push(cast(labels, 'f32').reshape([-1, 1]));
  if (targets) parts.push(targets.detach().reshape([-1, 1]));
  if (parts.length === 0) return undefined;
  return parts.length === 1 ? parts[0] : concat(parts, 1);
}

export function contrastiveRowStatsFused(r: ResolvedStatsOptions, variant?: Variant): Tensor {
  const hasLabels = r.labels !== undefined;
  const hasKernel = r.kernel !== undefined;
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
  };
  const rowMeta = packMeta(r.labels, hasKernel ? r.targets : undefined);
  const colMeta = r.reference ? packMeta(r.refLabels, hasKernel ? r.refTargets : undefined) : undefined;
  const m = r.anchors.shape[0];
  const d = r.anchors.shape[1];
  const chosen = variant === 'lanes' && d % 4 !== 0 ? 'register' : (variant ?? defaultVariant(r.anchors.backend, d));
  attrs.variant = chosen;
  // The lanes layout reads the column side transposed (and, for the anchors' backward against a
  // reference, the anchors too): O((M + N)·d) extra memory, never M×N.
  const colsT = chosen === 'lanes' ? transposedQuads(r.reference ?? r.anchors) : 0;
  const anchorsT = chosen === 'lanes' && r.reference ? transposedQuads(r.anchors) : 0;
  const full = customOp(
    statsOp,
    [r.anchors, r.reference ?? 0, rowMeta ?? 0, colMeta ?? 0, colsT, anchorsT],
    { shape: [m, FUSED_COLUMNS], dtype: 'f32' },
    attrs as unknown as Record<string, unknown>,
    ['anchors', 'reference', 'labels/targets', 'refLabels/refTargets', 'referenceT', 'anchorsT'],
  );
  return full.slice([0, 0], [m, STATS_COLUMNS]);
}

interface PairAttrs {
  upper: boolean;
  temperature: number;
  variant?: Variant;
}

function pairConsts(a: PairAttrs) {
  return { UPPER: a.upper, FACTOR: a.upper ? '1.0' : '2.0' };
}

function pairProblem(z: CpuOperand, meta: CpuOperand, a: PairAttrs): PairProblem {
  const zv = z as Exclude<CpuOperand, number>;
  const mv = (meta as Exclude<CpuOperand, number>).values;
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

const pairGradOp: CustomOpDefinition = {
  name: 'pairMomentsGrad',
  gpu(rec, [g, z, meta], _out, dst, attrs) {
    const a = attrs as unknown as PairAttrs;
    const variant = variantOf(rec, a);
    const zv = view(z);
    const zb = bufferOf(zv);
    const source = specialise('pair-moments-grad', pairMomentsGradWgsl, variant, zv.shape[1], pairConsts(a), true, false);
    rec.dispatch(
      `pair-moments-grad-${variant}`,
      source,
      params(zv.shape[0], zv.shape[0], zv.shape[1], a),
      [zb, zb, bufferOf(view(meta)), bufferOf(view(g)), dst],
      grid1d(zv.shape[0]),
    );
  },
  cpu([g, z, meta], _out, attrs) {
    return pairBackward(pairProblem(z, meta, attrs as unknown as PairAttrs), (g as Exclude<CpuOperand, number>).values);
  },
};

const pairOp: CustomOpDefinition = {
  name: 'pairMoments',
  gpu(rec, [z, meta], _out, dst, attrs) {
    const a = attrs as unknown as PairAttrs;
    const variant = variantOf(rec, a);
    const zv = view(z);
    const zb = bufferOf(zv);
    const m = zv.shape[0];
    const partial = rec.scratch(m * 12 * 4).buffer;
    const p = params(m, m, zv.shape[1], a);
    rec.dispatch(
      `pair-moments-${variant}`,
      specialise('pair-moments', pairMomentsWgsl, variant, zv.shape[1], pairConsts(a), false, false),
      p,
      [zb, zb, bufferOf(view(meta)), partial],
      grid1d(m),
    );
    rec.dispatch('pair-reduce', pairReduceWgsl, p, [partial, dst], [1, 1, 1]);
  },
  cpu([z, meta], _out, attrs) {
    return pairForward(pairProblem(z, meta, attrs as unknown as PairAttrs));
  },
  vjp(g, { inputs: [z, meta], attrs }) {
    const zt = z as Tensor;
    return [customOp(pairGradOp, [g, zt, meta], { shape: zt.shape, dtype: 'f32' }, attrs, ['g', 'anchors', 'labels/biasLabels']), null];
  },
};

export function pairMomentsFused(r: ResolvedPairOptions, variant?: Variant): Tensor {
  const meta = concat([cast(r.labels, 'f32').reshape([-1, 1]), cast(r.biasLabels, 'f32').reshape([-1, 1])], 1);
  const attrs: PairAttrs = { upper: r.pairs === 'upper', temperature: r.temperature, ...(variant ? { variant } : {}) };
  return customOp(pairOp, [r.anchors, meta], { shape: [4, 3], dtype: 'f32' }, attrs as unknown as Record<string, unknown>, ['anchors', 'labels/biasLabels']);
}
