// Shared by the contrastive statistics kernels: online log-sum-exp accumulators and the kernel
// weights. Expects module-scope `p` with .sigma, .log_eps and .columns, and header constant KERNEL_TYPE.

const NEG: f32 = -3.0e38; // finite stand-in for log 0 (WGSL has no reliable -Inf)
// NCOL (the row stride of the statistics buffers, hidden log R for epsOut's backward last) and the
// COL_* column indices: a copy of STATS_WGSL_PRELUDE (packages/kernels/src/stats.ts), checked by
// packages/kernels/test/stats-prelude.test.ts. Once fused.ts prepends the prelude itself, delete it here.
// BEGIN STATS_WGSL_PRELUDE
// Statistics columns: generated from STAT and HIDDEN (packages/kernels/src/stats.ts). Do not edit.
const NCOL: u32 = 11u;
const COL_ROW_MAX: u32 = 0u;
const COL_LSE_ALL: u32 = 1u;
const COL_LSE_POS: u32 = 2u;
const COL_LSE_NEG: u32 = 3u;
const COL_SUM_POS_LOGIT: u32 = 4u;
const COL_COUNT_POS: u32 = 5u;
const COL_EPS_OUT: u32 = 6u;
const COL_SUM_W: u32 = 7u;
const COL_SUM_W_LOGIT: u32 = 8u;
const COL_LSE_EXP_W: u32 = 9u;
const COL_LOG_R: u32 = 10u;
// END STATS_WGSL_PRELUDE

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
