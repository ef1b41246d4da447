// Elementwise map over up to three broadcast operands: out[i] = EXPR(x0, x1, x2).
//
// Specialised by the host (packages/tensor/src/gpu/kernels.ts): it prepends the element type
// aliases T0..T2, TO and `fn op(...) -> TO`, and fills the BINDINGS and LOADS markers below so
// that only the operands read from buffers are declared (an unused binding would not be part of the
// pipeline's automatic layout).
// Every tensor is contiguous, so the only index arithmetic is for broadcasting.

struct Params {
  n: u32,
  rank: u32,
  _pad0: u32,
  _pad1: u32,
  scalars: vec4<u32>,            // bit patterns of scalar operands (MODE_k == 2)
  out_shape: array<vec4<u32>, 2>, // up to rank 8
  strides0: array<vec4<u32>, 2>,  // element strides of each operand, 0 on broadcast axes
  strides1: array<vec4<u32>, 2>,
  strides2: array<vec4<u32>, 2>,
}

@group(0) @binding(0) var<uniform> p: Params;
// {{BINDINGS}}: `in0..in2` (bindings 1–3) with `fn in<k>_at(i)` for the operands read from memory (f32
// ones from a texture on software adapters, see f32Input in kernels/common.ts), then `out` (binding 4).

fn at(v: array<vec4<u32>, 2>, d: u32) -> u32 {
  return v[d / 4u][d % 4u];
}

fn broadcast_index(i: u32, strides: array<vec4<u32>, 2>) -> u32 {
  var rem = i;
  var idx = 0u;
  for (var d = i32(p.rank) - 1; d >= 0; d--) {
    let extent = at(p.out_shape, u32(d));
    idx += (rem % extent) * at(strides, u32(d));
    rem = rem / extent;
  }
  return idx;
}

// With GRID (set by the host) the output has at most 3 axes after coalescing and the grid walks them
// directly: z the outer axis, y the middle one, x the inner one (four elements per invocation), so a
// broadcast operand's index is pos · strides — no division. llvmpipe runs a u32 division by a
// runtime value lane by lane: broadcast_index cost ~60 ns per element of a [256, 128] + [128] bias add.
fn grid_index(pos: vec3<u32>, strides: array<vec4<u32>, 2>) -> u32 {
  return pos.z * at(strides, 0u) + pos.y * at(strides, 1u) + pos.x * at(strides, 2u);
}

fn element(i: u32, pos: vec3<u32>) {
  // {{LOADS}}: defines x0..x2, each as in_k_at(i) (MODE 0), in_k_at(broadcast_index(i, p.strides_k))
  // or, with GRID, in_k_at(grid_index(pos, p.strides_k)) (MODE 1), or the bit pattern in p.scalars (MODE 2).
  out[i] = op(x0, x1, x2);
}

// PER_INVOCATION elements per invocation, a span apart (consecutive lanes on consecutive
// elements): a workgroup has a fixed cost on software adapters (~0.2 µs on llvmpipe), and four
// elements per invocation ran a ReLU over 1M floats 1.6× faster there.
const PER_INVOCATION: u32 = 4u;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  if (GRID) {
    // out_shape holds [outer, middle, inner] (leading 1s for fewer axes).
    let inner = at(p.out_shape, 2u);
    let row = gid.z * at(p.out_shape, 1u) + gid.y;
    let span = (inner + PER_INVOCATION - 1u) / PER_INVOCATION;
    if (gid.x >= span) {
      return;
    }
    for (var e = 0u; e < PER_INVOCATION; e++) {
      let x = gid.x + e * span;
      if (x < inner) {
        element(row * inner + x, vec3<u32>(x, gid.y, gid.z));
      }
    }
    return;
  }
  let first = gid.x + gid.y * nwg.x * 64u;
  let span = (p.n + PER_INVOCATION - 1u) / PER_INVOCATION;
  if (first >= span) {
    return;
  }
  for (var e = 0u; e < PER_INVOCATION; e++) {
    let i = first + e * span;
    if (i < p.n) {
      element(i, vec3<u32>(0u));
    }
  }
}
