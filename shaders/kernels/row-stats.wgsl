// Fused contrastive row statistics, forward (docs/contrastive-stats.md). One invocation per
// anchor row i loops over column tiles of the reference with online log-sum-exps; nothing M×N is
// stored. Pass 1: row max, the positive/negative (or all) log-sum-exps, sums of logits, kernel
// sums. Pass 2 (labels, or the released L^exp column): epsOut and log R, which need lseNeg / m.
// Specialised by header constants (and the unrolled visit1_tile, visit2_tile, any_pos_tile) (RowT: f32 or vec4<f32>, TJ, WG, DC, SELF, HAS_LABELS, HAS_KERNEL, KERNEL_TYPE,
// EXP_RELEASED, T_COL, p.columns, the requested columns) and a tile-*.wgsl variant, prepended by
// packages/kernels/src/fused.ts. Unrequested columns are written as 0; pass 2 runs only when
// epsOut (or the released lseExpW) is requested.

fn need_exp_paper() -> bool { return HAS_KERNEL && !EXP_RELEASED && need(COL_LSE_EXP_W); }
fn need_exp_released() -> bool { return HAS_KERNEL && EXP_RELEASED && need(COL_LSE_EXP_W); }
fn need_eps() -> bool { return HAS_LABELS && need(COL_EPS_OUT); }

struct Params { m: u32, n: u32, d: u32, meta_w: u32, inv_t: f32, eps: f32, log_eps: f32, sigma: f32, nq: u32, columns: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> rows: array<RowT>;     // anchors z [M, d]
@group(0) @binding(2) var<storage, read> cols: array<RowT>;     // reference zr [N, d]
@group(0) @binding(3) var<storage, read> row_meta: array<f32>; // [M, meta_w]: label, target
@group(0) @binding(4) var<storage, read> col_meta: array<f32>; // [N, meta_w]
@group(0) @binding(5) var<storage, read_write> stats: array<f32>; // [M, NCOL]

// Per-invocation state of the row being reduced. Module-scope private variables (rather than
// arrays indexed in a loop) let software adapters keep it in registers; the tile loops below are
// unrolled by the host (visit_tile*, generated for TJ).
var<private> r_i: u32;
var<private> r_li: f32;
var<private> r_ti: f32;
var<private> r_c: f32;
var<private> rowmax: f32;
var<private> acc_p: vec2<f32>;
var<private> acc_n: vec2<f32>; // the negatives, or every j without labels
var<private> acc_e: vec2<f32>;
var<private> sum_p: f32;
var<private> cnt: f32;
var<private> sum_w: f32;
var<private> sum_ws: f32;
var<private> r_m: f32;
var<private> r_lneg: f32;
var<private> eps_out: f32;
var<private> acc_r: vec2<f32>;
var<private> acc_x: vec2<f32>;

// Pass 1, one similarity s = ⟨z_i, zr_j⟩.
fn visit1(j: u32, s: f32) {
  if (j >= p.n) { return; }
  let v = s * p.inv_t;
  rowmax = max(rowmax, v);
  if (SELF && j == r_i) { return; }
  var pos = false;
  if (HAS_LABELS) { pos = col_meta[j * p.meta_w] == r_li; }
  let upd = lse_push(select(acc_n, acc_p, pos), v);
  if (pos) {
    acc_p = upd;
    sum_p += v - r_c;
    cnt += 1.0;
  } else {
    acc_n = upd;
  }
  if (HAS_KERNEL) {
    let w = kweight(r_ti - col_meta[j * p.meta_w + T_COL]);
    sum_w += w;
    sum_ws += w * (v - r_c);
    if (need_exp_paper()) { acc_e = lse_push(acc_e, v * (1.0 - w)); }
  }
}

// Pass 2: epsOut and log R over the positives, the released L^exp column over J(i).
fn visit2(j: u32, s: f32) {
  if (j >= p.n || (SELF && j == r_i)) { return; }
  let l = s * p.inv_t - r_m;
  if (need_eps() && col_meta[j * p.meta_w] == r_li) {
    let ld = log_den(l - p.eps, r_lneg);
    eps_out += ld;
    acc_r = lse_push(acc_r, -ld);
  }
  if (need_exp_released()) {
    let w = kweight(r_ti - col_meta[j * p.meta_w + T_COL]);
    acc_x = lse_push(acc_x, l * (1.0 - w));
  }
}

fn is_pos(j: u32) -> bool {
  let jj = min(j, p.n - 1u);
  return col_meta[jj * p.meta_w] == r_li && !(SELF && jj == r_i);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let raw = gid.x + gid.y * nwg.x * WG;
  let valid = raw < p.m;
  let i = min(raw, p.m - 1u);
  let lid = lid3.x;
  tile_begin(i);
  r_i = i;
  if (HAS_LABELS) { r_li = row_meta[i * p.meta_w]; }
  if (HAS_KERNEL) { r_ti = row_meta[i * p.meta_w + T_COL]; }
  // Sums of logits are accumulated relative to c (the self logit, = m for unit rows), so logits
  // near 1e3 do not lose their low bits when m is subtracted at the end.
  r_c = tile_row_dot(i, select(0u, i, SELF)) * p.inv_t;
  rowmax = NEG;
  acc_p = vec2<f32>(NEG, 0.0);
  acc_n = vec2<f32>(NEG, 0.0);
  acc_e = vec2<f32>(NEG, 0.0);
  for (var c0 = 0u; c0 < p.n; c0 += TJ) {
    visit1_tile(c0, tile_dots(i, c0, lid));
  }
  let m = rowmax;
  var o: array<f32, NCOL>; // zero-initialised: unrequested columns stay 0
  o[COL_ROW_MAX] = m;
  if (need(COL_LSE_ALL)) { o[COL_LSE_ALL] = lse_rel(lse_merge(acc_p, acc_n), m); }
  o[COL_LOG_R] = NEG;
  let lneg = lse_rel(acc_n, m);
  if (HAS_LABELS) {
    if (need(COL_LSE_POS)) { o[COL_LSE_POS] = lse_rel(acc_p, m); }
    if (need(COL_LSE_NEG)) { o[COL_LSE_NEG] = lneg; }
    if (need(COL_SUM_POS_LOGIT)) { o[COL_SUM_POS_LOGIT] = sum_p + cnt * (r_c - m); }
    if (need(COL_COUNT_POS)) { o[COL_COUNT_POS] = cnt; }
  }
  if (HAS_KERNEL) {
    if (need(COL_SUM_W)) { o[COL_SUM_W] = sum_w; }
    if (need(COL_SUM_W_LOGIT)) { o[COL_SUM_W_LOGIT] = sum_ws + sum_w * (r_c - m); }
    if (need_exp_paper()) { o[COL_LSE_EXP_W] = lse_rel(acc_e, m); }
  }
  if (need_eps() || need_exp_released()) {
    r_m = m;
    r_lneg = lneg;
    acc_r = vec2<f32>(NEG, 0.0);
    acc_x = vec2<f32>(NEG, 0.0);
    for (var c0 = 0u; c0 < p.n; c0 += TJ) {
      // With labels only, a tile without positives of this row adds nothing.
      if (!tile_needed(need_exp_released() || (need_eps() && any_pos_tile(c0)))) { continue; }
      visit2_tile(c0, tile_dots(i, c0, lid));
    }
    if (need_eps()) {
      o[COL_EPS_OUT] = eps_out;
      o[COL_LOG_R] = lse_rel(acc_r, 0.0);
    }
    if (need_exp_released()) { o[COL_LSE_EXP_W] = lse_rel(acc_x, 0.0); }
  }
  if (valid) {
    for (var k = 0u; k < NCOL; k++) { stats[i * NCOL + k] = o[k]; }
  }
}
