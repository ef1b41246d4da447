// col2im, the adjoint of im2col: every input pixel sums the columns that read it. Gather form
// (one invocation per input element, looping over the kh×kw offsets): no atomics needed.
// The host prepends the input cols (binding 1) and `fn cols_at(i)` (a texture on software adapters).
@group(0) @binding(2) var<storage, read_write> x: array<f32>;

fn element(t: u32) {
  let ix = t % p.w;
  let iy = (t / p.w) % p.h;
  let c = (t / (p.w * p.h)) % p.c;
  let b = t / (p.w * p.h * p.c);
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
      acc += cols_at(col_at((c * p.kh + ky) * p.kw + kx, b, u32(oy) * p.wo + u32(ox)));
    }
  }
  x[t] = acc;
}

// One element per invocation: unlike im2col, four per invocation measured no faster here (each
// element already loops over the kh×kw offsets).
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = flat_index(gid, nwg);
  if (t < p.total) {
    element(t);
  }
}
