// BatchNorm's input gradient for one channel, by the workgroup that has just reduced that channel's
// sums (batchnorm-grad-sums.wgsl in its fused mode, software adapters): the two passes of the
// backward in one dispatch instead of two. The coefficients are batchnorm-input-grad.wgsl's (both
// from batchnorm-dx-coefficients.wgsl), over the same texels the sums read.
// The host prepends it after grad-sums' inputs, with the weight (binding 6, `fn weight_at(i)`) and
// the output dx (binding 7, `fn dx_set(i, v)`, `dx_set4(t, v4)`: vec4s with `texels` = 1), and
// calls it at the end of grad-sums' main with the workgroup's totals. In texel-window mode the
// window's end texels are shared with the neighbouring planes of other channels, which other
// workgroups write: only the floats inside the plane are stored, one by one.

fn channel_dx(c: u32, lane: u32, sgx: f32, sg: f32) {
  let co = dx_coefficients(c, sgx, sg);
  let cg = co.cg;
  let cx = co.cx;
  let c0 = co.c0;
  let a = co.a;
  let d = co.d;
  if (p.texels == 1u) {
    let inner4 = p.inner / 4u;
    for (var j4 = lane; j4 < p.count / 4u; j4 += 64u) {
      let t = ((j4 / inner4) * p.channels + c) * inner4 + j4 % inner4;
      let x4 = x_texel(t);
      var g4 = g_texel(t);
      if (p.relu == 1u) {
        g4 = select(vec4<f32>(0.0), g4, a * x4 + d > vec4<f32>(0.0));
      }
      dx_set4(t, cg * g4 + cx * x4 + c0);
    }
  } else if (p.texels == 2u) {
    for (var j4 = lane; j4 < p.outer * WINDOW; j4 += 64u) {
      let w = plane_window(c, j4);
      let x4 = x_texel(w.t);
      var g4 = g_texel(w.t);
      if (p.relu == 1u) {
        g4 = select(vec4<f32>(0.0), g4, a * x4 + d > vec4<f32>(0.0));
      }
      let v4 = cg * g4 + cx * x4 + c0;
      for (var e = 0u; e < 4u; e++) {
        if (w.keep[e]) {
          dx_set(4u * w.t + e, v4[e]);
        }
      }
    }
  } else {
    for (var j = lane; j < p.count; j += 64u) {
      let i = ((j / p.inner) * p.channels + c) * p.inner + j % p.inner;
      let xi = x_at(i);
      var gi = g_at(i);
      if (p.relu == 1u) {
        gi = select(0.0, gi, a * xi + d > 0.0);
      }
      dx_set(i, cg * gi + cx * xi + c0);
    }
  }
}
