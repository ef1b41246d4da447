// Per-channel linear combination of one or two same-shape tensors, channels on axis 1:
//   out[i] = a[c]·u[i] + b[c]·v[i] + d[c],   c = (i / inner) % channels
// BatchNorm's forward (u = x, b = 0: a scale and shift per channel) and its input gradient
// (u = g, v = x) are both this shape. A dedicated kernel because the tensor package's broadcasting
// elementwise path decodes a full index per element, ~10× slower than this on software adapters.
// One invocation per (n, c) plane loops over `inner`, so the coefficients are loaded once per plane
// (on llvmpipe every load costs about the same: per-element coefficient loads tripled the work).
struct Params {
  total: u32,
  inner: u32,
  channels: u32,
  has_v: u32,
}

// Every parameter is baked in as the constant `p` by the host (see conv-geometry.wgsl: divisions
// by constants are far cheaper on software adapters); `uniforms` keeps the slot binding in use.
@group(0) @binding(0) var<uniform> uniforms: Params;
// {{CONSTANTS}}
@group(0) @binding(1) var<storage, read> u: array<f32>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read> coef: array<f32>;  // [a (C), b (C), d (C)]
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let plane = gid.x + gid.y * nwg.x * 64u + (uniforms.total & 0u);
  if (plane * p.inner >= p.total) {
    return;
  }
  let c = plane % p.channels;
  let a = coef[c];
  let b = coef[p.channels + c];
  let d = coef[2u * p.channels + c];
  let base = plane * p.inner;
  for (var q = 0u; q < p.inner; q++) {
    var acc = a * u[base + q] + d;
    if (p.has_v == 1u) {
      acc += b * v[base + q];
    }
    out[base + q] = acc;
  }
}
