// Shared by the contrastive statistics kernels: online log-sum-exp accumulators and the kernel
// weights. Expects module-scope `p` with .sigma, .log_eps and .columns, and header constant KERNEL_TYPE.

const NEG: f32 = -3.0e38; // finite stand-in for log 0 (WGSL has no reliable -Inf)
// NCOL and the COL_* column indices come from STATS_WGSL_PRELUDE (packages/kernels/src/stats.ts,
// generated from STAT), which fused.ts prepends to this file.

// An online log-sum-exp accumulator is (running max, Σ e^{x - max}). One exp per value:
// e^{-|s - max|} is the new term when s ≤ max and the rescale factor when s > max.
fn lse_push(a: vec2<f32>, s: f32) -> vec2<f32> {
  let e = exp(-abs(s - a.x));
  return vec2<f32>(max(a.x, s), select(a.y + e, a.y * e + 1.0, s > a.x));
}

fn lse_merge(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
  let mx = max(a.x, b.x);
  return vec2<f32>(mx, a.y * exp(a.x - mx) + b.y * exp(b.x - mx));
}

// log Σ − m, computed as (max − m) + log Σ so large logits keep their precision.
fn lse_rel(a: vec2<f32>, m: f32) -> f32 {
  return select(NEG, (a.x - m) + log(a.y), a.y > 0.0);
}

// Column k was requested (`columns`, bit k of p.columns): a uniform, runtime switch, so one
// compiled kernel serves every loss (software adapters compile each specialisation for seconds).
fn need(k: u32) -> bool {
  return (p.columns & (1u << k)) != 0u;
}

fn kweight(dt: f32) -> f32 {
  let d2 = dt * dt;
  if (KERNEL_TYPE == 0u) { return exp(-d2 / (2.0 * p.sigma * p.sigma)) / (2.5066282746310002 * p.sigma); }
  if (KERNEL_TYPE == 1u) { return exp(-d2 / (2.0 * p.sigma * p.sigma)); }
  return 1.0 / (p.sigma * d2 + 1.0);
}

// log(e^a + e^b + c) with c = p.log_eps ≥ 0, shifted by the largest term (b may be NEG).
fn log_den(a: f32, b: f32) -> f32 {
  var shift = max(a, b);
  if (p.log_eps > 0.0) { shift = max(shift, log(p.log_eps)); }
  var s = exp(a - shift) + exp(b - shift);
  if (p.log_eps > 0.0) { s += p.log_eps * exp(-shift); }
  return shift + log(s);
}
