// Gradient of max pooling in gather form: input pixel (iy, ix) receives g of every window whose
// first maximum (row-major) is at (iy, ix). Each window's argmax is recomputed, no index buffer.
// The host prepends the inputs x and g (bindings 1, 2) and `fn x_at(i)`, `g_at(i)` (f32Input):
// textures on software adapters when large (each argmax re-reads a whole window of x).
@group(0) @binding(3) var<storage, read_write> gx: array<f32>;

const LOWEST: f32 = -3.0e38;

fn argmax_of(bc: u32, oy: u32, ox: u32) -> u32 {
  var best = LOWEST;
  var at = 0xffffffffu;
  for (var ky = 0u; ky < p.kh; ky++) {
    let iy = i32(oy * p.sh + ky) - i32(p.ph);
    if (iy < 0 || iy >= i32(p.h)) { continue; }
    for (var kx = 0u; kx < p.kw; kx++) {
      let ix = i32(ox * p.sw + kx) - i32(p.pw);
      if (ix < 0 || ix >= i32(p.w)) { continue; }
      let i = u32(iy) * p.w + u32(ix);
      let v = x_at(bc * p.h * p.w + i);
      if (v > best || at == 0xffffffffu) { best = v; at = i; }
    }
  }
  return at;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = flat_index(gid, nwg);
  if (t >= p.total) {
    return;
  }
  let ix = t % p.w;
  let iy = (t / p.w) % p.h;
  let bc = t / (p.w * p.h);
  let me = iy * p.w + ix;
  var acc = 0.0;
  for (var ky = 0u; ky < p.kh; ky++) {
    let oy = out_pos(iy, p.ph, ky, p.sh, p.ho);
    if (oy < 0) { continue; }
    for (var kx = 0u; kx < p.kw; kx++) {
      let ox = out_pos(ix, p.pw, kx, p.sw, p.wo);
      if (ox < 0) { continue; }
      if (argmax_of(bc, u32(oy), u32(ox)) == me) {
        acc += g_at((bc * p.ho + u32(oy)) * p.wo + u32(ox));
      }
    }
  }
  gx[t] = acc;
}
