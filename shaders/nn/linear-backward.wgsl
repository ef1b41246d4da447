// The three gradients of a small linear layer (linear.wgsl) in one dispatch, from g [N, out]:
//   dx [N, in] = g·W,  dweight [out, in] = gᵀ·x,  dbias [out] = Σ_n g,
// one invocation per output element, numbered dx first, then dweight, then dbias. The general path
// takes three dispatches (two matmuls and a reduction over the batch). The host prepends g, x and
// weight (bindings 1–3, `fn <name>_at`) and specialises `const p = Params(...)`.
struct Params {
  rows: u32,
  inputs: u32,
  outputs: u32,
}

@group(0) @binding(0) var<uniform> uniforms: Params;
// {{CONSTANTS}}
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;
@group(0) @binding(5) var<storage, read_write> dweight: array<f32>;
@group(0) @binding(6) var<storage, read_write> dbias: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * 64u + (uniforms.rows & 0u);
  let nx = p.rows * p.inputs;
  let nw = p.outputs * p.inputs;
  if (t < nx) {
    let i = t % p.inputs;
    let n = t / p.inputs;
    var acc = 0.0;
    for (var o = 0u; o < p.outputs; o++) {
      acc = fma(g_at(n * p.outputs + o), weight_at(o * p.inputs + i), acc);
    }
    dx[t] = acc;
  } else if (t < nx + nw) {
    let u = t - nx;
    let i = u % p.inputs;
    let o = u / p.inputs;
    var acc = 0.0;
    for (var n = 0u; n < p.rows; n++) {
      acc = fma(g_at(n * p.outputs + o), x_at(n * p.inputs + i), acc);
    }
    dweight[u] = acc;
  } else if (t < nx + nw + p.outputs) {
    let o = t - nx - nw;
    var acc = 0.0;
    for (var n = 0u; n < p.rows; n++) {
      acc += g_at(n * p.outputs + o);
    }
    dbias[o] = acc;
  }
}
