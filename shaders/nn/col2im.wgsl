// col2im, the adjoint of im2col: every input pixel sums the columns that read it. Gather form
// (one invocation per input element, looping over the kh×kw offsets): no atomics needed.
// The host prepends the input cols (binding 1) with `fn cols_at(i)` and `fn cols_texel(t)` (a
// texture on software adapters) and the output x (binding 2) with `fn x_set(i, v)` and
// `fn x_set4(t, v4)` (packages/nn/src/ops/texels.ts).

fn element(t: u32) {
  if (p.sh > 1u || p.sw > 1u) {
    strided_element(t);
    return;
  }
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
  x_set(t, acc);
}

// A strided window reads input row iy only at the ky ≡ iy + ph (mod sh) offsets (likewise
// columns). Enumerated in plain order, neighbouring lanes have different residues and so different
// valid offsets: a SIMD group (llvmpipe runs 8 lanes in lockstep) walks the union of all kh×kw
// offsets. Here t enumerates (plane, ry, rx, jy, jx) with iy = jy·sh + ry, ix = jx·sw + rx, so the
// lanes of a group share (ry, rx) and loop over exactly the offsets that hit: kh·kw / (sh·sw) of
// them on average instead of kh·kw. The host sizes the grid to planes · sh·sw · ⌈h/sh⌉·⌈w/sw⌉.
fn strided_element(t: u32) {
  let jw = (p.w + p.sw - 1u) / p.sw;
  let jh = (p.h + p.sh - 1u) / p.sh;
  let jx = t % jw;
  let jy = (t / jw) % jh;
  let rx = (t / (jw * jh)) % p.sw;
  let ry = (t / (jw * jh * p.sw)) % p.sh;
  let plane = t / (jw * jh * p.sw * p.sh);
  let ix = jx * p.sw + rx;
  let iy = jy * p.sh + ry;
  if (ix >= p.w || iy >= p.h) {
    return;
  }
  let c = plane % p.c;
  let b = plane / p.c;
  var acc = 0.0;
  // Offsets with ky ≡ iy + ph (mod sh): then oy = (iy + ph − ky) / sh exactly.
  for (var ky = (ry + p.ph) % p.sh; ky < p.kh; ky += p.sh) {
    if (iy + p.ph < ky) {
      break;
    }
    let oy = (iy + p.ph - ky) / p.sh;
    if (oy >= p.ho) {
      continue;
    }
    for (var kx = (rx + p.pw) % p.sw; kx < p.kw; kx += p.sw) {
      if (ix + p.pw < kx) {
        break;
      }
      let ox = (ix + p.pw - kx) / p.sw;
      if (ox >= p.wo) {
        continue;
      }
      acc += cols_at(col_at((c * p.kh + ky) * p.kw + kx, b, oy * p.wo + ox));
    }
  }
  x_set((plane * p.h + iy) * p.w + ix, acc);
}

// Row-sums mode (p._pad0 = 1; software adapters, where each texel fetch costs what a whole texel
// does and the modes above fetch one per column value): an invocation sums SEG consecutive input
// pixels ix0..ix0 + SEG − 1 of one input row (SEG = 4·sw·m, ix0 a multiple of it). For each kernel
// offset (ky, kx) that hits the row, the pixels that read column row (c, ky, kx) of output row oy
// are every sw-th one, and they read 4·m consecutive columns ox: the host-unrolled body fetches
// the m + 1 texels that hold them once and picks each value by its offset (a 3×3 window at stride
// 2: 9 fetches per 8 pixels instead of 18). t enumerates (plane, ry, jy, ix0 / SEG) with
// iy = jy·sh + ry, so a SIMD group shares the row residue ry and with it the offsets ky that hit;
// the stores are vec4s when W is a multiple of 4.
fn row_sums(t: u32) {
  let segs = (p.w + SEG - 1u) / SEG;
  let jh = (p.h + p.sh - 1u) / p.sh;
  let ix0 = (t % segs) * SEG;
  let jy = (t / segs) % jh;
  let ry = (t / (segs * jh)) % p.sh;
  let plane = t / (segs * jh * p.sh);
  let iy = jy * p.sh + ry;
  if (iy >= p.h) {
    return;
  }
  let c = plane % p.c;
  let b = plane / p.c;
  let ox0 = i32(ix0 / p.sw);
  // {{ROW_SUMS_INIT}}: `var s<e> = 0.0;` for the SEG pixels
  // Offsets with ky ≡ iy + ph (mod sh): then oy = (iy + ph − ky) / sh exactly.
  for (var ky = (ry + p.ph) % p.sh; ky < p.kh; ky += p.sh) {
    if (iy + p.ph < ky) {
      break;
    }
    let oy = (iy + p.ph - ky) / p.sh;
    if (oy >= p.ho) {
      continue;
    }
    let r0 = (c * p.kh + ky) * p.kw;
    // {{ROW_SUMS}}: per kx, the texels of column row r0 + kx from column ox0 + j_min, then `s<e> += tap(…)`
  }
  let i0 = (plane * p.h + iy) * p.w + ix0;
  // {{ROW_SUMS_STORES}}: `x_set4(i0 / 4 + k, vec4(s…))` or `if (ix0 + e < W) { x_set(i0 + e, s<e>); }`
}

// The value at offset o (0..7) of the two texels lo, hi, or 0 when its column ox is outside the output.
fn tap(lo: vec4<f32>, hi: vec4<f32>, o: u32, ox: i32) -> f32 {
  let v = select(lo, hi, o >= 4u)[o & 3u];
  return select(0.0, v, ox >= 0 && ox < i32(p.wo));
}

// One element per invocation: unlike im2col, four per invocation measured no faster here (each
// element already loops over the kh×kw offsets).
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = flat_index(gid, nwg);
  if (t < p.total) {
    if (p._pad0 == 1u) {
      row_sums(t);
    } else {
      element(t);
    }
  }
}
