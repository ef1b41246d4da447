// Reduction of the middle axis of a contiguous [outer, K, inner] view.
// Each invocation reduces one (outer, chunk, inner) triple over k in [chunk*chunk_len, ...),
// writing out[(o * chunks + c) * inner + i]. With chunks == 1 this is the whole reduction; the host
// runs a second pass over the partials when a long axis is split to keep enough invocations busy.
//
// Specialised by the host with:
//   alias T = f32 | i32;
//   const IDENTITY: T = ...;          0 for sum, the lowest finite value for max
//   fn combine(a: T, b: T) -> T { ... }

struct Params {
  outer: u32,
  k: u32,
  inner: u32,
  chunks: u32,
  chunk_len: u32,
  total: u32,   // outer * chunks * inner
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
// The input (binding 1) and `fn src_at(i: u32) -> T` come from the host: for f32 on software
// adapters a texture (tensor/src/gpu/kernels/common.ts, f32Input), else storage.
@group(0) @binding(2) var<storage, read_write> out: array<T>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * 64u;
  if (t >= p.total) {
    return;
  }
  let i = t % p.inner;
  let oc = t / p.inner;
  let c = oc % p.chunks;
  let o = oc / p.chunks;
  let k_begin = c * p.chunk_len;
  let k_end = min(p.k, k_begin + p.chunk_len);
  var acc: T = IDENTITY;
  var idx = (o * p.k + k_begin) * p.inner + i;
  for (var k = k_begin; k < k_end; k++) {
    acc = combine(acc, src_at(idx));
    idx += p.inner;
  }
  out[t] = acc;
}
