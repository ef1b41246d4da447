// Packs the A operand of matmul-uniform.wgsl: ranges of 64 KiB (16,384 floats, one uniform binding
// each), range d = kchunk·mgroups + mgroup holding G tiles, tile t = R rows × kc k's stored k-major
// ([kk][r]) so that one k step of R rows is R/4 consecutive vec4s. Rows ≥ M and k ≥ K are zeros.
// A[m, k] = a[m·a_row + k·a_col] (strides: a transposed operand needs no copy).
// Grid: x over the kc·R positions of a tile, y the tile, z the range.
// Specialised by the host: `const R: u32`.

struct Params {
  m: u32,
  k: u32,
  a_row: u32,
  a_col: u32,
  kc: u32,
  g: u32,
  mgroups: u32,
  a_base: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read_write> packed: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let pos = gid.x;
  if (pos >= p.kc * R) {
    return;
  }
  let t = gid.y;
  let d = gid.z;
  let mgroup = d % p.mgroups;
  let kchunk = d / p.mgroups;
  let kk = pos / R;
  let r = pos % R;
  let m = (mgroup * p.g + t) * R + r;
  let k = kchunk * p.kc + kk;
  var v = 0.0;
  if (m < p.m && k < p.k) {
    v = a[p.a_base + m * p.a_row + k * p.a_col];
  }
  packed[d * 16384u + t * p.kc * R + pos] = v;
}
