// Split-K matmul for software adapters with both operands read from textures, for the narrow
// products with a long K that matmul-texture.wgsl would run as a chain of one-workgroup
// dispatches (a convolution's weight gradient: M = Co, N = C·kh·kw, K = B·Ho·Wo). Each operand
// is copied into an rgba32float texture (Recorder.texels: float e is component e % 4 of texel
// e / 4) and must run along K: A[m, k] at m·a_stride + k, B[k, n] at n·b_stride + k, strides and
// K multiples of 4, so one texel holds 4 k steps of one row (A) or column (B). An invocation
// computes one R×C block over one K chunk and writes its partial product to c[split, m, n]; the
// host sums the splits with a reduction pass (deterministic: fixed chunks, fixed order). The
// (column block, chunk, row block) triples are numbered across the lanes of the whole dispatch,
// column block fastest, so no lane idles when the output has fewer column blocks than a workgroup
// has lanes (the first layer's weight gradient, N = 27: 4 column blocks).
//
// Specialised by the host (packages/tensor/src/gpu/kernels/matmul.ts, `matmulSplitSource`):
// `const R`, `const C`, `const WG` and the unrolled markers below.

struct Params {
  m: u32,
  n: u32,
  k: u32,
  k_chunk: u32,  // a multiple of 4
  a_stride: u32, // elements between rows of A (a multiple of 4)
  b_stride: u32, // elements between columns of B (a multiple of 4)
  columns: u32,  // column blocks, ⌈n / C⌉
  splits: u32,   // K chunks
  blocks: u32,   // columns · splits · ⌈m / R⌉: the invocations that work
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var at: texture_2d<f32>;
@group(0) @binding(2) var bt: texture_2d<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

fn texel_a(t: u32) -> vec4<f32> {
  return textureLoad(at, vec2<u32>(t & 4095u, t >> 12u), 0);
}

fn texel_b(t: u32) -> vec4<f32> {
  return textureLoad(bt, vec2<u32>(t & 4095u, t >> 12u), 0);
}

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let u = (wg.y * nwg.x + wg.x) * WG + lid.x;
  if (u >= p.blocks) {
    return;
  }
  let col0 = (u % p.columns) * C;
  let split = (u / p.columns) % p.splits;
  let row0 = (u / (p.columns * p.splits)) * R;
  let k0 = split * p.k_chunk;
  let k1 = min(p.k, k0 + p.k_chunk);
  // Rows and columns past the edge are clamped onto the last one (fetches in range, results not stored).
  // {{SETUP}}: `let ta<i> = min(row0 + i, m − 1)·a_stride / 4;`, `let tb<j> = …`, `var acc<i>_<j> = 0.0;`
  for (var k = k0; k < k1; k += 4u) {
    let kq = k / 4u;
    // {{BODY}}: `let a<i> = texel_a(ta<i> + kq);`, `let b<j> = texel_b(tb<j> + kq);`, 4 FMAs per accumulator
  }
  let c_base = split * p.m * p.n;
  // {{STORES}}: `if (row0 + i < m && col0 + j < n) { c[c_base + (row0 + i)·n + col0 + j] = acc<i>_<j>; }`
}
