// Matmul for software adapters with the A operand read from a uniform buffer. On Mesa llvmpipe a
// storage-buffer load runs lane by lane (a loop with a bounds check per SIMD lane, ~11 cycles per
// lane whatever the address pattern), while a uniform-buffer load is one vector gather (~15× cheaper
// per element, measured with a probe kernel on this adapter). So A, packed by matmul-pack.wgsl into
// tiles of R rows × kc k's (≤ 64 KiB per dispatch, the binding limit), comes from the uniform
// binding and only B costs storage loads: C per k step for R·C FMAs (32·8 = 256 FMAs per 8 loads,
// against 256 per 32 loads for the 16×16 storage-only block of matmul-blocked.wgsl).
// Measured: 64×25088×256 at 11.5 GFLOP/s against 2–3.9 for matmul-blocked 16×16.
//
// One dispatch covers one k chunk and G row blocks (workgroup_id.y) of C; the host issues one
// dispatch per 64 KiB range of the packed A (packages/tensor/src/gpu/kernels/matmul.ts) and, when
// K is split, the later chunks add onto C (read-modify-write, in dispatch order: deterministic).
// Specialised by the host: `const R: u32`, `const C: u32` and the unrolled markers below.

struct Params {
  m: u32,
  n: u32,
  k: u32,          // k steps of this dispatch's chunk
  row_block0: u32, // first row block of this dispatch
  b_base: u32,     // B offset of the chunk's first k (batch 0)
  b_row: u32,
  b_col: u32,
  tile: u32,       // vec4s per packed tile (kc·R/4): the stride between row blocks
  accumulate: u32, // 1: add onto C (a later k chunk)
}

@group(0) @binding(0) var<uniform> p: Params;
struct Packed {
  v: array<vec4<f32>, 4096>,
}
@group(0) @binding(1) var<uniform> a: Packed;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row0 = (p.row_block0 + wg.y) * R;
  let col0 = (wg.x * 64u + lid.x) * C;
  if (col0 >= p.n || row0 >= p.m) {
    return;
  }
  let tile = wg.y * p.tile;
  // Columns past the edge are clamped onto the last one (loads in bounds, results not stored);
  // rows past M are zeros in the packed tile.
  // {{SETUP}}: `let bc<j> = p.b_base + min(col0 + j, n − 1)·b_col;`, `var acc<i>_<j> = 0.0;` (or C's value when accumulating)
  for (var k = 0u; k < p.k; k++) {
    let kb = k * p.b_row;
    let ka = tile + k * (R / 4u);
    // {{BODY}}: `let b<j> = b[bc<j> + kb];`, `let a<q> = a.v[ka + q];`, `acc<i>_<j> = fma(a<i/4>[i%4], b<j>, acc<i>_<j>);`
  }
  // {{STORES}}: `if (row0 + i < m && col0 + j < n) { c[(row0 + i)·n + col0 + j] = acc<i>_<j>; }`
}
