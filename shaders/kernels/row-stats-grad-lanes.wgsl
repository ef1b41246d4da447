// Fused contrastive row statistics, backward, "lanes" layout for software adapters: each
// invocation owns 8 output rows (two quads) ("owners", read as columns of the transposed ownersᵀ [d, nq]:
// consecutive lanes, consecutive memory) and loops over the other side in blocks of 4 rows,
// recomputing the 4×4 similarities, turning them into dL/dS (gcoef) and accumulating
//   MODE 0: owners = anchors,   dz_a  = Σ_o dL/dS_ao · zr_o (+ Σ_o dL/dS_oa · z_o when SELF)
//   MODE 1: owners = reference, dzr_j = Σ_i dL/dS_ij · z_i
// into the transposed output (ownersᵀ layout [d, nq] of vec4s over the 4 owners: consecutive
// lanes, consecutive memory; the host transposes it back). No workgroup memory, no atomics.

struct Params { m: u32, n: u32, d: u32, meta_w: u32, inv_t: f32, eps: f32, log_eps: f32, sigma: f32, nq: u32 }
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
  if (r.g1 != 0.0) { c += r.g1 * exp(l - r.lse_all); }
  if (HAS_LABELS) {
    if (pos) {
      if (r.g2 != 0.0) { c += r.g2 * exp(l - r.lse_pos); }
      c += r.g4;
      if (r.g6 != 0.0) {
        let le = l - p.eps;
        c += r.g6 * exp(le - log_den(le, r.lse_neg));
      }
    } else {
      if (r.g3 != 0.0) { c += r.g3 * exp(l - r.lse_neg); }
      if (r.g6 != 0.0) { c += r.g6 * exp(l + r.log_r); }
    }
  }
  if (HAS_KERNEL) {
    c += r.g8 * w;
    if (r.g9 != 0.0) {
      let e = select(l - v * w - r.lse_w, l * (1.0 - w) - r.lse_w, EXP_RELEASED);
      c += r.g9 * (1.0 - w) * exp(e);
    }
  }
  return c * p.inv_t;
}

var<private> own_g: array<RowG, 8>; // owners: quad cq (0..3), quad cq + nq/2 (4..7)
var<private> oth_g: array<RowG, 4>; // the current block of other rows
var<private> oth_l: vec4<f32>;
var<private> oth_t: vec4<f32>;

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
  for (var r = 0u; r < 4u; r++) {
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
  let blocks = (p.n + 3u) / 4u;
  for (var ob = 0u; ob < blocks; ob++) {
    let o0 = ob * 4u;
    let a0 = min(o0, p.n - 1u) * D4;
    let a1 = min(o0 + 1u, p.n - 1u) * D4;
    let a2 = min(o0 + 2u, p.n - 1u) * D4;
    let a3 = min(o0 + 3u, p.n - 1u) * D4;
    var s0 = vec4<f32>(0.0);
    var s1 = vec4<f32>(0.0);
    var s2 = vec4<f32>(0.0);
    var s3 = vec4<f32>(0.0);
    var t0 = vec4<f32>(0.0);
    var t1 = vec4<f32>(0.0);
    var t2 = vec4<f32>(0.0);
    var t3 = vec4<f32>(0.0);
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
      let x1 = others[a1 + kk];
      let x2 = others[a2 + kk];
      let x3 = others[a3 + kk];
      s0 += x0.x * c0 + x0.y * c1 + x0.z * c2 + x0.w * c3;
      s1 += x1.x * c0 + x1.y * c1 + x1.z * c2 + x1.w * c3;
      s2 += x2.x * c0 + x2.y * c1 + x2.z * c2 + x2.w * c3;
      s3 += x3.x * c0 + x3.y * c1 + x3.z * c2 + x3.w * c3;
      t0 += x0.x * e0 + x0.y * e1 + x0.z * e2 + x0.w * e3;
      t1 += x1.x * e0 + x1.y * e1 + x1.z * e2 + x1.w * e3;
      t2 += x2.x * e0 + x2.y * e1 + x2.z * e2 + x2.w * e3;
      t3 += x3.x * e0 + x3.y * e1 + x3.z * e2 + x3.w * e3;
    }
    // f_r[q] / h_r[q]: coefficient of other row o0 + r for owner slot q of either quad.
    load_others(o0);
    let f0 = coef4(0u, 0u, o0, s0);
    let f1 = coef4(0u, 1u, o0 + 1u, s1);
    let f2 = coef4(0u, 2u, o0 + 2u, s2);
    let f3 = coef4(0u, 3u, o0 + 3u, s3);
    let h0 = coef4(1u, 0u, o0, t0);
    let h1 = coef4(1u, 1u, o0 + 1u, t1);
    let h2 = coef4(1u, 2u, o0 + 2u, t2);
    let h3 = coef4(1u, 3u, o0 + 3u, t3);
    for (var kk = 0u; kk < D4; kk++) {
      let x0 = others[a0 + kk];
      let x1 = others[a1 + kk];
      let x2 = others[a2 + kk];
      let x3 = others[a3 + kk];
      let base = kk * 4u * p.nq + cq;
      acc_t[base] += f0 * x0.x + f1 * x1.x + f2 * x2.x + f3 * x3.x;
      acc_t[base + p.nq] += f0 * x0.y + f1 * x1.y + f2 * x2.y + f3 * x3.y;
      acc_t[base + 2u * p.nq] += f0 * x0.z + f1 * x1.z + f2 * x2.z + f3 * x3.z;
      acc_t[base + 3u * p.nq] += f0 * x0.w + f1 * x1.w + f2 * x2.w + f3 * x3.w;
      acc_t[base + half] += h0 * x0.x + h1 * x1.x + h2 * x2.x + h3 * x3.x;
      acc_t[base + half + p.nq] += h0 * x0.y + h1 * x1.y + h2 * x2.y + h3 * x3.y;
      acc_t[base + half + 2u * p.nq] += h0 * x0.z + h1 * x1.z + h2 * x2.z + h3 * x3.z;
      acc_t[base + half + 3u * p.nq] += h0 * x0.w + h1 * x1.w + h2 * x2.w + h3 * x3.w;
    }
  }
}
