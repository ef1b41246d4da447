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
 * How a per-channel reduction or the plane-wise BatchNorm backward reads the planes of a [N, C,
 * inner] tensor: 1 by whole texels (as `byTexels`); 2 by texel windows, on software adapters when
 * a plane is at least 8 floats but not a whole number of texels (a 7×7 plane: 49 floats over 13
 * texels shared with its neighbours): each plane's texels are fetched once and the floats outside
 * it are masked (`planeWindowWgsl`), 13 fetches instead of 49; 0 a float at a time.
 */
export function planeTexels(rec: Recorder, inner: number): 0 | 1 | 2 {
  if (byTexels(rec, inner)) return 1;
  return rec.isSoftware && inner >= 8 ? 2 : 0;
}

/**
 * WGSL for `planeTexels` (after the kernel's `const p` with `outer`, `channels`, `inner`, `count`
 * and `texels`, and its input x):
 * - `fn plane_window(c, j4) -> PlaneWindow` (mode 2) numbers the texels that plane n of channel c
 *   touches as j4 = n·WINDOW + q (WINDOW = ⌈(inner + 3) / 4⌉, the most a plane can touch), and
 *   gives texel q of the plane's window with the mask of its floats that lie in the plane (none
 *   past the plane's last texel). Masked floats may belong to a neighbour or lie past the tensor:
 *   a caller drops them with `select`, never by multiplying (a NaN there would survive).
 * - `fn lane_sum_x(c, lane) -> f32`: this lane's share (of 64) of Σ x over channel c, in the
 *   kernel's mode; the channel sum and the batch norm mean both start from it.
 */
export const planeWindowWgsl = `struct PlaneWindow { t: u32, keep: vec4<bool> }
const WINDOW: u32 = (p.inner + 6u) / 4u;
fn plane_window(c: u32, j4: u32) -> PlaneWindow {
  let base = ((j4 / WINDOW) * p.channels + c) * p.inner;
  let t = (base >> 2u) + j4 % WINDOW;
  let i = vec4<u32>(4u * t) + vec4<u32>(0u, 1u, 2u, 3u);
  return PlaneWindow(t, (i >= vec4<u32>(base)) & (i < vec4<u32>(base + p.inner)));
}
fn lane_sum_x(c: u32, lane: u32) -> f32 {
  var s4 = vec4<f32>(0.0);
  if (p.texels == 1u) {
    let inner4 = p.inner / 4u;
    for (var j4 = lane; j4 < p.count / 4u; j4 += 64u) {
      s4 += x_texel(((j4 / inner4) * p.channels + c) * inner4 + j4 % inner4);
    }
  } else if (p.texels == 2u) {
    for (var j4 = lane; j4 < p.outer * WINDOW; j4 += 64u) {
      let w = plane_window(c, j4);
      s4 += select(vec4<f32>(0.0), x_texel(w.t), w.keep);
    }
  } else {
    var s = 0.0;
    for (var j = lane; j < p.count; j += 64u) {
      s += x_at(((j / p.inner) * p.channels + c) * p.inner + j % p.inner);
    }
    return s;
  }
  return dot(s4, vec4<f32>(1.0));
}
`;

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
