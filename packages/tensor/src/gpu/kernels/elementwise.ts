/**
 * Elementwise kernels (shaders/tensor/elementwise.wgsl): unary and binary ops, where and cast, over
 * up to three broadcast operands. Holds the WGSL expression of each op, the per-specialisation
 * source cache and the axis coalescing that keeps broadcast index arithmetic short.
 */
import type { Operand, OutputSpec, StorageView } from '../../backend.ts';
import { elementwiseTexelWgsl, elementwiseWgsl } from '../../generated/wgsl.ts';
import type { BinaryOp, UnaryOp } from '../../primitives.ts';
import { broadcastStrides, sizeOf, type Shape } from '../../shape.ts';
import { type Binding, bufferOf, f32Input, fillMarker, grid1d, ParamWriter, type Recorder, scalarBits, wgslType } from './common.ts';

export const UNARY_EXPR: { [U in UnaryOp]: string } = {
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

export const BINARY_EXPR: { [B in BinaryOp]: string } = {
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

/** An elementwise kernel's source: its type header, the helpers, and the template's BINDINGS and LOADS filled. */
function assemble(template: string, header: readonly string[], bindings: readonly string[], loads: readonly string[]): string {
  return [header.join('\n'), ELEMENTWISE_HELPERS, fillMarker(fillMarker(template, 'BINDINGS', bindings), 'LOADS', loads, '  ')].join('\n');
}

/** Elementwise op over 1–3 operands with broadcasting; scalars travel in the uniform block. */
export function elementwise(rec: Recorder, label: string, expr: string, inputs: readonly Operand[], out: OutputSpec, outBuffer: GPUBuffer): void {
  const n = sizeOf(out.shape);
  if (n === 0) return;
  if (texelEligible(rec, label, inputs, out, n)) return elementwiseTexels(rec, label, expr, inputs, out, outBuffer, n);
  const w = new ParamWriter().u(0, n);
  const header: string[] = [];
  const bindings: string[] = [];
  const loads: string[] = [];
  const buffers: (Binding | null)[] = [null, null, null, outBuffer];
  const texelOperands: number[] = [];
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
    const buffer = bufferOf(operand);
    const same = operand.shape.length === out.shape.length && operand.shape.every((d, i) => d === out.shape[i]);
    const single = !same && sizeOf(operand.shape) === 1;
    // f32 tensors read through f32Input (texels on software adapters when large); i32 and
    // one-element operands from storage.
    const input = operand.dtype === 'f32' && !single ? f32Input(rec, `in${k}`, k + 1, buffer, sizeOf(operand.shape)) : null;
    if (input) {
      bindings.push(input.wgsl);
      buffers[k] = input.resource;
      if ('textureView' in input.resource) texelOperands.push(k);
    } else {
      bindings.push(`@group(0) @binding(${k + 1}) var<storage, read> in${k}: array<T${k}>;\nfn in${k}_at(i: u32) -> T${k} { return in${k}[i]; }`);
      buffers[k] = buffer;
    }
    if (same) {
      loads.push(`let x${k} = in${k}_at(i);`);
      modes.push(0);
    } else if (single) {
      loads.push(`let x${k} = in${k}_at(0u);`);
      modes.push(4);
    } else {
      broadcastOperands.push([k, broadcastStrides(operand.shape, out.shape)]);
      loads.push(`let x${k} = in${k}_at(INDEX(p.strides${k}));`);
      modes.push(1);
    }
  }
  // Broadcast index arithmetic costs a div/mod per axis and element: merge the axes that every
  // broadcast operand walks contiguously (e.g. [N, C, H, W] + [C, 1, 1] becomes rank 3 → 2).
  const merged = coalesceAxes(
    out.shape,
    broadcastOperands.map(([, strides]) => strides),
  );
  // Up to 3 merged axes fit the dispatch grid itself (GRID in elementwise.wgsl): no index division.
  const grid = gridShape(merged.shape, broadcastOperands.length > 0);
  if (grid) {
    const pad = 3 - merged.shape.length;
    w.u(1, 3).dims(8, grid);
    broadcastOperands.forEach(([k], j) => w.dims(16 + 8 * k, [...Array(pad).fill(0), ...merged.strides[j]]));
  } else {
    w.u(1, merged.shape.length).dims(8, merged.shape);
    broadcastOperands.forEach(([k], j) => w.dims(16 + 8 * k, merged.strides[j]));
  }
  header.push(`alias TO = ${wgslType(out.dtype)};`);
  header.push(`const GRID = ${grid !== null};`);
  // The specialisation is fully described by the op, operand modes and types: build its source
  // once (string assembly per op would dominate the cost of tiny ops).
  const key = `${label}|${modes.join('')}|${header.join('')}|${texelOperands.join('')}`;
  let source = elementwiseSources.get(key);
  if (!source) {
    bindings.push(`@group(0) @binding(4) var<storage, read_write> out: array<TO>;`);
    header.push(`fn op(x0: T0, x1: T1, x2: T2) -> TO { return TO(${expr}); }`);
    const index = grid ? 'grid_index(pos, ' : 'broadcast_index(i, ';
    source = assemble(
      elementwiseWgsl,
      header,
      bindings,
      loads.map((l) => l.replace(/INDEX\(/g, index)),
    );
    elementwiseSources.set(key, source);
  }
  // Four elements per invocation (PER_INVOCATION in elementwise.wgsl), along the inner axis with GRID.
  const dispatchGrid: [number, number, number] = grid ? [Math.ceil(Math.ceil(grid[2] / 4) / 64), grid[1], grid[0]] : grid1d(Math.ceil(n / 4));
  rec.dispatch(`${label}[${modes.join('')}]`, source, w.buffer, buffers, dispatchGrid);
}

/** The largest workgroup count per grid dimension every adapter allows (WebGPU's default limit). */
const MAX_GRID = 65535;

/**
 * [outer, middle, inner] when the merged shape (≤ 3 axes, leading 1s added) fits the dispatch grid
 * and some operand broadcasts (only then is there index arithmetic to save); else null.
 */
function gridShape(shape: readonly number[], broadcasting: boolean): [number, number, number] | null {
  if (!broadcasting || shape.length > 3) return null;
  const [outer, middle, inner] = [...Array(3 - shape.length).fill(1), ...shape] as [number, number, number];
  if (outer > MAX_GRID || middle > MAX_GRID || Math.ceil(Math.ceil(inner / 4) / 64) > MAX_GRID) return null;
  return [outer, middle, inner];
}

/**
 * The whole-texel kernel (elementwise-texel.wgsl) applies on software adapters when the element
 * count is a multiple of 4 and every tensor operand is an f32 tensor of the output's shape or a
 * one-element tensor; scalars are fine. `where` keeps the general kernel (its condition's scalar
 * typing rule lives there).
 */
function texelEligible(rec: Recorder, label: string, inputs: readonly Operand[], out: OutputSpec, n: number): boolean {
  if (!rec.isSoftware || n % 4 !== 0 || label === 'where') return false;
  return inputs.every((operand) => {
    if (typeof operand === 'number') return true;
    if (operand.dtype !== 'f32') return false;
    const size = sizeOf(operand.shape);
    return size === 1 || (size === n && operand.shape.length === out.shape.length && operand.shape.every((d, i) => d === out.shape[i]));
  });
}

const texelSources = new Map<string, string>();

function elementwiseTexels(rec: Recorder, label: string, expr: string, inputs: readonly Operand[], out: OutputSpec, outBuffer: GPUBuffer, n: number): void {
  const texels = n / 4;
  const w = new ParamWriter().u(0, texels);
  const header: string[] = [];
  const bindings: string[] = [];
  const loads: string[] = [];
  const buffers: (Binding | null)[] = [null, null, null, outBuffer];
  const modes: string[] = [];
  for (let k = 0; k < 3; k++) {
    const operand = inputs[k];
    if (operand === undefined) {
      header.push(`alias T${k} = f32;`);
      loads.push(`let v${k} = vec4<f32>(0.0);`);
      modes.push('z');
    } else if (typeof operand === 'number') {
      // As in the general kernel, a scalar takes its tensor partners' dtype (f32 here), else the result's.
      const dtype = inputs.some((x) => typeof x !== 'number' && x !== undefined) ? 'f32' : out.dtype;
      header.push(`alias T${k} = ${wgslType(dtype)};`);
      w.u(4 + k, scalarBits(operand, dtype));
      loads.push(`let v${k} = vec4<T${k}>(bitcast<T${k}>(p.scalars[${k}]));`);
      modes.push('s');
    } else {
      header.push(`alias T${k} = f32;`);
      const buffer = bufferOf(operand);
      const size = sizeOf(operand.shape);
      if (size === 1) {
        bindings.push(`@group(0) @binding(${k + 1}) var<storage, read> in${k}: array<f32>;`);
        buffers[k] = buffer;
        loads.push(`let v${k} = vec4<f32>(in${k}[0]);`);
        modes.push('1');
      } else {
        const input = f32Input(rec, `in${k}`, k + 1, buffer, size);
        bindings.push(input.wgsl);
        buffers[k] = input.resource;
        loads.push(`let v${k} = in${k}_texel(t);`);
        modes.push('textureView' in input.resource ? 't' : 'b');
      }
    }
  }
  header.push(`alias TO = ${wgslType(out.dtype)};`);
  const key = `${label}|${modes.join('')}|${header.join('')}`;
  let source = texelSources.get(key);
  if (!source) {
    bindings.push(`@group(0) @binding(4) var<storage, read_write> out: array<vec4<TO>>;`);
    header.push(`fn op(x0: T0, x1: T1, x2: T2) -> TO { return TO(${expr}); }`);
    source = assemble(elementwiseTexelWgsl, header, bindings, loads);
    texelSources.set(key, source);
  }
  // Four texels per invocation (TEXELS_PER_INVOCATION in elementwise-texel.wgsl).
  rec.dispatch(`${label}[${modes.join('')}]`, source, w.buffer, buffers, grid1d(Math.ceil(texels / 4)));
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
