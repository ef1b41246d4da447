// Fused contrastive row statistics, forward (docs/contrastive-stats.md). One invocation per
// anchor row i loops over column tiles of the reference with online log-sum-exps; nothing M×N is
// stored. Pass 1: row max, the positive/negative (or all) log-sum-exps, sums of logits, kernel
// sums. Pass 2 (labels, or the released L^exp column): epsOut and log R, which need lseNeg / m.
// Specialised by header constants (TJ, WG, DC, SELF, HAS_LABELS, HAS_KERNEL, KERNEL_TYPE,
// EXP_RELEASED, T_COL) and a tile-*.wgsl variant, prepended by packages/kernels/src/fused.ts.

struct Params { m: u32, n: u32, d: u32, meta_w: u32, inv_t: f32, eps: f32, log_eps: f32, sigma: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> rows: array<f32>;     // anchors z [M, d]
@group(0) @binding(2) var<storage, read> cols: array<f32>;     // reference zr [N, d]
@group(0) @binding(3) var<storage, read> row_meta: array<f32>; // [M, meta_w]: label, target
@group(0) @binding(4) var<storage, read> col_meta: array<f32>; // [N, meta_w]
@group(0) @binding(5) var<storage, read_write> stats: array<f32>; // [M, NCOL]

fn row_dot(r: u32, c: u32) -> f32 {
  var s = 0.0;
  for (var k = 0u; k < p.d; k++) { s += rows[r * p.d + k] * cols[c * p.d + k]; }
  return s;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let raw = gid.x + gid.y * nwg.x * WG;
  let valid = raw < p.m;
  let i = min(raw, p.m - 1u);
  let lid = lid3.x;
  var li = 0.0;
  var ti = 0.0;
  if (HAS_LABELS) { li = row_meta[i * p.meta_w]; }
  if (HAS_KERNEL) { ti = row_meta[i * p.meta_w + T_COL]; }
  // Sums of logits are accumulated relative to c (the self logit, = m for unit rows), so logits
  // near 1e3 do not lose their low bits when m is subtracted at the end.
  var c = row_dot(i, select(0u, i, SELF)) * p.inv_t;

  var rowmax = NEG;
  var acc_p = vec2<f32>(NEG, 0.0);
  var acc_n = vec2<f32>(NEG, 0.0); // the negatives, or every j without labels
  var acc_e = vec2<f32>(NEG, 0.0);
  var sum_p = 0.0;
  var cnt = 0.0;
  var sum_w = 0.0;
  var sum_ws = 0.0;
  for (var c0 = 0u; c0 < p.n; c0 += TJ) {
    var s = tile_dots(i, c0, lid);
    for (var q = 0u; q < TJ; q++) {
      let j = c0 + q;
      if (j >= p.n) { break; }
      let v = s[q] * p.inv_t;
      rowmax = max(rowmax, v);
      if (SELF && j == i) { continue; }
      var pos = false;
      if (HAS_LABELS) { pos = col_meta[j * p.meta_w] == li; }
      let upd = lse_push(select(acc_n, acc_p, pos), v);
      if (pos) {
        acc_p = upd;
        sum_p += v - c;
        cnt += 1.0;
      } else {
        acc_n = upd;
      }
      if (HAS_KERNEL) {
        let w = kweight(ti - col_meta[j * p.meta_w + T_COL]);
        sum_w += w;
        sum_ws += w * (v - c);
        if (!EXP_RELEASED) { acc_e = lse_push(acc_e, v * (1.0 - w)); }
      }
    }
  }
  let m = rowmax;
  var o: array<f32, NCOL>;
  o[0] = m;
  o[1] = lse_rel(lse_merge(acc_p, acc_n), m);
  o[10] = NEG;
  if (HAS_LABELS) {
    o[2] = lse_rel(acc_p, m);
    o[3] = lse_rel(acc_n, m);
    o[4] = sum_p + cnt * (c - m);
    o[5] = cnt;
  }
  if (HAS_KERNEL) {
    o[7] = sum_w;
    o[8] = sum_ws + sum_w * (c - m);
    if (!EXP_RELEASED) { o[9] = lse_rel(acc_e, m); }
  }
  if (HAS_LABELS || (HAS_KERNEL && EXP_RELEASED)) {
    let lneg = o[3];
    var eps_out = 0.0;
    var acc_r = vec2<f32>(NEG, 0.0);
    var acc_x = vec2<f32>(NEG, 0.0);
    for (var c0 = 0u; c0 < p.n; c0 += TJ) {
      // With labels only, a tile without positives of this row adds nothing.
      var need = HAS_KERNEL && EXP_RELEASED;
      if (HAS_LABELS) {
        for (var q = 0u; q < TJ; q++) {
          let j = min(c0 + q, p.n - 1u);
          need = need || (col_meta[j * p.meta_w] == li && !(SELF && j == i));
        }
      }
      if (!tile_needed(need)) { continue; }
      var s = tile_dots(i, c0, lid);
      for (var q = 0u; q < TJ; q++) {
        let j = c0 + q;
        if (j >= p.n) { break; }
        if (SELF && j == i) { continue; }
        let l = s[q] * p.inv_t - m;
        if (HAS_LABELS && col_meta[j * p.meta_w] == li) {
          let ld = log_den(l - p.eps, lneg);
          eps_out += ld;
          acc_r = lse_push(acc_r, -ld);
        }
        if (HAS_KERNEL && EXP_RELEASED) {
          let w = kweight(ti - col_meta[j * p.meta_w + T_COL]);
          acc_x = lse_push(acc_x, l * (1.0 - w));
        }
      }
    }
    if (HAS_LABELS) {
      o[6] = eps_out;
      o[10] = lse_rel(acc_r, 0.0);
    }
    if (HAS_KERNEL && EXP_RELEASED) { o[9] = lse_rel(acc_x, 0.0); }
  }
  if (valid) {
    for (var k = 0u; k < NCOL; k++) { stats[i * NCOL + k] = o[k]; }
  }
}
