// Swaps the two outer axes of a [X, Y, inner] tensor, so a convolution's wide matmul output
// [Co, B, P] becomes [B, Co, P] with its bias added in the same pass (and the gradient goes back
// the other way in one pass):
//   forward  (dir 0): out[b, c, q] = in[c, b, q] + bias[c]   (X = C, Y = B)
//   backward (dir 1): out[c, b, q] = in[b, c, q]             (X = B, Y = C)
struct Params {
  total: u32,
  inner: u32,
  channels: u32,
  batch: u32,
  dir: u32,
  texels: u32,   // 1: inner is a multiple of 4, planes go a vec4 at a time (software adapters)
}

// Every parameter is baked in as the constant `p` by the host (see conv-geometry.wgsl: divisions
// by constants are far cheaper on software adapters); `uniforms` keeps the slot binding in use.
@group(0) @binding(0) var<uniform> uniforms: Params;
// {{CONSTANTS}}
// The inputs src and bias (bindings 1, 2) and `fn src_at(i)`, `bias_at(c)` come from the host
// (f32Input, tensor/src/gpu/kernels/common.ts: textures on software adapters when large, else
// storage); without a bias nothing is bound at 2 and bias_at returns 0.
// `out` (binding 3) and `fn out_set(i, v)`, `out_set4(t, v4)` come from the host too (vec4s with
// `texels`, packages/nn/src/ops/texels.ts).

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  // One invocation per output plane (inner values), coefficients loaded once.
  let plane = gid.x + gid.y * nwg.x * 64u + (uniforms.total & 0u);
  if (plane * p.inner >= p.total) {
    return;
  }
  var c: u32;
  var src_plane: u32;
  if (p.dir == 0u) {
    c = plane % p.channels;
    let b = plane / p.channels;
    src_plane = c * p.batch + b;
  } else {
    let b = plane % p.batch;
    c = plane / p.batch;
    src_plane = b * p.channels + c;
  }
  let d = bias_at(c);
  if (p.texels == 1u) {
    let src_base4 = src_plane * (p.inner / 4u);
    let out_base4 = plane * (p.inner / 4u);
    for (var q = 0u; q < p.inner / 4u; q++) {
      out_set4(out_base4 + q, src_texel(src_base4 + q) + d);
    }
    return;
  }
  let src_base = src_plane * p.inner;
  let out_base = plane * p.inner;
  for (var q = 0u; q < p.inner; q++) {
    out_set(out_base + q, src_at(src_base + q) + d);
  }
}
