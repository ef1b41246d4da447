// Per-channel sums of x [N, C, inner] over N and inner, one workgroup per channel: the bias
// gradient of a convolution in one dispatch (a general two-axis reduction takes two).
// With `texels` (software adapters) x is read a vec4 at a time: 1, inner a multiple of 4; 2, by
// texel windows (fn plane_window from the host, packages/nn/src/ops/texels.ts).
// Specialised by the host: `const p = Params(...)` (packages/nn/src/ops/specialize.ts).
struct Params {
  outer: u32,
  channels: u32,
  inner: u32,
  count: u32,    // N · inner
  texels: u32,
}

@group(0) @binding(0) var<uniform> uniforms: Params;
// {{CONSTANTS}}
// The input x (binding 1) and `fn x_at(i)`, `x_texel(t)` come from the host (f32Input,
// tensor/src/gpu/kernels/common.ts): a texture on software adapters when large, else storage.
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

// `fn workgroup_sum(v: f32, lane) -> f32` comes from the host too (workgroupSumWgsl).

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let c = wg.x + (uniforms.outer & 0u);
  let lane = lid.x;
  // `fn lane_sum_x` (the three read modes) comes from the host (planeWindowWgsl).
  let total = workgroup_sum(lane_sum_x(c, lane), lane);
  if (lane == 0u) {
    out[c] = total;
  }
}
