// The last pass of a split-K product that also wants the row sums of A (a convolution's weight
// gradient g·colsᵀ and its bias gradient Σ g per output channel, the rows of g as [Co, B·P]), one
// dispatch where there were two (the partials' reduction and a channel sum):
//  - workgroups 0 .. REDUCE_GROUPS − 1: an invocation per element e of C sums the splits'
//    partials in split order (as reduce.wgsl does: the same result);
//  - the next M workgroups: workgroup m sums row m of A over K from A's texture (the one the
//    split-K kernel read), 64 lanes by texels, then a workgroup reduction.
// With one split there are no partials (REDUCE_GROUPS = 0) and only the row sums run.
// The host (packages/tensor/src/gpu/kernels/matmul.ts, `matmulTextureSplit`) prepends the
// partials (binding 1, `fn partial_at(i)`), `fn workgroup_sum`, the constants and
// `fn row_texel(m, j4)`: A's texel j4 of row m (K = 4·ROW_TEXELS), m·K/4 + j4 for a plain A, and
// for a planar A ([B, M, P], P4 = P / 4) (j4 / P4)·M·P4 + m·P4 + j4 % P4.

@group(0) @binding(0) var<uniform> unused: vec4<u32>;
@group(0) @binding(2) var at: texture_2d<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<storage, read_write> row_sums: array<f32>;

fn texel_a(t: u32) -> vec4<f32> {
  return textureLoad(at, vec2<u32>(t & 4095u, t >> 12u), 0);
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  if (wg.x < REDUCE_GROUPS) {
    let e = wg.x * 64u + lid.x + (unused.x & 0u);
    if (e < ELEMENTS) {
      var s = 0.0;
      for (var k = 0u; k < SPLITS; k++) {
        s += partial_at(k * ELEMENTS + e);
      }
      c[e] = s;
    }
    return;
  }
  let m = wg.x - REDUCE_GROUPS;
  var s4 = vec4<f32>(0.0);
  for (var j4 = lid.x; j4 < ROW_TEXELS; j4 += 64u) {
    s4 += texel_a(row_texel(m, j4));
  }
  let total = workgroup_sum(dot(s4, vec4<f32>(1.0)), lid.x);
  if (lid.x == 0u) {
    row_sums[m] = total;
  }
}
