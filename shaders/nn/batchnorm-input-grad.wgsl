// BatchNorm's input gradient, closed form, one invocation per (n, c) plane looping over `inner`
// (the per-channel coefficients, batchnorm-dx-coefficients.wgsl, are computed once per plane from
// the sums Σg·x̂ (dweight), Σg (dbias) of batchnorm-grad-sums.wgsl). With `relu` g is masked by the fused ReLU's derivative as in
// batchnorm-grad-sums.wgsl. Specialised by the host: `const p = Params(...)`.
struct Params {
  outer: u32,
  channels: u32,
  inner: u32,
  count: u32,
  relu: u32,
  texels: u32,   // 1: inner is a multiple of 4, planes go a vec4 at a time; 2: the plane's texels
                 // are fetched once each (shared with the neighbouring planes at its two ends), its
                 // floats stored one by one; software adapters
}

@group(0) @binding(0) var<uniform> uniforms: Params;
// {{CONSTANTS}}
// The inputs g, x, weight, stats, dweight, dbias (bindings 1–6) and their `fn <name>_at(i)` come from the
// host (f32Input, tensor/src/gpu/kernels/common.ts): textures on software adapters when large,
// else storage.
// `dx` (binding 7) and `fn dx_set(i, v)`, `dx_set4(t, v4)` come from the host too (vec4s with `texels` = 1).

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let plane = gid.x + gid.y * nwg.x * 64u + (uniforms.outer & 0u);
  if (plane >= p.outer * p.channels) {
    return;
  }
  let c = plane % p.channels;
  let co = dx_coefficients(c, dweight_at(c), dbias_at(c));
  let cg = co.cg;
  let cx = co.cx;
  let c0 = co.c0;
  let a = co.a;
  let d = co.d;
  if (p.texels == 1u) {
    let base4 = plane * (p.inner / 4u);
    for (var q = 0u; q < p.inner / 4u; q++) {
      let x4 = x_texel(base4 + q);
      var g4 = g_texel(base4 + q);
      if (p.relu == 1u) {
        g4 = select(vec4<f32>(0.0), g4, a * x4 + d > vec4<f32>(0.0));
      }
      dx_set4(base4 + q, cg * g4 + cx * x4 + c0);
    }
    return;
  }
  let base = plane * p.inner;
  if (p.texels == 2u) {
    for (var t = base >> 2u; t <= (base + p.inner - 1u) >> 2u; t++) {
      let x4 = x_texel(t);
      var g4 = g_texel(t);
      if (p.relu == 1u) {
        g4 = select(vec4<f32>(0.0), g4, a * x4 + d > vec4<f32>(0.0));
      }
      let v4 = cg * g4 + cx * x4 + c0;
      for (var e = 0u; e < 4u; e++) {
        let i = 4u * t + e;
        if (i >= base && i < base + p.inner) {
          dx_set(i, v4[e]);
        }
      }
    }
    return;
  }
  for (var q = 0u; q < p.inner; q++) {
    let xi = x_at(base + q);
    var gi = g_at(base + q);
    if (p.relu == 1u) {
      gi = select(0.0, gi, a * xi + d > 0.0);
    }
    dx_set(base + q, cg * gi + cx * xi + c0);
  }
}
