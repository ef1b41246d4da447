// im2col: cols[b, (c·kh + ky)·kw + kx, oy·Wo + ox] = x[b, c, oy·sh + ky − ph, ox·sw + kx − pw]
// (0 outside the input), or the same values as one [C·kh·kw, B·Ho·Wo] matrix (layout 1).
// A convolution is then one matmul W[Co, C·kh·kw] × cols.
// The host prepends the input x (binding 1) and `fn x_at(i)`: a texture on software adapters, where
// each input value is read kh·kw times and texel fetches cost a tenth of storage loads.
// The host also declares the output `cols` (binding 2) with `fn cols_set(i, v)` and
// `fn cols_set4(t, v4)` (packages/nn/src/ops/texels.ts): vec4s in the quad mode below, and how a
// value is read: `fn channel_coef(c) -> vec2<f32>` once per channel and `fn gather(i, coef)` per
// value. Plainly that is x_at(i); when the convolution takes a batch norm's input (the
// BatchNorm → ReLU → Conv2d fusion) it is max(a[c]·x + d[c], 0) from the statistics.

fn element(t: u32) {
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
    v = gather(((b * p.c + c) * p.h + u32(iy)) * p.w + u32(ix), channel_coef(c));
  }
  cols_set(col_at(r, b, q), v);
}

// Quad mode (p._pad0 = 1; software adapters, Ho·Wo a multiple of 4): an invocation fills four
// consecutive output positions q of one (b, r) and stores them as one vec4, sharing the index
// arithmetic of b, r, c, ky, kx (a vec4 store costs half as much per float on llvmpipe). t4
// enumerates (b, r, q / 4).
fn quad(t4: u32) {
  let hw4 = p.ho * p.wo / 4u;
  let kk = p.kh * p.kw;
  let q0 = (t4 % hw4) * 4u;
  let r = (t4 / hw4) % (p.c * kk);
  let b = t4 / (hw4 * p.c * kk);
  let c = r / kk;
  let ky = (r / p.kw) % p.kh;
  let kx = r % p.kw;
  let plane = (b * p.c + c) * p.h;
  let coef = channel_coef(c);
  var v = vec4<f32>(0.0);
  for (var e = 0u; e < 4u; e++) {
    let q = q0 + e;
    let iy = i32((q / p.wo) * p.sh + ky) - i32(p.ph);
    let ix = i32((q % p.wo) * p.sw + kx) - i32(p.pw);
    if (iy >= 0 && iy < i32(p.h) && ix >= 0 && ix < i32(p.w)) {
      v[e] = gather((plane + u32(iy)) * p.w + u32(ix), coef);
    }
  }
  cols_set4(col_at(r, b, q0) / 4u, v);
}

// Wide quad mode (p._pad0 = 2; software adapters, layout 1 with B·Ho·Wo a multiple of 4 but Ho·Wo
// not): t4 is the texel of the [C·kh·kw, B·Ho·Wo] matrix itself, four consecutive columns of one
// row r, which may belong to two images; each column decodes its own (b, q). One vec4 store and
// one channel_coef per four values (the 7×7 planes of the quick network's second layer).
fn wide_quad(t4: u32) {
  let kk = p.kh * p.kw;
  let hw = p.ho * p.wo;
  let n0 = (t4 % (p.batch * hw / 4u)) * 4u;
  let r = t4 / (p.batch * hw / 4u);
  let c = r / kk;
  let ky = (r / p.kw) % p.kh;
  let kx = r % p.kw;
  let coef = channel_coef(c);
  var v = vec4<f32>(0.0);
  for (var e = 0u; e < 4u; e++) {
    let n = n0 + e;
    let b = n / hw;
    let q = n % hw;
    let iy = i32((q / p.wo) * p.sh + ky) - i32(p.ph);
    let ix = i32((q % p.wo) * p.sw + kx) - i32(p.pw);
    if (iy >= 0 && iy < i32(p.h) && ix >= 0 && ix < i32(p.w)) {
      v[e] = gather(((b * p.c + c) * p.h + u32(iy)) * p.w + u32(ix), coef);
    }
  }
  cols_set4(t4, v);
}

// PER_INVOCATION elements per invocation, a span apart (consecutive lanes stay on consecutive
// elements): on software adapters each workgroup has a fixed cost (~0.2 µs on llvmpipe) and
// four elements per invocation ran element-wise kernels 1.6× faster (measured on llvmpipe).
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let first = flat_index(gid, nwg);
  if (p._pad0 == 1u) {
    if (first < p.total / 4u) {
      quad(first);
    }
    return;
  }
  if (p._pad0 == 2u) {
    if (first < p.total / 4u) {
      wide_quad(first);
    }
    return;
  }
  let span = (p.total + PER_INVOCATION - 1u) / PER_INVOCATION;
  if (first >= span) {
    return;
  }
  for (var e = 0u; e < PER_INVOCATION; e++) {
    let t = first + e * span;
    if (t < p.total) {
      element(t);
    }
  }
}
