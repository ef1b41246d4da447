// Global average pooling of [B, C, H, W] → [B, C] and its gradient, one invocation per (b, c)
// plane (a plane's H·W values in one loop): forward (dir 0) y[plane] = Σ x[plane, :] / HW,
// backward (dir 1) dx[plane, :] = g[plane] / HW. Replaces a sum-reduce + divide, and the
// broadcasting expand of the mean's gradient, whose general index decoding is slow on llvmpipe.
// Specialised by the host: `const p = Params(...)`.
struct Params {
  planes: u32,
  inner: u32,
  dir: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> uniforms: Params;
// {{CONSTANTS}}
// The input src (binding 1) and `fn src_at(i)` come from the host (f32Input,
// tensor/src/gpu/kernels/common.ts): a texture on software adapters when large, else storage.
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let plane = gid.x + gid.y * nwg.x * 64u + (uniforms.planes & 0u);
  if (plane >= p.planes) {
    return;
  }
  let base = plane * p.inner;
  if (p.dir == 0u) {
    var s = 0.0;
    for (var q = 0u; q < p.inner; q++) {
      s += src_at(base + q);
    }
    out[plane] = s / f32(p.inner);
  } else {
    let v = src_at(plane) / f32(p.inner);
    for (var q = 0u; q < p.inner; q++) {
      out[base + q] = v;
    }
  }
}
