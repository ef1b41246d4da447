// The mean of per-anchor loss terms read from the contrastive statistics table [M, C] of
// @fairgpu/kernels (contrastiveRowStats), forward and backward each in one dispatch:
//   t_i = −scale · (a_i − b_i) / max(n_i, 1)   (a, b, n: columns p.col_a, p.col_b, p.col_n)
//   L = Σ_i t_i / M                             (VALID = false: every anchor counts)
//   L = Σ_{n_i > 0} t_i / max(#{n_i > 0}, 1)     (VALID = true: anchors without positives left out)
// ε-SupInfoNCE (form 'out') is a = Σ_p l_ip, b = the ε term, n = |P(i)|. The composite of column
// slices and elementwise ops it replaces cost ~15 dispatches forward and ~25 backward.
//
// GRAD (set by the host): dL/d(table) · g instead, one invocation per row; columns other than
// a, b, n get 0. The gradient to n follows max's rule (half of it on a tie at n = 1).
struct Params {
  rows: u32,
  cols: u32,
  col_a: u32,
  col_b: u32,
  col_n: u32,
  scale: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> stats: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
// {{GRAD_BINDING}}: `const GRAD: bool`, `const VALID: bool` and, with GRAD, g at binding 3.

// `fn workgroup_sum(v: vec2<f32>, lane)` comes from the host (workgroupSumWgsl in
// @fairgpu/tensor/internal).

fn term(r: u32) -> f32 {
  let n = stats[r * p.cols + p.col_n];
  return -p.scale * (stats[r * p.cols + p.col_a] - stats[r * p.cols + p.col_b]) / max(n, 1.0);
}

fn counts(r: u32) -> bool {
  return !VALID || stats[r * p.cols + p.col_n] > 0.0;
}

// Σ of the counted terms and how many rows count, over the whole table (one workgroup).
fn totals(lane: u32) -> vec2<f32> {
  var acc = vec2<f32>(0.0);
  for (var r = lane; r < p.rows; r += 64u) {
    if (counts(r)) {
      acc += vec2<f32>(term(r), 1.0);
    }
  }
  return workgroup_sum(acc, lane);
}

// How many rows count (VALID) or M, as the mean's divisor.
fn divisor() -> f32 {
  if (!VALID) {
    return f32(p.rows);
  }
  var k = 0.0;
  for (var r = 0u; r < p.rows; r++) {
    if (stats[r * p.cols + p.col_n] > 0.0) {
      k += 1.0;
    }
  }
  return max(k, 1.0);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  if (!GRAD) {
    let t = totals(lid.x);
    if (lid.x == 0u) {
      var k = f32(p.rows);
      if (VALID) {
        k = max(t.y, 1.0);
      }
      out[0] = t.x / k;
    }
    return;
  }
  let r = gid.x + gid.y * nwg.x * 64u;
  if (r >= p.rows) {
    return;
  }
  let base = r * p.cols;
  for (var c = 0u; c < p.cols; c++) {
    out[base + c] = 0.0;
  }
  if (!counts(r)) {
    return;
  }
  let n = stats[base + p.col_n];
  let safe = max(n, 1.0);
  let w = upstream[0] / divisor();
  out[base + p.col_a] = -p.scale * w / safe;
  out[base + p.col_b] = p.scale * w / safe;
  // d t / d n through max(n, 1): all of it above 1, half on the tie.
  let share = select(select(0.0, 0.5, n == 1.0), 1.0, n > 1.0);
  out[base + p.col_n] = p.scale * (stats[base + p.col_a] - stats[base + p.col_b]) / (safe * safe) * share * w;
}
