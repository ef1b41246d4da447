// Tile helpers, hardware-GPU variant: the WG invocations of a workgroup (one row each) stage
// TJ = 16 column rows × DC = 64 features at a time in workgroup memory, so each column value is
// read from storage once per workgroup instead of once per row. Every call must be reached in
// uniform control flow (barriers): callers loop over all tiles and mask invalid rows.
// Expects module-scope `p` (with .n, .d), `rows` and `cols`.

var<workgroup> tile: array<f32, 1024>; // TJ × DC

fn stage_tile(c0: u32, k0: u32, lid: u32) {
  let d = p.d;
  let last = p.n - 1u;
  for (var t = 0u; t < (TJ * DC) / WG; t++) {
    let e = t * WG + lid;
    let k = k0 + e % DC;
    tile[e] = select(0.0, cols[min(c0 + e / DC, last) * d + min(k, d - 1u)], k < d);
  }
}

fn tile_row_dot(r: u32, c: u32) -> f32 {
  var s = 0.0;
  for (var k = 0u; k < p.d; k++) { s += rows[r * p.d + k] * cols[c * p.d + k]; }
  return s;
}

fn tile_dots(r: u32, c0: u32, lid: u32) -> array<f32, TJ> {
  var acc: array<f32, TJ>;
  let d = p.d;
  let a = r * d;
  for (var k0 = 0u; k0 < d; k0 += DC) {
    stage_tile(c0, k0, lid);
    workgroupBarrier();
    let kn = min(DC, d - k0);
    for (var k = 0u; k < kn; k++) {
      let x = rows[a + k0 + k];
      for (var q = 0u; q < TJ; q++) {
        acc[q] += x * tile[q * DC + k];
      }
    }
    workgroupBarrier();
  }
  return acc;
}

// Tiles are visited by the whole workgroup together, so none can be skipped per row.
fn tile_needed(needed: bool) -> bool {
  return true;
}

// This variant reads the row from storage as it goes.
fn tile_begin(r: u32) {}
