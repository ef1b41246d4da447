// Batched matmul, register-blocked: each invocation computes a 4×4 block of C straight from
// storage, without workgroup memory or barriers. Software adapters (llvmpipe, SwiftShader) run
// invocations as SIMD lanes of a CPU thread, where barriers are expensive and caches do the
// tiling; this form beats shared-memory tiling there by 2–3×.
//
// C[b, m, n] = sum_k A[b, m, k] * B[b, k, n]
// A and B are addressed through strides so a transposed operand (the backward pass) needs no copy:
//   A[b, m, k] = a[b * a_batch + m * a_row + k * a_col], likewise for B.

// Params and the uniform binding `p` come from matmul-params.wgsl.
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row0 = gid.y * 4u;
  let col0 = gid.x * 4u;
  let batch = gid.z;
  if (row0 >= p.m || col0 >= p.n || batch >= p.batch) {
    return;
  }
  // Rows/columns past the edge are clamped onto the last valid one: their loads stay in bounds
  // and their results are not stored. Everything is unrolled into named registers: software
  // adapters spill private arrays to memory.
  let a0 = batch * p.a_batch + min(row0 + 0u, p.m - 1u) * p.a_row;
  let a1 = batch * p.a_batch + min(row0 + 1u, p.m - 1u) * p.a_row;
  let a2 = batch * p.a_batch + min(row0 + 2u, p.m - 1u) * p.a_row;
  let a3 = batch * p.a_batch + min(row0 + 3u, p.m - 1u) * p.a_row;
  let b0 = batch * p.b_batch + min(col0 + 0u, p.n - 1u) * p.b_col;
  let b1 = batch * p.b_batch + min(col0 + 1u, p.n - 1u) * p.b_col;
  let b2 = batch * p.b_batch + min(col0 + 2u, p.n - 1u) * p.b_col;
  let b3 = batch * p.b_batch + min(col0 + 3u, p.n - 1u) * p.b_col;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var k = 0u; k < p.k; k++) {
    let ka = k * p.a_col;
    let kb = k * p.b_row;
    let bv = vec4<f32>(b[b0 + kb], b[b1 + kb], b[b2 + kb], b[b3 + kb]);
    acc0 = fma(vec4<f32>(a[a0 + ka]), bv, acc0);
    acc1 = fma(vec4<f32>(a[a1 + ka]), bv, acc1);
    acc2 = fma(vec4<f32>(a[a2 + ka]), bv, acc2);
    acc3 = fma(vec4<f32>(a[a3 + ka]), bv, acc3);
  }
  let base = batch * p.m * p.n;
  store_row(base, row0 + 0u, col0, acc0);
  store_row(base, row0 + 1u, col0, acc1);
  store_row(base, row0 + 2u, col0, acc2);
  store_row(base, row0 + 3u, col0, acc3);
}

fn store_row(base: u32, r: u32, col0: u32, v: vec4<f32>) {
  if (r >= p.m) {
    return;
  }
  let o = base + r * p.n + col0;
  c[o] = v.x;
  if (col0 + 1u < p.n) { c[o + 1u] = v.y; }
  if (col0 + 2u < p.n) { c[o + 2u] = v.z; }
  if (col0 + 3u < p.n) { c[o + 3u] = v.w; }
}
