// Fused contrastive row statistics, forward, "lanes" layout for software adapters (llvmpipe),
// built like the backward (row-stats-grad-lanes.wgsl): each invocation owns 8 anchor rows (two
// quads of the transposed anchors zᵀ [d, nq]: consecutive lanes read consecutive memory, one
// vector load) and loops over the reference rows in blocks of 16 (each row's load is the same in
// every lane), so every loaded value feeds 8–16 FMAs; on llvmpipe loads, not FMAs, bound these
// kernels. The per-anchor online log-sum-exp states live in registers as vec4s over a quad: no
// workgroup memory, no barriers, no cross-lane merge. Pass 2 (only when epsOut or the released
// lseExpW is requested) repeats the loop with the row max and lseNeg known.
// Header constants: D4 (= d/4), WG, SELF, HAS_LABELS, HAS_KERNEL, KERNEL_TYPE, EXP_RELEASED, T_COL,
// p.columns (requested columns; the others are written as 0).

struct Params { m: u32, n: u32, d: u32, meta_w: u32, inv_t: f32, eps: f32, log_eps: f32, sigma: f32, nq: u32, columns: u32 }
@group(0) @binding(0) var<uniform> p: Params;                       // m: anchors, n: reference rows
@group(0) @binding(1) var<storage, read> owners_t: array<vec4<f32>>; // zᵀ [d, nq] (anchor quads)
@group(0) @binding(2) var<storage, read> cols: array<vec4<f32>>;     // zr [N, d/4]
@group(0) @binding(3) var<storage, read> row_meta: array<f32>;
@group(0) @binding(4) var<storage, read> col_meta: array<f32>;
@group(0) @binding(5) var<storage, read_write> stats: array<f32>;    // [M, NCOL]

fn need_exp_paper() -> bool { return HAS_KERNEL && !EXP_RELEASED && need(9u); }
fn need_exp_released() -> bool { return HAS_KERNEL && EXP_RELEASED && need(9u); }
fn need_eps() -> bool { return HAS_LABELS && need(6u); }
const OB: u32 = 16u; // reference rows per block

// An online log-sum-exp over the 4 anchors of a quad: running max and Σ e^{x − max}.
struct Acc { mx: vec4<f32>, sm: vec4<f32> }

fn acc_empty() -> Acc {
  return Acc(vec4<f32>(NEG), vec4<f32>(0.0));
}

// Push v where `live` (one exp per value, as lse_push in common.wgsl).
fn push4(a: Acc, v: vec4<f32>, live: vec4<bool>) -> Acc {
  let e = exp(-abs(v - a.mx));
  let sm = select(a.sm + e, a.sm * e + 1.0, v > a.mx);
  return Acc(select(a.mx, max(a.mx, v), live), select(a.sm, sm, live));
}

fn merge4(a: Acc, b: Acc) -> Acc {
  let mx = max(a.mx, b.mx);
  return Acc(mx, a.sm * exp(a.mx - mx) + b.sm * exp(b.mx - mx));
}

fn rel4(a: Acc, m: vec4<f32>) -> vec4<f32> {
  return select(vec4<f32>(NEG), (a.mx - m) + log(a.sm), a.sm > vec4<f32>(0.0));
}

fn kweight4(dt: vec4<f32>) -> vec4<f32> {
  let d2 = dt * dt;
  if (KERNEL_TYPE == 0u) { return exp(-d2 / (2.0 * p.sigma * p.sigma)) / (2.5066282746310002 * p.sigma); }
  if (KERNEL_TYPE == 1u) { return exp(-d2 / (2.0 * p.sigma * p.sigma)); }
  return 1.0 / (p.sigma * d2 + 1.0);
}

// log(e^a + e^b + c), c = p.log_eps ≥ 0, shifted by the largest term (b may be NEG).
fn log_den4(a: vec4<f32>, b: vec4<f32>) -> vec4<f32> {
  var shift = max(a, b);
  if (p.log_eps > 0.0) { shift = max(shift, vec4<f32>(log(p.log_eps))); }
  var s = exp(a - shift) + exp(b - shift);
  if (p.log_eps > 0.0) { s += p.log_eps * exp(-shift); }
  return shift + log(s);
}

// Per owner quad h (0: quad cq, 1: quad cq + nq/2), 4 anchors as vec4 lanes.
var<private> own_idx: array<vec4<u32>, 2>;
var<private> own_l: array<vec4<f32>, 2>;
var<private> own_t: array<vec4<f32>, 2>;
var<private> own_c: array<vec4<f32>, 2>; // sums of logits are kept relative to c (the self logit)
var<private> rmax: array<vec4<f32>, 2>;
var<private> acc_p: array<Acc, 2>;
var<private> acc_n: array<Acc, 2>; // the negatives, or every j without labels
var<private> acc_e: array<Acc, 2>;
var<private> sum_p: array<vec4<f32>, 2>;
var<private> cnt: array<vec4<f32>, 2>;
var<private> sum_w: array<vec4<f32>, 2>;
var<private> sum_ws: array<vec4<f32>, 2>;
var<private> r_m: array<vec4<f32>, 2>;
var<private> r_lneg: array<vec4<f32>, 2>;
var<private> eps_out: array<vec4<f32>, 2>;
var<private> acc_r: array<Acc, 2>;
var<private> acc_x: array<Acc, 2>;
// The current block of reference rows.
var<private> oth_l: array<f32, 16>;
var<private> oth_t: array<f32, 16>;
// The block's similarities, for the per-pair loop.
var<private> sv: array<vec4<f32>, 16>;
var<private> tv: array<vec4<f32>, 16>;

fn setup(h: u32, quad: u32) {
  own_idx[h] = vec4<u32>(quad * 4u, quad * 4u + 1u, quad * 4u + 2u, quad * 4u + 3u);
  for (var q = 0u; q < 4u; q++) {
    let i = min(own_idx[h][q], p.m - 1u);
    if (HAS_LABELS) { own_l[h][q] = row_meta[i * p.meta_w]; }
    if (HAS_KERNEL) { own_t[h][q] = row_meta[i * p.meta_w + T_COL]; }
  }
  // c = S_ii/τ with the anchors as their own reference, else S_i0/τ: any constant row offset
  // works; one near the logits keeps the low bits of logits near 1e3.
  var c = vec4<f32>(0.0);
  for (var kk = 0u; kk < D4; kk++) {
    let base = kk * 4u * p.nq + quad;
    let o0 = owners_t[base];
    let o1 = owners_t[base + p.nq];
    let o2 = owners_t[base + 2u * p.nq];
    let o3 = owners_t[base + 3u * p.nq];
    if (SELF) {
      c += o0 * o0 + o1 * o1 + o2 * o2 + o3 * o3;
    } else {
      let x = cols[kk];
      c += x.x * o0 + x.y * o1 + x.z * o2 + x.w * o3;
    }
  }
  own_c[h] = c * p.inv_t;
  rmax[h] = vec4<f32>(NEG);
  acc_p[h] = acc_empty();
  acc_n[h] = acc_empty();
  acc_e[h] = acc_empty();
  acc_r[h] = acc_empty();
  acc_x[h] = acc_empty();
}

fn load_others(o0: u32) {
  for (var r = 0u; r < OB; r++) {
    let o = min(o0 + r, p.n - 1u);
    if (HAS_LABELS) { oth_l[r] = col_meta[o * p.meta_w]; }
    if (HAS_KERNEL) { oth_t[r] = col_meta[o * p.meta_w + T_COL]; }
  }
}

// Pass 1: the pair (anchors of quad h, reference row o = slot r of the block), similarities s.
fn visit1(h: u32, r: u32, o: u32, s: vec4<f32>) {
  if (o >= p.n) { return; } // the same in every lane
  let v = s * p.inv_t;
  rmax[h] = max(rmax[h], v);
  var live = vec4<bool>(true);
  if (SELF) { live = own_idx[h] != vec4<u32>(o); }
  var pos = vec4<bool>(false);
  if (HAS_LABELS) { pos = own_l[h] == vec4<f32>(oth_l[r]); }
  let tp = live & pos;
  let tn = live & !pos;
  // One exp per pair: against the accumulator the pair joins.
  let cur = select(acc_n[h].mx, acc_p[h].mx, pos);
  let e = exp(-abs(v - cur));
  let up = v > cur;
  let nmx = max(cur, v);
  acc_p[h] = Acc(select(acc_p[h].mx, nmx, tp), select(acc_p[h].sm, select(acc_p[h].sm + e, acc_p[h].sm * e + 1.0, up), tp));
  acc_n[h] = Acc(select(acc_n[h].mx, nmx, tn), select(acc_n[h].sm, select(acc_n[h].sm + e, acc_n[h].sm * e + 1.0, up), tn));
  if (HAS_LABELS) {
    sum_p[h] += select(vec4<f32>(0.0), v - own_c[h], tp);
    cnt[h] += select(vec4<f32>(0.0), vec4<f32>(1.0), tp);
  }
  if (HAS_KERNEL) {
    let w = select(vec4<f32>(0.0), kweight4(own_t[h] - vec4<f32>(oth_t[r])), live);
    sum_w[h] += w;
    sum_ws[h] += w * (v - own_c[h]);
    if (need_exp_paper()) { acc_e[h] = push4(acc_e[h], v * (1.0 - w), live); }
  }
}

// Pass 2: epsOut and log R over the positives, the released L^exp column over J(i).
fn visit2(h: u32, r: u32, o: u32, s: vec4<f32>) {
  if (o >= p.n) { return; }
  var live = vec4<bool>(true);
  if (SELF) { live = own_idx[h] != vec4<u32>(o); }
  let l = s * p.inv_t - r_m[h];
  if (need_eps()) {
    let tp = live & (own_l[h] == vec4<f32>(oth_l[r]));
    let ld = log_den4(l - p.eps, r_lneg[h]);
    eps_out[h] += select(vec4<f32>(0.0), ld, tp);
    acc_r[h] = push4(acc_r[h], -ld, tp);
  }
  if (need_exp_released()) {
    let w = kweight4(own_t[h] - vec4<f32>(oth_t[r]));
    acc_x[h] = push4(acc_x[h], l * (1.0 - w), live);
  }
}

fn put(i: u32, k: u32, v: f32) {
  if (i < p.m) { stats[i * NCOL + k] = v; }
}

// Pass-1 columns of quad h; unrequested ones are written as 0 (the output buffer is not cleared).
fn finish1(h: u32) {
  let m = rmax[h];
  let lneg = rel4(acc_n[h], m);
  r_m[h] = m;
  r_lneg[h] = lneg;
  let zero = vec4<f32>(0.0);
  var c1 = zero;
  var c2 = zero;
  var c3 = zero;
  var c4 = zero;
  var c5 = zero;
  var c7 = zero;
  var c8 = zero;
  var c9 = zero;
  if (need(1u)) { c1 = rel4(merge4(acc_p[h], acc_n[h]), m); }
  if (HAS_LABELS) {
    if (need(2u)) { c2 = rel4(acc_p[h], m); }
    if (need(3u)) { c3 = lneg; }
    if (need(4u)) { c4 = sum_p[h] + cnt[h] * (own_c[h] - m); }
    if (need(5u)) { c5 = cnt[h]; }
  }
  if (HAS_KERNEL) {
    if (need(7u)) { c7 = sum_w[h]; }
    if (need(8u)) { c8 = sum_ws[h] + sum_w[h] * (own_c[h] - m); }
    if (need_exp_paper()) { c9 = rel4(acc_e[h], m); }
  }
  for (var q = 0u; q < 4u; q++) {
    let i = own_idx[h][q];
    put(i, 0u, m[q]);
    put(i, 1u, c1[q]);
    put(i, 2u, c2[q]);
    put(i, 3u, c3[q]);
    put(i, 4u, c4[q]);
    put(i, 5u, c5[q]);
    put(i, 6u, 0.0);
    put(i, 7u, c7[q]);
    put(i, 8u, c8[q]);
    put(i, 9u, c9[q]);
    put(i, 10u, NEG);
  }
}

fn finish2(h: u32) {
  let lr = rel4(acc_r[h], vec4<f32>(0.0));
  let lx = rel4(acc_x[h], vec4<f32>(0.0));
  for (var q = 0u; q < 4u; q++) {
    let i = own_idx[h][q];
    if (need_eps()) {
      put(i, 6u, eps_out[h][q]);
      put(i, 10u, lr[q]);
    }
    if (need_exp_released()) { put(i, 9u, lx[q]); }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  // Each lane owns the anchor quads oq and oq + nq/2 (nq is even: the host pads to 8 rows).
  let half = p.nq / 2u;
  let oq = gid.x + gid.y * nwg.x * WG;
  if (oq >= half) { return; } // no barriers here: idle lanes may leave
  let cq = oq;
  setup(0u, cq);
  setup(1u, cq + half);
  let blocks = (p.n + OB - 1u) / OB;
  for (var ob = 0u; ob < blocks; ob++) {
    let o0 = ob * OB;
    let a0 = min(o0 + 0u, p.n - 1u) * D4;
    let a1 = min(o0 + 1u, p.n - 1u) * D4;
    let a2 = min(o0 + 2u, p.n - 1u) * D4;
    let a3 = min(o0 + 3u, p.n - 1u) * D4;
    let a4 = min(o0 + 4u, p.n - 1u) * D4;
    let a5 = min(o0 + 5u, p.n - 1u) * D4;
    let a6 = min(o0 + 6u, p.n - 1u) * D4;
    let a7 = min(o0 + 7u, p.n - 1u) * D4;
    let a8 = min(o0 + 8u, p.n - 1u) * D4;
    let a9 = min(o0 + 9u, p.n - 1u) * D4;
    let a10 = min(o0 + 10u, p.n - 1u) * D4;
    let a11 = min(o0 + 11u, p.n - 1u) * D4;
    let a12 = min(o0 + 12u, p.n - 1u) * D4;
    let a13 = min(o0 + 13u, p.n - 1u) * D4;
    let a14 = min(o0 + 14u, p.n - 1u) * D4;
    let a15 = min(o0 + 15u, p.n - 1u) * D4;
    var s0 = vec4<f32>(0.0);
    var s1 = vec4<f32>(0.0);
    var s2 = vec4<f32>(0.0);
    var s3 = vec4<f32>(0.0);
    var s4 = vec4<f32>(0.0);
    var s5 = vec4<f32>(0.0);
    var s6 = vec4<f32>(0.0);
    var s7 = vec4<f32>(0.0);
    var s8 = vec4<f32>(0.0);
    var s9 = vec4<f32>(0.0);
    var s10 = vec4<f32>(0.0);
    var s11 = vec4<f32>(0.0);
    var s12 = vec4<f32>(0.0);
    var s13 = vec4<f32>(0.0);
    var s14 = vec4<f32>(0.0);
    var s15 = vec4<f32>(0.0);
    var t0 = vec4<f32>(0.0);
    var t1 = vec4<f32>(0.0);
    var t2 = vec4<f32>(0.0);
    var t3 = vec4<f32>(0.0);
    var t4 = vec4<f32>(0.0);
    var t5 = vec4<f32>(0.0);
    var t6 = vec4<f32>(0.0);
    var t7 = vec4<f32>(0.0);
    var t8 = vec4<f32>(0.0);
    var t9 = vec4<f32>(0.0);
    var t10 = vec4<f32>(0.0);
    var t11 = vec4<f32>(0.0);
    var t12 = vec4<f32>(0.0);
    var t13 = vec4<f32>(0.0);
    var t14 = vec4<f32>(0.0);
    var t15 = vec4<f32>(0.0);
    for (var kk = 0u; kk < D4; kk++) {
      let base = kk * 4u * p.nq + cq;
      let c0 = owners_t[base];
      let c1 = owners_t[base + p.nq];
      let c2 = owners_t[base + 2u * p.nq];
      let c3 = owners_t[base + 3u * p.nq];
      let e0 = owners_t[base + half];
      let e1 = owners_t[base + half + p.nq];
      let e2 = owners_t[base + half + 2u * p.nq];
      let e3 = owners_t[base + half + 3u * p.nq];
      let x0 = cols[a0 + kk];
      s0 += x0.x * c0 + x0.y * c1 + x0.z * c2 + x0.w * c3;
      t0 += x0.x * e0 + x0.y * e1 + x0.z * e2 + x0.w * e3;
      let x1 = cols[a1 + kk];
      s1 += x1.x * c0 + x1.y * c1 + x1.z * c2 + x1.w * c3;
      t1 += x1.x * e0 + x1.y * e1 + x1.z * e2 + x1.w * e3;
      let x2 = cols[a2 + kk];
      s2 += x2.x * c0 + x2.y * c1 + x2.z * c2 + x2.w * c3;
      t2 += x2.x * e0 + x2.y * e1 + x2.z * e2 + x2.w * e3;
      let x3 = cols[a3 + kk];
      s3 += x3.x * c0 + x3.y * c1 + x3.z * c2 + x3.w * c3;
      t3 += x3.x * e0 + x3.y * e1 + x3.z * e2 + x3.w * e3;
      let x4 = cols[a4 + kk];
      s4 += x4.x * c0 + x4.y * c1 + x4.z * c2 + x4.w * c3;
      t4 += x4.x * e0 + x4.y * e1 + x4.z * e2 + x4.w * e3;
      let x5 = cols[a5 + kk];
      s5 += x5.x * c0 + x5.y * c1 + x5.z * c2 + x5.w * c3;
      t5 += x5.x * e0 + x5.y * e1 + x5.z * e2 + x5.w * e3;
      let x6 = cols[a6 + kk];
      s6 += x6.x * c0 + x6.y * c1 + x6.z * c2 + x6.w * c3;
      t6 += x6.x * e0 + x6.y * e1 + x6.z * e2 + x6.w * e3;
      let x7 = cols[a7 + kk];
      s7 += x7.x * c0 + x7.y * c1 + x7.z * c2 + x7.w * c3;
      t7 += x7.x * e0 + x7.y * e1 + x7.z * e2 + x7.w * e3;
      let x8 = cols[a8 + kk];
      s8 += x8.x * c0 + x8.y * c1 + x8.z * c2 + x8.w * c3;
      t8 += x8.x * e0 + x8.y * e1 + x8.z * e2 + x8.w * e3;
      let x9 = cols[a9 + kk];
      s9 += x9.x * c0 + x9.y * c1 + x9.z * c2 + x9.w * c3;
      t9 += x9.x * e0 + x9.y * e1 + x9.z * e2 + x9.w * e3;
      let x10 = cols[a10 + kk];
      s10 += x10.x * c0 + x10.y * c1 + x10.z * c2 + x10.w * c3;
      t10 += x10.x * e0 + x10.y * e1 + x10.z * e2 + x10.w * e3;
      let x11 = cols[a11 + kk];
      s11 += x11.x * c0 + x11.y * c1 + x11.z * c2 + x11.w * c3;
      t11 += x11.x * e0 + x11.y * e1 + x11.z * e2 + x11.w * e3;
      let x12 = cols[a12 + kk];
      s12 += x12.x * c0 + x12.y * c1 + x12.z * c2 + x12.w * c3;
      t12 += x12.x * e0 + x12.y * e1 + x12.z * e2 + x12.w * e3;
      let x13 = cols[a13 + kk];
      s13 += x13.x * c0 + x13.y * c1 + x13.z * c2 + x13.w * c3;
      t13 += x13.x * e0 + x13.y * e1 + x13.z * e2 + x13.w * e3;
      let x14 = cols[a14 + kk];
      s14 += x14.x * c0 + x14.y * c1 + x14.z * c2 + x14.w * c3;
      t14 += x14.x * e0 + x14.y * e1 + x14.z * e2 + x14.w * e3;
      let x15 = cols[a15 + kk];
      s15 += x15.x * c0 + x15.y * c1 + x15.z * c2 + x15.w * c3;
      t15 += x15.x * e0 + x15.y * e1 + x15.z * e2 + x15.w * e3;
    }
    load_others(o0);
    // The per-pair work in a loop (not unrolled like the dots): one copy of it in the
    // compiled kernel instead of 32 keeps the software adapter's compile time down.
    sv[0] = s0;
    tv[0] = t0;
    sv[1] = s1;
    tv[1] = t1;
    sv[2] = s2;
    tv[2] = t2;
    sv[3] = s3;
    tv[3] = t3;
    sv[4] = s4;
    tv[4] = t4;
    sv[5] = s5;
    tv[5] = t5;
    sv[6] = s6;
    tv[6] = t6;
    sv[7] = s7;
    tv[7] = t7;
    sv[8] = s8;
    tv[8] = t8;
    sv[9] = s9;
    tv[9] = t9;
    sv[10] = s10;
    tv[10] = t10;
    sv[11] = s11;
    tv[11] = t11;
    sv[12] = s12;
    tv[12] = t12;
    sv[13] = s13;
    tv[13] = t13;
    sv[14] = s14;
    tv[14] = t14;
    sv[15] = s15;
    tv[15] = t15;
    for (var r = 0u; r < OB; r++) {
      visit1(0u, r, o0 + r, sv[r]);
      visit1(1u, r, o0 + r, tv[r]);
    }
  }
  finish1(0u);
  finish1(1u);
  if (need_eps() || need_exp_released()) {
    for (var ob = 0u; ob < blocks; ob++) {
      let o0 = ob * OB;
      let a0 = min(o0 + 0u, p.n - 1u) * D4;
      let a1 = min(o0 + 1u, p.n - 1u) * D4;
      let a2 = min(o0 + 2u, p.n - 1u) * D4;
      let a3 = min(o0 + 3u, p.n - 1u) * D4;
      let a4 = min(o0 + 4u, p.n - 1u) * D4;
      let a5 = min(o0 + 5u, p.n - 1u) * D4;
      let a6 = min(o0 + 6u, p.n - 1u) * D4;
      let a7 = min(o0 + 7u, p.n - 1u) * D4;
      let a8 = min(o0 + 8u, p.n - 1u) * D4;
      let a9 = min(o0 + 9u, p.n - 1u) * D4;
      let a10 = min(o0 + 10u, p.n - 1u) * D4;
      let a11 = min(o0 + 11u, p.n - 1u) * D4;
      let a12 = min(o0 + 12u, p.n - 1u) * D4;
      let a13 = min(o0 + 13u, p.n - 1u) * D4;
      let a14 = min(o0 + 14u, p.n - 1u) * D4;
      let a15 = min(o0 + 15u, p.n - 1u) * D4;
      var s0 = vec4<f32>(0.0);
      var s1 = vec4<f32>(0.0);
      var s2 = vec4<f32>(0.0);
      var s3 = vec4<f32>(0.0);
      var s4 = vec4<f32>(0.0);
      var s5 = vec4<f32>(0.0);
      var s6 = vec4<f32>(0.0);
      var s7 = vec4<f32>(0.0);
      var s8 = vec4<f32>(0.0);
      var s9 = vec4<f32>(0.0);
      var s10 = vec4<f32>(0.0);
      var s11 = vec4<f32>(0.0);
      var s12 = vec4<f32>(0.0);
      var s13 = vec4<f32>(0.0);
      var s14 = vec4<f32>(0.0);
      var s15 = vec4<f32>(0.0);
      var t0 = vec4<f32>(0.0);
      var t1 = vec4<f32>(0.0);
      var t2 = vec4<f32>(0.0);
      var t3 = vec4<f32>(0.0);
      var t4 = vec4<f32>(0.0);
      var t5 = vec4<f32>(0.0);
      var t6 = vec4<f32>(0.0);
      var t7 = vec4<f32>(0.0);
      var t8 = vec4<f32>(0.0);
      var t9 = vec4<f32>(0.0);
      var t10 = vec4<f32>(0.0);
      var t11 = vec4<f32>(0.0);
      var t12 = vec4<f32>(0.0);
      var t13 = vec4<f32>(0.0);
      var t14 = vec4<f32>(0.0);
      var t15 = vec4<f32>(0.0);
      for (var kk = 0u; kk < D4; kk++) {
        let base = kk * 4u * p.nq + cq;
        let c0 = owners_t[base];
        let c1 = owners_t[base + p.nq];
        let c2 = owners_t[base + 2u * p.nq];
        let c3 = owners_t[base + 3u * p.nq];
        let e0 = owners_t[base + half];
        let e1 = owners_t[base + half + p.nq];
        let e2 = owners_t[base + half + 2u * p.nq];
        let e3 = owners_t[base + half + 3u * p.nq];
        let x0 = cols[a0 + kk];
        s0 += x0.x * c0 + x0.y * c1 + x0.z * c2 + x0.w * c3;
        t0 += x0.x * e0 + x0.y * e1 + x0.z * e2 + x0.w * e3;
        let x1 = cols[a1 + kk];
        s1 += x1.x * c0 + x1.y * c1 + x1.z * c2 + x1.w * c3;
        t1 += x1.x * e0 + x1.y * e1 + x1.z * e2 + x1.w * e3;
        let x2 = cols[a2 + kk];
        s2 += x2.x * c0 + x2.y * c1 + x2.z * c2 + x2.w * c3;
        t2 += x2.x * e0 + x2.y * e1 + x2.z * e2 + x2.w * e3;
        let x3 = cols[a3 + kk];
        s3 += x3.x * c0 + x3.y * c1 + x3.z * c2 + x3.w * c3;
        t3 += x3.x * e0 + x3.y * e1 + x3.z * e2 + x3.w * e3;
        let x4 = cols[a4 + kk];
        s4 += x4.x * c0 + x4.y * c1 + x4.z * c2 + x4.w * c3;
        t4 += x4.x * e0 + x4.y * e1 + x4.z * e2 + x4.w * e3;
        let x5 = cols[a5 + kk];
        s5 += x5.x * c0 + x5.y * c1 + x5.z * c2 + x5.w * c3;
        t5 += x5.x * e0 + x5.y * e1 + x5.z * e2 + x5.w * e3;
        let x6 = cols[a6 + kk];
        s6 += x6.x * c0 + x6.y * c1 + x6.z * c2 + x6.w * c3;
        t6 += x6.x * e0 + x6.y * e1 + x6.z * e2 + x6.w * e3;
        let x7 = cols[a7 + kk];
        s7 += x7.x * c0 + x7.y * c1 + x7.z * c2 + x7.w * c3;
        t7 += x7.x * e0 + x7.y * e1 + x7.z * e2 + x7.w * e3;
        let x8 = cols[a8 + kk];
        s8 += x8.x * c0 + x8.y * c1 + x8.z * c2 + x8.w * c3;
        t8 += x8.x * e0 + x8.y * e1 + x8.z * e2 + x8.w * e3;
        let x9 = cols[a9 + kk];
        s9 += x9.x * c0 + x9.y * c1 + x9.z * c2 + x9.w * c3;
        t9 += x9.x * e0 + x9.y * e1 + x9.z * e2 + x9.w * e3;
        let x10 = cols[a10 + kk];
        s10 += x10.x * c0 + x10.y * c1 + x10.z * c2 + x10.w * c3;
        t10 += x10.x * e0 + x10.y * e1 + x10.z * e2 + x10.w * e3;
        let x11 = cols[a11 + kk];
        s11 += x11.x * c0 + x11.y * c1 + x11.z * c2 + x11.w * c3;
        t11 += x11.x * e0 + x11.y * e1 + x11.z * e2 + x11.w * e3;
        let x12 = cols[a12 + kk];
        s12 += x12.x * c0 + x12.y * c1 + x12.z * c2 + x12.w * c3;
        t12 += x12.x * e0 + x12.y * e1 + x12.z * e2 + x12.w * e3;
        let x13 = cols[a13 + kk];
        s13 += x13.x * c0 + x13.y * c1 + x13.z * c2 + x13.w * c3;
        t13 += x13.x * e0 + x13.y * e1 + x13.z * e2 + x13.w * e3;
        let x14 = cols[a14 + kk];
        s14 += x14.x * c0 + x14.y * c1 + x14.z * c2 + x14.w * c3;
        t14 += x14.x * e0 + x14.y * e1 + x14.z * e2 + x14.w * e3;
        let x15 = cols[a15 + kk];
        s15 += x15.x * c0 + x15.y * c1 + x15.z * c2 + x15.w * c3;
        t15 += x15.x * e0 + x15.y * e1 + x15.z * e2 + x15.w * e3;
      }
      load_others(o0);
      // The per-pair work in a loop (not unrolled like the dots): one copy of it in the
      // compiled kernel instead of 32 keeps the software adapter's compile time down.
      sv[0] = s0;
      tv[0] = t0;
      sv[1] = s1;
      tv[1] = t1;
      sv[2] = s2;
      tv[2] = t2;
      sv[3] = s3;
      tv[3] = t3;
      sv[4] = s4;
      tv[4] = t4;
      sv[5] = s5;
      tv[5] = t5;
      sv[6] = s6;
      tv[6] = t6;
      sv[7] = s7;
      tv[7] = t7;
      sv[8] = s8;
      tv[8] = t8;
      sv[9] = s9;
      tv[9] = t9;
      sv[10] = s10;
      tv[10] = t10;
      sv[11] = s11;
      tv[11] = t11;
      sv[12] = s12;
      tv[12] = t12;
      sv[13] = s13;
      tv[13] = t13;
      sv[14] = s14;
      tv[14] = t14;
      sv[15] = s15;
      tv[15] = t15;
      for (var r = 0u; r < OB; r++) {
        visit2(0u, r, o0 + r, sv[r]);
        visit2(1u, r, o0 + r, tv[r]);
      }
    }

    finish2(0u);
    finish2(1u);
  }
}
