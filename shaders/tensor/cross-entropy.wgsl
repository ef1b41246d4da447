// Fused softmax cross-entropy of logits [N, C] against i32 class ids [N], mean over the rows, in
// one dispatch of one workgroup (the composite — max, shift, exp, sum, log, gather, mean — took
// 12 dispatches forward and about 16 backward; on software adapters each costs ~0.1 ms).
//   loss = (1/N) Σ_r (lse_r − x[r, t_r]),  lse_r = m_r + log Σ_j exp(x[r, j] − m_r),  m_r = max_j x[r, j]
// A class id outside [0, C) contributes 0 (as the composite's gather reads 0) and raises the
// device check flag to p.check_code (atomicMax; see gather.wgsl); the next readback throws.
//
// GRAD (specialised by the host): the input gradient instead, one invocation per row:
//   dx[r, j] = g · (exp(x[r, j] − lse_r) − [j = t_r]) / N,  0 on a row with a bad class id.

struct Params {
  rows: u32,
  classes: u32,
  check_code: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<i32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read_write> check_flag: array<atomic<u32>>;
// GRAD only: the upstream gradient of the loss (one float) at binding 5.
// {{GRAD_BINDING}}

fn row_lse(r: u32) -> f32 {
  let base = r * p.classes;
  var m = logits[base];
  for (var j = 1u; j < p.classes; j++) {
    m = max(m, logits[base + j]);
  }
  var s = 0.0;
  for (var j = 0u; j < p.classes; j++) {
    s += exp(logits[base + j] - m);
  }
  return m + log(s);
}

fn valid_target(r: u32) -> bool {
  let t = targets[r];
  if (t < 0 || t >= i32(p.classes)) {
    atomicMax(&check_flag[0], p.check_code);
    return false;
  }
  return true;
}

// `fn workgroup_sum(v: f32, lane) -> f32` comes from the host (workgroupSumWgsl, kernels/common.ts).

fn forward(lane: u32) {
  var acc = 0.0;
  for (var r = lane; r < p.rows; r += 64u) {
    if (valid_target(r)) {
      acc += row_lse(r) - logits[r * p.classes + u32(targets[r])];
    }
  }
  let total = workgroup_sum(acc, lane);
  if (lane == 0u) {
    out[0] = total / f32(p.rows);
  }
}

fn backward(r: u32) {
  let base = r * p.classes;
  if (!valid_target(r)) {
    for (var j = 0u; j < p.classes; j++) {
      out[base + j] = 0.0;
    }
    return;
  }
  let lse = row_lse(r);
  let t = u32(targets[r]);
  let scale = upstream_gradient() / f32(p.rows);
  for (var j = 0u; j < p.classes; j++) {
    out[base + j] = (exp(logits[base + j] - lse) - select(0.0, 1.0, j == t)) * scale;
  }
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  if (!GRAD) {
    forward(lid.x);
    return;
  }
  let r = gid.x + gid.y * nwg.x * 64u;
  if (r < p.rows) {
    backward(r);
  }
}
