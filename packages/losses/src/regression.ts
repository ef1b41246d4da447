import { arange, InvalidArgumentError, tensor, tidy, where, type Tensor } from '@fairgpu/tensor';
import { contrastiveRowStats, EMPTY_LSE, kernelWeight, kernelWeights, l2Normalize, logAddExp, STAT, type KernelType } from '@fairgpu/kernels';
import { resolveField, resolveShape, type LossBatch, type ResolvedBatch } from './batch.ts';
import { column, resolveReference } from './common.ts';
import { DEFAULT_TEMPERATURE } from './contrastive.ts';
import { checkObject, implOf, oneOf, positive, temperatureOf, variantOf, type CommonOptions, type TemperatureOptions } from './options.ts';
import { reduce } from './reducer.ts';

/**
 * Kernel contrastive regression (Barbano et al., brain age): positives are weighted by a kernel
 * of the target distance, w_ij = K(t_i − t_j); the anchor term is
 *   −Σ_{k≠i} w_ik (l_ik − U_i) / Σ_{k≠i} w_ik,
 * with U_i the y-aware, L^exp or L^thr denominator. y-aware and L^exp come from the fused row
 * statistics; L^thr orders each row of w on the host (O(M²) after one sort) and runs a log-space prefix
 * sum over the sorted columns on the device (never an M×M×M tensor).
 */

/** The kernels of @fairgpu/kernels (w(Δ): `kernelWeight` on the host, `kernelWeights` on the device). */
export type KernelName = KernelType;

export interface KernelOptions extends CommonOptions, TemperatureOptions {
  /** Default 'gaussian'. */
  kernel?: KernelName;
  /** Kernel width σ > 0 (default 1). */
  sigma?: number;
}

/** y-aware and L^exp also take a reference set (e.g. a memory queue) with its targets. */
export interface KernelRegressionOptions extends KernelOptions {
  /** Raw reference features [N, d] (normalised like x); no pair is excluded against them. */
  refEmbeddings?: Tensor;
  /** Targets of the reference rows (length N); required with refEmbeddings. */
  refTargets?: ArrayLike<number> | Tensor;
}

export interface LThrOptions extends KernelOptions {
  /** released only: c_ji counts (`'sum'`, default) or counts / M (`'mean'`). */
  deltaReduction?: 'sum' | 'mean';
}

const KERNELS = ['gaussian', 'rbf', 'cauchy'] as const;

function front(op: 'y-aware' | 'l-exp' | 'l-thr', x: Tensor, batch: LossBatch, options: unknown) {
  const o = checkObject(op, options);
  const shape = resolveShape(op, x, batch);
  const { tau, scale } = temperatureOf(op, o, DEFAULT_TEMPERATURE);
  const variant = variantOf(op, o.variant);
  const impl = implOf(op, o.impl);
  const kernel = oneOf(op, 'kernel', o.kernel, KERNELS, 'gaussian');
  const sigma = positive(op, 'sigma', o.sigma, 1);
  const targets = resolveField(op, shape, batch.targets, 'targets', true)!;
  return { o, shape, tau, scale, variant, impl, kernel, sigma, targets };
}

/** −Σ w (l − U)/Σ w = −(Σ w·l − Σ w·U)/Σ w per anchor; an anchor whose weights all vanish gives 0. */
function weightedTerms(sumW: Tensor, sumWLogit: Tensor, u: Tensor, scale: number): Tensor {
  const has = sumW.gt(0);
  const safe = where(has, sumW, 1);
  return where(has, sumWLogit.sub(sumW.mul(u)).div(safe), 0).mul(-scale);
}

function statsLoss(op: 'y-aware' | 'l-exp', method: 'y-aware' | 'exp', x: Tensor, batch: LossBatch, options: unknown): Tensor {
  return tidy(() => {
    const f = front(op, x, batch, options);
    const reference = resolveReference(op, f.shape, f.o as KernelRegressionOptions, 'targets');
    const z = l2Normalize(x);
    const stats = contrastiveRowStats(z, {
      temperature: f.tau,
      targets: f.targets.tensor,
      ...(reference ? { reference: reference.z, refTargets: reference.targets!.tensor } : {}),
      kernel: { type: f.kernel, sigma: f.sigma },
      expVariant: f.variant,
      columns: ['sumW', 'sumWLogit', method === 'y-aware' ? 'lseAll' : 'lseExpW'],
      impl: f.impl,
    });
    const u = column(stats, method === 'y-aware' ? STAT.lseAll : STAT.lseExpW);
    return reduce({ kind: 'meanAll', terms: weightedTerms(column(stats, STAT.sumW), column(stats, STAT.sumWLogit), u, f.scale) });
  });
}

/**
 * y-aware InfoNCE (Dufumier et al.): U_i = log Σ_{j≠i} e^{l_ij}. Both variants agree.
 * @example yAware(x, { targets: ages }, { kernel: 'rbf', sigma: 5, temperature: 0.1 })
 */
export function yAware(x: Tensor, batch: LossBatch, options?: KernelRegressionOptions): Tensor {
  return statsLoss('y-aware', 'y-aware', x, batch, options);
}

/**
 * L^exp: `paper` U_i = log Σ_{j≠i} e^{S_ij(1−w_ij)/τ} − m_i; `released` U_i = log Σ_{j≠i} e^{l_ij(1−w_ij)}
 * (the code multiplies the shifted logits, so the shift is scaled by 1 − w too).
 */
export function lExp(x: Tensor, batch: LossBatch, options?: KernelRegressionOptions): Tensor {
  return statsLoss('l-exp', 'exp', x, batch, options);
}

/**
 * For each row i of w (float64, host): `order[i]` lists the columns by ascending w_ij, and
 * `below[i][k]` = #{r : w_ir < w_ik} (strict: ties are not below). Every kernel is a
 * non-increasing function of |t_i − t_j|, so ascending w is descending distance: one global sort
 * of the targets, then per row a two-pointer merge from both ends towards t_i — O(M log M + M²)
 * time, two M×M i32 index tensors, never M×M×M. Ties are decided on the w values themselves.
 */
function rowOrder(t: Float64Array, kernel: KernelName, sigma: number): { order: Int32Array; below: Int32Array } {
  const m = t.length;
  const order = new Int32Array(m * m);
  const below = new Int32Array(m * m);
  const sorted = Array.from({ length: m }, (_, j) => j).sort((a, b) => t[a] - t[b] || a - b);
  for (let i = 0; i < m; i++) {
    const ti = t[i];
    let lo = 0;
    let hi = m - 1;
    let start = 0;
    let prev = NaN;
    for (let p = 0; p < m; p++) {
      const j = ti - t[sorted[lo]] >= t[sorted[hi]] - ti ? sorted[lo++] : sorted[hi--];
      const wij = kernelWeight(kernel, sigma, ti - t[j]);
      if (p > 0 && wij > prev) start = p; // (a rounding dip below prev joins the current tie group)
      prev = wij;
      order[i * m + p] = j;
      below[i * m + j] = start;
    }
  }
  return { order, below };
}

/**
 * L^thr (Barbano et al., ISBI 2023). `paper` (each positive k repels only the samples farther in
 * label space than itself): the term for (i, k) is l_ik − log(e^{l_ik} + Σ_{j≠i, w_ij<w_ik} e^{l_ij}),
 * weighted by w_ik. `released`: U_i = log Σ_{j≠i} e^{l_ij}·c_ji with c_ji = #{r : w_ji > w_jr}
 * (divided by M with deltaReduction 'mean'), one denominator for all positives of i.
 * Needs the targets as an array (the rows of w are sorted on the host). M×M memory in both
 * implementations (`impl` is accepted for a uniform API; there is no separate fused kernel).
 */
export function lThr(x: Tensor, batch: LossBatch, options?: LThrOptions): Tensor {
  return tidy(() => {
    const op = 'l-thr';
    // Before the unknown-key check: a reference set gets its own explanation.
    for (const name of ['refEmbeddings', 'refTargets', 'refLabels'] as const) {
      if (options && typeof options === 'object' && (options as Record<string, unknown>)[name] !== undefined) {
        throw new InvalidArgumentError(op, name, 'is not supported by l-thr (its denominators need the sorted rows of the full M×M weights)');
      }
    }
    const f = front(op, x, batch, options);
    const deltaReduction = oneOf(op, 'deltaReduction', f.o.deltaReduction, ['sum', 'mean'] as const, 'sum');
    const host = f.targets.host;
    if (!host) throw new InvalidArgumentError(op, 'targets', 'must be an array for l-thr (each row of the kernel weights is sorted on the host)');
    const { M } = f.shape;
    const device = f.shape.device;
    const { order, below } = rowOrder(host, f.kernel, f.sigma);

    const z = l2Normalize(x);
    const logits = z.matmul(z.transpose()).div(f.tau);
    const l = logits.sub(logits.max(1, true).detach());
    const offDiag = offDiagonal(M, device);
    const lOff = where(offDiag, l, EMPTY_LSE);
    const w = kernelWeights(f.targets.tensor, f.targets.tensor, f.kernel, f.sigma); // [M, M]
    const wOff = where(offDiag, w, 0);
    const sumW = wOff.sum(1);
    const belowT = tensor(below, [M, M], { device, dtype: 'i32' });

    let terms: Tensor;
    if (f.variant === 'released') {
      // c_ji = below[j][i]; the denominator of row i uses column i of `below`, i.e. belowᵀ.
      let c = belowT.cast('f32').transpose();
      if (deltaReduction === 'mean') c = c.div(M);
      const logC = where(c.gt(0), c.maximum(1e-30).log(), EMPTY_LSE);
      const u = where(c.gt(0), lOff.add(logC), EMPTY_LSE).logsumexp(1);
      terms = weightedTerms(sumW, wOff.mul(l).sum(1), u, f.scale);
    } else {
      // Inclusive log-space prefix sums over each row's columns sorted by ascending w
      // (Hillis–Steele: log2 M steps of a shift and a log-add-exp).
      const orderT = tensor(order, [M, M], { device, dtype: 'i32' });
      let cum = lOff.gather(1, orderT);
      for (let s = 1; s < M; s *= 2) {
        const shifted = cum.slice([0, 0], [M, M - s]).pad(
          [
            [0, 0],
            [s, 0],
          ],
          EMPTY_LSE,
        );
        cum = logAddExp([cum, shifted]);
      }
      // Σ over the columns strictly below w_ik: the prefix ending just before k's tie group.
      const logBelow = cum
        .pad(
          [
            [0, 0],
            [1, 0],
          ],
          EMPTY_LSE,
        )
        .gather(1, belowT);
      const t = where(offDiag, l.sub(logAddExp([l, logBelow])), 0);
      const sumWT = wOff.mul(t).sum(1);
      const has = sumW.gt(0);
      terms = where(has, sumWT.div(where(has, sumW, 1)), 0).mul(-f.scale);
    }
    return reduce({ kind: 'meanAll', terms });
  });
}

/** f32 0/1 [M, M], 1 off the diagonal, built on the device from two aranges. */
export function offDiagonal(m: number, device: ResolvedBatch['device']): Tensor {
  const r = arange(m, undefined, 1, { device, dtype: 'i32' });
  return r.reshape([m, 1]).ne(r.reshape([1, m]));
}
