// Zeroes the global histogram of pair-histogram.wgsl (pooled buffers are not zero-initialised).

struct Params { n: u32, d4: u32, bins: u32, r0: u32, r1: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> hist: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x < 4u * p.bins) { hist[gid.x] = 0u; }
}
