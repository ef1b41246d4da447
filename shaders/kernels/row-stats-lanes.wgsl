// Fused contrastive row statistics, forward, "lanes" layout for software adapters (llvmpipe):
// there, a storage load whose address is the same in every SIMD lane costs a full gather, so
// the 4 rows × 8 columns block each invocation computes reads the 4 column vectors from the
// transposed reference zrᵀ [d, N8] — consecutive lanes read consecutive columns, one vector
// load — exactly like the core's vec4 matmul. A workgroup owns R = 4 anchor rows; its 64 lanes
// stride over column quads with private online log-sum-exp states, merged once through
// workgroup memory at the end of each pass (one barrier per pass, no atomics).
// Header constants: D4 (= d/4), SELF, HAS_LABELS, HAS_KERNEL, KERNEL_TYPE, EXP_RELEASED, T_COL,
// The R = 4 rows and 4 columns of a block are unrolled by hand below (constant indices keep the
// private arrays in registers).

struct Params { m: u32, n: u32, d: u32, meta_w: u32, inv_t: f32, eps: f32, log_eps: f32, sigma: f32, nq: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> rows: array<vec4<f32>>;   // anchors z [M, d/4]
@group(0) @binding(2) var<storage, read> cols_t: array<vec4<f32>>; // zrᵀ [d, nq] (column quads)
@group(0) @binding(3) var<storage, read> row_meta: array<f32>;
@group(0) @binding(4) var<storage, read> col_meta: array<f32>;
@group(0) @binding(5) var<storage, read_write> stats: array<f32>;  // [M, NCOL]

const R: u32 = 4u;
const L: u32 = 64u;
const F1: u32 = 11u; // pass-1 fields per (lane, row)
const F2: u32 = 5u;  // pass-2 fields
var<workgroup> red: array<f32, 2816>; // L × R × F1
var<workgroup> row_m: array<f32, 4>;
var<workgroup> row_lneg: array<f32, 4>;

var<private> i0: u32;
var<private> r_li: array<f32, 4>;
var<private> r_ti: array<f32, 4>;
var<private> r_c: array<f32, 4>;
var<private> r_m: array<f32, 4>;
var<private> r_lneg: array<f32, 4>;
var<private> rowmax: array<f32, 4>;
var<private> acc_p: array<vec2<f32>, 4>;
var<private> acc_n: array<vec2<f32>, 4>;
var<private> acc_e: array<vec2<f32>, 4>;
var<private> sum_p: array<f32, 4>;
var<private> cnt: array<f32, 4>;
var<private> sum_w: array<f32, 4>;
var<private> sum_ws: array<f32, 4>;
var<private> eps_out: array<f32, 4>;
var<private> acc_r: array<vec2<f32>, 4>;
var<private> acc_x: array<vec2<f32>, 4>;

fn row_of(r: u32) -> u32 {
  return min(i0 + r, p.m - 1u);
}

// zr_j's feature k from the transposed layout.
fn col_value(k: u32, j: u32) -> f32 {
  return cols_t[k * p.nq + j / 4u][j % 4u];
}

fn row_setup(r: u32) {
  let i = row_of(r);
  if (HAS_LABELS) { r_li[r] = row_meta[i * p.meta_w]; }
  if (HAS_KERNEL) { r_ti[r] = row_meta[i * p.meta_w + T_COL]; }
  // Sums of logits are accumulated relative to c (the self logit, = m for unit rows).
  var c = 0.0;
  let cj = select(0u, i, SELF);
  for (var kk = 0u; kk < D4; kk++) {
    let x = rows[i * D4 + kk];
    c += x.x * col_value(kk * 4u, cj) + x.y * col_value(kk * 4u + 1u, cj) + x.z * col_value(kk * 4u + 2u, cj) + x.w * col_value(kk * 4u + 3u, cj);
  }
  r_c[r] = c * p.inv_t;
  rowmax[r] = NEG;
  acc_p[r] = vec2<f32>(NEG, 0.0);
  acc_n[r] = vec2<f32>(NEG, 0.0);
  acc_e[r] = vec2<f32>(NEG, 0.0);
  acc_r[r] = vec2<f32>(NEG, 0.0);
  acc_x[r] = vec2<f32>(NEG, 0.0);
}

// S for rows i0..i0+3 × the column quads cb and cb + nq/2: vec4 over four columns, per row and
// quad. Two quads per lane halve the loads of the rows (the same address in every lane).
fn block_dots(cb: u32) -> array<vec4<f32>, 8> {
  let a0 = row_of(0u) * D4;
  let a1 = row_of(1u) * D4;
  let a2 = row_of(2u) * D4;
  let a3 = row_of(3u) * D4;
  let half = p.nq / 2u;
  var s0 = vec4<f32>(0.0);
  var s1 = vec4<f32>(0.0);
  var s2 = vec4<f32>(0.0);
  var s3 = vec4<f32>(0.0);
  var t0 = vec4<f32>(0.0);
  var t1 = vec4<f32>(0.0);
  var t2 = vec4<f32>(0.0);
  var t3 = vec4<f32>(0.0);
  for (var kk = 0u; kk < D4; kk++) {
    let base = kk * 4u * p.nq + cb;
    let c0 = cols_t[base];
    let c1 = cols_t[base + p.nq];
    let c2 = cols_t[base + 2u * p.nq];
    let c3 = cols_t[base + 3u * p.nq];
    let e0 = cols_t[base + half];
    let e1 = cols_t[base + half + p.nq];
    let e2 = cols_t[base + half + 2u * p.nq];
    let e3 = cols_t[base + half + 3u * p.nq];
    let x0 = rows[a0 + kk];
    let x1 = rows[a1 + kk];
    let x2 = rows[a2 + kk];
    let x3 = rows[a3 + kk];
    s0 += x0.x * c0 + x0.y * c1 + x0.z * c2 + x0.w * c3;
    s1 += x1.x * c0 + x1.y * c1 + x1.z * c2 + x1.w * c3;
    s2 += x2.x * c0 + x2.y * c1 + x2.z * c2 + x2.w * c3;
    s3 += x3.x * c0 + x3.y * c1 + x3.z * c2 + x3.w * c3;
    t0 += x0.x * e0 + x0.y * e1 + x0.z * e2 + x0.w * e3;
    t1 += x1.x * e0 + x1.y * e1 + x1.z * e2 + x1.w * e3;
    t2 += x2.x * e0 + x2.y * e1 + x2.z * e2 + x2.w * e3;
    t3 += x3.x * e0 + x3.y * e1 + x3.z * e2 + x3.w * e3;
  }
  return array<vec4<f32>, 8>(s0, s1, s2, s3, t0, t1, t2, t3);
}

fn visit1(r: u32, j: u32, s: f32) {
  if (j >= p.n) { return; }
  let v = s * p.inv_t;
  rowmax[r] = max(rowmax[r], v);
  if (SELF && j == i0 + r) { return; }
  var pos = false;
  if (HAS_LABELS) { pos = col_meta[j * p.meta_w] == r_li[r]; }
  if (pos) {
    acc_p[r] = lse_push(acc_p[r], v);
    sum_p[r] += v - r_c[r];
    cnt[r] += 1.0;
  } else {
    acc_n[r] = lse_push(acc_n[r], v);
  }
  if (HAS_KERNEL) {
    let w = kweight(r_ti[r] - col_meta[j * p.meta_w + T_COL]);
    sum_w[r] += w;
    sum_ws[r] += w * (v - r_c[r]);
    if (!EXP_RELEASED) { acc_e[r] = lse_push(acc_e[r], v * (1.0 - w)); }
  }
}

fn visit2(r: u32, j: u32, s: f32) {
  if (j >= p.n || (SELF && j == i0 + r)) { return; }
  let l = s * p.inv_t - r_m[r];
  if (HAS_LABELS && col_meta[j * p.meta_w] == r_li[r]) {
    let ld = log_den(l - p.eps, r_lneg[r]);
    eps_out[r] += ld;
    acc_r[r] = lse_push(acc_r[r], -ld);
  }
  if (HAS_KERNEL && EXP_RELEASED) {
    let w = kweight(r_ti[r] - col_meta[j * p.meta_w + T_COL]);
    acc_x[r] = lse_push(acc_x[r], l * (1.0 - w));
  }
}

fn stash1(lane: u32, r: u32) {
  let b = (lane * R + r) * F1;
  red[b] = rowmax[r];
  red[b + 1u] = acc_p[r].x;
  red[b + 2u] = acc_p[r].y;
  red[b + 3u] = acc_n[r].x;
  red[b + 4u] = acc_n[r].y;
  red[b + 5u] = acc_e[r].x;
  red[b + 6u] = acc_e[r].y;
  red[b + 7u] = sum_p[r];
  red[b + 8u] = cnt[r];
  red[b + 9u] = sum_w[r];
  red[b + 10u] = sum_ws[r];
}

fn stash2(lane: u32, r: u32) {
  let b = (lane * R + r) * F2;
  red[b] = eps_out[r];
  red[b + 1u] = acc_r[r].x;
  red[b + 2u] = acc_r[r].y;
  red[b + 3u] = acc_x[r].x;
  red[b + 4u] = acc_x[r].y;
}

fn load_row_pass2(r: u32) {
  r_m[r] = row_m[r];
  r_lneg[r] = row_lneg[r];
}

// Lane r < R merges the 64 lanes' pass-1 states of row i0 + r and writes its columns.
fn merge1(r: u32) -> vec2<f32> {
  var mx = NEG;
  var ap = vec2<f32>(NEG, 0.0);
  var an = vec2<f32>(NEG, 0.0);
  var ae = vec2<f32>(NEG, 0.0);
  var sp = 0.0;
  var ct = 0.0;
  var sw = 0.0;
  var sws = 0.0;
  for (var lane = 0u; lane < L; lane++) {
    let b = (lane * R + r) * F1;
    mx = max(mx, red[b]);
    ap = lse_merge(ap, vec2<f32>(red[b + 1u], red[b + 2u]));
    an = lse_merge(an, vec2<f32>(red[b + 3u], red[b + 4u]));
    ae = lse_merge(ae, vec2<f32>(red[b + 5u], red[b + 6u]));
    sp += red[b + 7u];
    ct += red[b + 8u];
    sw += red[b + 9u];
    sws += red[b + 10u];
  }
  let i = i0 + r;
  let m = mx;
  let c = r_c[r];
  var o: array<f32, NCOL>;
  o[0] = m;
  o[1] = lse_rel(lse_merge(ap, an), m);
  o[10] = NEG;
  if (HAS_LABELS) {
    o[2] = lse_rel(ap, m);
    o[3] = lse_rel(an, m);
    o[4] = sp + ct * (c - m);
    o[5] = ct;
  }
  if (HAS_KERNEL) {
    o[7] = sw;
    o[8] = sws + sw * (c - m);
    if (!EXP_RELEASED) { o[9] = lse_rel(ae, m); }
  }
  if (i < p.m) {
    for (var k = 0u; k < NCOL; k++) { stats[i * NCOL + k] = o[k]; }
  }
  return vec2<f32>(m, o[3]);
}

fn merge2(r: u32) {
  var eo = 0.0;
  var ar = vec2<f32>(NEG, 0.0);
  var ax = vec2<f32>(NEG, 0.0);
  for (var lane = 0u; lane < L; lane++) {
    let b = (lane * R + r) * F2;
    eo += red[b];
    ar = lse_merge(ar, vec2<f32>(red[b + 1u], red[b + 2u]));
    ax = lse_merge(ax, vec2<f32>(red[b + 3u], red[b + 4u]));
  }
  let i = i0 + r;
  if (i < p.m) {
    if (HAS_LABELS) {
      stats[i * NCOL + 6u] = eo;
      stats[i * NCOL + 10u] = lse_rel(ar, 0.0);
    }
    if (HAS_KERNEL && EXP_RELEASED) { stats[i * NCOL + 9u] = lse_rel(ax, 0.0); }
  }
}

fn setup_rows() {
  row_setup(0u);
  row_setup(1u);
  row_setup(2u);
  row_setup(3u);
}

fn visit1_row(r: u32, j0: u32, s: vec4<f32>) {
  visit1(r, j0, s.x);
  visit1(r, j0 + 1u, s.y);
  visit1(r, j0 + 2u, s.z);
  visit1(r, j0 + 3u, s.w);
}

fn visit1_block(cb: u32, s: array<vec4<f32>, 8>) {
  let j0 = cb * 4u;
  let j1 = (cb + p.nq / 2u) * 4u;
  visit1_row(0u, j0, s[0]);
  visit1_row(1u, j0, s[1]);
  visit1_row(2u, j0, s[2]);
  visit1_row(3u, j0, s[3]);
  visit1_row(0u, j1, s[4]);
  visit1_row(1u, j1, s[5]);
  visit1_row(2u, j1, s[6]);
  visit1_row(3u, j1, s[7]);
}

fn visit2_row(r: u32, j0: u32, s: vec4<f32>) {
  visit2(r, j0, s.x);
  visit2(r, j0 + 1u, s.y);
  visit2(r, j0 + 2u, s.z);
  visit2(r, j0 + 3u, s.w);
}

fn visit2_block(cb: u32, s: array<vec4<f32>, 8>) {
  let j0 = cb * 4u;
  let j1 = (cb + p.nq / 2u) * 4u;
  visit2_row(0u, j0, s[0]);
  visit2_row(1u, j0, s[1]);
  visit2_row(2u, j0, s[2]);
  visit2_row(3u, j0, s[3]);
  visit2_row(0u, j1, s[4]);
  visit2_row(1u, j1, s[5]);
  visit2_row(2u, j1, s[6]);
  visit2_row(3u, j1, s[7]);
}

fn stash_all1(lane: u32) {
  stash1(lane, 0u);
  stash1(lane, 1u);
  stash1(lane, 2u);
  stash1(lane, 3u);
}

fn stash_all2(lane: u32) {
  stash2(lane, 0u);
  stash2(lane, 1u);
  stash2(lane, 2u);
  stash2(lane, 3u);
}

fn load_all_pass2() {
  load_row_pass2(0u);
  load_row_pass2(1u);
  load_row_pass2(2u);
  load_row_pass2(3u);
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  i0 = (wid.x + wid.y * nwg.x) * R;
  let lane = lid3.x;
  setup_rows();
  // nq is even (the host pads the columns to a multiple of 8): lanes take quad pairs.
  let iters = (p.nq / 2u + L - 1u) / L;
  for (var t = 0u; t < iters; t++) {
    let cb = t * L + lane;
    if (cb < p.nq / 2u) { visit1_block(cb, block_dots(cb)); }
  }
  stash_all1(lane);
  workgroupBarrier();
  if (lane < R) {
    let mv = merge1(lane);
    row_m[lane] = mv.x;
    row_lneg[lane] = mv.y;
  }
  if (HAS_LABELS || (HAS_KERNEL && EXP_RELEASED)) {
    workgroupBarrier();
    load_all_pass2();
    for (var t = 0u; t < iters; t++) {
      let cb = t * L + lane;
      if (cb < p.nq / 2u) { visit2_block(cb, block_dots(cb)); }
    }
    stash_all2(lane);
    workgroupBarrier();
    if (lane < R) { merge2(lane); }
  }
}
