// im2col: cols[b, (c·kh + ky)·kw + kx, oy·Wo + ox] = x[b, c, oy·sh + ky − ph, ox·sw + kx − pw]
// (0 outside the input), or the same values as one [C·kh·kw, B·Ho·Wo] matrix (layout 1).
// A convolution is then one matmul W[Co, C·kh·kw] × cols.
// The host prepends the input x (binding 1) and `fn x_at(i)`: a texture on software adapters, where
// each input value is read kh·kw times and texel fetches cost a tenth of storage loads.
// The host also declares the output `cols` (binding 2) with `fn cols_set(i, v)` and
// `fn cols_set4(t, v4)` (packages/nn/src/ops/texels.ts): vec4s in the row-taps mode below, and how a
// value read is mapped: `fn channel_coef(c) -> vec2<f32>` once per channel and
// `fn mapped(v, coef) -> f32` per value. Plainly that is v; when the convolution takes a batch
// norm's input (the BatchNorm → ReLU → Conv2d fusion) it is max(a[c]·v + d[c], 0) from the
// statistics. Padding stays 0 (the conv pads the mapped input).

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
    v = mapped(x_at(((b * p.c + c) * p.h + u32(iy)) * p.w + u32(ix)), channel_coef(c));
  }
  cols_set(col_at(r, b, q), v);
}

// Row-taps mode (p._pad0 = 1; software adapters, where each texel fetch costs what a whole texel
// does and im2col was bound by one fetch per value): an invocation fills four consecutive output
// columns ox0..ox0+3 of one output row oy, for one (b, c, ky) and every kx. Those 4·kw values read
// one input row, floats start .. start + 3·sw + kw − 1: the host-unrolled body fetches the
// texels that hold them once (3 texels for 12 values of a 3×3 window at stride 1 or 2,
// instead of 12 fetches) and picks each value out of two neighbouring texels by its offset. t
// enumerates (b, c, ky, oy, ox0 / 4), rows padded to a multiple of 4 columns; the stores are vec4s
// when Wo is a multiple of 4 (then every column quad is a texel of cols), else one float each.
fn row_taps(t: u32) {
  let segs = (p.wo + 3u) / 4u;
  let ox0 = (t % segs) * 4u;
  let oy = (t / segs) % p.ho;
  let ky = (t / (segs * p.ho)) % p.kh;
  let c = (t / (segs * p.ho * p.kh)) % p.c;
  let b = t / (segs * p.ho * p.kh * p.c);
  let iy = i32(oy * p.sh + ky) - i32(p.ph);
  let row_in = iy >= 0 && iy < i32(p.h);
  // Rows outside the input fetch row 0 (in range) and store zeros.
  let row = i32(((b * p.c + c) * p.h + u32(select(0, iy, row_in))) * p.w);
  let start = row + i32(ox0 * p.sw) - i32(p.pw);
  let t0 = start >> 2u; // floor(start / 4): start is −pw at the first row of the batch
  let off = u32(start - 4 * t0);
  let ix0 = i32(ox0 * p.sw) - i32(p.pw);
  let coef = channel_coef(c);
  let r0 = (c * p.kh + ky) * p.kw;
  let q0 = oy * p.wo + ox0;
  // {{ROW_TAPS}}: `let w<k> = x_texel(clamp(t0 + k))` for the window's texels, then per kx four
  // `tap(w<a>, w<a+1>, off + d % 4, ix0 + d, row_in, coef)` with d = e·sw + kx, a = d / 4, and the store
}

// The value at offset o (0..7) of the two texels lo, hi, mapped, or 0 where the window leaves the
// input (ix outside [0, W) or the row outside [0, H)).
fn tap(lo: vec4<f32>, hi: vec4<f32>, o: u32, ix: i32, row_in: bool, coef: vec2<f32>) -> f32 {
  let v = select(lo, hi, o >= 4u)[o & 3u];
  return select(0.0, mapped(v, coef), row_in && ix >= 0 && ix < i32(p.w));
}

// PER_INVOCATION elements per invocation, a span apart (consecutive lanes stay on consecutive
// elements): on software adapters each workgroup has a fixed cost (~0.2 µs on llvmpipe) and
// four elements per invocation ran element-wise kernels 1.6× faster (measured on llvmpipe).
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let first = flat_index(gid, nwg);
  if (p._pad0 == 1u) {
    if (first < p.total) {
      row_taps(first);
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
