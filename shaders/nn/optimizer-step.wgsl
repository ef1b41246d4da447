// One optimizer step for one parameter, in place: p (and its state buffers) are read and written
// by the same invocation, one element each. SGD (kind 0: momentum, dampening, Nesterov, L2 decay)
// or Adam (kind 1: L2 decay, or AdamW's decoupled decay). It replaces ~7 (SGD) to ~15 (Adam)
// elementwise dispatches per parameter, whose per-dispatch cost dominates on software adapters
// for the small tensors of a network's parameters. The arithmetic follows the composite
// formulation operation by operation (packages/nn/src/optim.ts), so results match it in f32.
struct Params {
  n: u32,
  kind: u32,        // 0 SGD, 1 Adam
  flags: u32,       // bit 0: SGD momentum buffer is fresh (buf = g); bit 1: Nesterov; bit 2: decoupled decay
  has_state: u32,   // SGD: 1 with momentum
  lr: f32,
  weight_decay: f32,
  momentum: f32,     // SGD μ | Adam β1
  dampening_c: f32,  // SGD 1 − dampening | Adam 1 − β1
  beta2: f32,
  beta2_c: f32,      // 1 − β2
  inv_sqrt_c2: f32,  // 1 / √(1 − β2^t)
  eps: f32,
  step_size: f32,    // Adam lr / (1 − β1^t)
  decay_factor: f32, // AdamW 1 − lr·wd
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
// The gradient (binding 2) and `fn grad_at(i)` come from the host (f32Input,
// tensor/src/gpu/kernels/common.ts): a texture on software adapters when large, else storage.
@group(0) @binding(3) var<storage, read_write> s0: array<f32>;  // momentum buffer | exp_avg
@group(0) @binding(4) var<storage, read_write> s1: array<f32>;  // (unused by SGD) | exp_avg_sq

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= p.n) {
    return;
  }
  let w = param[i];
  var g = grad_at(i);
  let decoupled = (p.flags & 4u) != 0u;
  if (p.weight_decay != 0.0 && !decoupled) {
    g = g + w * p.weight_decay;
  }
  if (p.kind == 0u) {
    if (p.has_state == 1u) {
      var buf: f32;
      if ((p.flags & 1u) != 0u) {
        buf = g;
      } else {
        buf = s0[i] * p.momentum + g * p.dampening_c;
      }
      s0[i] = buf;
      if ((p.flags & 2u) != 0u) {
        g = g + buf * p.momentum;
      } else {
        g = buf;
      }
    }
    param[i] = w - g * p.lr;
    return;
  }
  let m = s0[i] * p.momentum + g * p.dampening_c;
  let v = s1[i] * p.beta2 + g * g * p.beta2_c;
  s0[i] = m;
  s1[i] = v;
  let denom = sqrt(v) * p.inv_sqrt_c2 + p.eps;
  var base = w;
  if (decoupled && p.weight_decay != 0.0) {
    base = w * p.decay_factor;
  }
  param[i] = base - (m / denom) * p.step_size;
}
