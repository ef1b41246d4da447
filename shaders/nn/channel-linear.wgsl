// Per-channel linear combination of one or two same-shape tensors, channels on axis 1:
//   out[i] = a[c]·u[i] + b[c]·v[i] + d[c],   c = (i / inner) % channels
// BatchNorm's forward (u = x, b = 0: a scale and shift per channel) and its input gradient
// (u = g, v = x) are both this shape. A dedicated kernel because the tensor package's broadcasting
// elementwise path decodes a full index per element, ~10× slower than this on software adapters.
// One invocation per (n, c) plane loops over `inner`, so the coefficients are loaded once per plane
// (on llvmpipe every load costs about the same: per-element coefficient loads tripled the work).
// With `relu` the result is max(·, 0): BatchNorm followed by ReLU in one pass (Sequential fuses
// the pair, packages/nn/src/layers.ts).
// With `texels` (software adapters, inner a multiple of 4) a plane is read and written a vec4 at a
// time: one textureLoad and one vec4 store per four floats (tools/bench/memory-paths.ts).
struct Params {
  total: u32,
  inner: u32,
  channels: u32,
  has_v: u32,
  relu: u32,
  texels: u32,
}

// Every parameter is baked in as the constant `p` by the host (see conv-geometry.wgsl: divisions
// by constants are far cheaper on software adapters); `uniforms` keeps the slot binding in use.
@group(0) @binding(0) var<uniform> uniforms: Params;
// {{CONSTANTS}}
// The inputs u, v, coef ([a (C), b (C), d (C)]; bindings 1–3) and `fn u_at(i)`, `v_at(i)`,
// `coef_at(i)` come from the host (f32Input, tensor/src/gpu/kernels/common.ts): textures on
// software adapters when large, else storage. Without v (has_v = 0) the host binds nothing at 2
// and `v_at` returns 0.
// `out` (binding 4) and `fn out_set(i, v)`, `out_set4(t, v4)` come from the host too (vec4s with `texels`).

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let plane = gid.x + gid.y * nwg.x * 64u + (uniforms.total & 0u);
  if (plane * p.inner >= p.total) {
    return;
  }
  let c = plane % p.channels;
  let a = coef_at(c);
  let b = coef_at(p.channels + c);
  let d = coef_at(2u * p.channels + c);
  if (p.texels == 1u) {
    let base4 = plane * (p.inner / 4u);
    for (var q = 0u; q < p.inner / 4u; q++) {
      var acc4 = a * u_texel(base4 + q) + d;
      if (p.has_v == 1u) {
        acc4 += b * v_texel(base4 + q);
      }
      if (p.relu == 1u) {
        acc4 = max(acc4, vec4<f32>(0.0));
      }
      out_set4(base4 + q, acc4);
    }
    return;
  }
  let base = plane * p.inner;
  for (var q = 0u; q < p.inner; q++) {
    var acc = a * u_at(base + q) + d;
    if (p.has_v == 1u) {
      acc += b * v_at(base + q);
    }
    if (p.relu == 1u) {
      acc = max(acc, 0.0);
    }
    out_set(base + q, acc);
  }
}
