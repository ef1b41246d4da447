import { arange, clamp, tensor, tidy, where, type Tensor } from '@fairgpu/tensor';
import { l2Normalize, MOMENT, PAIR, pairMoments } from '@fairgpu/kernels';
import { resolveField, resolveShape, type LossBatch } from './batch.ts';
import { checkObject, finite, flag, implOf, nonNegative, positive, variantOf, type CommonOptions } from './options.ts';
import { endGroupedFused } from './end-groups.ts';
import { fairKLReleased } from './fairkl-released.ts';
import { reduce } from './reducer.ts';

/**
 * Debiasing regularizers that need `biasLabels` (the sensitive attribute): FairKL (Barbano et
 * al., the seed) from pooled pair moments, and EnD (Tartaglione et al., CVPR 2021).
 */

export interface FairKLOptions extends CommonOptions {
  /** Similarities s = S / T (default 1). */
  temperature?: number;
  /** released: weight of the std terms (default 1). */
  kld?: number;
  /** paper: use KL(P‖Q) + KL(Q‖P) (default false). */
  symmetric?: boolean;
  /** paper: added to every variance (default 1e-6). */
  varianceEps?: number;
}

export interface EndOptions extends CommonOptions {
  /** Weight of R⊥ (disentangle same-bias pairs; default 1). */
  alpha?: number;
  /** Weight of R∥ (entangle same-class, different-bias pairs; default 1). */
  beta?: number;
}

/** One entry of the [4, 3] pair-moment table, as a scalar tensor. */
function at(m: Tensor, row: number, col: number): Tensor {
  return m.slice([row, col], [row + 1, col + 1]).reshape([]);
}

/** x/y with y > 0 guaranteed by `ok`; 0 elsewhere, with no NaN in either branch's gradient. */
function safeDiv(x: Tensor, y: Tensor, ok: Tensor): Tensor {
  return where(ok, x.div(where(ok, y, 1)), 0);
}

/** √v with v ≥ 0; 0 (and zero gradient, not ∞·0) where v ≤ 0. */
function safeSqrt(v: Tensor): Tensor {
  const pos = v.gt(0);
  return where(pos, where(pos, v, 1).sqrt(), 0);
}

/**
 * FairKL. `paper`: over unordered pairs i < j, four pooled sets (PA same class same bias, PC same
 * class other bias, NA other class same bias, NC other class other bias), each a Gaussian
 * (mean, unbiased variance + varianceEps); R = KL(PA‖PC) + KL(NA‖NC) (symmetric: Jeffreys). A pair
 * of sets where either has < 2 members contributes 0.
 * `released`: full M×M masks incl. the diagonal; R = (μ_PC−μ_PA)² + (μ_NA−μ_NC)² +
 * kld·[(sd_PA−sd_PC)² + (sd_NA−sd_NC)²] − μ_PC + μ_NA, sd over the whole masked matrix (M²−1).
 * Memory: the fused pair moments are O(M·d); composite materialises M×M.
 * @example fairKL(x, { labels, biasLabels }, { temperature: 1 })
 */
export function fairKL(x: Tensor, batch: LossBatch, options?: FairKLOptions): Tensor {
  return tidy(() => {
    const op = 'fairkl';
    const o = checkObject(op, options);
    const shape = resolveShape(op, x, batch);
    const variant = variantOf(op, o.variant);
    const impl = implOf(op, o.impl);
    const temperature = positive(op, 'temperature', o.temperature, 1);
    const kld = finite(op, 'kld', o.kld, 1);
    const symmetric = flag(op, 'symmetric', o.symmetric, false);
    const varianceEps = nonNegative(op, 'varianceEps', o.varianceEps, 1e-6);
    const labels = resolveField(op, shape, batch.labels, 'labels', true)!;
    const bias = resolveField(op, shape, batch.biasLabels, 'biasLabels', true)!;
    const z = l2Normalize(x);
    const mom = pairMoments(z, { temperature, labels: labels.tensor, biasLabels: bias.tensor, pairs: variant === 'paper' ? 'upper' : 'all', impl });
    // One fused kernel each way (fairkl-released.ts); `impl: 'composite'` keeps the tensor ops.
    if (variant === 'released') {
      const total = shape.M * shape.M;
      const value = impl === 'composite' ? fairKLReleasedComposite(mom, total, kld) : fairKLReleased(mom, total, kld);
      return reduce({ kind: 'scalar', value });
    }
    const set = (row: number) => {
      const n = at(mom, row, MOMENT.count);
      return { n, s: at(mom, row, MOMENT.sum), s2: at(mom, row, MOMENT.sumSq) };
    };
    const [pa, pc, na, nc] = [set(PAIR.PA), set(PAIR.PC), set(PAIR.NA), set(PAIR.NC)];
    const gauss = (g: ReturnType<typeof set>) => {
      const ok = g.n.ge(2);
      const mu = safeDiv(g.s, g.n, ok);
      const v = safeDiv(g.s2.sub(g.n.mul(mu).mul(mu)), g.n.sub(1), ok)
        .maximum(0)
        .add(varianceEps);
      return { ok, mu, v };
    };
    const kl = (p: ReturnType<typeof gauss>, q: ReturnType<typeof gauss>) => p.v.add(p.mu.sub(q.mu).square()).div(q.v).sub(p.v.div(q.v).log()).sub(1).mul(0.5);
    const term = (p: ReturnType<typeof gauss>, q: ReturnType<typeof gauss>) => {
      const value = symmetric ? kl(p, q).add(kl(q, p)) : kl(p, q);
      return where(p.ok.mul(q.ok), value, 0);
    };
    const r = term(gauss(pa), gauss(pc)).add(term(gauss(na), gauss(nc)));
    return reduce({ kind: 'scalar', value: r });
  });
}

/**
 * The released FairKL value from the pair-moment table as scalar tensor ops: the definition the
 * fused op (fairkl-released.ts) is tested against. T = M² masked entries per set.
 */
export function fairKLReleasedComposite(mom: Tensor, total: number, kld: number): Tensor {
  return tidy(() => {
    const stats = (row: number) => {
      const [n, s, s2] = [at(mom, row, MOMENT.count), at(mom, row, MOMENT.sum), at(mom, row, MOMENT.sumSq)];
      const mu = safeDiv(s, n, n.gt(0));
      // Unbiased variance of the M² entries of s⊙X (non-members are zeros).
      const v = s2.sub(s.mul(s).div(total)).div(Math.max(total - 1, 1));
      return { mu, sd: where(n.gt(0), safeSqrt(v), 0) };
    };
    const [PA, PC, NA, NC] = [stats(PAIR.PA), stats(PAIR.PC), stats(PAIR.NA), stats(PAIR.NC)];
    const sq = (a: Tensor, b: Tensor) => a.sub(b).square();
    return sq(PC.mu, PA.mu)
      .add(sq(NA.mu, NC.mu))
      .add(sq(PA.sd, PC.sd).add(sq(NA.sd, NC.sd)).mul(kld))
      .sub(PC.mu)
      .add(NA.mu);
  });
}

/**
 * EnD (Tartaglione et al.): G_ij = clamp(⟨z_i, z_j⟩, −1, 1) over pairs i > j;
 * R⊥ = Σ_b |Σ_{same bias b} G_ij| / #same-bias pairs, R∥ = 1 − mean_Q (1 + G_ij)/2, loss α·R⊥ + β·R∥.
 * `paper`: Q = every same-class, different-bias pair; `released`: only those with b_i < b_j (i the
 * higher row index), the code's asymmetry. Memory: `paper` with `impl: 'fused'` and host label
 * arrays uses per-group sums (O(M·K), no M×M matrix); otherwise M×M.
 */
export function end(x: Tensor, batch: LossBatch, options?: EndOptions): Tensor {
  return tidy(() => {
    const op = 'end';
    const o = checkObject(op, options);
    const shape = resolveShape(op, x, batch);
    const variant = variantOf(op, o.variant);
    const impl = implOf(op, o.impl);
    const alpha = finite(op, 'alpha', o.alpha, 1);
    const beta = finite(op, 'beta', o.beta, 1);
    const labels = resolveField(op, shape, batch.labels, 'labels', true)!;
    const bias = resolveField(op, shape, batch.biasLabels, 'biasLabels', true)!;
    const { M } = shape;
    const z = l2Normalize(x);
    if (variant === 'paper' && impl === 'fused' && labels.host && bias.host) {
      // One fused op (end-groups.ts): two dispatches each way; endGroupedComposite is its definition.
      return reduce({ kind: 'scalar', value: endGroupedFused(z, labels.host, bias.host, alpha, beta) });
    }
    const g = clamp(z.matmul(z.transpose()), -1, 1);
    const r = arange(M, undefined, 1, { device: shape.device, dtype: 'i32' });
    const lower = r.reshape([M, 1]).gt(r.reshape([1, M])); // i > j
    const col = (t: Tensor) => t.reshape([M, 1]);
    const row = (t: Tensor) => t.reshape([1, M]);
    const sameBias = col(bias.tensor).eq(row(bias.tensor));
    const sameClass = col(labels.tensor).eq(row(labels.tensor));

    // R⊥: h_i = Σ_{j<i, b_j=b_i} G_ij; the group sum of i's bias is (sameBias·h)_i, so
    // Σ_b |g_b| = Σ_i sign(g_{b_i}) h_i — no list of distinct bias values needed.
    const pairB = lower.mul(sameBias);
    const h = g.mul(pairB).sum(1);
    const groupSum = sameBias.matmul(h.reshape([M, 1])).reshape([M]);
    const perp = groupSum.detach().sign().mul(h).sum();
    const nPerp = pairB.sum();
    const rPerp = safeDiv(perp, nPerp, nPerp.gt(0));

    let q = lower.mul(sameClass).mul(sameBias.neg().add(1));
    if (variant === 'released') q = q.mul(col(bias.tensor).lt(row(bias.tensor)));
    const nQ = q.sum();
    const meanQ = safeDiv(g.add(1).mul(0.5).mul(q).sum(), nQ, nQ.gt(0));
    const rPar = where(nQ.gt(0), meanQ.neg().add(1), 0);
    return reduce({ kind: 'scalar', value: rPerp.mul(alpha).add(rPar.mul(beta)) });
  });
}

/**
 * EnD `paper` without an M×M matrix: every sum it needs is a sum of G_ij over the pairs inside a
 * group (a bias group, a class, a (class, bias) cell), and Σ_{i>j in g} ⟨z_i, z_j⟩ =
 * (‖Σ_{i∈g} z_i‖² − Σ_{i∈g} ‖z_i‖²) / 2. Group sums are one-hot matmuls ([M, K]ᵀ·[M, d]), so memory
 * is O(M·K + K·d) for K groups. The clamp to [−1, 1] is a no-op here: normalised rows have
 * |⟨z_i, z_j⟩| ≤ 1 up to rounding, and where rounding exceeds 1 (duplicate rows) the gradient
 * through the normalisation is 0 either way. Needs host labels (the groups' ids). The definition
 * the fused op (end-groups.ts, what `end` runs) is tested against.
 */
export function endGroupedComposite(z: Tensor, labels: Float64Array, bias: Float64Array, alpha: number, beta: number): Tensor {
  const m = labels.length;
  const device = z.backend;
  const rowNorm2 = z.mul(z).sum(1, true); // [M, 1]
  /** Σ over groups of the within-group pair sums, one per group [K], and the pair counts. */
  const groupPairSums = (key: (i: number) => string) => {
    const ids = new Map<string, number>();
    const index = new Int32Array(m);
    const sizes: number[] = [];
    for (let i = 0; i < m; i++) {
      const k = key(i);
      if (!ids.has(k)) {
        ids.set(k, ids.size);
        sizes.push(0);
      }
      index[i] = ids.get(k)!;
      sizes[index[i]]++;
    }
    const k = ids.size;
    const idx = tensor(index, [m, 1], { device, dtype: 'i32' });
    const oneHot = idx.eq(arange(k, undefined, 1, { device, dtype: 'i32' }).reshape([1, k])); // [M, K]
    const zg = oneHot.transpose().matmul(z); // [K, d]
    const diag = oneHot.transpose().matmul(rowNorm2).reshape([k]);
    const sums = zg.mul(zg).sum(1).sub(diag).mul(0.5); // [K]
    const pairs = sizes.reduce((acc, n) => acc + (n * (n - 1)) / 2, 0);
    return { sums, pairs };
  };
  const byBias = groupPairSums((i) => `${bias[i]}`);
  const byClass = groupPairSums((i) => `${labels[i]}`);
  const byCell = groupPairSums((i) => `${labels[i]}|${bias[i]}`);
  const rPerp = byBias.pairs > 0 ? byBias.sums.abs().sum().div(byBias.pairs) : byBias.sums.sum().mul(0);
  const nQ = byClass.pairs - byCell.pairs;
  const rPar = nQ > 0 ? byClass.sums.sum().sub(byCell.sums.sum()).div(nQ).add(1).mul(0.5).neg().add(1) : byClass.sums.sum().mul(0);
  return rPerp.mul(alpha).add(rPar.mul(beta));
}
