// torch.gather along one axis, and its adjoint without atomics.
// Shapes are flattened to [outer, axis, inner] around the gather axis.
//
// gather:  out[o, j, i] = src[o, index[o, j, i], i]           (out has the index's shape)
// scatter: out[o, a, i] = sum_j { g[o, j, i] : index[o, j, i] == a }   (out has the source's shape)
// The scatter form loops over j instead of using float atomics (WGSL has none); its cost is
// |source| * index_axis, which is small for the uses here (picking a class logit, selecting rows).
// Out-of-range indices are rejected on the host when their values are known there; otherwise
// this kernel checks them: a bad index reads as 0 (never outside the buffer) and raises the
// device check flag to `p.check_code` (atomicMax; earlier-registered checks have larger codes). The
// host reads the flag with the next readback and throws the InvalidArgumentError it names.
// scatter: the threads of source row a = 0 check every index of their column once.
//
// Specialised by the host with: alias T = f32 | i32; const SCATTER: bool = ...;

struct Params {
  outer: u32,
  src_axis: u32,    // extent of the gather axis in the source
  index_axis: u32,  // extent of the gather axis in the index
  inner: u32,
  total: u32,
  check_code: u32,  // the code this dispatch's bad indices report (gpu/backend.ts checkFlag)
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> values: array<T>;
@group(0) @binding(2) var<storage, read> index: array<i32>;
@group(0) @binding(3) var<storage, read_write> out: array<T>;
@group(0) @binding(4) var<storage, read_write> check_flag: array<atomic<u32>>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * 64u;
  if (t >= p.total) {
    return;
  }
  let i = t % p.inner;
  if (!SCATTER) {
    let j = (t / p.inner) % p.index_axis;
    let o = t / (p.inner * p.index_axis);
    let k = index[t];
    if (k < 0 || k >= i32(p.src_axis)) {
      atomicMax(&check_flag[0], p.check_code);
      out[t] = T(0);
    } else {
      out[t] = values[(o * p.src_axis + u32(k)) * p.inner + i];
    }
  } else {
    let a = i32((t / p.inner) % p.src_axis);
    let o = t / (p.inner * p.src_axis);
    var acc: T = T(0);
    for (var j = 0u; j < p.index_axis; j++) {
      let q = (o * p.index_axis + j) * p.inner + i;
      if (a == 0 && (index[q] < 0 || index[q] >= i32(p.src_axis))) {
        atomicMax(&check_flag[0], p.check_code);
      }
      if (index[q] == a) {
        acc += values[q];
      }
    }
    out[t] = acc;
  }
}
