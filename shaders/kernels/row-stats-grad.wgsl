// Fused contrastive row statistics, backward: recomputes the similarities tile by tile and turns
// the upstream gradient g [M, NCOL] into dL/dS_ij (gcoef), then accumulates
//   MODE 0 (anchors):   dz_i  = Σ_j dL/dS_ij · zr_j   (+ Σ_j dL/dS_ji · z_j when SELF: zr is z)
//   MODE 1 (reference): dzr_j = Σ_i dL/dS_ij · z_i    (rows are the reference rows here)
// one invocation per output row, no atomics, nothing M×N stored.

struct Params { m: u32, n: u32, d: u32, meta_w: u32, inv_t: f32, eps: f32, log_eps: f32, sigma: f32, nq: u32, columns: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> rows: array<RowT>;     // the rows this pass writes
@group(0) @binding(2) var<storage, read> cols: array<RowT>;     // the rows it loops over
@group(0) @binding(3) var<storage, read> row_meta: array<f32>;
@group(0) @binding(4) var<storage, read> col_meta: array<f32>;
@group(0) @binding(5) var<storage, read> stats: array<f32>;    // forward output [M, NCOL]
@group(0) @binding(6) var<storage, read> grad: array<f32>;     // upstream gradient [M, NCOL]
@group(0) @binding(7) var<storage, read_write> acc_out: array<RowT>; // [rows, d]

// dL/dS for anchor a and logit v = S/τ (pos: same label; w: kernel weight).
fn gcoef(a: u32, v: f32, pos: bool, w: f32) -> f32 {
  // Terms whose upstream gradient is exactly 0 (columns a loss does not use: the slice VJP pads
  // them with zeros) skip their exps; every row shares the pattern, so SIMD lanes agree.
  let b = a * NCOL;
  let l = v - stats[b + COL_ROW_MAX];
  var r = 0.0;
  // need(k): unrequested columns carry no gradient, so their terms are skipped (a uniform branch).
  if (need(COL_LSE_ALL)) {
    let g1 = grad[b + COL_LSE_ALL];
    if (g1 != 0.0) { r += g1 * exp(l - stats[b + COL_LSE_ALL]); }
  }
  if (HAS_LABELS) {
    if (pos) {
      if (need(COL_LSE_POS)) {
        let g2 = grad[b + COL_LSE_POS];
        if (g2 != 0.0) { r += g2 * exp(l - stats[b + COL_LSE_POS]); }
      }
      if (need(COL_SUM_POS_LOGIT)) { r += grad[b + COL_SUM_POS_LOGIT]; }
      if (need(COL_EPS_OUT)) {
        let g6 = grad[b + COL_EPS_OUT];
        if (g6 != 0.0) {
          let le = l - p.eps;
          r += g6 * exp(le - log_den(le, stats[b + COL_LSE_NEG]));
        }
      }
    } else {
      if (need(COL_LSE_NEG)) {
        let g3 = grad[b + COL_LSE_NEG];
        if (g3 != 0.0) { r += g3 * exp(l - stats[b + COL_LSE_NEG]); }
      }
      if (need(COL_EPS_OUT)) {
        let g6 = grad[b + COL_EPS_OUT];
        if (g6 != 0.0) { r += g6 * exp(l + stats[b + COL_LOG_R]); }
      }
    }
  }
  if (HAS_KERNEL) {
    if (need(COL_SUM_W_LOGIT)) { r += grad[b + COL_SUM_W_LOGIT] * w; }
    let g9 = grad[b + COL_LSE_EXP_W];
    if (need(COL_LSE_EXP_W) && g9 != 0.0) {
      // paper: S(1−w)/τ − (lseExpW + m) = l − v·w − lseExpW; released: l(1−w) − lseExpW.
      let e = select(l - v * w - stats[b + COL_LSE_EXP_W], l * (1.0 - w) - stats[b + COL_LSE_EXP_W], EXP_RELEASED);
      r += g9 * (1.0 - w) * exp(e);
    }
  }
  return r * p.inv_t;
}

var<private> r_i: u32;
var<private> r_li: f32;
var<private> r_ti: f32;

// dL/dS_ij for the pair (r_i, j) — both directions when SELF — given s = ⟨rows_i, cols_j⟩.
fn coef_at(j: u32, s: f32) -> f32 {
  if (j >= p.n || (SELF && j == r_i)) { return 0.0; }
  let v = s * p.inv_t;
  var pos = false;
  if (HAS_LABELS) { pos = col_meta[j * p.meta_w] == r_li; }
  var w = 0.0;
  // Every kernel depends on Δ² only, so w is the same seen from either side.
  if (HAS_KERNEL) { w = kweight(r_ti - col_meta[j * p.meta_w + T_COL]); }
  if (MODE == 0u) {
    var c = gcoef(r_i, v, pos, w);
    if (SELF) { c += gcoef(j, v, pos, w); }
    return c;
  }
  return gcoef(j, v, pos, w);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let raw = gid.x + gid.y * nwg.x * WG;
  let valid = raw < p.m;
  let i = min(raw, p.m - 1u);
  let lid = lid3.x;
  tile_begin(i);
  if (valid) {
    for (var k = 0u; k < p.d / VW; k++) { acc_out[i * (p.d / VW) + k] = RowT(0.0); }
  }
  r_i = i;
  if (HAS_LABELS) { r_li = row_meta[i * p.meta_w]; }
  if (HAS_KERNEL) { r_ti = row_meta[i * p.meta_w + T_COL]; }
  for (var c0 = 0u; c0 < p.n; c0 += TJ) {
    tile_acc(i, c0, coef_tile(c0, tile_dots(i, c0, lid)), lid, valid);
  }
  tile_end(i, valid);
}
