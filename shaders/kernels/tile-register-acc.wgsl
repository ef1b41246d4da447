// Accumulation helper of tile-register.wgsl (backward kernels only: needs module-scope acc_out).

// acc_out[r, :] += Σ_q coef[q] · cols[c0 + q, :] (coefficients of missing columns are 0).
fn tile_acc(r: u32, c0: u32, coef: array<f32, TJ>, lid: u32, valid: bool) {
  if (!valid) { return; }
  let d = p.d;
  let a = r * d;
  let last = p.n - 1u;
  let b0 = min(c0, last) * d;
  let b1 = min(c0 + 1u, last) * d;
  let b2 = min(c0 + 2u, last) * d;
  let b3 = min(c0 + 3u, last) * d;
  let c = vec4<f32>(coef[0], coef[1], coef[2], coef[3]);
  for (var k = 0u; k < d; k++) {
    acc_out[a + k] += dot(c, vec4<f32>(cols[b0 + k], cols[b1 + k], cols[b2 + k], cols[b3 + k]));
  }
}

// tile_acc wrote to acc_out directly.
fn tile_end(r: u32, valid: bool) {}
