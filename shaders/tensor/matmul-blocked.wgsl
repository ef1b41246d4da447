// Batched matmul, register-blocked: each invocation computes a 4×4 block of C straight from
// storage, without workgroup memory or barriers. Software adapters (llvmpipe, SwiftShader) run
// invocations as SIMD lanes of a CPU thread, where barriers are expensive and caches do the
// tiling; this form beats shared-memory tiling there by 2–3×.
//
// C[b, m, n] = sum_k A[b, m, k] * B[b, k, n]
// A and B are addressed through strides so a transposed operand (the backward pass) needs no copy:
//   A[b, m, k] = a[b * a_batch + m * a_row + k * a_col], likewise for B.
// Specialised by the host with: const BM: u32 = 4; const BN: u32 = 4; (the block shape)

struct Params {
  m: u32,
  n: u32,
  k: u32,
  batch: u32,
  a_batch: u32,
  a_row: u32,
  a_col: u32,
  _pad0: u32,
  b_batch: u32,
  b_row: u32,
  b_col: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row0 = gid.y * BM;
  let col0 = gid.x * BN;
  let batch = gid.z;
  if (row0 >= p.m || col0 >= p.n || batch >= p.batch) {
    return;
  }
  // Clamp the rows/columns past the edge onto the last valid one: their loads stay in bounds and
  // their results are simply not stored.
  var a_base: array<u32, BM>;
  for (var i = 0u; i < BM; i++) {
    a_base[i] = batch * p.a_batch + min(row0 + i, p.m - 1u) * p.a_row;
  }
  var b_base: array<u32, BN>;
  for (var j = 0u; j < BN; j++) {
    b_base[j] = batch * p.b_batch + min(col0 + j, p.n - 1u) * p.b_col;
  }
  var acc: array<array<f32, BN>, BM>;
  for (var kk = 0u; kk < p.k; kk++) {
    var av: array<f32, BM>;
    for (var i = 0u; i < BM; i++) {
      av[i] = a[a_base[i] + kk * p.a_col];
    }
    var bv: array<f32, BN>;
    for (var j = 0u; j < BN; j++) {
      bv[j] = b[b_base[j] + kk * p.b_row];
    }
    for (var i = 0u; i < BM; i++) {
      for (var j = 0u; j < BN; j++) {
        acc[i][j] = fma(av[i], bv[j], acc[i][j]);
      }
    }
  }
  let c_batch = batch * p.m * p.n;
  for (var i = 0u; i < BM; i++) {
    let r = row0 + i;
    if (r < p.m) {
      for (var j = 0u; j < BN; j++) {
        let col = col0 + j;
        if (col < p.n) {
          c[c_batch + r * p.n + col] = acc[i][j];
        }
      }
    }
  }
}
