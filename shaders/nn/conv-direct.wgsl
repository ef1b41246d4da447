// Direct convolution (no bias): y[b, o, oy, ox] = Σ_{c,ky,kx} w[o, c, ky, kx] · x[b, c, iy, ix].
// Each invocation computes 4 output channels of one pixel, so every input load feeds 4 MACs.
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> wt: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  // total = B · ceil(Co/4) · Ho · Wo
  let t = flat_index(gid, nwg);
  if (t >= p.total) {
    return;
  }
  let hw = p.ho * p.wo;
  let groups = (p.co + 3u) / 4u;
  let q = t % hw;
  let og = (t / hw) % groups;
  let b = t / (hw * groups);
  let oy = q / p.wo;
  let ox = q % p.wo;
  let o0 = og * 4u;
  let kk = p.kh * p.kw;
  let wstride = p.c * kk;
  // Clamp the last group's extra channels to a valid row; their results are not stored.
  let r1 = min(o0 + 1u, p.co - 1u) * wstride;
  let r2 = min(o0 + 2u, p.co - 1u) * wstride;
  let r3 = min(o0 + 3u, p.co - 1u) * wstride;
  let r0 = o0 * wstride;
  var acc = vec4<f32>(0.0);
  for (var ky = 0u; ky < p.kh; ky++) {
    let iy = i32(oy * p.sh + ky) - i32(p.ph);
    if (iy < 0 || iy >= i32(p.h)) {
      continue;
    }
    for (var kx = 0u; kx < p.kw; kx++) {
      let ix = i32(ox * p.sw + kx) - i32(p.pw);
      if (ix < 0 || ix >= i32(p.w)) {
        continue;
      }
      let base = (b * p.c * p.h + u32(iy)) * p.w + u32(ix);
      let k = ky * p.kw + kx;
      for (var c = 0u; c < p.c; c++) {
        let v = x[base + c * p.h * p.w];
        let j = c * kk + k;
        acc += v * vec4<f32>(wt[r0 + j], wt[r1 + j], wt[r2 + j], wt[r3 + j]);
      }
    }
  }
  let out = ((b * p.co + o0) * p.ho + oy) * p.wo + ox;
  y[out] = acc.x;
  if (o0 + 1u < p.co) { y[out + hw] = acc.y; }
  if (o0 + 2u < p.co) { y[out + 2u * hw] = acc.z; }
  if (o0 + 3u < p.co) { y[out + 3u * hw] = acc.w; }
}
