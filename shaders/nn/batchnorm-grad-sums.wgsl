// Per-channel sums of BatchNorm's backward pass, one workgroup per channel, written straight into
// the two parameters' gradients: dweight[c] = Σ g·x̂,  dbias[c] = Σ g,  x̂ = (x − mean)·invstd,
// with mean and invstd read from the forward statistics (batchnorm-stats.wgsl rows 3 and 5).
// With `relu` (BatchNorm fused with a following ReLU), g is first masked by the ReLU's derivative:
// g·[a·x + d > 0], the pre-activation recomputed from the statistics (rows 0 and 2) exactly as
// channel-linear.wgsl computed it in the forward.
// Fused mode (software adapters): the same workgroup then writes the channel's input gradient
// (batchnorm-channel-dx.wgsl), called where the host fills the marker at the end of main.
// Specialised by the host: `const p = Params(...)`.
struct Params {
  outer: u32,
  channels: u32,
  inner: u32,
  count: u32,
  relu: u32,
  texels: u32,   // 1: inner is a multiple of 4, read a vec4 at a time; 2: by texel windows (fn
                 // plane_window from the host, packages/nn/src/ops/texels.ts); software adapters
}

@group(0) @binding(0) var<uniform> uniforms: Params;
// {{CONSTANTS}}
// The inputs g, x, stats (bindings 1–3) and `fn g_at(i)`, `x_at(i)`, `stats_at(i)` come from the
// host (f32Input, tensor/src/gpu/kernels/common.ts): textures on software adapters when large,
// else storage.
@group(0) @binding(4) var<storage, read_write> dweight: array<f32>;
@group(0) @binding(5) var<storage, read_write> dbias: array<f32>;

// Both sums in one reduction of vec2s: `fn workgroup_sum(v: vec2<f32>, lane)` comes from the host
// (workgroupSumWgsl, tensor/src/gpu/kernels/common.ts).

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let c = wg.x + (uniforms.outer & 0u);
  let lane = lid.x;
  let mean = stats_at(3u * p.channels + c);
  let invstd = stats_at(5u * p.channels + c);
  let a = stats_at(c);
  let d = stats_at(2u * p.channels + c);
  var sg = 0.0;
  var sgx = 0.0;
  if (p.texels == 1u) {
    // Texel j4 of the channel: plane j4 / inner4, position j4 % inner4 within it.
    let inner4 = p.inner / 4u;
    var sg4 = vec4<f32>(0.0);
    var sgx4 = vec4<f32>(0.0);
    for (var j4 = lane; j4 < p.count / 4u; j4 += 64u) {
      let t = ((j4 / inner4) * p.channels + c) * inner4 + j4 % inner4;
      let x4 = x_texel(t);
      var g4 = g_texel(t);
      if (p.relu == 1u) {
        g4 = select(vec4<f32>(0.0), g4, a * x4 + d > vec4<f32>(0.0));
      }
      sg4 += g4;
      sgx4 += g4 * ((x4 - mean) * invstd);
    }
    sg = dot(sg4, vec4<f32>(1.0));
    sgx = dot(sgx4, vec4<f32>(1.0));
  } else if (p.texels == 2u) {
    var sg4 = vec4<f32>(0.0);
    var sgx4 = vec4<f32>(0.0);
    for (var j4 = lane; j4 < p.outer * WINDOW; j4 += 64u) {
      let w = plane_window(c, j4);
      let x4 = x_texel(w.t);
      var keep = w.keep;
      if (p.relu == 1u) {
        keep = keep & (a * x4 + d > vec4<f32>(0.0));
      }
      let g4 = select(vec4<f32>(0.0), g_texel(w.t), keep);
      sg4 += g4;
      sgx4 += select(vec4<f32>(0.0), g4 * ((x4 - mean) * invstd), keep);
    }
    sg = dot(sg4, vec4<f32>(1.0));
    sgx = dot(sgx4, vec4<f32>(1.0));
  } else {
    for (var j = lane; j < p.count; j += 64u) {
      let i = ((j / p.inner) * p.channels + c) * p.inner + j % p.inner;
      let xi = x_at(i);
      var gi = g_at(i);
      if (p.relu == 1u) {
        gi = select(0.0, gi, a * xi + d > 0.0);
      }
      sg += gi;
      sgx += gi * ((xi - mean) * invstd);
    }
  }
  let total = workgroup_sum(vec2<f32>(sgx, sg), lane);
  if (lane == 0u) {
    dweight[c] = total.x;
    dbias[c] = total.y;
  }
  // {{THEN}}: in the fused mode, `channel_dx(c, lane, total.x, total.y);` (batchnorm-channel-dx.wgsl)
}
