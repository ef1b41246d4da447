/**
 * Batched matmul kernels: the workgroup-tiled kernel (shaders/tensor/matmul-tiled.wgsl) for
 * hardware adapters and the register-blocked one (matmul-blocked.wgsl) for software adapters, with
 * the block-size choice, split K and the unrolled blocked source.
 */
import type { OutputSpec, StorageView } from '../../backend.ts';
import {
  matmulBlockedWgsl,
  matmulPackWgsl,
  matmulParamsWgsl,
  matmulTextureSplitWgsl,
  matmulTextureWgsl,
  matmulTiledWgsl,
  matmulUniformWgsl,
  splitReduceRowSumsWgsl,
} from '../../generated/wgsl.ts';
import type { Params } from '../../primitives.ts';
import { broadcastStrides, sizeOf, type Shape } from '../../shape.ts';
import type { PooledBuffer } from '../pool.ts';
import { f32Input, fillMarker, grid1d, ones, ParamWriter, type Recorder, workgroupSumWgsl, zerosOf } from './common.ts';
import { stridedCopy } from './movement.ts';
import { reduceInput, reduceSource } from './reduce.ts';

/** Batch strides of an operand against the output batch: equal → dense, absent/all ones → 0. */
function batchStride(shape: Shape, batchShape: Shape, matrixSize: number): number | null {
  const own = shape.slice(0, -2);
  if (sizeOf(own) === 1) return 0;
  const padded = [...new Array<number>(batchShape.length - own.length).fill(1), ...own];
  if (padded.every((d, i) => d === batchShape[i])) return matrixSize;
  return null;
}

export function matmul(rec: Recorder, a: StorageView, b: StorageView, params: Params<'matmul'>, out: OutputSpec, dst: GPUBuffer): void {
  const r = out.shape.length;
  const [m, n] = [out.shape[r - 2], out.shape[r - 1]];
  const k = params.transA ? a.shape[a.shape.length - 2] : a.shape[a.shape.length - 1];
  const batchShape = out.shape.slice(0, -2);
  const batch = sizeOf(batchShape);
  if (m * n * batch === 0) return;
  // Partially broadcast batches (e.g. [2, 1] against [1, 3]) are expanded first; the common
  // cases (equal batches, or one operand without a batch) read in place.
  const operand = (v: StorageView, rows: number, cols: number): [GPUBuffer, number] => {
    const stride = batchStride(v.shape, batchShape, rows * cols);
    const buffer = (v.storage.handle as PooledBuffer).buffer;
    if (stride !== null) return [buffer, stride];
    const full = [...batchShape, rows, cols];
    const tmp = rec.scratch(sizeOf(full) * 4).buffer;
    stridedCopy(
      rec,
      'matmul-expand',
      'f32',
      {
        shape: full,
        start: zerosOf(full.length),
        step: ones(full.length),
        srcExtent: full,
        srcStride: broadcastStrides(v.shape, full),
      },
      buffer,
      tmp,
    );
    return [tmp, rows * cols];
  };
  const [aBuf, aBatch] = operand(a, a.shape[a.shape.length - 2], a.shape[a.shape.length - 1]);
  const [bBuf, bBatch] = operand(b, b.shape[b.shape.length - 2], b.shape[b.shape.length - 1]);
  encodeMatmul(rec, dst, { m, n, k, batch, aBuf, aBatch, bBuf, bBatch, transA: params.transA, transB: params.transB });
}

/** A (batched) product of buffers, batch strides in elements (0: shared by every batch). */
interface BufferProduct {
  m: number;
  n: number;
  k: number;
  batch: number;
  aBuf: GPUBuffer;
  aBatch: number;
  bBuf: GPUBuffer;
  bBatch: number;
  transA: boolean;
  transB: boolean;
}

/** The kernel choice of every product: tiled on hardware, texture/uniform/blocked on software. */
function encodeMatmul(rec: Recorder, dst: GPUBuffer, product: BufferProduct): void {
  const { m, n, k, batch, aBuf, aBatch, bBuf, bBatch } = product;
  // A is stored [M, K] (or [K, M] when transposed); B is [K, N] (or [N, K]).
  const [aRow, aCol] = product.transA ? [1, m] : [k, 1];
  const [bRow, bCol] = product.transB ? [1, k] : [n, 1];
  const w = new ParamWriter().u(0, m).u(1, n).u(2, k).u(3, batch).u(4, aBatch).u(5, aRow).u(6, aCol).u(7, 1).u(8, bBatch).u(9, bRow).u(10, bCol).u(11, k);
  if (rec.matmulKernel === 'tiled') {
    rec.dispatch('matmul-tiled', matmulParamsWgsl + matmulTiledWgsl, w.buffer, [aBuf, bBuf, dst], [Math.ceil(n / 64), Math.ceil(m / 64), batch]);
    return;
  }
  if (rec.isSoftware && batch === 1 && softwareVariant() !== 'blocked') {
    const strided = { m, n, k, aRow, aCol, bRow, bCol };
    if (softwareVariant() === 'texture' && matmulTexture(rec, aBuf, bBuf, dst, strided)) return;
    const plan = uniformPlan(m, n, k);
    if (plan) {
      matmulUniform(rec, plan, aBuf, bBuf, dst, strided);
      return;
    }
  }
  const [rows, cols] = [matmulBlock(m), matmulBlock(n)];
  const grid: [number, number, number] = [Math.ceil(n / (64 * cols)), Math.ceil(m / rows), batch];
  const splits = matmulSplits(grid[0] * grid[1] * batch, k);
  if (splits === 1) {
    rec.dispatch(`matmul-blocked-${rows}x${cols}`, matmulBlockedSource(rows, cols), w.buffer, [aBuf, bBuf, dst], grid);
    return;
  }
  const chunk = Math.ceil(k / splits);
  const used = Math.ceil(k / chunk);
  w.u(7, used).u(11, chunk);
  const partial = rec.scratch(used * batch * m * n * 4).buffer;
  rec.dispatch(`matmul-blocked-${rows}x${cols}`, matmulBlockedSource(rows, cols), w.buffer, [aBuf, bBuf, partial], [grid[0], grid[1], batch * used]);
  const inner = batch * m * n;
  const rp = new ParamWriter().u(0, 1).u(1, used).u(2, inner).u(3, 1).u(4, used).u(5, inner);
  const input = reduceInput(rec, 'f32', partial, used * inner);
  rec.dispatch('sum-reduce', input.wgsl + reduceSource('sum', 'f32'), rp.buffer, [input.resource, dst], grid1d(inner));
}

/** Workgroups a matmul should have at least, so every thread of a software adapter has work. */
const MIN_MATMUL_WORKGROUPS = 16;
/** Shortest K chunk worth a split. */
const MIN_SPLIT_K = 256;

/** How many chunks to split K into (1: no split) for a product with `workgroups` output blocks. */
export function matmulSplits(workgroups: number, k: number): number {
  if (workgroups >= MIN_MATMUL_WORKGROUPS || k < 2 * MIN_SPLIT_K) return 1;
  return Math.max(1, Math.min(Math.ceil(MIN_MATMUL_WORKGROUPS / workgroups), Math.floor(k / MIN_SPLIT_K)));
}

/** Register block edge for a matrix extent: 4, 8 or 16 (thin matrices waste less with small blocks). */
export const matmulBlock = (extent: number): 4 | 8 | 16 => (extent <= 4 ? 4 : extent <= 8 ? 8 : 16);

const matmulBlockedSources = new Map<string, string>();

/** shaders/tensor/matmul-blocked.wgsl unrolled for an R×C register block. */
export function matmulBlockedSource(rows: number, cols: number): string {
  const key = `${rows}x${cols}`;
  let source = matmulBlockedSources.get(key);
  if (source) return source;
  const R = Array.from({ length: rows }, (_, i) => i);
  const C = Array.from({ length: cols }, (_, j) => j);
  const setup = [
    ...R.map((i) => `let ar${i} = a_base + min(row0 + ${i}u, p.m - 1u) * p.a_row;`),
    ...C.map((j) => `let bc${j} = b_base + min(col0 + ${j}u, p.n - 1u) * p.b_col;`),
    ...R.flatMap((i) => C.map((j) => `var acc${i}_${j} = 0.0;`)),
  ];
  const body = [
    ...C.map((j) => `let b${j} = b[bc${j} + kb];`),
    ...R.map((i) => `let a${i} = a[ar${i} + ka];`),
    ...R.flatMap((i) => C.map((j) => `acc${i}_${j} = fma(a${i}, b${j}, acc${i}_${j});`)),
  ];
  const stores = R.flatMap((i) =>
    C.map((j) => `if (row0 + ${i}u < p.m && col0 + ${j}u < p.n) { c[c_base + (row0 + ${i}u) * p.n + col0 + ${j}u] = acc${i}_${j}; }`),
  );
  source =
    `const R: u32 = ${rows}u;\nconst C: u32 = ${cols}u;\n${matmulParamsWgsl}\n` +
    fillMarker(fillMarker(fillMarker(matmulBlockedWgsl, 'SETUP', setup, '  '), 'BODY', body, '    '), 'STORES', stores, '  ');
  matmulBlockedSources.set(key, source);
  return source;
}

/**
 * Software adapters, products with batch 1: 'texture' (default) runs them through
 * matmul-texture.wgsl (A in 64 KiB uniform windows, B copied into a texture) when B's layout
 * allows, else like 'uniform'; 'uniform' runs those with N ≥ 1024 through matmul-uniform.wgsl (A in
 * uniform windows, B from storage); 'blocked' keeps every product on matmul-blocked.wgsl. A switch
 * for benchmarks that compare them in one run (`setSoftwareMatmul`, from `@fairgpu/tensor/internal`;
 * `FAIRGPU_SOFTWARE_MATMUL=uniform|blocked` for a whole process, e.g. to time a training run before/after).
 */
export type SoftwareMatmul = 'texture' | 'uniform' | 'blocked';
const SOFTWARE_MATMULS: readonly SoftwareMatmul[] = ['texture', 'uniform', 'blocked'];
const softwareMatmul: { variant: SoftwareMatmul | null } = { variant: null };

/** The variant in force: set by `setSoftwareMatmul`, else $FAIRGPU_SOFTWARE_MATMUL (read at the first product), else 'texture'. */
function softwareVariant(): SoftwareMatmul {
  if (softwareMatmul.variant === null) {
    const fromEnv = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.FAIRGPU_SOFTWARE_MATMUL;
    softwareMatmul.variant = SOFTWARE_MATMULS.find((v) => v === fromEnv) ?? 'texture';
  }
  return softwareMatmul.variant;
}

export function setSoftwareMatmul(variant: SoftwareMatmul): SoftwareMatmul {
  if (!SOFTWARE_MATMULS.includes(variant))
    throw new TypeError(`setSoftwareMatmul: variant must be one of ${SOFTWARE_MATMULS.join(', ')}, got ${String(variant)}`);
  const previous = softwareVariant();
  softwareMatmul.variant = variant;
  return previous;
}

/** Floats in one uniform binding (64 KiB, WebGPU's default maxUniformBufferBindingSize). */
const PACK_FLOATS = 16384;
const PACK_BYTES = PACK_FLOATS * 4;
/** Columns per invocation of matmul-uniform (8 measured best: 16 halves the rate on llvmpipe). */
const UNIFORM_C = 8;
/** Narrower products keep matmul-blocked: one workgroup of 64·8 columns would leave threads idle. */
const UNIFORM_MIN_N = 1024;
/** Dispatches (packed ranges) one product may take before matmul-blocked is cheaper. */
const UNIFORM_MAX_RANGES = 1024;

export interface UniformPlan {
  /** Rows per register block (a multiple of 4: one k step of a tile is R/4 vec4s). */
  rows: 4 | 8 | 16 | 32;
  /** k steps per packed tile; K is split into `chunks` of kc (later chunks add onto C). */
  kc: number;
  chunks: number;
  /** Tiles (row blocks) per 64 KiB range, and ranges per k chunk. */
  tiles: number;
  mgroups: number;
  mblocks: number;
}

/** How matmul-uniform (or matmul-texture, which packs A the same way) covers an M×N×K product, or null when it should not take it. */
export function uniformPlan(m: number, n: number, k: number, minN: number = UNIFORM_MIN_N): UniformPlan | null {
  if (n < minN || Math.ceil(n / (64 * UNIFORM_C)) > 65535 || k === 0) return null;
  const rows = m >= 32 ? 32 : m > 8 ? 16 : m > 4 ? 8 : 4;
  const mblocks = Math.ceil(m / rows);
  const whole = k * rows <= PACK_FLOATS;
  const kc = whole ? k : PACK_FLOATS / rows;
  const chunks = Math.ceil(k / kc);
  const tiles = whole ? Math.min(mblocks, Math.floor(PACK_FLOATS / (k * rows))) : 1;
  const mgroups = Math.ceil(mblocks / tiles);
  if (chunks * mgroups > UNIFORM_MAX_RANGES) return null;
  return { rows, kc, chunks, tiles, mgroups, mblocks };
}

/**
 * The R×C accumulators of the windowed kernels (matmul-uniform, matmul-texture): zero, or C's
 * current values when a later k chunk adds onto it (`p.accumulate`): `reads`, the statements that
 * load them (by default one element each from a row-major C).
 */
function accumulators(
  R: readonly number[],
  C: readonly number[],
  reads: readonly string[] = R.flatMap((i) => C.map((j) => `acc${i}_${j} = c[min(row0 + ${i}u, p.m - 1u) * p.n + min(col0 + ${j}u, p.n - 1u)];`)),
): string[] {
  return [...R.flatMap((i) => C.map((j) => `var acc${i}_${j} = 0.0;`)), 'if (p.accumulate != 0u) {', ...reads.map((r) => `  ${r}`), '}'];
}

const uniformSources = new Map<string, string>();

/** shaders/tensor/matmul-uniform.wgsl unrolled for an R×C block. */
export function matmulUniformSource(rows: number, cols: number): string {
  const key = `${rows}x${cols}`;
  let source = uniformSources.get(key);
  if (source) return source;
  const R = Array.from({ length: rows }, (_, i) => i);
  const C = Array.from({ length: cols }, (_, j) => j);
  const setup = [...C.map((j) => `let bc${j} = p.b_base + min(col0 + ${j}u, p.n - 1u) * p.b_col;`), ...accumulators(R, C)];
  const body = [
    ...C.map((j) => `let b${j} = b[bc${j} + kb];`),
    ...Array.from({ length: rows / 4 }, (_, q) => `let a${q} = a.v[ka + ${q}u];`),
    ...R.flatMap((i) => C.map((j) => `acc${i}_${j} = fma(a${i >> 2}[${i & 3}], b${j}, acc${i}_${j});`)),
  ];
  const stores = R.flatMap((i) => C.map((j) => `if (row0 + ${i}u < p.m && col0 + ${j}u < p.n) { c[(row0 + ${i}u) * p.n + col0 + ${j}u] = acc${i}_${j}; }`));
  source =
    `const R: u32 = ${rows}u;\nconst C: u32 = ${cols}u;\n` +
    fillMarker(fillMarker(fillMarker(matmulUniformWgsl, 'SETUP', setup, '  '), 'BODY', body, '    '), 'STORES', stores, '  ');
  uniformSources.set(key, source);
  return source;
}

export interface Strided {
  m: number;
  n: number;
  k: number;
  aRow: number;
  aCol: number;
  bRow: number;
  bCol: number;
}

/** A packed into 64 KiB uniform ranges by matmul-pack.wgsl (one dispatch), for matmul-uniform and matmul-texture. */
function packA(rec: Recorder, plan: UniformPlan, a: GPUBuffer, s: Strided): GPUBuffer {
  const { rows, kc, chunks, tiles, mgroups } = plan;
  const ranges = chunks * mgroups;
  const packed = rec.scratch(ranges * PACK_BYTES, { uniform: true }).buffer;
  const pp = new ParamWriter().u(0, s.m).u(1, s.k).u(2, s.aRow).u(3, s.aCol).u(4, kc).u(5, tiles).u(6, mgroups).u(7, 0);
  rec.dispatch(`matmul-pack-${rows}`, `const R: u32 = ${rows}u;\n${matmulPackWgsl}`, pp.buffer, [a, packed], [Math.ceil((kc * rows) / 64), tiles, ranges]);
  return packed;
}

/** Packs A into uniform ranges (one dispatch), then one matmul-uniform dispatch per range. */
function matmulUniform(rec: Recorder, plan: UniformPlan, a: GPUBuffer, b: GPUBuffer, dst: GPUBuffer, s: Strided): void {
  const { rows, kc, chunks, tiles, mgroups, mblocks } = plan;
  const packed = packA(rec, plan, a, s);
  const source = matmulUniformSource(rows, UNIFORM_C);
  const gx = Math.ceil(s.n / (64 * UNIFORM_C));
  for (let chunk = 0; chunk < chunks; chunk++) {
    const k0 = chunk * kc;
    for (let g = 0; g < mgroups; g++) {
      const d = chunk * mgroups + g;
      const w = new ParamWriter()
        .u(0, s.m)
        .u(1, s.n)
        .u(2, Math.min(kc, s.k - k0))
        .u(3, g * tiles)
        .u(4, k0 * s.bRow)
        .u(5, s.bRow)
        .u(6, s.bCol)
        .u(7, (kc * rows) / 4)
        .u(8, chunk > 0 ? 1 : 0);
      const window = { buffer: packed, offset: d * PACK_BYTES, size: PACK_BYTES };
      rec.dispatch(`matmul-uniform-${rows}x${UNIFORM_C}`, source, w.buffer, [window, b, dst], [gx, Math.min(tiles, mblocks - g * tiles), 1]);
    }
  }
}

/**
 * matmul-texture takes products of at least this many multiply-adds: below it the texture copy
 * and the pack cost more than matmul-blocked's whole product (the final Linear's 128×10×32).
 */
const TEXTURE_MIN_MACS = 1 << 18;
/** Columns per invocation of matmul-texture: two texels per k step ('n'), as matmul-uniform's 8. */
const TEXTURE_C = 8;
/** Fewest workgroups a matmul-texture dispatch should have, so each CPU thread gets several. */
const TEXTURE_MIN_WORKGROUPS = 8;

/**
 * Which way B's texels run: 'n' when B is [K, N] row-major (a texel = 4 columns of one k), 'k'
 * when it is [N, K] (a transposed operand: a texel = 4 k steps of one column); null when neither
 * is 4-aligned (the product keeps matmul-uniform / matmul-blocked).
 */
export function textureOrientation(s: Strided): 'n' | 'k' | null {
  if (s.bCol === 1 && s.bRow === s.n && s.n % 4 === 0) return 'n';
  if (s.bRow === 1 && s.bCol === s.k && s.k % 4 === 0) return 'k';
  return null;
}

/** Workgroup width for a dispatch of `columns` invocations per row block × `rowBlocks` blocks. */
export function textureWorkgroup(columns: number, rowBlocks: number): 8 | 16 | 32 | 64 {
  for (const wg of [64, 32, 16] as const) if (Math.ceil(columns / wg) * rowBlocks >= TEXTURE_MIN_WORKGROUPS) return wg;
  return 8;
}

const textureSources = new Map<string, string>();

/**
 * Planar layouts (`matmulPlanar`): a matrix of R rows and N = B·P columns stored as B planes
 * [R, P] one after another ([B, R, P]: NCHW, R the channels), column n = b·P + q at b·R·P + r·P + q.
 * For matmul-texture: B planar (`bPlane` = P, `bPlaneStride` = K·P), C planar (`outPlane`,
 * `outPlaneStride` = M·P) and a bias per row of C (binding 4) added to the sum by the last k chunk.
 */
export interface TexturePlanar {
  bPlane?: number;
  bPlaneStride?: number;
  outPlane?: number;
  outPlaneStride?: number;
  bias?: boolean;
  /**
   * C declared as vec4s and stored four columns at a time (N, and P when planar, multiples of 4):
   * a vec4 store costs 0.6 ns per float on llvmpipe against 1.5 for a scalar one.
   */
  vec4Stores?: boolean;
}

/** shaders/tensor/matmul-texture.wgsl unrolled for an R×C block, orientation and workgroup width (and planar layouts). */
export function matmulTextureSource(rows: number, cols: number, orientation: 'n' | 'k', wg: number, planar: TexturePlanar = {}): string {
  const { bPlane, bPlaneStride, outPlane, outPlaneStride, bias, vec4Stores } = planar;
  if (bPlane && orientation !== 'n') throw new Error('matmulTextureSource: a planar B runs in the n orientation');
  const key = `${rows}x${cols}${orientation}${wg}/${bPlane ?? 0},${bPlaneStride ?? 0},${outPlane ?? 0},${outPlaneStride ?? 0},${bias ? 1 : 0},${vec4Stores ? 1 : 0}`;
  let source = textureSources.get(key);
  if (source) return source;
  const R = Array.from({ length: rows }, (_, i) => i);
  const C = Array.from({ length: cols }, (_, j) => j);
  // C's element (row0 + i, col0 + j): planar, each column's plane offset once (oc<j>).
  const outColumns = outPlane
    ? C.map((j) => `let oc${j} = (min(col0 + ${j}u, p.n - 1u) / ${outPlane}u) * ${outPlaneStride}u + min(col0 + ${j}u, p.n - 1u) % ${outPlane}u;`)
    : [];
  const cAt = outPlane ? (i: number, j: number) => `(row0 + ${i}u) * ${outPlane}u + oc${j}` : (i: number, j: number) => `(row0 + ${i}u) * p.n + col0 + ${j}u`;
  // The bias goes onto the finished sum (the last k chunk's stores), as a separate pass would add it.
  const biasRows = bias ? R.map((i) => `let bias${i} = select(0.0, biasv[min(row0 + ${i}u, p.m - 1u)], p.last != 0u);`) : [];
  // A later k chunk reads C back at clamped positions (blocks past the edge store nothing): one
  // element, or with vec4 stores a group of four columns (the last in-range group past N).
  const readAt = (i: number, j: number, width: 1 | 4) =>
    `min(row0 + ${i}u, p.m - 1u) * ${outPlane ? `${outPlane}u + oc${j}` : `p.n + min(col0 + ${j}u, p.n - ${width}u)`}`;
  const texels = Array.from({ length: cols / 4 }, (_, q) => q);
  const acc = accumulators(
    R,
    C,
    vec4Stores
      ? R.flatMap((i) =>
          texels.map((q) => `{ let v = c[(${readAt(i, 4 * q, 4)}) >> 2u]; ${[0, 1, 2, 3].map((e) => `acc${i}_${4 * q + e} = v[${e}];`).join(' ')} }`),
        )
      : R.flatMap((i) => C.map((j) => `acc${i}_${j} = c[${readAt(i, j, 1)}];`)),
  );
  const quads = Array.from({ length: rows / 4 }, (_, q) => q);
  let setup: string[];
  let body: string[];
  if (orientation === 'n') {
    // Planar B: each texel's plane offset once (a texel never spans two planes: P % 4 = 0).
    setup = bPlane
      ? [
          ...texels.map((q) => `let t0_${q} = (p.b_base + ((col0 + ${4 * q}u) / ${bPlane}u) * ${bPlaneStride}u + (col0 + ${4 * q}u) % ${bPlane}u) / 4u;`),
          'let ts = p.b_stride / 4u;',
        ]
      : ['let t0 = (p.b_base + col0) / 4u;', 'let ts = p.b_stride / 4u;'];
    setup.push(...outColumns, ...biasRows, ...acc);
    body = [
      ...(bPlane
        ? texels.map((q) => `let b${q} = texel(t0_${q} + k * ts);`)
        : ['let tk = t0 + k * ts;', ...texels.map((q) => `let b${q} = texel(tk + ${q}u);`)]),
      ...quads.map((q) => `let a${q} = a.v[ka + ${q}u];`),
      ...R.flatMap((i) => C.map((j) => `acc${i}_${j} = fma(a${i >> 2}[${i & 3}], b${j >> 2}[${j & 3}], acc${i}_${j});`)),
    ];
  } else {
    setup = [...C.map((j) => `let tc${j} = (p.b_base + min(col0 + ${j}u, p.n - 1u) * p.b_stride) / 4u;`), ...outColumns, ...biasRows, ...acc];
    const steps = [0, 1, 2, 3];
    body = [
      'let kq = k / 4u;',
      ...C.map((j) => `let b${j} = texel(tc${j} + kq);`),
      ...steps.flatMap((s) => quads.map((q) => `let a${s}_${q} = a.v[ka + ${s * (rows / 4) + q}u];`)),
      ...steps.flatMap((s) => R.flatMap((i) => C.map((j) => `acc${i}_${j} = fma(a${s}_${i >> 2}[${i & 3}], b${j}[${s}], acc${i}_${j});`))),
    ];
  }
  const plus = (i: number) => (bias ? ` + bias${i}` : '');
  // vec4 stores: N (and P) multiples of 4 put each group of four columns wholly in or out of range.
  const stores = vec4Stores
    ? R.flatMap((i) =>
        texels.map(
          (q) =>
            `if (row0 + ${i}u < p.m && col0 + ${4 * q}u < p.n) { c[(${cAt(i, 4 * q)}) >> 2u] = vec4<f32>(${[0, 1, 2, 3].map((e) => `acc${i}_${4 * q + e}${plus(i)}`).join(', ')}); }`,
        ),
      )
    : R.flatMap((i) => C.map((j) => `if (row0 + ${i}u < p.m && col0 + ${j}u < p.n) { c[${cAt(i, j)}] = acc${i}_${j}${plus(i)}; }`));
  const template = vec4Stores
    ? matmulTextureWgsl.replace('var<storage, read_write> c: array<f32>;', 'var<storage, read_write> c: array<vec4<f32>>;')
    : matmulTextureWgsl;
  source =
    `const R: u32 = ${rows}u;\nconst C: u32 = ${cols}u;\nconst WG: u32 = ${wg}u;\nconst KSTEP: u32 = ${orientation === 'k' ? 4 : 1}u;\n` +
    (bias ? '@group(0) @binding(4) var<storage, read> biasv: array<f32>;\n' : '') +
    fillMarker(fillMarker(fillMarker(template, 'SETUP', setup, '  '), 'BODY', body, '    '), 'STORES', stores, '  ');
  textureSources.set(key, source);
  return source;
}

/** Planar operands of one product as encoded: P of B and of C (0: plain) and C's bias buffer. */
interface PlanarEncode {
  bPlane: number;
  outPlane: number;
  bias: GPUBuffer | null;
}

/**
 * Packs A into uniform windows (as matmulUniform), copies B into a texture (Recorder.texels),
 * then one matmul-texture dispatch per window. False (nothing encoded) when the product is too
 * small, B's layout is not 4-aligned, or B does not fit the adapter's textures. With `planar`
 * (matmulPlanar) B is [K, N] in the n orientation or planar, and every size takes this kernel.
 */
function matmulTexture(rec: Recorder, a: GPUBuffer, b: GPUBuffer, dst: GPUBuffer, s: Strided, planar?: PlanarEncode): boolean {
  if (!planar && s.m * s.n * s.k < TEXTURE_MIN_MACS) return false;
  const orientation = planar ? 'n' : textureOrientation(s);
  const plan = orientation && uniformPlan(s.m, s.n, s.k, 4);
  if (!orientation || !plan) return false;
  const columns = Math.ceil(s.n / TEXTURE_C);
  const { rows, kc, chunks, tiles, mgroups, mblocks } = plan;
  // Dispatches of few workgroups (a narrow product; with a long K, a chain of them) leave CPU
  // threads idle: split K inside one dispatch instead (both operands as texels) when A runs along K too.
  const rowBlocks = Math.min(tiles, mblocks);
  const groups = Math.ceil(columns / textureWorkgroup(columns, rowBlocks)) * rowBlocks;
  const alongK = orientation === 'k' && s.aCol === 1 && s.aRow === s.k;
  if (alongK && groups < TEXTURE_MIN_WORKGROUPS && s.k >= 2 * SPLIT_MIN_K && matmulTextureSplit(rec, a, b, dst, s)) return true;
  const texture = rec.texels(b, s.k * s.n);
  if (!texture) return false;
  const packed = packA(rec, plan, a, s);
  const wg = textureWorkgroup(columns, Math.min(tiles, mblocks));
  const bPlane = planar?.bPlane ?? 0;
  const outPlane = planar?.outPlane ?? 0;
  const source = matmulTextureSource(rows, TEXTURE_C, orientation, wg, {
    ...(bPlane ? { bPlane, bPlaneStride: s.k * bPlane } : {}),
    ...(outPlane ? { outPlane, outPlaneStride: s.m * outPlane } : {}),
    ...(planar?.bias ? { bias: true } : {}),
    ...(s.n % 4 === 0 && (!outPlane || outPlane % 4 === 0) ? { vec4Stores: true } : {}),
  });
  const label = `matmul-texture-${rows}x${TEXTURE_C}${orientation}${bPlane || outPlane ? '-planar' : ''}`;
  const gx = Math.ceil(columns / wg);
  // Elements between k rows of B: N, or P when B is planar (the plane offset is per column).
  const kStride = orientation === 'n' ? bPlane || s.n : s.k;
  for (let chunk = 0; chunk < chunks; chunk++) {
    const k0 = chunk * kc;
    for (let g = 0; g < mgroups; g++) {
      const d = chunk * mgroups + g;
      const w = new ParamWriter()
        .u(0, s.m)
        .u(1, s.n)
        .u(2, Math.min(kc, s.k - k0))
        .u(3, g * tiles)
        .u(4, orientation === 'n' ? k0 * kStride : k0)
        .u(5, kStride)
        .u(6, (kc * rows) / 4)
        .u(7, chunk > 0 ? 1 : 0)
        .u(8, chunk === chunks - 1 ? 1 : 0);
      const window = { buffer: packed, offset: d * PACK_BYTES, size: PACK_BYTES };
      const buffers = planar?.bias ? [window, texture, dst, planar.bias] : [window, texture, dst];
      rec.dispatch(label, source, w.buffer, buffers, [gx, Math.min(tiles, mblocks - g * tiles), 1]);
    }
  }
  return true;
}

/** Register block of matmul-texture-split: 8×8 (16 texel fetches per 256 FMAs, 64 accumulators). */
const SPLIT_R = 8;
const SPLIT_C = 8;
/**
 * Invocations a split-K dispatch aims for (32 SIMD groups of 8 lanes: every thread busy on a
 * many-core CPU too; 128 and 512 measured the same on the quick network), the shortest K chunk,
 * and the workgroup width (the invocations are numbered across the dispatch, so the width only
 * sets how many workgroups there are).
 */
const SPLIT_INVOCATIONS = 256;
const SPLIT_MIN_K = 256;
const SPLIT_WG = 16;

const splitSources = new Map<string, string>();

/** shaders/tensor/matmul-texture-split.wgsl unrolled for an R×C block and workgroup width. */
export function matmulSplitSource(rows: number, cols: number, wg: number, aPlanar: { plane: number; m: number } | null = null): string {
  const key = `${rows}x${cols}w${wg}/${aPlanar ? `${aPlanar.plane},${aPlanar.m}` : ''}`;
  let source = splitSources.get(key);
  if (source) return source;
  const R = Array.from({ length: rows }, (_, i) => i);
  const C = Array.from({ length: cols }, (_, j) => j);
  // Planar A ([B, M, P], K = B·P): texel kq of row m lies in plane kq / (P/4) at m·P/4 + kq % (P/4).
  const p4 = aPlanar ? aPlanar.plane / 4 : 0;
  const setup = [
    ...R.map((i) => (aPlanar ? `let ta${i} = min(row0 + ${i}u, p.m - 1u) * ${p4}u;` : `let ta${i} = min(row0 + ${i}u, p.m - 1u) * p.a_stride / 4u;`)),
    ...C.map((j) => `let tb${j} = min(col0 + ${j}u, p.n - 1u) * p.b_stride / 4u;`),
    ...R.flatMap((i) => C.map((j) => `var acc${i}_${j} = 0.0;`)),
  ];
  const body = [
    ...(aPlanar ? [`let ka = (kq / ${p4}u) * ${aPlanar.m * p4}u + kq % ${p4}u;`] : []),
    ...R.map((i) => `let a${i} = texel_a(ta${i} + ${aPlanar ? 'ka' : 'kq'});`),
    ...C.map((j) => `let b${j} = texel_b(tb${j} + kq);`),
    ...['x', 'y', 'z', 'w'].flatMap((e) => R.flatMap((i) => C.map((j) => `acc${i}_${j} = fma(a${i}.${e}, b${j}.${e}, acc${i}_${j});`))),
  ];
  const stores = R.flatMap((i) =>
    C.map((j) => `if (row0 + ${i}u < p.m && col0 + ${j}u < p.n) { c[c_base + (row0 + ${i}u) * p.n + col0 + ${j}u] = acc${i}_${j}; }`),
  );
  source =
    `const R: u32 = ${rows}u;\nconst C: u32 = ${cols}u;\nconst WG: u32 = ${wg}u;\n` +
    fillMarker(fillMarker(fillMarker(matmulTextureSplitWgsl, 'SETUP', setup, '  '), 'BODY', body, '    '), 'STORES', stores, '  ');
  splitSources.set(key, source);
  return source;
}

/**
 * How matmul-texture-split cuts K for an M×N×K product: chunks of a multiple of 4 so that
 * splits × output blocks reaches SPLIT_INVOCATIONS, none shorter than SPLIT_MIN_K; `blocks` is
 * the invocations that work (column blocks × splits × row blocks).
 */
export function splitPlan(m: number, n: number, k: number): { wg: number; splits: number; chunk: number; columns: number; blocks: number } {
  const columns = Math.ceil(n / SPLIT_C);
  const outputBlocks = columns * Math.ceil(m / SPLIT_R);
  const wanted = Math.max(1, Math.min(Math.ceil(SPLIT_INVOCATIONS / outputBlocks), Math.floor(k / SPLIT_MIN_K)));
  const chunk = Math.ceil(k / wanted / 4) * 4;
  const splits = Math.ceil(k / chunk);
  return { wg: SPLIT_WG, splits, chunk, columns, blocks: outputBlocks * splits };
}

/**
 * A and B (both along K) into textures, one split-K dispatch into partials, one reduction over
 * the splits. `aPlane` > 0: A is planar ([B, M, P], K = B·P; see TexturePlanar). With `rowSums`
 * the reduction pass also writes Σ_k A[m, k] there (split-reduce-row-sums.wgsl; with one split it
 * runs for the row sums alone).
 */
function matmulTextureSplit(rec: Recorder, a: GPUBuffer, b: GPUBuffer, dst: GPUBuffer, s: Strided, aPlane = 0, rowSums: GPUBuffer | null = null): boolean {
  const aTexels = rec.texels(a, s.m * s.k);
  const bTexels = aTexels && rec.texels(b, s.k * s.n);
  if (!aTexels || !bTexels) return false;
  const { wg, splits, chunk, columns, blocks } = splitPlan(s.m, s.n, s.k);
  const partial = splits === 1 ? dst : rec.scratch(splits * s.m * s.n * 4).buffer;
  const w = new ParamWriter().u(0, s.m).u(1, s.n).u(2, s.k).u(3, chunk).u(4, s.aRow).u(5, s.bCol).u(6, columns).u(7, splits).u(8, blocks);
  const grid = grid1d(blocks, wg);
  const source = matmulSplitSource(SPLIT_R, SPLIT_C, wg, aPlane ? { plane: aPlane, m: s.m } : null);
  rec.dispatch(`matmul-texture-split-${SPLIT_R}x${SPLIT_C}${aPlane ? '-planar' : ''}`, source, w.buffer, [aTexels, bTexels, partial], grid);
  if (rowSums) {
    const elements = s.m * s.n;
    const reduceGroups = splits > 1 ? Math.ceil(elements / 64) : 0;
    const input = splits > 1 ? f32Input(rec, 'partial', 1, partial, splits * elements) : null;
    const constants = [
      ['ELEMENTS', elements],
      ['SPLITS', splits],
      ['REDUCE_GROUPS', reduceGroups],
      ['M', s.m],
      ['ROW_TEXELS', s.k / 4],
    ]
      .map(([name, v]) => `const ${name}: u32 = ${v}u;\n`)
      .join('');
    const p4 = aPlane / 4;
    const rowTexel = aPlane
      ? `fn row_texel(m: u32, j4: u32) -> u32 { return (j4 / ${p4}u) * ${s.m * p4}u + m * ${p4}u + j4 % ${p4}u; }\n`
      : `fn row_texel(m: u32, j4: u32) -> u32 { return m * ${s.aRow / 4}u + j4; }\n`;
    rec.dispatch(
      'split-reduce-row-sums',
      (input ? input.wgsl : 'fn partial_at(i: u32) -> f32 { return 0.0; }\n') +
        constants +
        rowTexel +
        workgroupSumWgsl('workgroup_sum', 'f32') +
        splitReduceRowSumsWgsl,
      new ParamWriter().buffer,
      [input ? input.resource : null, aTexels, dst, rowSums],
      [reduceGroups + s.m, 1, 1],
    );
    return true;
  }
  if (splits > 1) {
    const inner = s.m * s.n;
    const rp = new ParamWriter().u(0, 1).u(1, splits).u(2, inner).u(3, 1).u(4, splits).u(5, inner);
    const input = reduceInput(rec, 'f32', partial, splits * inner);
    rec.dispatch('sum-reduce', input.wgsl + reduceSource('sum', 'f32'), rp.buffer, [input.resource, dst], grid1d(inner));
  }
  return true;
}

/**
 * One product C[M, N] = A·B on software adapters with planar operands (TexturePlanar): a
 * convolution's NCHW tensors read and written as the [channels, B·P] matrices of its wide im2col
 * product, with no transpose pass. One planar role per product:
 *  - `outPlane` (+ `bias`): C written planar, bias[m] added (the forward, y = W·cols + b);
 *  - `bPlane`: B planar [B, K, P] (the column gradient, Wᵀ·g);
 *  - `aPlane`: A planar [B, M, P] along K = B·P, with B given as [N, K] (`transB`; the weight
 *    gradient, g·colsᵀ), through the split-K kernel.
 * A is [M, K] (or [K, M] with `transA`). P of a planar A or B must be a multiple of 4 (a planar C
 * takes any P). False when nothing was encoded (a hardware adapter, or operands past the
 * adapter's texture size): the caller transposes and runs a plain product instead.
 */
export interface PlanarProduct {
  m: number;
  n: number;
  k: number;
  a: GPUBuffer;
  b: GPUBuffer;
  transA?: boolean;
  transB?: boolean;
  aPlane?: number;
  bPlane?: number;
  outPlane?: number;
  bias?: GPUBuffer | null;
}

export function matmulPlanar(rec: Recorder, dst: GPUBuffer, product: PlanarProduct): boolean {
  const { m, n, k, a, b, transA = false, transB = false, aPlane = 0, bPlane = 0, outPlane = 0, bias = null } = product;
  if (!rec.isSoftware || softwareVariant() !== 'texture' || !(m * n * k)) return false;
  if ([aPlane, bPlane, outPlane].filter((x) => x > 0).length !== 1 || (bias && !outPlane))
    throw new Error('matmulPlanar: exactly one of aPlane, bPlane, outPlane (bias only with outPlane)');
  // A planar operand is read by whole texels, which must not span two planes; a planar C of any
  // plane length is stored one float at a time (vec4 stores when P is a multiple of 4).
  if ((aPlane || bPlane) % 4) throw new Error('matmulPlanar: the plane length of a planar A or B must be a multiple of 4');
  const [aRow, aCol] = transA ? [1, m] : [k, 1];
  const [bRow, bCol] = transB ? [1, k] : [n, 1];
  const s = { m, n, k, aRow, aCol, bRow, bCol };
  if (aPlane) {
    if (transA || !transB) throw new Error('matmulPlanar: a planar A takes B as [N, K] (transB) and A untransposed');
    return k % 4 === 0 && matmulTextureSplit(rec, a, b, dst, s, aPlane);
  }
  if (transB) throw new Error('matmulPlanar: a planar B or C takes B as [K, N]');
  if (!bPlane && n % 4) return false;
  return matmulTexture(rec, a, b, dst, s, { bPlane, outPlane, bias });
}

/**
 * C[M, N] = A·Bᵀ by split K on software adapters, with the row sums Σ_k A[m, k] written to
 * `rowSums` by the same final pass: a convolution's weight gradient g·colsᵀ and its bias gradient
 * Σ g, one dispatch fewer than the product and a channel sum. A is [M, K] row-major, or planar
 * [B, M, P] (K = B·P) with `aPlane`; B is [N, K]. K and P multiples of 4. False when nothing was
 * encoded (hardware adapters, another software matmul forced, misaligned operands, operands past
 * the adapter's texture size): the caller runs the product and the sums its own way.
 */
export function matmulSplitWithRowSums(
  rec: Recorder,
  dst: GPUBuffer,
  rowSums: GPUBuffer,
  product: Pick<PlanarProduct, 'm' | 'n' | 'k' | 'a' | 'b' | 'aPlane'>,
): boolean {
  const { m, n, k, a, b, aPlane = 0 } = product;
  if (!rec.isSoftware || softwareVariant() !== 'texture' || !(m * n * k) || k % 4 || aPlane % 4) return false;
  return matmulTextureSplit(rec, a, b, dst, { m, n, k, aRow: k, aCol: 1, bRow: 1, bCol: k }, aPlane, rowSums);
}

/**
 * A plain product C[M, N] = A·B of buffers (A [M, K] or [K, M] with `transA`, B [K, N] or [N, K]
 * with `transB`), through the same kernel choice as the matmul primitive: the fallback of ops that
 * try `matmulPlanar` first.
 */
export function matmulBuffers(rec: Recorder, dst: GPUBuffer, product: Pick<PlanarProduct, 'm' | 'n' | 'k' | 'a' | 'b' | 'transA' | 'transB'>): void {
  const { m, n, k, a, b, transA = false, transB = false } = product;
  if (m * n) encodeMatmul(rec, dst, { m, n, k, batch: 1, aBuf: a, aBatch: 0, bBuf: b, bBatch: 0, transA, transB });
}
