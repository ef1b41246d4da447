// Training-mode batch statistics of x [N, C, inner], one workgroup per channel: mean and biased
// variance (two passes: the mean, then the centred squares, as the composite formulation did),
// invstd = 1/√(var + eps), the per-channel affine map y = a·x + d (a = w·invstd, d = b − mean·a),
// and, when TRACK, PyTorch's running statistics updated in place (momentum, unbiased variance)
// with num_batches_tracked + 1. Replaces ~27 small dispatches per BatchNorm forward.
//
// Output rows (each C long): a, 0, d, mean, variance, invstd — the first three are the `coef`
// layout of channel-linear.wgsl, so the same buffer drives the normalisation.
// Specialised by the host: `const p = Params(...)` (packages/nn/src/ops/specialize.ts).
struct Params {
  outer: u32,      // N
  channels: u32,   // C
  inner: u32,      // product of the axes after 1
  count: u32,      // N · inner (values per channel)
  track: u32,      // 1: update the running statistics
  eps: f32,
  momentum: f32,
  keep: f32,       // 1 − momentum
  var_factor: f32, // momentum · count / (count − 1) (the running variance is unbiased)
  texels: u32,     // 1: inner is a multiple of 4, x is read a vec4 at a time; 2: by texel windows
                   // (fn plane_window from the host, packages/nn/src/ops/texels.ts); software adapters
}

@group(0) @binding(0) var<uniform> uniforms: Params;
// {{CONSTANTS}}
// The read-only f32 inputs x, weight, bias (bindings 1–3) and `fn x_at(i)`, `weight_at(i)`,
// `bias_at(i)` come from the host (f32Input, tensor/src/gpu/kernels/common.ts): textures on software
// adapters when large, else storage.
@group(0) @binding(4) var<storage, read_write> running_mean: array<f32>;
@group(0) @binding(5) var<storage, read_write> running_var: array<f32>;
@group(0) @binding(6) var<storage, read_write> batches_tracked: array<i32>;
@group(0) @binding(7) var<storage, read_write> stats: array<f32>;

// `fn workgroup_sum` and `fn workgroup_sum2` (f32, each over its own workgroup array: reusing one
// raced on Mesa 22.3 llvmpipe) come from the host (workgroupSumWgsl, tensor/src/gpu/kernels/common.ts).

fn at(c: u32, j: u32) -> u32 {
  return ((j / p.inner) * p.channels + c) * p.inner + j % p.inner;
}

// Texel j4 of channel c (with `texels`): plane j4 / inner4, position j4 % inner4 within it.
fn texel_at(c: u32, j4: u32) -> u32 {
  let inner4 = p.inner / 4u;
  return ((j4 / inner4) * p.channels + c) * inner4 + j4 % inner4;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let c = wg.x + (uniforms.outer & 0u);
  let lane = lid.x;
  // `fn lane_sum_x` (the three read modes) comes from the host with plane_window.
  let mean = workgroup_sum(lane_sum_x(c, lane), lane) / f32(p.count);
  var q = 0.0;
  if (p.texels == 1u) {
    var q4 = vec4<f32>(0.0);
    for (var j4 = lane; j4 < p.count / 4u; j4 += 64u) {
      let d4 = x_texel(texel_at(c, j4)) - mean;
      q4 += d4 * d4;
    }
    q = dot(q4, vec4<f32>(1.0));
  } else if (p.texels == 2u) {
    var q4 = vec4<f32>(0.0);
    for (var j4 = lane; j4 < p.outer * WINDOW; j4 += 64u) {
      let w = plane_window(c, j4);
      let d4 = select(vec4<f32>(0.0), x_texel(w.t) - mean, w.keep);
      q4 += d4 * d4;
    }
    q = dot(q4, vec4<f32>(1.0));
  } else {
    for (var j = lane; j < p.count; j += 64u) {
      let d = x_at(at(c, j)) - mean;
      q += d * d;
    }
  }
  let variance = workgroup_sum2(q, lane) / f32(p.count);
  if (lane != 0u) {
    return;
  }
  let invstd = 1.0 / sqrt(variance + p.eps);
  let a = weight_at(c) * invstd;
  stats[c] = a;
  stats[p.channels + c] = 0.0;
  stats[2u * p.channels + c] = bias_at(c) - mean * a;
  stats[3u * p.channels + c] = mean;
  stats[4u * p.channels + c] = variance;
  stats[5u * p.channels + c] = invstd;
  if (p.track == 1u) {
    running_mean[c] = running_mean[c] * p.keep + mean * p.momentum;
    running_var[c] = running_var[c] * p.keep + variance * p.var_factor;
    if (c == 0u) {
      batches_tracked[0] = batches_tracked[0] + 1;
    }
  }
}
