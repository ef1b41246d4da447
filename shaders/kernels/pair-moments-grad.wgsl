// FairKL pooled pair moments, backward: dz_i = Σ_j c_ij z_j with c_ij = F·(g_k1 + 2 g_k2 s_ij)/τ
// for the group k of (i, j). Every j ≠ i for 'upper' (each unordered pair reaches both its rows,
// F = 1); every j for 'all' (both orders, and d⟨z_i, z_i⟩/dz_i = 2 z_i: F = 2).

struct Params { m: u32, n: u32, d: u32, meta_w: u32, inv_t: f32, eps: f32, log_eps: f32, sigma: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> rows: array<RowT>;
@group(0) @binding(2) var<storage, read> cols: array<RowT>;
@group(0) @binding(3) var<storage, read> pmeta: array<f32>;   // [M, 2]: label, bias label
@group(0) @binding(4) var<storage, read> grad: array<f32>;    // [4, 3]
@group(0) @binding(5) var<storage, read_write> acc_out: array<RowT>; // [M, d]

fn group_of(i: u32, j: u32) -> u32 {
  return select(2u, 0u, pmeta[i * 2u] == pmeta[j * 2u]) + select(1u, 0u, pmeta[i * 2u + 1u] == pmeta[j * 2u + 1u]);
}

var<private> r_i: u32;

fn coef_at(j: u32, s: f32) -> f32 {
  if (j >= p.n || (UPPER && j == r_i)) { return 0.0; }
  let g = group_of(r_i, j);
  return FACTOR * (grad[g * 3u + 1u] + 2.0 * grad[g * 3u + 2u] * s * p.inv_t) * p.inv_t;
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
  for (var c0 = 0u; c0 < p.n; c0 += TJ) {
    tile_acc(i, c0, coef_tile(c0, tile_dots(i, c0, lid)), lid, valid);
  }
  tile_end(i, valid);
}
