// Accumulation helper of tile-register4.wgsl (backward kernels only: acc_out is array<vec4<f32>>).

// acc_out[r, :] += Σ_q coef[q] · cols[c0 + q, :] (coefficients of missing columns are 0).
fn tile_acc(r: u32, c0: u32, coef: array<f32, TJ>, lid: u32, valid: bool) {
  if (!valid) { return; }
  let d4 = D4;
  let a = r * d4;
  let last = p.n - 1u;
  let b0 = min(c0, last) * d4;
  let b1 = min(c0 + 1u, last) * d4;
  let b2 = min(c0 + 2u, last) * d4;
  let b3 = min(c0 + 3u, last) * d4;
  let b4 = min(c0 + 4u, last) * d4;
  let b5 = min(c0 + 5u, last) * d4;
  let b6 = min(c0 + 6u, last) * d4;
  let b7 = min(c0 + 7u, last) * d4;
  for (var k = 0u; k < d4; k++) {
    acc_out[a + k] += coef[0] * cols[b0 + k] + coef[1] * cols[b1 + k] + coef[2] * cols[b2 + k] + coef[3] * cols[b3 + k]
      + coef[4] * cols[b4 + k] + coef[5] * cols[b5 + k] + coef[6] * cols[b6 + k] + coef[7] * cols[b7 + k];
  }
}

// tile_acc wrote to acc_out directly.
fn tile_end(r: u32, valid: bool) {}
