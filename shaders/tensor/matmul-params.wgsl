// Parameters shared by the matmul kernels (matmul-blocked, matmul-vec4, matmul-tiled); the host
// prepends this file to each. C[b, m, n] = sum_k A[b, m, k] * B[b, k, n], with
// A[b, m, k] = a[b * a_batch + m * a_row + k * a_col] and likewise for B, so a transposed operand
// needs no copy. C is contiguous [batch, M, N] ([splits, batch, M, N] partial products when
// matmul-blocked splits K).

struct Params {
  m: u32,
  n: u32,
  k: u32,
  batch: u32,
  a_batch: u32,
  a_row: u32,
  a_col: u32,
  splits: u32,   // matmul-blocked: K split into chunks of k_chunk, partial products summed by the host
  b_batch: u32,
  b_row: u32,
  b_col: u32,
  k_chunk: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
