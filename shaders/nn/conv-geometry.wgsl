// Shared header of the nn convolution/pooling kernels (prepended by the host to each kernel).
// One geometry for every op: input [B, C, H, W], a kh×kw window with stride (sh, sw) and zero
// padding (ph, pw), output spatial size Ho×Wo. `co` is the output channel count (direct conv).
struct Geometry {
  total: u32,
  batch: u32,
  c: u32,
  h: u32,
  w: u32,
  ho: u32,
  wo: u32,
  kh: u32,
  kw: u32,
  sh: u32,
  sw: u32,
  ph: u32,
  pw: u32,
  co: u32,
  _pad0: u32,    // a per-kernel extra: the weight gradient's chunk count; im2col's and col2im's row modes (1)
  // im2col/col2im column layout: 0 = [B, C·kh·kw, Ho·Wo] (batched), 1 = [C·kh·kw, B·Ho·Wo] (one wide matrix).
  col_layout: u32,
}

// The host bakes the geometry into each pipeline as the constant `p` (packages/nn/src/ops/
// specialize.ts): software adapters run a u32 division by a runtime value lane by lane, and the
// index arithmetic of these gather kernels is mostly divisions, which become multiplications by
// constants this way (im2col 2–3× faster on llvmpipe). The same values still arrive in the uniform
// slot every dispatch binds; `uniforms` is read once so the binding stays in the pipeline layout.
@group(0) @binding(0) var<uniform> uniforms: Geometry;
// {{CONSTANTS}}

// Position of column row r, batch b, output pixel q in the column buffer.
fn col_at(r: u32, b: u32, q: u32) -> u32 {
  let hw = p.ho * p.wo;
  if (p.col_layout == 1u) {
    return r * p.batch * hw + b * hw + q;
  }
  return (b * p.c * p.kh * p.kw + r) * hw + q;
}

// Elements per invocation of im2col; the host sizes its grid by it.
const PER_INVOCATION: u32 = 4u;

fn flat_index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return gid.x + gid.y * nwg.x * 64u + (uniforms.total & 0u);
}

// The output row (oy) a padded input row iy + ph − ky lands on, or -1 when the window at that
// kernel offset does not start on a stride multiple or falls outside the output.
fn out_pos(i: u32, pad: u32, k: u32, stride: u32, extent: u32) -> i32 {
  let t = i32(i + pad) - i32(k);
  if (t < 0 || (t % i32(stride)) != 0) {
    return -1;
  }
  let o = t / i32(stride);
  return select(-1, o, o < i32(extent));
}
