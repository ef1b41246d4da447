/**
 * What every kernel family shares: the Recorder a kernel encodes its dispatches through, the
 * uniform-block writer, the 1-D grid, and the small type and shape helpers. Kernels never see
 * strides of their output: every tensor is contiguous.
 */
import type { StorageView } from '../../backend.ts';
import type { DType } from '../../dtype.ts';
import type { IndexCheck } from '../../primitives.ts';
import { MAX_RANK } from '../../shape.ts';
import type { PooledBuffer } from '../pool.ts';

/** The GPU buffer behind a tensor operand, for kernel bindings. */
export function bufferOf(view: StorageView): GPUBuffer {
  return (view.storage.handle as PooledBuffer).buffer;
}

export interface Recorder {
  /**
   * Encodes one dispatch. `params` fills the 256-byte uniform slot; `buffers` bind from 1 up (a
   * whole buffer, or a `{ buffer, offset, size }` range, e.g. a 64 KiB window bound as uniform).
   */
  dispatch(label: string, source: string, params: ArrayBuffer, buffers: readonly (Binding | null)[], grid: readonly [number, number, number]): void;
  /**
   * A scratch buffer for multi-pass kernels, released after the primitive is encoded. `uniform`:
   * the buffer may also be bound as a uniform buffer (matmul-uniform's packed operand).
   */
  scratch(bytes: number, options?: { uniform?: boolean }): PooledBuffer;
  /**
   * The first `floats` floats of `buffer` (a multiple of 4) copied, in order with the dispatches
   * before, into a backend-owned rgba32float texture laid out linearly (float e is component
   * e % 4 of texel e / 4, texel t at (t % 4096, t / 4096)), for a kernel to read with textureLoad;
   * null when the texture would exceed the adapter's maxTextureDimension2D. Valid for the
   * dispatches of the primitive being encoded (each call gets its own texture).
   */
  texels(buffer: GPUBuffer, floats: number): TextureBinding | null;
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

/** A texture view bound to a kernel (see Recorder.texels). */
export interface TextureBinding {
  textureView: GPUTextureView;
}

/** What a dispatch binds from binding 1 up: a whole buffer, a range, or a texture view. */
export type Binding = GPUBuffer | GPUBufferBinding | TextureBinding;

/** Texels per row of Recorder.texels' textures (a power of two, so a kernel's t % 4096 is a mask). */
export const TEXEL_ROW = 4096;

/** Inputs smaller than this keep storage loads: the copy's fixed cost outweighs the saving. */
export const TEXEL_INPUT_MIN_FLOATS = 16384;

/**
 * A read-only f32 kernel input: its WGSL (a binding named `name` at `binding`,
 * `fn <name>_at(i: u32) -> f32` and `fn <name>_texel(t: u32) -> vec4<f32>`, floats 4t..4t+3) and what
 * to bind. On software adapters an input of at least
 * TEXEL_INPUT_MIN_FLOATS floats is copied into a texture (Recorder.texels) and read through
 * textureLoad, ~10× cheaper per float than a storage load on llvmpipe (tools/bench/memory-paths.ts,
 * docs/kernels.md); otherwise, or when it does not fit a texture, it is read from storage.
 * Kernels written against `<name>_at` take either form unchanged.
 */
export function f32Input(rec: Recorder, name: string, binding: number, buffer: GPUBuffer, floats: number): { resource: Binding; wgsl: string } {
  const texture = rec.isSoftware && floats >= TEXEL_INPUT_MIN_FLOATS ? rec.texels(buffer, floats) : null;
  if (texture) {
    return {
      resource: texture,
      wgsl:
        `@group(0) @binding(${binding}) var ${name}_texels: texture_2d<f32>;\n` +
        `fn ${name}_texel(t: u32) -> vec4<f32> { return textureLoad(${name}_texels, vec2<u32>(t & ${TEXEL_ROW - 1}u, t >> ${Math.log2(TEXEL_ROW)}u), 0); }\n` +
        `fn ${name}_at(i: u32) -> f32 { return ${name}_texel(i >> 2u)[i & 3u]; }\n`,
    };
  }
  return {
    resource: buffer,
    wgsl:
      `@group(0) @binding(${binding}) var<storage, read> ${name}: array<f32>;\n` +
      `fn ${name}_at(i: u32) -> f32 { return ${name}[i]; }\n` +
      `fn ${name}_texel(t: u32) -> vec4<f32> { let i = 4u * t; return vec4<f32>(${name}[i], ${name}[i + 1u], ${name}[i + 2u], ${name}[i + 3u]); }\n`,
  };
}

/**
 * WGSL of `fn <name>(v: T, lane: u32) -> T`: the sum of `v` over a 64-lane workgroup (every lane
 * gets it), an unrolled tree over a workgroup array of its own (`<name>_partial`). One array per
 * reduction function and no barrier inside a loop: on Mesa 22.3 llvmpipe, an array reused for a
 * second sum raced (the read of the first total moved past the barrier after it). Call it from
 * uniform control flow, with the kernel's workgroup size 64.
 */
export function workgroupSumWgsl(name: string, type: 'f32' | 'vec2<f32>'): string {
  const a = `${name}_partial`;
  const steps = [32, 16, 8, 4, 2].map((k) => `  if (lane < ${k}u) { ${a}[lane] = ${a}[lane] + ${a}[lane + ${k}u]; }\n  workgroupBarrier();`).join('\n');
  return (
    `var<workgroup> ${a}: array<${type}, 64>;\n` +
    `fn ${name}(v: ${type}, lane: u32) -> ${type} {\n  ${a}[lane] = v;\n  workgroupBarrier();\n${steps}\n` +
    `  let total = ${a}[0] + ${a}[1];\n  workgroupBarrier();\n  return total;\n}\n`
  );
}

/**
 * `text` with the line holding `{{marker}}` replaced by `lines` (each indented): how a kernel
 * template's host-generated parts (bindings, loads, unrolled bodies) go in.
 */
export function fillMarker(text: string, marker: string, lines: readonly string[], indent = ''): string {
  // The whole line holding the marker is replaced, so a second mention (in a comment that names
  // the marker) would take the fill instead of the marker: require exactly one.
  const count = text.split(`{{${marker}}}`).length - 1;
  if (count !== 1) throw new Error(`fillMarker: {{${marker}}} must occur exactly once in the kernel template, found ${count}`);
  return text.replace(new RegExp(`^.*\\{\\{${marker}\\}\\}.*$`, 'm'), lines.map((l) => indent + l).join('\n'));
}

export const WORKGROUP = 64;
const MAX_GROUPS = 65535;

/** A 1-D grid of `width`-wide workgroups (64 unless given) for n invocations, folded into y past 65,535 groups. */
export function grid1d(n: number, width = WORKGROUP): [number, number, number] {
  const groups = Math.ceil(n / width);
  if (groups <= MAX_GROUPS) return [Math.max(groups, 1), 1, 1];
  return [MAX_GROUPS, Math.ceil(groups / MAX_GROUPS), 1];
}

export const wgslType = (d: DType) => (d === 'i32' ? 'i32' : 'f32');

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

export function scalarBits(value: number, dtype: DType): number {
  const w = new ParamWriter();
  if (dtype === 'i32') w.i(0, value);
  else w.f(0, value);
  return new Uint32Array(w.buffer)[0];
}

/** Index vectors of ones and zeros (unit steps, zero starts) for strided copies. */
export const ones = (n: number) => new Array<number>(n).fill(1);
export const zerosOf = (n: number) => new Array<number>(n).fill(0);
