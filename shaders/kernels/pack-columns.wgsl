// Per-row metadata of the fused kernels packed side by side: out[i, j] = f32(column j at row i),
// a label column (i32: exact as f32 below 2^24) or a value column (f32), up to four of them, in
// one dispatch. Building the table with a cast per label column and a concat took four dispatches
// for FairKL's [labels, bias labels] (packages/kernels/src/fused.ts, `packColumns`).
// The host declares the columns (bindings 1..K, `array<i32>` or `array<f32>`), and defines
// `const ROWS`, `const K` and the stores of one row (the marker in main).

@group(0) @binding(0) var<uniform> unused: vec4<u32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u + (unused.x & 0u);
  if (i >= ROWS) {
    return;
  }
  // {{STORES}}: `out[i * K + j] = f32(c<j>[i]);` for each column j
}
