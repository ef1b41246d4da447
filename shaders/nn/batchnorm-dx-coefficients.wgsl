// BatchNorm's input gradient as an affine map of g and x per channel, shared by the two kernels
// that write it (batchnorm-input-grad.wgsl, a plane per invocation; batchnorm-channel-dx.wgsl, a
// channel per workgroup): dx = cg·g + cx·x + c0 with
//   cg = k,  cx = −k·invstd·m,  c0 = k·(mean·invstd·m − Σg/N),  k = w·invstd,  m = Σg·x̂ / N,
// (= w·invstd·(g − mean(g) − x̂·mean(g·x̂))), and the ReLU's pre-activation map a·x + d, from the
// forward statistics (batchnorm-stats.wgsl rows 0, 2, 3, 5) and the sums sgx = Σg·x̂, sg = Σg.
// Expects the kernel's `const p` (channels, count) and `fn stats_at`, `fn weight_at`.
struct DxCoefficients { cg: f32, cx: f32, c0: f32, a: f32, d: f32 }

fn dx_coefficients(c: u32, sgx: f32, sg: f32) -> DxCoefficients {
  let n = f32(p.count);
  let mean = stats_at(3u * p.channels + c);
  let invstd = stats_at(5u * p.channels + c);
  let k = weight_at(c) * invstd;
  let mgx = sgx / n;
  return DxCoefficients(k, -(k * invstd * mgx), k * (mean * invstd * mgx - sg / n), stats_at(c), stats_at(2u * p.channels + c));
}
