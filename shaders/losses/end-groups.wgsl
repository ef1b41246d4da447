// EnD's `paper` regularizer from per-group sums, in three kernels (MODE, set by the host):
// every sum EnD needs is a sum of G_ij = ⟨z_i, z_j⟩ over the pairs inside a group (bias groups B,
// classes C, (class, bias) cells L), and Σ_{i>j in g} G_ij = (‖S_g‖² − Σ_{i∈g} ‖z_i‖²) / 2 with
// S_g = Σ_{i∈g} z_i (packages/losses/src/end-groups.ts has the derivation and the host side).
//   MODE 0: one workgroup per group g (all three groupings, flattened): S_g and its pair sum P_g
//           into the scratch buffer `sums` (S at g·d, P at K·d + g).
//   MODE 1: the loss, one invocation: R⊥ = Σ_{g∈B} |P_g| / pairs_B, R∥ = 1 − (A / n_Q + 1) / 2 with
//           A = Σ_{g∈C} P_g − Σ_{g∈L} P_g and n_Q = pairs_C − pairs_L; α·R⊥ + β·R∥ (a term whose
//           pair count is 0 is 0).
//   MODE 2: the gradient, one invocation per row: dz_i = u · Σ_groupings c_{g(i)} (S_{g(i)} − z_i),
//           c = α·sign(P_g)/pairs_B (B), −β/(2 n_Q) (C), +β/(2 n_Q) (L).
// `groups` (i32) holds, at the host's bases: for each grouping its rows sorted by group (perm) and
// the group offsets into them (CSR), and each row's group (row_group).
struct Params {
  rows: u32,
  dim: u32,
  groups_b: u32,
  groups_c: u32,
  groups_l: u32,
  pairs_b: f32,
  pairs_c: f32,
  pairs_l: f32,
  alpha: f32,
  beta: f32,
  perm_base: u32,      // perm of grouping G at perm_base + G·rows
  offsets_base: u32,   // offsets of group g (flattened) at offsets_base + g + G (K_G + 1 per grouping)
  row_group_base: u32, // row_group of grouping G at row_group_base + G·rows (a flattened group id)
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(2) var<storage, read> groups: array<i32>;
// The host prepends z (binding 1, `fn z_at(i)`); `sums` (scratch) is binding 3, `out` binding 4
// and, in MODE 2, the upstream gradient u binding 5.
// {{BINDINGS}}

fn total_groups() -> u32 {
  return p.groups_b + p.groups_c + p.groups_l;
}

// The grouping (0 B, 1 C, 2 L) of flattened group g.
fn grouping_of(g: u32) -> u32 {
  if (g < p.groups_b) {
    return 0u;
  }
  if (g < p.groups_b + p.groups_c) {
    return 1u;
  }
  return 2u;
}

// `fn workgroup_sum(v: vec2<f32>, lane)` comes from the host (workgroupSumWgsl in
// @fairgpu/tensor/internal).

fn group_sums(g: u32, lane: u32) {
  let grouping = grouping_of(g);
  let first = u32(groups[p.offsets_base + g + grouping]);
  let last = u32(groups[p.offsets_base + g + grouping + 1u]);
  let perm = p.perm_base + grouping * p.rows;
  // Per lane: its features' Σ S_j² and Σ_i z_ij² over the members.
  var acc = vec2<f32>(0.0);
  for (var j = lane; j < p.dim; j += 64u) {
    var s = 0.0;
    for (var m = first; m < last; m++) {
      let v = z_at(u32(groups[perm + m]) * p.dim + j);
      s += v;
      acc.y += v * v;
    }
    sums[g * p.dim + j] = s;
    acc.x += s * s;
  }
  let t = workgroup_sum(acc, lane);
  if (lane == 0u) {
    sums[total_groups() * p.dim + g] = (t.x - t.y) * 0.5;
  }
}

fn pair_sum(g: u32) -> f32 {
  return sums[total_groups() * p.dim + g];
}

fn loss() -> f32 {
  var perp = 0.0;
  for (var g = 0u; g < p.groups_b; g++) {
    perp += abs(pair_sum(g));
  }
  var a = 0.0;
  for (var g = p.groups_b; g < p.groups_b + p.groups_c; g++) {
    a += pair_sum(g);
  }
  for (var g = p.groups_b + p.groups_c; g < total_groups(); g++) {
    a -= pair_sum(g);
  }
  let n_q = p.pairs_c - p.pairs_l;
  var r = 0.0;
  if (p.pairs_b > 0.0) {
    r += p.alpha * (perp / p.pairs_b);
  }
  if (n_q > 0.0) {
    r += p.beta * (1.0 - (a / n_q + 1.0) * 0.5);
  }
  return r;
}

fn row_grad(i: u32) {
  let n_q = p.pairs_c - p.pairs_l;
  var coef = vec3<f32>(0.0);
  let gb = u32(groups[p.row_group_base + i]);
  let gc = u32(groups[p.row_group_base + p.rows + i]);
  let gl = u32(groups[p.row_group_base + 2u * p.rows + i]);
  if (p.pairs_b > 0.0) {
    coef.x = p.alpha * sign(pair_sum(gb)) / p.pairs_b;
  }
  if (n_q > 0.0) {
    coef.y = -0.5 * p.beta / n_q;
    coef.z = 0.5 * p.beta / n_q;
  }
  let u = upstream_gradient();
  for (var j = 0u; j < p.dim; j++) {
    let v = z_at(i * p.dim + j);
    let d = coef.x * (sums[gb * p.dim + j] - v) + coef.y * (sums[gc * p.dim + j] - v) + coef.z * (sums[gl * p.dim + j] - v);
    out[i * p.dim + j] = u * d;
  }
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(global_invocation_id) gid: vec3<u32>) {
  if (MODE == 0u) {
    group_sums(wg.x, lid.x);
    return;
  }
  if (MODE == 1u) {
    if (gid.x == 0u) {
      out[0] = loss();
    }
    return;
  }
  if (gid.x < p.rows) {
    row_grad(gid.x);
  }
}
