// FairKL pooled pair moments, forward: per-anchor partial sums [M, 12] (4 groups × count, Σ s,
// Σ s²) with s = ⟨z_i, z_j⟩/τ over j > i ('upper') or all j; pair-reduce.wgsl sums them.
// Groups: 0 same label & same bias, 1 same label & other bias, 2 other label & same bias, 3 other.

struct Params { m: u32, n: u32, d: u32, meta_w: u32, inv_t: f32, eps: f32, log_eps: f32, sigma: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> rows: array<RowT>;
@group(0) @binding(2) var<storage, read> cols: array<RowT>;
@group(0) @binding(3) var<storage, read> pmeta: array<f32>;   // [M, 2]: label, bias label
@group(0) @binding(4) var<storage, read_write> part_out: array<f32>; // [M, 12]

fn group_of(i: u32, j: u32) -> u32 {
  return select(2u, 0u, pmeta[i * 2u] == pmeta[j * 2u]) + select(1u, 0u, pmeta[i * 2u + 1u] == pmeta[j * 2u + 1u]);
}

var<private> r_i: u32;
var<private> part: array<f32, 12>;

fn visit_pair(j: u32, s: f32) {
  if (j >= p.n || (UPPER && j <= r_i)) { return; }
  let v = s * p.inv_t;
  let g = group_of(r_i, j);
  part[g * 3u] += 1.0;
  part[g * 3u + 1u] += v;
  part[g * 3u + 2u] += v * v;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let raw = gid.x + gid.y * nwg.x * WG;
  let valid = raw < p.m;
  let i = min(raw, p.m - 1u);
  let lid = lid3.x;
  tile_begin(i);
  r_i = i;
  for (var c0 = 0u; c0 < p.n; c0 += TJ) {
    if (!tile_needed(!UPPER || c0 + TJ > i + 1u)) { continue; }
    visit_pair_tile(c0, tile_dots(i, c0, lid));
  }
  if (valid) {
    for (var k = 0u; k < 12u; k++) { part_out[i * 12u + k] = part[k]; }
  }
}
