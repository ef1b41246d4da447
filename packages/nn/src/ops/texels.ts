/**
 * Plane-wise kernels (BatchNorm's, the conv output transpose) over [N, C, inner] tensors read and
 * write whole texels on software adapters when a plane is a multiple of 4 floats long.
 */
import type { Recorder } from '@fairgpu/tensor/internal';

/**
 * Whether a kernel walks the planes of a [N, C, inner] tensor a vec4 at a time: on software
 * adapters, when a plane is a whole number of texels (one textureLoad and one vec4 store per four
 * floats instead of one each per float).
 */
export function byTexels(rec: Recorder, inner: number): boolean {
  return rec.isSoftware && inner % 4 === 0;
}

/**
 * A kernel's output `name` at `binding` with `fn <name>_set(i, v: f32)` and `fn <name>_set4(t,
 * v: vec4<f32>)` (floats 4t..4t+3): declared as vec4s when the kernel goes by texels (a vec4 store
 * costs half as much per float on llvmpipe), else as floats.
 */
export function outputBinding(binding: number, name: string, texels: boolean): string {
  const decl = `@group(0) @binding(${binding}) var<storage, read_write> ${name}: array<${texels ? 'vec4<f32>' : 'f32'}>;\n`;
  if (texels) return `${decl}fn ${name}_set(i: u32, v: f32) { ${name}[i >> 2u][i & 3u] = v; }\nfn ${name}_set4(t: u32, v: vec4<f32>) { ${name}[t] = v; }\n`;
  return `${decl}fn ${name}_set(i: u32, v: f32) { ${name}[i] = v; }\nfn ${name}_set4(t: u32, v: vec4<f32>) { let i = 4u * t; ${name}[i] = v.x; ${name}[i + 1u] = v.y; ${name}[i + 2u] = v.z; ${name}[i + 3u] = v.w; }\n`;
}
