// Matmul for software adapters with A from a uniform buffer and B from a texture. On Mesa
// llvmpipe a storage-buffer load is a loop over the SIMD lanes with a bounds check per lane
// (~3.5 ns per float, vec4 loads no cheaper per float), while a uniform-buffer load and a texel
// fetch are vector gathers (~0.23 and ~0.47 ns per float: tools/bench/memory-paths.ts). So B is
// copied once per product into an rgba32float texture (copyBufferToTexture runs at memcpy speed)
// and read four floats per texel: matmul-uniform.wgsl's 8 storage loads per k step become 2 texel
// fetches, and the FMAs, not the loads, set the rate (27 against 11.5 GFLOP/s on 32×21168×512).
//
// The texture holds B's buffer linearly: float e is component e % 4 of texel e / 4, texel t at
// (t % 4096, t / 4096). Two orientations, chosen by the host from B's strides:
//  - 'n' (B[k, n] at b_base + k·b_stride + n, N contiguous): one texel = 4 columns of one k; an
//    invocation of C columns fetches C/4 texels per k step.
//  - 'k' (B[k, n] at b_base + n·b_stride + k, K contiguous, a transposed operand): one texel = 4
//    k steps of one column; an invocation fetches C texels per 4 k steps (the same texels per FMA).
// A is packed by matmul-pack.wgsl exactly as for matmul-uniform (tiles of R rows × kc k's, k-major).
//
// One dispatch covers one k chunk and G row blocks (workgroup_id.y) of C; later chunks add onto C
// (read-modify-write in dispatch order: deterministic). Specialised by the host
// (packages/tensor/src/gpu/kernels/matmul.ts, `matmulTextureSource`): `const R`, `const C`,
// `const WG` (the workgroup width: narrow products use small workgroups so both CPU threads get
// one) and the unrolled markers below.

struct Params {
  m: u32,
  n: u32,
  k: u32,          // k steps of this dispatch's chunk ('k' orientation: a multiple of 4)
  row_block0: u32, // first row block of this dispatch
  b_base: u32,     // B element offset of the chunk's first k (a multiple of 4)
  b_stride: u32,   // 'n': elements between k rows; 'k': elements between columns (a multiple of 4)
  tile: u32,       // vec4s per packed tile (kc·R/4): the stride between row blocks
  accumulate: u32, // 1: add onto C (a later k chunk)
  last: u32,       // 1: the last k chunk (a bias, when the host declares one, is added as it stores)
}

@group(0) @binding(0) var<uniform> p: Params;
struct Packed {
  v: array<vec4<f32>, 4096>,
}
@group(0) @binding(1) var<uniform> a: Packed;
@group(0) @binding(2) var bt: texture_2d<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

fn texel(t: u32) -> vec4<f32> {
  return textureLoad(bt, vec2<u32>(t & 4095u, t >> 12u), 0);
}

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row0 = (p.row_block0 + wg.y) * R;
  let col0 = (wg.x * WG + lid.x) * C;
  if (col0 >= p.n || row0 >= p.m) {
    return;
  }
  let tile = wg.y * p.tile;
  // Columns past N read whatever lies there (or the texture's out-of-range value): their results
  // are not stored. Rows past M are zeros in the packed tile.
  // {{SETUP}}: the texel index of each fetch at k = 0, `var acc<i>_<j> = 0.0;` (or C's value when accumulating)
  for (var k = 0u; k < p.k; k += KSTEP) {
    let ka = tile + k * (R / 4u);
    // {{BODY}}: the texel fetches of this k step, the A vec4s, `acc<i>_<j> = fma(a…, b…, acc<i>_<j>);`
  }
  // {{STORES}}: `if (row0 + i < m && col0 + j < n) { c[(row0 + i)·n + col0 + j] = acc<i>_<j>; }`
}
