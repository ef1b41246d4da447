// Swaps the two outer axes of a [X, Y, inner] tensor while applying a per-channel affine map, so a
// convolution's wide matmul output [Co, B, P] becomes [B, Co, P] with its bias added in one pass
// (and the gradient goes back the other way in one pass):
//   forward  (dir 0): out[b, c, q] = a[c]·in[c, b, q] + d[c]   (X = C, Y = B)
//   backward (dir 1): out[c, b, q] = a[c]·in[b, c, q] + d[c]   (X = B, Y = C)
struct Params {
  total: u32,
  inner: u32,
  channels: u32,
  batch: u32,
  dir: u32,
}

// Every parameter is baked in as the constant `p` by the host (see conv-geometry.wgsl: divisions
// by constants are far cheaper on software adapters); `uniforms` keeps the slot binding in use.
@group(0) @binding(0) var<uniform> uniforms: Params;
// {{CONSTANTS}}
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> coef: array<f32>;  // [a (C), d (C)]
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u + (uniforms.total & 0u);
  if (i >= p.total) {
    return;
  }
  let q = i % p.inner;
  var b: u32;
  var c: u32;
  var at: u32;
  if (p.dir == 0u) {
    c = (i / p.inner) % p.channels;
    b = i / (p.inner * p.channels);
    at = (c * p.batch + b) * p.inner + q;
  } else {
    b = (i / p.inner) % p.batch;
    c = i / (p.inner * p.batch);
    at = (b * p.channels + c) * p.inner + q;
  }
  out[i] = coef[c] * src[at] + coef[p.channels + c];
}
