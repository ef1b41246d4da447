// Strided copy that implements permute, expand, slice, pad and the pieces of concat.
// For each output coordinate c (over `shape`), the source coordinate on axis d is
// s_d = c_d * step_d + start_d; if any s_d falls outside [0, src_extent_d) the output is the pad
// value, otherwise src[src_offset + sum_d s_d * src_stride_d]. The output is written at
// dst_offset + sum_d c_d * dst_stride_d, so concat can place each input inside a larger output.
// Steps are signed (a permuted or sliced view may walk backwards); broadcast axes have stride 0.
//
// Specialised by the host with: alias T = f32 | i32;

struct Params {
  n: u32,
  rank: u32,
  src_offset: u32,
  dst_offset: u32,
  pad_value: vec4<u32>,           // .x holds the bit pattern of the pad value
  shape: array<vec4<u32>, 2>,
  start: array<vec4<i32>, 2>,
  step: array<vec4<i32>, 2>,
  src_extent: array<vec4<u32>, 2>,
  src_stride: array<vec4<u32>, 2>,
  dst_stride: array<vec4<u32>, 2>,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<T>;
@group(0) @binding(2) var<storage, read_write> dst: array<T>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= p.n) {
    return;
  }
  var rem = i;
  var src_idx = p.src_offset;
  var dst_idx = p.dst_offset;
  var inside = true;
  for (var d = i32(p.rank) - 1; d >= 0; d--) {
    let a = u32(d);
    let extent = p.shape[a / 4u][a % 4u];
    let c = rem % extent;
    rem = rem / extent;
    let s = i32(c) * p.step[a / 4u][a % 4u] + p.start[a / 4u][a % 4u];
    inside = inside && s >= 0 && u32(s) < p.src_extent[a / 4u][a % 4u];
    src_idx += u32(max(s, 0)) * p.src_stride[a / 4u][a % 4u];
    dst_idx += c * p.dst_stride[a / 4u][a % 4u];
  }
  if (inside) {
    dst[dst_idx] = src[src_idx];
  } else {
    dst[dst_idx] = bitcast<T>(p.pad_value.x);
  }
}
