// y = x·Wᵀ + b for a small linear layer (x [N, in], W [out, in], b [out]): one invocation per
// output, its dot product and the bias in one dispatch. The general path (a tiled matmul, then a
// broadcast add) takes two, and at a classifier head's size (128 × 32 → 10: 41k MACs) each costs
// its dispatch floor rather than its arithmetic. The host (packages/nn/src/ops/linear.ts) takes
// this kernel below LINEAR_SMALL_MACS, prepends x, weight and bias (bindings 1–3, `fn <name>_at`,
// `fn <name>_texel`) and specialises `const p = Params(...)`.
struct Params {
  rows: u32,
  inputs: u32,
  outputs: u32,
  has_bias: u32,
  by_texels: u32,  // 1: inputs is a multiple of 4, four products per pair of texel reads
}

@group(0) @binding(0) var<uniform> uniforms: Params;
// {{CONSTANTS}}
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * 64u + (uniforms.rows & 0u);
  if (t >= p.rows * p.outputs) {
    return;
  }
  let o = t % p.outputs;
  let n = t / p.outputs;
  var acc = 0.0;
  if (p.by_texels == 1u) {
    let in4 = p.inputs / 4u;
    var acc4 = vec4<f32>(0.0);
    for (var i4 = 0u; i4 < in4; i4++) {
      acc4 = fma(x_texel(n * in4 + i4), weight_texel(o * in4 + i4), acc4);
    }
    acc = dot(acc4, vec4<f32>(1.0));
  } else {
    for (var i = 0u; i < p.inputs; i++) {
      acc = fma(x_at(n * p.inputs + i), weight_at(o * p.inputs + i), acc);
    }
  }
  if (p.has_bias == 1u) {
    acc += bias_at(o);
  }
  y[t] = acc;
}
