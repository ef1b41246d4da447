// Tile helpers, software-adapter variant (llvmpipe, SwiftShader): no workgroup memory and no
// barriers. Each invocation owns one row and reads TJ = 4 column rows straight from storage, so
// every load of rows[] feeds four multiply-adds held in registers (register blocking).
// Expects module-scope `p` (with .n, .d), `rows` and `cols`.

fn tile_row_dot(r: u32, c: u32) -> f32 {
  var s = 0.0;
  for (var k = 0u; k < p.d; k++) { s += rows[r * p.d + k] * cols[c * p.d + k]; }
  return s;
}

fn tile_dots(r: u32, c0: u32, lid: u32) -> array<f32, TJ> {
  let d = p.d;
  let a = r * d;
  let last = p.n - 1u;
  let b0 = min(c0, last) * d;
  let b1 = min(c0 + 1u, last) * d;
  let b2 = min(c0 + 2u, last) * d;
  let b3 = min(c0 + 3u, last) * d;
  var acc = vec4<f32>(0.0);
  for (var k = 0u; k < d; k++) {
    acc += rows[a + k] * vec4<f32>(cols[b0 + k], cols[b1 + k], cols[b2 + k], cols[b3 + k]);
  }
  return array<f32, TJ>(acc.x, acc.y, acc.z, acc.w);
}

// Whether a tile must be visited when `needed` says so for this row: always skippable here.
fn tile_needed(needed: bool) -> bool {
  return needed;
}

// This variant reads the row from storage as it goes.
fn tile_begin(r: u32) {}
