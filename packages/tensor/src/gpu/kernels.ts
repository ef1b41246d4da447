import type { Operand, OutputSpec, StorageView } from '../backend.ts';
import type { DType } from '../dtype.ts';
import { isBinaryOp, isUnaryOp, type BinaryOp, type IndexCheck, type Params, type Primitive, type UnaryOp } from '../primitives.ts';
import { broadcastStrides, contiguousStrides, MAX_RANK, sizeOf, type Shape } from '../shape.ts';
import { elementwiseWgsl, gatherWgsl, matmulBlockedWgsl, matmulParamsWgsl, matmulTiledWgsl, movementWgsl, reduceWgsl } from '../generated/wgsl.ts';
import type { PooledBuffer } from './pool.ts';

/**
 * Host side of the tensor kernels: for each primitive, the WGSL specialisation, the uniform
 * parameters and the grid. Kernels never see strides of their output: every tensor is contiguous.
 */
/** The GPU buffer behind a tensor operand, for kernel bindings. */
export function bufferOf(view: StorageView): GPUBuffer {
  return (view.storage.handle as PooledBuffer).buffer;
}

export interface Recorder {
  /** Encodes one dispatch. `params` fills the 256-byte uniform slot; `buffers` bind from 1 up. */
  dispatch(label: string, source: string, params: ArrayBuffer, buffers: readonly (GPUBuffer | null)[], grid: readonly [number, number, number]): void;
  /** A scratch buffer for multi-pass kernels, released after the primitive is encoded. */
  scratch(bytes: number): PooledBuffer;
  readonly matmulKernel: 'blocked' | 'tiled';
  /** The device's limits (compatibility adapters: 128 invocations, 16 KiB workgroup memory). */
  readonly limits: GPUSupportedLimits;
  /** True on software adapters (llvmpipe, lavapipe, SwiftShader): favour register blocking. */
  readonly isSoftware: boolean;
  /**
   * The device check flag (one atomic u32 word, bind it read_write) and the code a kernel raises
   * it to (atomicMax) on invalid input; the next readback throws `InvalidArgumentError(op,
   * argument, rule)` for the largest code raised (the earliest-registered check). Codes are stable per (op, argument, rule).
   */
  checkFlag(check: IndexCheck): { buffer: GPUBuffer; code: number };
}

export const WORKGROUP = 64;
const MAX_GROUPS = 65535;

/** A 1-D grid of 64-wide workgroups for n invocations, folded into y past 65,535 groups. */
export function grid1d(n: number): [number, number, number] {
  const groups = Math.ceil(n / WORKGROUP);
  if (groups <= MAX_GROUPS) return [Math.max(groups, 1), 1, 1];
  return [MAX_GROUPS, Math.ceil(groups / MAX_GROUPS), 1];
}

const wgslType = (d: DType) => (d === 'i32' ? 'i32' : 'f32');

/** Writes little-endian u32/i32/f32 words into a 256-byte params block (the uniform slot). */
export class ParamWriter {
  readonly buffer = new ArrayBuffer(256);
  private readonly u32 = new Uint32Array(this.buffer);
  private readonly i32 = new Int32Array(this.buffer);
  private readonly f32 = new Float32Array(this.buffer);
  u(word: number, value: number): this {
    this.u32[word] = value;
    return this;
  }
  i(word: number, value: number): this {
    this.i32[word] = value;
    return this;
  }
  f(word: number, value: number): this {
    this.f32[word] = value;
    return this;
  }
  /** An array<vec4<u32|i32>, 2> (8 words) starting at `word`. */
  dims(word: number, values: readonly number[], signed = false): this {
    for (let d = 0; d < MAX_RANK; d++) (signed ? this.i32 : this.u32)[word + d] = values[d] ?? 0;
    return this;
  }
}

function scalarBits(value: number, dtype: DType): number {
  const w = new ParamWriter();
  if (dtype === 'i32') w.i(0, value);
  else w.f(0, value);
  return new Uint32Array(w.buffer)[0];
}

const UNARY_EXPR: { [U in UnaryOp]: string } = {
  neg: '-x0',
  exp: 'exp(x0)',
  log: 'log(x0)',
  sqrt: 'sqrt(x0)',
  abs: 'abs(x0)',
  sign: 'select(select(T0(0), T0(1), x0 > T0(0)), T0(-1), x0 < T0(0))',
  // tanh saturates in f32 beyond |x| = 9; the clamp keeps exp() inside some adapters' tanh finite.
  tanh: 'tanh(clamp(x0, -15.0, 15.0))',
  sigmoid: 'sigmoid_stable(x0)',
  relu: 'max(x0, T0(0))',
  sin: 'sin(x0)',
  cos: 'cos(x0)',
  recip: '1.0 / x0',
  floor: 'floor(x0)',
};

const BINARY_EXPR: { [B in BinaryOp]: string } = {
  add: 'x0 + x1',
  sub: 'x0 - x1',
  mul: 'x0 * x1',
  div: 'x0 / x1',
  pow: 'pow_real(x0, x1)',
  maximum: 'max(x0, x1)',
  minimum: 'min(x0, x1)',
  eq: 'select(0.0, 1.0, x0 == x1)',
  ne: 'select(0.0, 1.0, x0 != x1)',
  lt: 'select(0.0, 1.0, x0 < x1)',
  le: 'select(0.0, 1.0, x0 <= x1)',
  gt: 'select(0.0, 1.0, x0 > x1)',
  ge: 'select(0.0, 1.0, x0 >= x1)',
};

// Helpers some expressions call. WGSL's pow is undefined for a negative base; PyTorch's is real for
// integral exponents, so handle that case explicitly.
const ELEMENTWISE_HELPERS = `
fn sigmoid_stable(x: f32) -> f32 {
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}
fn pow_real(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (a >= 0.0) { return pow(a, b); }
  if (floor(b) != b) { return pow(a, b); } // undefined in WGSL, NaN in practice, as in PyTorch
  let m = pow(-a, b);
  return select(m, -m, (abs(b) % 2.0) == 1.0);
}
`;

const elementwiseSources = new Map<string, string>();

/** Elementwise op over 1–3 operands with broadcasting; scalars travel in the uniform block. */
export function elementwise(rec: Recorder, label: string, expr: string, inputs: readonly Operand[], out: OutputSpec, outBuffer: GPUBuffer): void {
  const n = sizeOf(out.shape);
  if (n === 0) return;
  const w = new ParamWriter().u(0, n);
  const header: string[] = [];
  const bindings: string[] = [];
  const loads: string[] = [];
  const buffers: (GPUBuffer | null)[] = [null, null, null, outBuffer];
  const modes: number[] = [];
  const broadcastOperands: [number, number[]][] = [];
  for (let k = 0; k < 3; k++) {
    const operand = inputs[k];
    const type = operand === undefined ? 'f32' : typeof operand === 'number' ? wgslType(out.dtype) : wgslType(operand.dtype);
    header.push(`alias T${k} = ${type};`);
    if (operand === undefined) {
      loads.push(`let x${k} = T${k}(0);`);
      modes.push(3);
      continue;
    }
    if (typeof operand === 'number') {
      // A scalar takes the dtype of its tensor partner: the result's, except for comparisons
      // (f32 masks of any operands) and where's condition.
      const partner = inputs.find((x, j): x is StorageView => typeof x !== 'number' && (label !== 'where' || j > 0));
      const dtype = label === 'where' && k === 0 ? 'f32' : (partner?.dtype ?? out.dtype);
      header[k] = `alias T${k} = ${wgslType(dtype)};`;
      w.u(4 + k, scalarBits(operand, dtype));
      loads.push(`let x${k} = bitcast<T${k}>(p.scalars[${k}]);`);
      modes.push(2);
      continue;
    }
    bindings.push(`@group(0) @binding(${k + 1}) var<storage, read> in${k}: array<T${k}>;`);
    buffers[k] = (operand.storage.handle as PooledBuffer).buffer;
    const same = operand.shape.length === out.shape.length && operand.shape.every((d, i) => d === out.shape[i]);
    if (same) {
      loads.push(`let x${k} = in${k}[i];`);
      modes.push(0);
    } else if (sizeOf(operand.shape) === 1) {
      loads.push(`let x${k} = in${k}[0];`);
      modes.push(4);
    } else {
      broadcastOperands.push([k, broadcastStrides(operand.shape, out.shape)]);
      loads.push(`let x${k} = in${k}[broadcast_index(i, p.strides${k})];`);
      modes.push(1);
    }
  }
  // Broadcast index arithmetic costs a div/mod per axis and element: merge the axes that every
  // broadcast operand walks contiguously (e.g. [N, C, H, W] + [C, 1, 1] becomes rank 3 → 2).
  const merged = coalesceAxes(
    out.shape,
    broadcastOperands.map(([, strides]) => strides),
  );
  w.u(1, merged.shape.length).dims(8, merged.shape);
  broadcastOperands.forEach(([k], j) => w.dims(16 + 8 * k, merged.strides[j]));
  header.push(`alias TO = ${wgslType(out.dtype)};`);
  // The specialisation is fully described by the op, operand modes and types: build its source
  // once (string assembly per op would dominate the cost of tiny ops).
  const key = `${label}|${modes.join('')}|${header.join('')}`;
  let source = elementwiseSources.get(key);
  if (!source) {
    bindings.push(`@group(0) @binding(4) var<storage, read_write> out: array<TO>;`);
    header.push(`fn op(x0: T0, x1: T1, x2: T2) -> TO { return TO(${expr}); }`);
    source = [
      header.join('\n'),
      ELEMENTWISE_HELPERS,
      elementwiseWgsl.replace(/^.*\{\{BINDINGS\}\}.*$/m, bindings.join('\n')).replace(/^.*\{\{LOADS\}\}.*$/m, loads.map((l) => `  ${l}`).join('\n')),
    ].join('\n');
    elementwiseSources.set(key, source);
  }
  rec.dispatch(`${label}[${modes.join('')}]`, source, w.buffer, buffers, grid1d(n));
}

/**
 * Drops size-1 axes and merges adjacent axes that every operand walks contiguously (its stride on
 * the outer axis equals stride × extent of the inner one; broadcast axes have stride 0 on both).
 */
export function coalesceAxes(shape: Shape, stridesList: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = stridesList.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = outShape.length - 1;
    const mergeable = last >= 0 && stridesList.every((strides, k) => outStrides[k][last] === strides[d] * shape[d]);
    if (mergeable) {
      outShape[last] *= shape[d];
      stridesList.forEach((strides, k) => (outStrides[k][last] = strides[d]));
    } else {
      outShape.push(shape[d]);
      stridesList.forEach((strides, k) => outStrides[k].push(strides[d]));
    }
  }
  if (outShape.length === 0) return { shape: [1], strides: stridesList.map(() => [0]) };
  return { shape: outShape, strides: outStrides };
}

/** Splits a sorted axis list into maximal runs of consecutive axes. */
function axisRuns(axes: readonly number[]): [number, number][] {
  const runs: [number, number][] = [];
  for (const a of axes) {
    const last = runs[runs.length - 1];
    if (last && last[1] === a - 1) last[1] = a;
    else runs.push([a, a]);
  }
  return runs;
}

function reduceSource(op: 'sum' | 'max', dtype: DType): string {
  const t = wgslType(dtype);
  const identity = op === 'sum' ? `${t}(0)` : dtype === 'i32' ? 'i32(-2147483647 - 1)' : '-3.4028234663852886e38';
  const combine = op === 'sum' ? 'a + b' : 'max(a, b)';
  return `alias T = ${t};\nconst IDENTITY: T = ${identity};\nfn combine(a: T, b: T) -> T { return ${combine}; }\n${reduceWgsl}`;
}

/**
 * Sum or max over sorted axes. Each run of adjacent axes is one pass over an [outer, K, inner] view
 * (the last run first); long axes with few outputs are split into chunks and finished by a second
 * pass, so a full reduction still uses many invocations.
 */
export function reduce(rec: Recorder, op: 'sum' | 'max', x: StorageView, axes: readonly number[], outBuffer: GPUBuffer): void {
  const outSize = sizeOf(x.shape.filter((_, i) => !axes.includes(i)));
  if (outSize === 0) return;
  const source = reduceSource(op, x.dtype);
  let shape = [...x.shape];
  let src = (x.storage.handle as PooledBuffer).buffer;
  const runs = axisRuns(axes).reverse();
  runs.forEach(([a0, a1], r) => {
    const outer = sizeOf(shape.slice(0, a0));
    const k = sizeOf(shape.slice(a0, a1 + 1));
    const inner = sizeOf(shape.slice(a1 + 1));
    const isLast = r === runs.length - 1;
    const dst = isLast ? outBuffer : rec.scratch(outer * inner * 4).buffer;
    const pass = (from: GPUBuffer, to: GPUBuffer, o: number, kk: number, inn: number, chunks: number) => {
      const chunkLen = Math.ceil(kk / chunks);
      const total = o * chunks * inn;
      const w = new ParamWriter().u(0, o).u(1, kk).u(2, inn).u(3, chunks).u(4, chunkLen).u(5, total);
      rec.dispatch(`${op}-reduce`, source, w.buffer, [from, to], grid1d(total));
    };
    const outputs = outer * inner;
    const chunks = outputs < 4096 && k >= 1024 ? Math.min(Math.ceil(k / 256), Math.ceil(16384 / outputs)) : 1;
    if (chunks > 1) {
      const partial = rec.scratch(outer * chunks * inner * 4).buffer;
      pass(src, partial, outer, k, inner, chunks);
      pass(partial, dst, outer, chunks, inner, 1);
    } else {
      pass(src, dst, outer, k, inner, 1);
    }
    src = dst;
    shape = [...shape.slice(0, a0), 1, ...shape.slice(a1 + 1)];
  });
}

/** One strided copy (see shaders/tensor/movement.wgsl). */
interface CopySpec {
  shape: Shape;
  start: readonly number[];
  step: readonly number[];
  srcExtent: readonly number[];
  srcStride: readonly number[];
  dstStride?: readonly number[];
  srcOffset?: number;
  dstOffset?: number;
  padValue?: number;
}

export function stridedCopy(rec: Recorder, label: string, dtype: DType, spec: CopySpec, src: GPUBuffer, dst: GPUBuffer): void {
  const n = sizeOf(spec.shape);
  if (n === 0) return;
  const w = new ParamWriter()
    .u(0, n)
    .u(1, spec.shape.length)
    .u(2, spec.srcOffset ?? 0)
    .u(3, spec.dstOffset ?? 0)
    .u(4, scalarBits(spec.padValue ?? 0, dtype))
    .dims(8, spec.shape)
    .dims(16, spec.start, true)
    .dims(24, spec.step, true)
    .dims(32, spec.srcExtent)
    .dims(40, spec.srcStride)
    .dims(48, spec.dstStride ?? contiguousStrides(spec.shape));
  rec.dispatch(label, `alias T = ${wgslType(dtype)};\n${movementWgsl}`, w.buffer, [src, dst], grid1d(n));
}

const ones = (n: number) => new Array<number>(n).fill(1);
const zerosOf = (n: number) => new Array<number>(n).fill(0);

export function movement<P extends 'permute' | 'expand' | 'slice' | 'pad'>(
  rec: Recorder,
  primitive: P,
  x: StorageView,
  params: Params<P>,
  out: OutputSpec,
  dst: GPUBuffer,
): void {
  const src = (x.storage.handle as PooledBuffer).buffer;
  const inStrides = contiguousStrides(x.shape);
  const r = out.shape.length;
  switch (primitive) {
    case 'permute': {
      const { axes } = params as Params<'permute'>;
      stridedCopy(
        rec,
        'permute',
        x.dtype,
        {
          shape: out.shape,
          start: zerosOf(r),
          step: ones(r),
          srcExtent: axes.map((a) => x.shape[a]),
          srcStride: axes.map((a) => inStrides[a]),
        },
        src,
        dst,
      );
      return;
    }
    case 'expand':
      stridedCopy(
        rec,
        'expand',
        x.dtype,
        {
          shape: out.shape,
          start: zerosOf(r),
          step: ones(r),
          srcExtent: out.shape,
          srcStride: broadcastStrides(x.shape, out.shape),
        },
        src,
        dst,
      );
      return;
    case 'slice': {
      const { starts, steps } = params as Params<'slice'>;
      stridedCopy(rec, 'slice', x.dtype, { shape: out.shape, start: starts, step: steps, srcExtent: x.shape, srcStride: inStrides }, src, dst);
      return;
    }
    case 'pad': {
      const { widths, value } = params as Params<'pad'>;
      stridedCopy(
        rec,
        'pad',
        x.dtype,
        {
          shape: out.shape,
          start: widths.map(([before]) => -before),
          step: ones(r),
          srcExtent: x.shape,
          srcStride: inStrides,
          padValue: value,
        },
        src,
        dst,
      );
      return;
    }
  }
}

export function concat(rec: Recorder, inputs: readonly StorageView[], axis: number, out: OutputSpec, dst: GPUBuffer): void {
  const outStrides = contiguousStrides(out.shape);
  let offset = 0;
  for (const x of inputs) {
    const r = x.shape.length;
    stridedCopy(
      rec,
      'concat',
      out.dtype,
      {
        shape: x.shape,
        start: zerosOf(r),
        step: ones(r),
        srcExtent: x.shape,
        srcStride: contiguousStrides(x.shape),
        dstStride: outStrides,
        dstOffset: offset * outStrides[axis],
      },
      (x.storage.handle as PooledBuffer).buffer,
      dst,
    );
    offset += x.shape[axis];
  }
}

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
  // A is stored [M, K] (or [K, M] when transposed); B is [K, N] (or [N, K]).
  const [aRow, aCol] = params.transA ? [1, m] : [k, 1];
  const [bRow, bCol] = params.transB ? [1, k] : [n, 1];
  const w = new ParamWriter().u(0, m).u(1, n).u(2, k).u(3, batch).u(4, aBatch).u(5, aRow).u(6, aCol).u(7, 1).u(8, bBatch).u(9, bRow).u(10, bCol).u(11, k);
  if (rec.matmulKernel === 'tiled') {
    rec.dispatch('matmul-tiled', matmulParamsWgsl + matmulTiledWgsl, w.buffer, [aBuf, bBuf, dst], [Math.ceil(n / 64), Math.ceil(m / 64), batch]);
    return;
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
  rec.dispatch('sum-reduce', reduceSource('sum', 'f32'), rp.buffer, [partial, dst], grid1d(inner));
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
  const fill = (text: string, marker: string, lines: string[], indent: string) =>
    text.replace(new RegExp(`^.*\\{\\{${marker}\\}\\}.*$`, 'm'), lines.map((l) => indent + l).join('\n'));
  source =
    `const R: u32 = ${rows}u;\nconst C: u32 = ${cols}u;\n${matmulParamsWgsl}\n` +
    fill(fill(fill(matmulBlockedWgsl, 'SETUP', setup, '  '), 'BODY', body, '    '), 'STORES', stores, '  ');
  matmulBlockedSources.set(key, source);
  return source;
}

export function gather(
  rec: Recorder,
  scatter: boolean,
  values: StorageView,
  index: StorageView,
  axis: number,
  check: IndexCheck | undefined,
  out: OutputSpec,
  dst: GPUBuffer,
): void {
  const srcShape = scatter ? out.shape : values.shape;
  const total = sizeOf(out.shape);
  if (total === 0) return;
  const w = new ParamWriter()
    .u(0, sizeOf(srcShape.slice(0, axis)))
    .u(1, srcShape[axis])
    .u(2, index.shape[axis])
    .u(3, sizeOf(srcShape.slice(axis + 1)))
    .u(4, total);
  const flag = rec.checkFlag(check ?? { op: scatter ? 'scatterAdd' : 'gather', argument: 'index', rule: `must hold indices in [0, ${srcShape[axis]})` });
  w.u(5, flag.code);
  const source = `alias T = ${wgslType(out.dtype)};\nconst SCATTER: bool = ${scatter};\n${gatherWgsl}`;
  const buffers = [(values.storage.handle as PooledBuffer).buffer, (index.storage.handle as PooledBuffer).buffer, dst, flag.buffer];
  rec.dispatch(scatter ? 'scatter-add' : 'gather', source, w.buffer, buffers, grid1d(total));
}

/** Routes a primitive to its kernel. */
export function encodePrimitive<P extends Primitive>(
  rec: Recorder,
  primitive: P,
  inputs: readonly Operand[],
  params: Params<P>,
  out: OutputSpec,
  dst: GPUBuffer,
): void {
  if (isUnaryOp(primitive)) return elementwise(rec, primitive, UNARY_EXPR[primitive], inputs, out, dst);
  if (isBinaryOp(primitive)) return elementwise(rec, primitive, BINARY_EXPR[primitive], inputs, out, dst);
  const views = inputs as readonly StorageView[];
  const p = params as never;
  switch (primitive) {
    case 'where':
      return elementwise(rec, 'where', 'select(x2, x1, x0 != T0(0))', inputs, out, dst);
    case 'cast':
      return elementwise(rec, 'cast', 'x0', inputs, out, dst);
    case 'sum':
    case 'max':
      return reduce(rec, primitive, views[0], (p as Params<'sum'>).axes, dst);
    case 'matmul':
      return matmul(rec, views[0], views[1], p, out, dst);
    case 'permute':
    case 'expand':
    case 'slice':
    case 'pad':
      return movement(rec, primitive, views[0], p, out, dst);
    case 'concat':
      return concat(rec, views, (p as Params<'concat'>).axis, out, dst);
    case 'gather':
    case 'scatterAdd':
      return gather(rec, primitive === 'scatterAdd', views[0], views[1], (p as Params<'gather'>).axis, (p as Params<'gather'>).check, out, dst);
    case 'custom': {
      const { op, attrs } = p as Params<'custom'>;
      return op.gpu(rec, inputs, out, dst, attrs);
    }
    case 'reshape':
      throw new Error('reshape shares storage and never reaches a kernel');
  }
  throw new Error(`no GPU kernel for primitive '${primitive}'`);
}
