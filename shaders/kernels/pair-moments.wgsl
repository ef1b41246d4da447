// FairKL pooled pair moments. MODE 0: per-anchor partial sums [M, 12] (4 groups × count, Σ s,
// Σ s²) over j > i ('upper') or all j; MODE 1: the backward dz_i = Σ_j c_ij z_j with
// c_ij = F·(g_k1 + 2 g_k2 s_ij)/τ for the group k of (i, j) (F = 1 upper, 2 all, j ≠ i for upper).

struct Params { m: u32, n: u32, d: u32, meta_w: u32, inv_t: f32, eps: f32, log_eps: f32, sigma: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> rows: array<f32>;
@group(0) @binding(2) var<storage, read> cols: array<f32>;
@group(0) @binding(3) var<storage, read> pmeta: array<f32>;   // [M, 2]: label, bias label
@group(0) @binding(4) var<storage, read> grad: array<f32>;   // [4, 3] (MODE 1)
@group(0) @binding(5) var<storage, read_write> acc_out: array<f32>;

fn group_of(i: u32, j: u32) -> u32 {
  return select(2u, 0u, pmeta[i * 2u] == pmeta[j * 2u]) + select(1u, 0u, pmeta[i * 2u + 1u] == pmeta[j * 2u + 1u]);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let raw = gid.x + gid.y * nwg.x * WG;
  let valid = raw < p.m;
  let i = min(raw, p.m - 1u);
  let lid = lid3.x;
  var part: array<f32, 12>;
  if (MODE == 1u && valid) {
    for (var k = 0u; k < p.d; k++) { acc_out[i * p.d + k] = 0.0; }
  }
  for (var c0 = 0u; c0 < p.n; c0 += TJ) {
    // The forward of 'upper' needs j > i only; the backward needs every j ≠ i (both orders).
    if (!tile_needed(MODE == 1u || !UPPER || c0 + TJ > i + 1u)) { continue; }
    var s = tile_dots(i, c0, lid);
    var coef: array<f32, TJ>;
    for (var q = 0u; q < TJ; q++) {
      let j = c0 + q;
      if (j >= p.n || (UPPER && (j == i || (MODE == 0u && j < i)))) { continue; }
      let v = s[q] * p.inv_t;
      let g = group_of(i, j);
      if (MODE == 0u) {
        part[g * 3u] += 1.0;
        part[g * 3u + 1u] += v;
        part[g * 3u + 2u] += v * v;
      } else {
        coef[q] = FACTOR * (grad[g * 3u + 1u] + 2.0 * grad[g * 3u + 2u] * v) * p.inv_t;
      }
    }
    if (MODE == 1u) { tile_acc(i, c0, coef, lid, valid); }
  }
  if (MODE == 0u && valid) {
    for (var k = 0u; k < 12u; k++) { acc_out[i * 12u + k] = part[k]; }
  }
}
