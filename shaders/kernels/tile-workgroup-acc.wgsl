// Accumulation helper of tile-workgroup.wgsl (backward kernels only: needs module-scope acc_out).

// acc_out[r, :] += Σ_q coef[q] · cols[c0 + q, :], staged through the same workgroup tile.
fn tile_acc(r: u32, c0: u32, coef: array<f32, TJ>, lid: u32, valid: bool) {
  let d = p.d;
  let a = r * d;
  var cf = coef;
  for (var k0 = 0u; k0 < d; k0 += DC) {
    stage_tile(c0, k0, lid);
    workgroupBarrier();
    if (valid) {
      let kn = min(DC, d - k0);
      for (var k = 0u; k < kn; k++) {
        var s = 0.0;
        for (var q = 0u; q < TJ; q++) {
          s += cf[q] * tile[q * DC + k];
        }
        acc_out[a + k0 + k] += s;
      }
    }
    workgroupBarrier();
  }
}

// tile_acc wrote to acc_out directly.
fn tile_end(r: u32, valid: bool) {}
