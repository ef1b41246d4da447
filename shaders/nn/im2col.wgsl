// im2col: cols[b, (c·kh + ky)·kw + kx, oy·Wo + ox] = x[b, c, oy·sh + ky − ph, ox·sw + kx − pw]
// (0 outside the input), or the same values as one [C·kh·kw, B·Ho·Wo] matrix (layout 1).
// A convolution is then one matmul W[Co, C·kh·kw] × cols.
// The host prepends the input x (binding 1) and `fn x_at(i)`: a texture on software adapters, where
// each input value is read kh·kw times and texel fetches cost a tenth of storage loads.
@group(0) @binding(2) var<storage, read_write> cols: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = flat_index(gid, nwg);
  if (t >= p.total) {
    return;
  }
  // t enumerates (b, r, q) in batched order; the store goes to the layout's position.
  let hw = p.ho * p.wo;
  let kk = p.kh * p.kw;
  let q = t % hw;
  let r = (t / hw) % (p.c * kk);
  let b = t / (hw * p.c * kk);
  let c = r / kk;
  let ky = (r / p.kw) % p.kh;
  let kx = r % p.kw;
  let iy = i32((q / p.wo) * p.sh + ky) - i32(p.ph);
  let ix = i32((q % p.wo) * p.sw + kx) - i32(p.pw);
  var v = 0.0;
  if (iy >= 0 && iy < i32(p.h) && ix >= 0 && ix < i32(p.w)) {
    v = x_at(((b * p.c + c) * p.h + u32(iy)) * p.w + u32(ix));
  }
  cols[col_at(r, b, q)] = v;
}
