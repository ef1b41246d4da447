// Fused contrastive row statistics, backward, "lanes" layout for software adapters: each
// invocation owns 8 output rows (two quads) ("owners", read as columns of the transposed ownersᵀ [d, nq]:
// consecutive lanes, consecutive memory) and loops over the other side in blocks of 8 rows,
// recomputing the 8×8 similarities (8 other rows per block: each load feeds more FMAs, which is
// what bounds this kernel on llvmpipe), turning them into dL/dS (gcoef) and accumulating
//   MODE 0: owners = anchors,   dz_a  = Σ_o dL/dS_ao · zr_o (+ Σ_o dL/dS_oa · z_o when SELF)
//   MODE 1: owners = reference, dzr_j = Σ_i dL/dS_ij · z_i
// into the transposed output (ownersᵀ layout [d, nq] of vec4s over the 4 owners: consecutive
// lanes, consecutive memory; the host transposes it back). No workgroup memory, no atomics.

struct Params { m: u32, n: u32, d: u32, meta_w: u32, inv_t: f32, eps: f32, log_eps: f32, sigma: f32, nq: u32, columns: u32 }
@group(0) @binding(0) var<uniform> p: Params;                     // m: owners, n: others
@group(0) @binding(1) var<storage, read> others: array<vec4<f32>>;   // [n, d/4]
@group(0) @binding(2) var<storage, read> owners_t: array<vec4<f32>>; // ownersᵀ [d, nq]
@group(0) @binding(3) var<storage, read> owner_meta: array<f32>;
@group(0) @binding(4) var<storage, read> other_meta: array<f32>;
@group(0) @binding(5) var<storage, read> stats: array<f32>;          // forward output [M, NCOL]
@group(0) @binding(6) var<storage, read> grad: array<f32>;           // upstream gradient [M, NCOL]
@group(0) @binding(7) var<storage, read_write> acc_t: array<vec4<f32>>; // outᵀ [d, nq]

var<private> o_li: vec4<f32>; // owner quad cq
var<private> o_ti: vec4<f32>;
var<private> o_idx: vec4<u32>;
var<private> p_li: vec4<f32>; // owner quad cq + nq/2
var<private> p_ti: vec4<f32>;
var<private> p_idx: vec4<u32>;

// What dL/dS needs of one anchor: its forward statistics and upstream gradient, loaded once per
// owner (per lane) or per block of other rows, not once per pair.
struct RowG { m: f32, lse_all: f32, lse_pos: f32, lse_neg: f32, lse_w: f32, log_r: f32,
  g1: f32, g2: f32, g3: f32, g4: f32, g6: f32, g8: f32, g9: f32 }

fn load_rowg(a: u32) -> RowG {
  let b = a * NCOL;
  return RowG(stats[b], stats[b + 1u], stats[b + 2u], stats[b + 3u], stats[b + 9u], stats[b + 10u],
    grad[b + 1u], grad[b + 2u], grad[b + 3u], grad[b + 4u], grad[b + 6u], grad[b + 8u], grad[b + 9u]);
}

// dL/dS for an anchor with statistics r and logit v = S/τ (pos: same label; w: kernel weight);
// see row-stats-grad.wgsl. Terms whose upstream gradient is exactly 0 skip their exps.
fn gcoef(r: RowG, v: f32, pos: bool, w: f32) -> f32 {
  let l = v - r.m;
  var c = 0.0;
  // need(k): unrequested columns carry no gradient, so their terms are skipped (a uniform branch).
  if (need(1u) && r.g1 != 0.0) { c += r.g1 * exp(l - r.lse_all); }
  if (HAS_LABELS) {
    if (pos) {
      if (need(2u) && r.g2 != 0.0) { c += r.g2 * exp(l - r.lse_pos); }
      if (need(4u)) { c += r.g4; }
      if (need(6u) && r.g6 != 0.0) {
        let le = l - p.eps;
        c += r.g6 * exp(le - log_den(le, r.lse_neg));
      }
    } else {
      if (need(3u) && r.g3 != 0.0) { c += r.g3 * exp(l - r.lse_neg); }
      if (need(6u) && r.g6 != 0.0) { c += r.g6 * exp(l + r.log_r); }
    }
  }
  if (HAS_KERNEL) {
    if (need(8u)) { c += r.g8 * w; }
    if (need(9u) && r.g9 != 0.0) {
      let e = select(l - v * w - r.lse_w, l * (1.0 - w) - r.lse_w, EXP_RELEASED);
      c += r.g9 * (1.0 - w) * exp(e);
    }
  }
  return c * p.inv_t;
}

var<private> own_g: array<RowG, 16>; // owners: quad cq (0..3), quad cq + nq/2 (4..7)
var<private> oth_g: array<RowG, 16>; // the current block of other rows
var<private> oth_l: array<f32, 16>;
var<private> oth_t: array<f32, 16>;
// The block's similarities, then its coefficients (overwritten in place).
var<private> sv: array<vec4<f32>, 16>;
var<private> tv: array<vec4<f32>, 16>;
const OB: u32 = 16u; // other rows per block

// Coefficient of the pair (owner slot q of quad h, other slot r = other row o) with similarity s.
fn coef(h: u32, q: u32, r: u32, o: u32, s: f32) -> f32 {
  let a = select(o_idx[q], p_idx[q], h == 1u);
  if (a >= p.m || o >= p.n || (SELF && a == o)) { return 0.0; }
  let v = s * p.inv_t;
  var pos = false;
  if (HAS_LABELS) { pos = oth_l[r] == select(o_li[q], p_li[q], h == 1u); }
  var w = 0.0;
  // Every kernel depends on Δ² only, so w is the same seen from either side.
  if (HAS_KERNEL) { w = kweight(select(o_ti[q], p_ti[q], h == 1u) - oth_t[r]); }
  if (MODE == 0u) {
    var c = gcoef(own_g[h * 4u + q], v, pos, w);
    if (SELF) { c += gcoef(oth_g[r], v, pos, w); }
    return c;
  }
  return gcoef(oth_g[r], v, pos, w);
}

fn coef4(h: u32, r: u32, o: u32, s: vec4<f32>) -> vec4<f32> {
  return vec4<f32>(coef(h, 0u, r, o, s.x), coef(h, 1u, r, o, s.y), coef(h, 2u, r, o, s.z), coef(h, 3u, r, o, s.w));
}

fn load_others(o0: u32) {
  for (var r = 0u; r < OB; r++) {
    let o = min(o0 + r, p.n - 1u);
    if (MODE == 1u || SELF) { oth_g[r] = load_rowg(o); }
    if (HAS_LABELS) { oth_l[r] = other_meta[o * p.meta_w]; }
    if (HAS_KERNEL) { oth_t[r] = other_meta[o * p.meta_w + T_COL]; }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  // Each lane owns the owner quads oq and oq + nq/2 (nq is even: the host pads to 8 rows), so
  // every load of the other side (the same address in all lanes) feeds 8 owners.
  let half = p.nq / 2u;
  let oq = gid.x + gid.y * nwg.x * WG;
  if (oq >= half) { return; } // no barriers here: idle lanes may leave
  let cq = oq;
  let cr = oq + half;
  o_idx = vec4<u32>(cq * 4u, cq * 4u + 1u, cq * 4u + 2u, cq * 4u + 3u);
  p_idx = vec4<u32>(cr * 4u, cr * 4u + 1u, cr * 4u + 2u, cr * 4u + 3u);
  for (var q = 0u; q < 4u; q++) {
    let a = min(o_idx[q], p.m - 1u);
    let b = min(p_idx[q], p.m - 1u);
    if (HAS_LABELS) {
      o_li[q] = owner_meta[a * p.meta_w];
      p_li[q] = owner_meta[b * p.meta_w];
    }
    if (HAS_KERNEL) {
      o_ti[q] = owner_meta[a * p.meta_w + T_COL];
      p_ti[q] = owner_meta[b * p.meta_w + T_COL];
    }
    if (MODE == 0u) {
      own_g[q] = load_rowg(a);
      own_g[4u + q] = load_rowg(b);
    }
  }
  for (var k = 0u; k < p.d; k++) {
    acc_t[k * p.nq + cq] = vec4<f32>(0.0);
    acc_t[k * p.nq + cr] = vec4<f32>(0.0);
  }
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
      let x0 = others[a0 + kk];
      s0 += x0.x * c0 + x0.y * c1 + x0.z * c2 + x0.w * c3;
      t0 += x0.x * e0 + x0.y * e1 + x0.z * e2 + x0.w * e3;
      let x1 = others[a1 + kk];
      s1 += x1.x * c0 + x1.y * c1 + x1.z * c2 + x1.w * c3;
      t1 += x1.x * e0 + x1.y * e1 + x1.z * e2 + x1.w * e3;
      let x2 = others[a2 + kk];
      s2 += x2.x * c0 + x2.y * c1 + x2.z * c2 + x2.w * c3;
      t2 += x2.x * e0 + x2.y * e1 + x2.z * e2 + x2.w * e3;
      let x3 = others[a3 + kk];
      s3 += x3.x * c0 + x3.y * c1 + x3.z * c2 + x3.w * c3;
      t3 += x3.x * e0 + x3.y * e1 + x3.z * e2 + x3.w * e3;
      let x4 = others[a4 + kk];
      s4 += x4.x * c0 + x4.y * c1 + x4.z * c2 + x4.w * c3;
      t4 += x4.x * e0 + x4.y * e1 + x4.z * e2 + x4.w * e3;
      let x5 = others[a5 + kk];
      s5 += x5.x * c0 + x5.y * c1 + x5.z * c2 + x5.w * c3;
      t5 += x5.x * e0 + x5.y * e1 + x5.z * e2 + x5.w * e3;
      let x6 = others[a6 + kk];
      s6 += x6.x * c0 + x6.y * c1 + x6.z * c2 + x6.w * c3;
      t6 += x6.x * e0 + x6.y * e1 + x6.z * e2 + x6.w * e3;
      let x7 = others[a7 + kk];
      s7 += x7.x * c0 + x7.y * c1 + x7.z * c2 + x7.w * c3;
      t7 += x7.x * e0 + x7.y * e1 + x7.z * e2 + x7.w * e3;
      let x8 = others[a8 + kk];
      s8 += x8.x * c0 + x8.y * c1 + x8.z * c2 + x8.w * c3;
      t8 += x8.x * e0 + x8.y * e1 + x8.z * e2 + x8.w * e3;
      let x9 = others[a9 + kk];
      s9 += x9.x * c0 + x9.y * c1 + x9.z * c2 + x9.w * c3;
      t9 += x9.x * e0 + x9.y * e1 + x9.z * e2 + x9.w * e3;
      let x10 = others[a10 + kk];
      s10 += x10.x * c0 + x10.y * c1 + x10.z * c2 + x10.w * c3;
      t10 += x10.x * e0 + x10.y * e1 + x10.z * e2 + x10.w * e3;
      let x11 = others[a11 + kk];
      s11 += x11.x * c0 + x11.y * c1 + x11.z * c2 + x11.w * c3;
      t11 += x11.x * e0 + x11.y * e1 + x11.z * e2 + x11.w * e3;
      let x12 = others[a12 + kk];
      s12 += x12.x * c0 + x12.y * c1 + x12.z * c2 + x12.w * c3;
      t12 += x12.x * e0 + x12.y * e1 + x12.z * e2 + x12.w * e3;
      let x13 = others[a13 + kk];
      s13 += x13.x * c0 + x13.y * c1 + x13.z * c2 + x13.w * c3;
      t13 += x13.x * e0 + x13.y * e1 + x13.z * e2 + x13.w * e3;
      let x14 = others[a14 + kk];
      s14 += x14.x * c0 + x14.y * c1 + x14.z * c2 + x14.w * c3;
      t14 += x14.x * e0 + x14.y * e1 + x14.z * e2 + x14.w * e3;
      let x15 = others[a15 + kk];
      s15 += x15.x * c0 + x15.y * c1 + x15.z * c2 + x15.w * c3;
      t15 += x15.x * e0 + x15.y * e1 + x15.z * e2 + x15.w * e3;
    }
    load_others(o0);
    // The coefficients in a loop (not unrolled like the dots and the accumulation): one copy of
    // coef4 in the compiled kernel instead of 32 keeps the software adapter's compile time low.
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
      sv[r] = coef4(0u, r, o0 + r, sv[r]);
      tv[r] = coef4(1u, r, o0 + r, tv[r]);
    }
    let f0 = sv[0];
    let f1 = sv[1];
    let f2 = sv[2];
    let f3 = sv[3];
    let f4 = sv[4];
    let f5 = sv[5];
    let f6 = sv[6];
    let f7 = sv[7];
    let f8 = sv[8];
    let f9 = sv[9];
    let f10 = sv[10];
    let f11 = sv[11];
    let f12 = sv[12];
    let f13 = sv[13];
    let f14 = sv[14];
    let f15 = sv[15];
    let h0 = tv[0];
    let h1 = tv[1];
    let h2 = tv[2];
    let h3 = tv[3];
    let h4 = tv[4];
    let h5 = tv[5];
    let h6 = tv[6];
    let h7 = tv[7];
    let h8 = tv[8];
    let h9 = tv[9];
    let h10 = tv[10];
    let h11 = tv[11];
    let h12 = tv[12];
    let h13 = tv[13];
    let h14 = tv[14];
    let h15 = tv[15];
    for (var kk = 0u; kk < D4; kk++) {
      let x0 = others[a0 + kk];
      let x1 = others[a1 + kk];
      let x2 = others[a2 + kk];
      let x3 = others[a3 + kk];
      let x4 = others[a4 + kk];
      let x5 = others[a5 + kk];
      let x6 = others[a6 + kk];
      let x7 = others[a7 + kk];
      let x8 = others[a8 + kk];
      let x9 = others[a9 + kk];
      let x10 = others[a10 + kk];
      let x11 = others[a11 + kk];
      let x12 = others[a12 + kk];
      let x13 = others[a13 + kk];
      let x14 = others[a14 + kk];
      let x15 = others[a15 + kk];
      let base = kk * 4u * p.nq + cq;
      acc_t[base] += f0 * x0.x + f1 * x1.x + f2 * x2.x + f3 * x3.x + f4 * x4.x + f5 * x5.x + f6 * x6.x + f7 * x7.x + f8 * x8.x + f9 * x9.x + f10 * x10.x + f11 * x11.x + f12 * x12.x + f13 * x13.x + f14 * x14.x + f15 * x15.x;
      acc_t[base + p.nq] += f0 * x0.y + f1 * x1.y + f2 * x2.y + f3 * x3.y + f4 * x4.y + f5 * x5.y + f6 * x6.y + f7 * x7.y + f8 * x8.y + f9 * x9.y + f10 * x10.y + f11 * x11.y + f12 * x12.y + f13 * x13.y + f14 * x14.y + f15 * x15.y;
      acc_t[base + 2u * p.nq] += f0 * x0.z + f1 * x1.z + f2 * x2.z + f3 * x3.z + f4 * x4.z + f5 * x5.z + f6 * x6.z + f7 * x7.z + f8 * x8.z + f9 * x9.z + f10 * x10.z + f11 * x11.z + f12 * x12.z + f13 * x13.z + f14 * x14.z + f15 * x15.z;
      acc_t[base + 3u * p.nq] += f0 * x0.w + f1 * x1.w + f2 * x2.w + f3 * x3.w + f4 * x4.w + f5 * x5.w + f6 * x6.w + f7 * x7.w + f8 * x8.w + f9 * x9.w + f10 * x10.w + f11 * x11.w + f12 * x12.w + f13 * x13.w + f14 * x14.w + f15 * x15.w;
      acc_t[base + half] += h0 * x0.x + h1 * x1.x + h2 * x2.x + h3 * x3.x + h4 * x4.x + h5 * x5.x + h6 * x6.x + h7 * x7.x + h8 * x8.x + h9 * x9.x + h10 * x10.x + h11 * x11.x + h12 * x12.x + h13 * x13.x + h14 * x14.x + h15 * x15.x;
      acc_t[base + half + p.nq] += h0 * x0.y + h1 * x1.y + h2 * x2.y + h3 * x3.y + h4 * x4.y + h5 * x5.y + h6 * x6.y + h7 * x7.y + h8 * x8.y + h9 * x9.y + h10 * x10.y + h11 * x11.y + h12 * x12.y + h13 * x13.y + h14 * x14.y + h15 * x15.y;
      acc_t[base + half + 2u * p.nq] += h0 * x0.z + h1 * x1.z + h2 * x2.z + h3 * x3.z + h4 * x4.z + h5 * x5.z + h6 * x6.z + h7 * x7.z + h8 * x8.z + h9 * x9.z + h10 * x10.z + h11 * x11.z + h12 * x12.z + h13 * x13.z + h14 * x14.z + h15 * x15.z;
      acc_t[base + half + 3u * p.nq] += h0 * x0.w + h1 * x1.w + h2 * x2.w + h3 * x3.w + h4 * x4.w + h5 * x5.w + h6 * x6.w + h7 * x7.w + h8 * x8.w + h9 * x9.w + h10 * x10.w + h11 * x11.w + h12 * x12.w + h13 * x13.w + h14 * x14.w + h15 * x15.w;
    }
  }
}
