// Input gradient of the direct convolution (a transposed convolution in gather form):
// gx[b, c, iy, ix] = Σ_{o,ky,kx : window (oy,ox) reads (iy,ix)} g[b, o, oy, ox] · w[o, c, ky, kx].
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> wt: array<f32>;
@group(0) @binding(3) var<storage, read_write> gx: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = flat_index(gid, nwg);
  if (t >= p.total) {
    return;
  }
  let ix = t % p.w;
  let iy = (t / p.w) % p.h;
  let c = (t / (p.w * p.h)) % p.c;
  let b = t / (p.w * p.h * p.c);
  let hw = p.ho * p.wo;
  let kk = p.kh * p.kw;
  var acc = 0.0;
  for (var ky = 0u; ky < p.kh; ky++) {
    let oy = out_pos(iy, p.ph, ky, p.sh, p.ho);
    if (oy < 0) {
      continue;
    }
    for (var kx = 0u; kx < p.kw; kx++) {
      let ox = out_pos(ix, p.pw, kx, p.sw, p.wo);
      if (ox < 0) {
        continue;
      }
      let gbase = b * p.co * hw + u32(oy) * p.wo + u32(ox);
      let wbase = c * kk + ky * p.kw + kx;
      for (var o = 0u; o < p.co; o++) {
        acc += g[gbase + o * hw] * wt[o * p.c * kk + wbase];
      }
    }
  }
  gx[t] = acc;
}
