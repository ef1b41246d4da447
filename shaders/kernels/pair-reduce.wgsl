// Sums the per-anchor partials [M, 12] of pair-moments.wgsl into [4, 3], one invocation per
// output, with Kahan compensation (pair counts reach M² and leave f32's exact integers).

struct Params { m: u32, n: u32, d: u32, meta_w: u32, inv_t: f32, eps: f32, log_eps: f32, sigma: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> part: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid: vec3<u32>) {
  let c = lid.x;
  if (c >= 12u) { return; }
  var s = 0.0;
  var comp = 0.0;
  for (var i = 0u; i < p.m; i++) {
    let y = part[i * 12u + c] - comp;
    let t = s + y;
    comp = (t - s) - y;
    s = t;
  }
  out[c] = s;
}
