// col2im, the adjoint of im2col: every input pixel sums the columns that read it. Gather form
// (one invocation per input element, looping over the kh×kw offsets): no atomics needed.
// The host prepends the input cols (binding 1) and `fn cols_at(i)` (a texture on software adapters).
@group(0) @binding(2) var<storage, read_write> x: array<f32>;

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
  x[t] = acc;
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
  x[(plane * p.h + iy) * p.w + ix] = acc;
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
