// Weight gradient of the direct convolution: gw[o, c, ky, kx] = Σ_{b,oy,ox} g[b, o, oy, ox] · x[b, c, iy, ix].
// The B·Ho·Wo reduction is split into p.batch-independent chunks: invocation (w, chunk) writes a
// partial sum to partial[chunk, w]; the host sums the chunks with a second reduction.
// Here p.total = (#weights) · chunks and p._pad0 holds the chunk count.
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = flat_index(gid, nwg);
  if (t >= p.total) {
    return;
  }
  let kk = p.kh * p.kw;
  let nw = p.co * p.c * kk;
  let chunks = p._pad0;
  let widx = t % nw;
  let chunk = t / nw;
  let kx = widx % p.kw;
  let ky = (widx / p.kw) % p.kh;
  let c = (widx / kk) % p.c;
  let o = widx / (p.c * kk);
  let hw = p.ho * p.wo;
  let n = p.batch * hw;
  let per = (n + chunks - 1u) / chunks;
  let start = chunk * per;
  let end = min(start + per, n);
  var acc = 0.0;
  for (var s = start; s < end; s++) {
    let b = s / hw;
    let q = s % hw;
    let iy = i32((q / p.wo) * p.sh + ky) - i32(p.ph);
    let ix = i32((q % p.wo) * p.sw + kx) - i32(p.pw);
    if (iy < 0 || iy >= i32(p.h) || ix < 0 || ix >= i32(p.w)) {
      continue;
    }
    acc += g[(b * p.co + o) * hw + q] * x[((b * p.c + c) * p.h + u32(iy)) * p.w + u32(ix)];
  }
  partial[chunk * nw + widx] = acc;
}
