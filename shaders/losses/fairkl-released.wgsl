// FairKL's released regularizer from the pair-moment table of @fairgpu/kernels' pairMoments
// (rows PA, PC, NA, NC: same/other class × same/other bias; columns count n, sum s, sum of
// squares s2), forward and backward, each in one invocation:
//   μ = s/n (0 when n = 0),  v = (s2 − s²/T) / D,  sd = √v (0 when n = 0 or v ≤ 0),
//   R = (μ_PC − μ_PA)² + (μ_NA − μ_NC)² + kld·[(sd_PA − sd_PC)² + (sd_NA − sd_NC)²] − μ_PC + μ_NA
// with T = M² masked entries and D = max(T − 1, 1) (packages/losses/src/debias.ts). The composite
// of ~50 scalar tensor ops it replaces cost ~50 dispatches forward and ~100 backward.
//
// GRAD (set by the host): dR/d(table) · g instead, the table's shape, 0 in columns past s2.

struct Params {
  total: f32,   // T
  denom: f32,   // D
  kld: f32,
  cols: u32,    // columns of the table
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> mom: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
// {{GRAD_BINDING}}: `const GRAD: bool` and, with GRAD, the upstream gradient g at binding 3.

struct SetStats {
  n: f32,
  s: f32,
  mu: f32,
  v: f32,
  sd: f32,
}

fn set_stats(row: u32) -> SetStats {
  let n = mom[row * p.cols];
  let s = mom[row * p.cols + 1u];
  let s2 = mom[row * p.cols + 2u];
  var mu = 0.0;
  if (n > 0.0) {
    mu = s / n;
  }
  let v = (s2 - s * s / p.total) / p.denom;
  var sd = 0.0;
  if (n > 0.0 && v > 0.0) {
    sd = sqrt(v);
  }
  return SetStats(n, s, mu, v, sd);
}

fn sq(x: f32) -> f32 {
  return x * x;
}

// The gradient of one row given dR/dμ and dR/dsd of its set.
fn write_row_grad(row: u32, st: SetStats, dmu: f32, dsd: f32, g: f32) {
  var dn = 0.0;
  var ds = 0.0;
  if (st.n > 0.0) {
    dn = -dmu * st.s / (st.n * st.n);
    ds = dmu / st.n;
  }
  var dv = 0.0;
  if (st.n > 0.0 && st.v > 0.0) {
    dv = dsd * 0.5 / st.sd;
  }
  ds += dv * (-2.0 * st.s / (p.total * p.denom));
  out[row * p.cols] = g * dn;
  out[row * p.cols + 1u] = g * ds;
  out[row * p.cols + 2u] = g * dv / p.denom;
  for (var c = 3u; c < p.cols; c++) {
    out[row * p.cols + c] = 0.0;
  }
}

@compute @workgroup_size(1)
fn main() {
  let pa = set_stats(0u);
  let pc = set_stats(1u);
  let na = set_stats(2u);
  let nc = set_stats(3u);
  if (!GRAD) {
    out[0] = sq(pc.mu - pa.mu) + sq(na.mu - nc.mu) + p.kld * (sq(pa.sd - pc.sd) + sq(na.sd - nc.sd)) - pc.mu + na.mu;
    return;
  }
  let g = upstream[0];
  let dp = 2.0 * (pc.mu - pa.mu);
  let dn = 2.0 * (na.mu - nc.mu);
  let dsp = 2.0 * p.kld * (pa.sd - pc.sd);
  let dsn = 2.0 * p.kld * (na.sd - nc.sd);
  write_row_grad(0u, pa, -dp, dsp, g);
  write_row_grad(1u, pc, dp - 1.0, -dsp, g);
  write_row_grad(2u, na, dn + 1.0, dsn, g);
  write_row_grad(3u, nc, -dn, -dsn, g);
}
