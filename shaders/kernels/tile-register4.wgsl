// Tile helpers, software-adapter variant for d % 4 == 0: like tile-register.wgsl, but rows are
// read as vec4s along the features and each invocation takes TJ = 8 column rows per step, so one
// vec4 load of the row feeds 32 multiply-adds (the loads, gathers across SIMD lanes on llvmpipe,
// are what costs there). RowT is vec4<f32>; no workgroup memory, no barriers. (A private copy of
// the row, indexed in the loop, made llvmpipe's shader compile take tens of seconds.)

fn tile_begin(r: u32) {}

fn tile_row_dot(r: u32, c: u32) -> f32 {
  let d4 = p.d / 4u;
  var s = vec4<f32>(0.0);
  for (var k = 0u; k < d4; k++) { s += rows[r * d4 + k] * cols[c * d4 + k]; }
  return s.x + s.y + s.z + s.w;
}

fn tile_dots(r: u32, c0: u32, lid: u32) -> array<f32, TJ> {
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
  var a0 = vec4<f32>(0.0);
  var a1 = vec4<f32>(0.0);
  var a2 = vec4<f32>(0.0);
  var a3 = vec4<f32>(0.0);
  var a4 = vec4<f32>(0.0);
  var a5 = vec4<f32>(0.0);
  var a6 = vec4<f32>(0.0);
  var a7 = vec4<f32>(0.0);
  for (var k = 0u; k < d4; k++) {
    let x = rows[a + k];
    a0 += x * cols[b0 + k];
    a1 += x * cols[b1 + k];
    a2 += x * cols[b2 + k];
    a3 += x * cols[b3 + k];
    a4 += x * cols[b4 + k];
    a5 += x * cols[b5 + k];
    a6 += x * cols[b6 + k];
    a7 += x * cols[b7 + k];
  }
  let one = vec4<f32>(1.0);
  return array<f32, TJ>(dot(a0, one), dot(a1, one), dot(a2, one), dot(a3, one), dot(a4, one), dot(a5, one), dot(a6, one), dot(a7, one));
}

fn tile_needed(needed: bool) -> bool {
  return needed;
}
