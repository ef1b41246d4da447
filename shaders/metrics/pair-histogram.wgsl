// FairKL diagnostic histogram: counts of the cosine similarities s_ij = ⟨z_i, z_j⟩ of the
// unordered pairs i < j, for the rows i in [r0, r1), binned into 4 groups × `bins` equal-width bins
// over [-1, 1] (s clamped, so s = 1 lands in the last bin). Groups as @fairgpu/kernels PAIR:
// 0 same label & same bias, 1 same label & other bias, 2 other label & same bias, 3 other & other.
// Each invocation owns one row i; the workgroup's lanes loop together over the rows j after the
// workgroup's first row, four per step (each loaded value of row i feeds four dot products), and
// count the pairs with j > i. Counts go to a workgroup-memory histogram first, then one
// atomicAdd per non-empty bin into the global histogram (zeroed by pair-histogram-clear.wgsl).
// The host prepends `const HB: u32` (workgroup slots, ≥ 4·bins). z is [n, d4] vec4 rows (the
// host pads d to a multiple of 4 with zeros).

struct Params { n: u32, d4: u32, bins: u32, r0: u32, r1: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> z: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> labels: array<i32>;
@group(0) @binding(3) var<storage, read> bias: array<i32>;
@group(0) @binding(4) var<storage, read_write> hist: array<atomic<u32>>;

var<workgroup> local_hist: array<atomic<u32>, HB>;

fn bin_of(s: f32) -> u32 {
  let t = (clamp(s, -1.0, 1.0) + 1.0) * 0.5 * f32(p.bins);
  return min(u32(max(t, 0.0)), p.bins - 1u);
}

fn count_pair(i: u32, li: i32, bi: i32, j: u32, s: f32) {
  if (j <= i || j >= p.n) { return; }
  let g = select(2u, 0u, labels[j] == li) + select(1u, 0u, bias[j] == bi);
  atomicAdd(&local_hist[g * p.bins + bin_of(s)], 1u);
}

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid3: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let lid = lid3.x;
  let slots = 4u * p.bins;
  for (var k = lid; k < slots; k += 64u) { atomicStore(&local_hist[k], 0u); }
  workgroupBarrier();
  // Every lane walks the same j (from the workgroup's first row + 1), so each load of a row j is
  // the same address in all lanes; pairs with j <= i (at most 63 per lane) are skipped.
  let first = p.r0 + (wid.x + wid.y * nwg.x) * 64u;
  let raw = first + lid;
  let i = min(raw, p.r1 - 1u);
  let li = labels[i];
  let bi = bias[i];
  let a = i * p.d4;
  let last = p.n - 1u;
  // Lanes past r1 count nothing: they pretend to own row n - 1, which has no later row.
  let owner = select(last, i, raw < p.r1);
  for (var j = first + 1u; j < p.n; j += 4u) {
    let b0 = j * p.d4;
    let b1 = min(j + 1u, last) * p.d4;
    let b2 = min(j + 2u, last) * p.d4;
    let b3 = min(j + 3u, last) * p.d4;
    var s0 = 0.0;
    var s1 = 0.0;
    var s2 = 0.0;
    var s3 = 0.0;
    for (var k = 0u; k < p.d4; k++) {
      let x = z[a + k];
      s0 += dot(x, z[b0 + k]);
      s1 += dot(x, z[b1 + k]);
      s2 += dot(x, z[b2 + k]);
      s3 += dot(x, z[b3 + k]);
    }
    count_pair(owner, li, bi, j, s0);
    count_pair(owner, li, bi, j + 1u, s1);
    count_pair(owner, li, bi, j + 2u, s2);
    count_pair(owner, li, bi, j + 3u, s3);
  }
  workgroupBarrier();
  for (var k = lid; k < slots; k += 64u) {
    let c = atomicLoad(&local_hist[k]);
    if (c != 0u) { atomicAdd(&hist[k], c); }
  }
}
