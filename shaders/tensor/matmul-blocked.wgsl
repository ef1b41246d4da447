// Batched matmul for software adapters (llvmpipe, lavapipe, SwiftShader), register-blocked: each
// invocation computes an R×C block of C straight from storage, without workgroup memory or
// barriers. Software adapters run invocations as SIMD lanes of a CPU thread; there every storage
// load costs about the same whatever its address pattern (uniform, contiguous or strided — Mesa
// llvmpipe gathers lane by lane), so the kernel's speed is set by the FMAs per loaded element:
// R·C / (R + C) per k step (2 for 4×4 blocks, 8 for 16×16; measured on llvmpipe: 1.0 → 3.7
// GFLOP/s on the convolution shapes of SimpleConvNet). The host picks R, C ∈ {4, 8, 16} per shape
// (smaller blocks for thin matrices) and unrolls the block into named registers, because software
// adapters spill private arrays to memory.
//
// C[b, m, n] = sum_k A[b, m, k] * B[b, k, n], A and B addressed through strides so a transposed
// operand (the backward pass) needs no copy.
//
// Specialised by the host (packages/tensor/src/gpu/kernels.ts, `matmulBlockedSource`): it prepends
// `const R: u32` and `const C: u32` and fills the markers below. One workgroup covers R rows (from
// workgroup_id.y, uniform) and 64·C columns (C consecutive columns per invocation).
// Split K: when a product has few output blocks but a long K (a convolution's weight gradient:
// K = B·Ho·Wo, M·N = Co·C·kh·kw), the host splits K into `splits` chunks (workgroup_id.z =
// batch·splits + split) so every CPU thread gets work, and sums the [splits, batch, M, N]
// partial products with a reduction pass.

// Params and the uniform binding `p` come from matmul-params.wgsl.
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row0 = wg.y * R;
  let col0 = (wg.x * 64u + lid.x) * C;
  let split = wg.z % p.splits;
  let batch = wg.z / p.splits;
  if (col0 >= p.n || row0 >= p.m || batch >= p.batch) {
    return;
  }
  // Rows/columns past the edge are clamped onto the last valid one: their loads stay in bounds
  // and their results are not stored.
  let a_base = batch * p.a_batch;
  let b_base = batch * p.b_batch;
  // {{SETUP}}: `let ar<i> = a_base + min(row0 + i, m − 1)·a_row;`, `let bc<j> = …`, `var acc<i>_<j> = 0.0;`
  let k_end = min(p.k, (split + 1u) * p.k_chunk);
  for (var k = split * p.k_chunk; k < k_end; k++) {
    let ka = k * p.a_col;
    let kb = k * p.b_row;
    // {{BODY}}: `let b<j> = b[bc<j> + kb];`, `let a<i> = a[ar<i> + ka];`, `acc<i>_<j> = fma(a<i>, b<j>, acc<i>_<j>);`
  }
  let c_base = (split * p.batch + batch) * p.m * p.n;
  // {{STORES}}: `if (row0 + i < m && col0 + j < n) { c[c_base + (row0 + i)·n + col0 + j] = acc<i>_<j>; }`
}
