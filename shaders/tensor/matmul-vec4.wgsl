// Batched matmul for the common layout (A row-major [M, K], B row-major [K, N], K and N multiples
// of 4): each invocation computes a 4×4 block of C with vec4 loads — four rows of A as vec4s
// along K, four rows of B as vec4s along N — so a software adapter's SIMD lanes (one invocation
// per lane) read contiguous memory. No workgroup memory, no barriers. Strides are implied
// by the layout.

// Params and the uniform binding `p` come from matmul-params.wgsl.
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> c: array<vec4<f32>>;

@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col4 = gid.x;           // column block: columns 4*col4 .. 4*col4+3
  let row0 = gid.y * 4u;
  let batch = gid.z;
  let n4 = p.n / 4u;
  let k4 = p.k / 4u;
  if (col4 >= n4 || row0 >= p.m || batch >= p.batch) {
    return;
  }
  let a_base = batch * (p.a_batch / 4u);
  let b_base = batch * (p.b_batch / 4u) + col4;
  let r0 = a_base + min(row0 + 0u, p.m - 1u) * k4;
  let r1 = a_base + min(row0 + 1u, p.m - 1u) * k4;
  let r2 = a_base + min(row0 + 2u, p.m - 1u) * k4;
  let r3 = a_base + min(row0 + 3u, p.m - 1u) * k4;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var kk = 0u; kk < k4; kk++) {
    let brow = b_base + kk * 4u * n4;
    let b0 = b[brow];
    let b1 = b[brow + n4];
    let b2 = b[brow + 2u * n4];
    let b3 = b[brow + 3u * n4];
    let x0 = a[r0 + kk];
    let x1 = a[r1 + kk];
    let x2 = a[r2 + kk];
    let x3 = a[r3 + kk];
    acc0 += vec4<f32>(x0.x) * b0 + vec4<f32>(x0.y) * b1 + vec4<f32>(x0.z) * b2 + vec4<f32>(x0.w) * b3;
    acc1 += vec4<f32>(x1.x) * b0 + vec4<f32>(x1.y) * b1 + vec4<f32>(x1.z) * b2 + vec4<f32>(x1.w) * b3;
    acc2 += vec4<f32>(x2.x) * b0 + vec4<f32>(x2.y) * b1 + vec4<f32>(x2.z) * b2 + vec4<f32>(x2.w) * b3;
    acc3 += vec4<f32>(x3.x) * b0 + vec4<f32>(x3.y) * b1 + vec4<f32>(x3.z) * b2 + vec4<f32>(x3.w) * b3;
  }
  let c_base = batch * p.m * n4 + col4;
  c[c_base + row0 * n4] = acc0;
  if (row0 + 1u < p.m) { c[c_base + (row0 + 1u) * n4] = acc1; }
  if (row0 + 2u < p.m) { c[c_base + (row0 + 2u) * n4] = acc2; }
  if (row0 + 3u < p.m) { c[c_base + (row0 + 3u) * n4] = acc3; }
}
