// Max pooling over kh×kw windows (padding counts as -inf, as PyTorch). Ties: the first maximum in
// row-major window order wins, so the backward pass can give its gradient to exactly that element.
// The host prepends the input x (binding 1) and `fn x_at(i)` (f32Input): a texture on software
// adapters when large, where each input value is read by every window covering it.
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

const LOWEST: f32 = -3.0e38;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = flat_index(gid, nwg);
  if (t >= p.total) {
    return;
  }
  let ox = t % p.wo;
  let oy = (t / p.wo) % p.ho;
  let bc = t / (p.wo * p.ho);
  var best = LOWEST;
  for (var ky = 0u; ky < p.kh; ky++) {
    let iy = i32(oy * p.sh + ky) - i32(p.ph);
    if (iy < 0 || iy >= i32(p.h)) { continue; }
    for (var kx = 0u; kx < p.kw; kx++) {
      let ix = i32(ox * p.sw + kx) - i32(p.pw);
      if (ix < 0 || ix >= i32(p.w)) { continue; }
      let v = x_at((bc * p.h + u32(iy)) * p.w + u32(ix));
      if (v > best) { best = v; }
    }
  }
  y[t] = best;
}
