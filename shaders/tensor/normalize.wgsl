// Rows of x [R, D] divided by their L2 norm (PyTorch's F.normalize along the last axis), forward
// and backward each in one dispatch, one invocation per row (the composite — square, sum,
// maximum, sqrt, divide — took 5 dispatches forward and about 12 backward):
//   y = x / n,  n = √max(Σx², floor)
//   dx = g / n − x · (g·x) · w / n³,  w = 1 if Σx² > floor, ½ on a tie (maximum's gradient), else 0
// GRAD (set by the host) selects the backward, which reads g (binding 2) and writes dx.
struct Params {
  rows: u32,
  width: u32,
  floor: f32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
// The host prepends the input x (binding 1, `fn x_at(i)`) and, with GRAD, g (binding 2,
// `fn g_at(i)`): f32Input, textures on software adapters when large. `out` is binding 3.
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * 64u;
  if (r >= p.rows) {
    return;
  }
  let base = r * p.width;
  var ss = 0.0;
  var gx = 0.0;
  for (var j = 0u; j < p.width; j++) {
    let x = x_at(base + j);
    ss += x * x;
    if (GRAD) {
      gx += g_at(base + j) * x;
    }
  }
  let n = sqrt(max(ss, p.floor));
  if (!GRAD) {
    for (var j = 0u; j < p.width; j++) {
      out[base + j] = x_at(base + j) / n;
    }
    return;
  }
  let w = select(select(0.0, 0.5, ss == p.floor), 1.0, ss > p.floor);
  let c = gx * w / (n * n * n);
  for (var j = 0u; j < p.width; j++) {
    out[base + j] = g_at(base + j) / n - x_at(base + j) * c;
  }
}
