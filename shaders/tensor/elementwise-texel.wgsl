// Elementwise map over whole texels, for software adapters: out4[t] = EXPR(x0, x1, x2) on each of
// the four floats of texel t, where every tensor operand has the output's shape (no broadcasting)
// and the element count is a multiple of 4.
//
// Why a second kernel: on llvmpipe a textureLoad costs about as much as four floats of any other
// path and a vec4 store half as much per float as an f32 store (tools/bench/memory-paths.ts). The
// general kernel (elementwise.wgsl) fetches a whole texel to use one float of it; this one uses all
// four and stores them as one vec4.
//
// Specialised by the host (packages/tensor/src/gpu/kernels/elementwise.ts) like elementwise.wgsl:
// it prepends the aliases T0..T2, TO and `fn op(...) -> TO`, and fills the BINDINGS and LOADS markers.

struct Params {
  texels: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
  scalars: vec4<u32>,            // bit patterns of scalar operands
}

@group(0) @binding(0) var<uniform> p: Params;
// {{BINDINGS}}: `in0..in2` (bindings 1–3) with `fn in<k>_texel(t) -> vec4<T<k>>`, then `out` (binding 4, array<vec4<TO>>).

fn texel(t: u32) {
  // {{LOADS}}: defines v0..v2 (vec4 of the operand's type): in_k_texel(t), or a scalar splat.
  out[t] = vec4<TO>(op(v0.x, v1.x, v2.x), op(v0.y, v1.y, v2.y), op(v0.z, v1.z, v2.z), op(v0.w, v1.w, v2.w));
}

// TEXELS_PER_INVOCATION texels per invocation, a span apart (consecutive lanes on consecutive
// texels): a workgroup has a fixed cost on software adapters (~0.2 µs on llvmpipe).
const TEXELS_PER_INVOCATION: u32 = 4u;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let first = gid.x + gid.y * nwg.x * 64u;
  let span = (p.texels + TEXELS_PER_INVOCATION - 1u) / TEXELS_PER_INVOCATION;
  if (first >= span) {
    return;
  }
  for (var e = 0u; e < TEXELS_PER_INVOCATION; e++) {
    let t = first + e * span;
    if (t < p.texels) {
      texel(t);
    }
  }
}
