// One optimizer step for a group of up to SLOTS parameters in one dispatch, in place: each
// parameter (and its state buffers) is read and written by the same invocation, one element each.
// SGD (kind 0: momentum, dampening, Nesterov, L2 decay) or Adam (kind 1: L2 decay, or AdamW's
// decoupled decay). It replaces ~7 (SGD) to ~15 (Adam) elementwise dispatches per parameter, and
// grouping replaces a dispatch per parameter: most of a network's parameters are a few floats
// (biases, BatchNorm's affine), where each dispatch's fixed cost dominates on software adapters.
// The arithmetic follows the composite formulation operation by operation (packages/nn/src/
// optim.ts), so results match it in f32.
//
// The host (packages/nn/src/ops/optimizer-step.ts) instantiates the block between the SLOT
// markers once per parameter of the group, with `_S` replaced by the slot number, prepends each
// slot's gradient input (`fn grad_<k>_at(i)`, binding 4k + 2) and fills the DISPATCH marker in
// main with the calls that route a global index to its slot (`p.ends` holds each slot's end).
struct Params {
  ends: array<vec4<u32>, 2>,  // cumulative element counts of slots 0..7
  kind: u32,        // 0 SGD, 1 Adam
  flags: u32,       // bit 0: SGD momentum buffer is fresh (buf = g); bit 1: Nesterov; bit 2: decoupled decay
  has_state: u32,   // SGD: 1 with momentum
  _pad0: u32,
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

fn slot_end(k: u32) -> u32 {
  return p.ends[k / 4u][k % 4u];
}

// The update of element i, given its weight, gradient and state; returns (w', s0', s1').
fn update(w: f32, grad: f32, s0: f32, s1: f32) -> vec3<f32> {
  var g = grad;
  let decoupled = (p.flags & 4u) != 0u;
  if (p.weight_decay != 0.0 && !decoupled) {
    g = g + w * p.weight_decay;
  }
  if (p.kind == 0u) {
    var buf = s0;
    if (p.has_state == 1u) {
      if ((p.flags & 1u) != 0u) {
        buf = g;
      } else {
        buf = s0 * p.momentum + g * p.dampening_c;
      }
      if ((p.flags & 2u) != 0u) {
        g = g + buf * p.momentum;
      } else {
        g = buf;
      }
    }
    return vec3<f32>(w - g * p.lr, buf, s1);
  }
  let m = s0 * p.momentum + g * p.dampening_c;
  let v = s1 * p.beta2 + g * g * p.beta2_c;
  let denom = sqrt(v) * p.inv_sqrt_c2 + p.eps;
  var base = w;
  if (decoupled && p.weight_decay != 0.0) {
    base = w * p.decay_factor;
  }
  return vec3<f32>(base - (m / denom) * p.step_size, m, v);
}

// SLOT begin
@group(0) @binding(4 * _S + 1) var<storage, read_write> param_S: array<f32>;
@group(0) @binding(4 * _S + 3) var<storage, read_write> state0_S: array<f32>;  // momentum buffer | exp_avg
@group(0) @binding(4 * _S + 4) var<storage, read_write> state1_S: array<f32>;  // (unused by SGD) | exp_avg_sq

fn step_S(i: u32) {
  // State is read only where the update has it (SGD without momentum binds 4-byte scratch buffers).
  var s0 = 0.0;
  var s1 = 0.0;
  if (p.kind == 1u || p.has_state == 1u) {
    s0 = state0_S[i];
  }
  if (p.kind == 1u) {
    s1 = state1_S[i];
  }
  let r = update(param_S[i], grad_S_at(i), s0, s1);
  param_S[i] = r.x;
  if (p.kind == 1u || p.has_state == 1u) {
    state0_S[i] = r.y;
  }
  if (p.kind == 1u) {
    state1_S[i] = r.z;
  }
}
// SLOT end

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  // {{DISPATCH}}: `if (i < slot_end(0u)) { step_0(i); } else if (i < slot_end(1u)) { step_1(i - slot_end(0u)); } …`
}
