// Fused contrastive row statistics, backward: recomputes the similarities tile by tile and turns
// the upstream gradient g [M, NCOL] into dL/dS_ij (gcoef), then accumulates
//   MODE 0 (anchors):   dz_i  = Σ_j dL/dS_ij · zr_j   (+ Σ_j dL/dS_ji · z_j when SELF: zr is z)
//   MODE 1 (reference): dzr_j = Σ_i dL/dS_ij · z_i    (rows are the reference rows here)
// one invocation per output row, no atomics, nothing M×N stored.

struct Params { m: u32, n: u32, d: u32, meta_w: u32, inv_t: f32, eps: f32, log_eps: f32, sigma: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> rows: array<f32>;     // the rows this pass writes
@group(0) @binding(2) var<storage, read> cols: array<f32>;     // the rows it loops over
@group(0) @binding(3) var<storage, read> row_meta: array<f32>;
@group(0) @binding(4) var<storage, read> col_meta: array<f32>;
@group(0) @binding(5) var<storage, read> stats: array<f32>;    // forward output [M, NCOL]
@group(0) @binding(6) var<storage, read> grad: array<f32>;     // upstream gradient [M, NCOL]
@group(0) @binding(7) var<storage, read_write> acc_out: array<f32>; // [rows, d]

// dL/dS for anchor a and logit v = S/τ (pos: same label; w: kernel weight).
fn gcoef(a: u32, v: f32, pos: bool, w: f32) -> f32 {
  let b = a * NCOL;
  let l = v - stats[b];
  var r = grad[b + 1u] * exp(l - stats[b + 1u]);
  if (HAS_LABELS) {
    if (pos) {
      let le = l - p.eps;
      r += grad[b + 2u] * exp(l - stats[b + 2u]) + grad[b + 4u] + grad[b + 6u] * exp(le - log_den(le, stats[b + 3u]));
    } else {
      r += grad[b + 3u] * exp(l - stats[b + 3u]) + grad[b + 6u] * exp(l + stats[b + 10u]);
    }
  }
  if (HAS_KERNEL) {
    r += grad[b + 8u] * w;
    // paper: S(1−w)/τ − (lseExpW + m) = l − v·w − lseExpW; released: l(1−w) − lseExpW.
    let e = select(l - v * w - stats[b + 9u], l * (1.0 - w) - stats[b + 9u], EXP_RELEASED);
    r += grad[b + 9u] * (1.0 - w) * exp(e);
  }
  return r * p.inv_t;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let raw = gid.x + gid.y * nwg.x * WG;
  let valid = raw < p.m;
  let i = min(raw, p.m - 1u);
  let lid = lid3.x;
  if (valid) {
    for (var k = 0u; k < p.d; k++) { acc_out[i * p.d + k] = 0.0; }
  }
  var li = 0.0;
  var ti = 0.0;
  if (HAS_LABELS) { li = row_meta[i * p.meta_w]; }
  if (HAS_KERNEL) { ti = row_meta[i * p.meta_w + T_COL]; }
  for (var c0 = 0u; c0 < p.n; c0 += TJ) {
    var s = tile_dots(i, c0, lid);
    var coef: array<f32, TJ>;
    for (var q = 0u; q < TJ; q++) {
      let j = c0 + q;
      if (j >= p.n || (SELF && j == i)) { continue; }
      let v = s[q] * p.inv_t;
      var pos = false;
      if (HAS_LABELS) { pos = col_meta[j * p.meta_w] == li; }
      var w = 0.0;
      // Every kernel depends on Δ² only, so w is the same seen from either side.
      if (HAS_KERNEL) { w = kweight(ti - col_meta[j * p.meta_w + T_COL]); }
      if (MODE == 0u) {
        coef[q] = gcoef(i, v, pos, w);
        if (SELF) { coef[q] += gcoef(j, v, pos, w); }
      } else {
        coef[q] = gcoef(j, v, pos, w);
      }
    }
    tile_acc(i, c0, coef, lid, valid);
  }
}
