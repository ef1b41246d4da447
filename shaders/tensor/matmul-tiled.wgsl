// Batched matmul with workgroup-memory tiling, for real GPUs: a 16×16 workgroup computes a 64×64
// tile of C, each invocation a 4×4 block, staging 64×TK slices of A and B in workgroup memory
// (2 · 64 · 16 · 4 B = 8 KiB, inside the 16 KiB that compatibility-mode adapters allow).

// Params and the uniform binding `p` come from matmul-params.wgsl.

const TILE: u32 = 64u;
const TK: u32 = 16u;

@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

var<workgroup> tile_a: array<array<f32, TILE>, TK>;  // [k][m]
var<workgroup> tile_b: array<array<f32, TILE>, TK>;  // [k][n]

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let batch = wid.z;
  let tile_row = wid.y * TILE;
  let tile_col = wid.x * TILE;
  let flat = lid.y * 16u + lid.x;
  var acc: array<array<f32, 4>, 4>;
  for (var k0 = 0u; k0 < p.k; k0 += TK) {
    // 256 invocations load 64×16 values of each operand: 4 each.
    for (var l = 0u; l < 4u; l++) {
      let e = flat * 4u + l;          // 0..1023
      let kk = e / TILE;
      let mm = e % TILE;
      let gk = k0 + kk;
      let gm = tile_row + mm;
      let gn = tile_col + mm;
      var av = 0.0;
      if (gk < p.k && gm < p.m) {
        av = a[batch * p.a_batch + gm * p.a_row + gk * p.a_col];
      }
      tile_a[kk][mm] = av;
      var bv = 0.0;
      if (gk < p.k && gn < p.n) {
        bv = b[batch * p.b_batch + gk * p.b_row + gn * p.b_col];
      }
      tile_b[kk][mm] = bv;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      var av: array<f32, 4>;
      var bv: array<f32, 4>;
      for (var i = 0u; i < 4u; i++) {
        av[i] = tile_a[kk][lid.y * 4u + i];
        bv[i] = tile_b[kk][lid.x * 4u + i];
      }
      for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) {
          acc[i][j] = fma(av[i], bv[j], acc[i][j]);
        }
      }
    }
    workgroupBarrier();
  }
  let c_batch = batch * p.m * p.n;
  for (var i = 0u; i < 4u; i++) {
    let r = tile_row + lid.y * 4u + i;
    for (var j = 0u; j < 4u; j++) {
      let col = tile_col + lid.x * 4u + j;
      if (r < p.m && col < p.n) {
        c[c_batch + r * p.n + col] = acc[i][j];
      }
    }
  }
}
