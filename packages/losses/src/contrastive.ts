import { concat, InvalidArgumentError, tidy, type Tensor } from '@fairgpu/tensor';
import { contrastiveRowStats, l2Normalize, logAddExp, STAT, type StatName } from '@fairgpu/kernels';
import { resolveField, resolveShape, type LossBatch } from './batch.ts';
import { column, rejectLonelyAnchors, resolveReference } from './common.ts';
import {
  checkObject,
  implOf,
  nonNegative,
  oneOf,
  temperatureOf,
  variantOf,
  type CommonOptions,
  type ReferenceOptions,
  type TemperatureOptions,
} from './options.ts';
import { rowTermsMean } from './row-terms.ts';
import { reduce, type LossCore } from './reducer.ts';

/**
 * The label-supervised contrastive losses, each assembled as
 *   statistics (contrastiveRowStats: one pass over column tiles, O(M·d) memory when fused)
 *   → per-anchor term (plain tensor code on [M] vectors) → reducer.
 * Notation (spec/losses.md): l_ij = S_ij/τ − m_i, P(i) positives, N(i) negatives, every term
 * scaled by τ / baseTemperature.
 */

export const DEFAULT_TEMPERATURE = 0.07;

export interface SupConOptions extends CommonOptions, TemperatureOptions, ReferenceOptions {}

export interface EpsSupInfoNCEOptions extends CommonOptions, TemperatureOptions, ReferenceOptions {
  /** Margin ε ≥ 0 (default 0). */
  epsilon?: number;
  /** 'out' (default): ε inside every positive's log; 'in': one log over the mean positive. */
  form?: 'out' | 'in';
  /** Constant inside the log of form 'out' (default 0 in 'paper', 1e-6 in 'released'). */
  logEps?: number;
}

export interface EpsSupConOptions extends CommonOptions, TemperatureOptions, ReferenceOptions {
  /** Margin ε ≥ 0 (default 0). */
  epsilon?: number;
  /** Constant inside the log (default 0 in 'paper', 1e-6 in 'released'). */
  logEps?: number;
}

export interface NtXentOptions extends Pick<CommonOptions, 'impl'> {
  /** τ > 0 (default 0.07). */
  temperature?: number;
}

/**
 * Shared front end: validation, normalisation, labels, reference set, statistics. `columns`: the
 * statistics the loss reads (countPos always), so the fused kernels skip the others.
 */
function supervisedStats(
  op: 'supcon' | 'eps-supinfonce' | 'eps-supcon',
  x: Tensor,
  batch: LossBatch,
  o: Record<string, unknown>,
  columns: StatName[],
  extra: { epsilon?: number; logEps?: number },
) {
  const shape = resolveShape(op, x, batch);
  const { tau, scale } = temperatureOf(op, o, DEFAULT_TEMPERATURE);
  const variant = variantOf(op, o.variant);
  const impl = implOf(op, o.impl);
  const labels = resolveField(op, shape, batch.labels, 'labels', true)!;
  const reference = resolveReference(op, shape, o as ReferenceOptions, 'labels');
  const z = l2Normalize(x);
  const stats = contrastiveRowStats(z, {
    temperature: tau,
    labels: labels.tensor,
    ...(reference ? { reference: reference.z, refLabels: reference.labels!.tensor } : {}),
    ...extra,
    columns: ['countPos', ...columns],
    impl,
  });
  // The count column and what derives from it on first use: the fused ε-SupInfoNCE reads the
  // table itself and needs none of them (three dispatches fewer).
  let count: Tensor | undefined;
  let hasPos: Tensor | undefined;
  let safeCount: Tensor | undefined;
  return {
    shape,
    scale,
    variant,
    labels,
    reference,
    stats,
    get count() {
      count ??= column(stats, STAT.countPos);
      return count;
    },
    get hasPos() {
      hasPos ??= this.count.gt(0);
      return hasPos;
    },
    get safeCount() {
      safeCount ??= this.count.maximum(1);
      return safeCount;
    },
  };
}

/**
 * SupCon (Khosla et al., L_out): −(1/|P|) Σ_p [l_ip − log Σ_{a≠i} e^{l_ia}], mean over anchors.
 * `paper` leaves anchors without positives out of the mean (none → 0); `released` is the authors'
 * code, which returns NaN there: with host labels that batch is rejected with a typed error, with
 * tensor labels such anchors contribute 0 and count in the mean (never a NaN).
 * @example supcon(x, { labels: [0, 1, 0, 1], nViews: 1 }, { temperature: 0.1 })
 */
export function supcon(x: Tensor, batch: LossBatch, options?: SupConOptions): Tensor {
  return tidy(() => {
    const op = 'supcon';
    const o = checkObject(op, options);
    const s = supervisedStats(op, x, batch, o, ['sumPosLogit', 'lseAll'], {});
    if (s.variant === 'released') rejectLonelyAnchors(op, s.labels, s.reference, 'NaN');
    const sumPos = column(s.stats, STAT.sumPosLogit);
    const lse = column(s.stats, STAT.lseAll);
    const terms = sumPos.sub(s.count.mul(lse)).div(s.safeCount).mul(-s.scale);
    const core: LossCore = s.variant === 'paper' ? { kind: 'meanValid', terms, valid: s.hasPos } : { kind: 'meanAll', terms };
    return reduce(core);
  });
}

/**
 * ε-SupInfoNCE (Barbano et al.). Form 'out' (default):
 *   −(1/|P|) Σ_p [l_ip − log(e^{−ε} e^{l_ip} + Σ_n e^{l_in} + logEps)];
 * form 'in': −[log Σ_p e^{l_ip} − log((e^{−ε}/|P|) Σ_p e^{l_ip} + Σ_n e^{l_in})].
 * `released`: logEps defaults to 1e-6 (form 'out'), anchors without positives contribute 0 but
 * count in the mean (form 'out'), or make the code return +inf (form 'in': rejected with host labels).
 */
export function epsSupInfoNCE(x: Tensor, batch: LossBatch, options?: EpsSupInfoNCEOptions): Tensor {
  return tidy(() => {
    const op = 'eps-supinfonce';
    const o = checkObject(op, options);
    const variant = variantOf(op, o.variant);
    const form = oneOf(op, 'form', o.form, ['out', 'in'] as const, 'out');
    const epsilon = nonNegative(op, 'epsilon', o.epsilon, 0);
    if (form === 'in' && o.logEps !== undefined) nonNegative(op, 'logEps', o.logEps, 0);
    const logEps = form === 'out' ? nonNegative(op, 'logEps', o.logEps, variant === 'released' ? 1e-6 : 0) : 0;
    const s =
      form === 'out'
        ? supervisedStats(op, x, batch, o, ['sumPosLogit', 'epsOut'], { epsilon, logEps })
        : supervisedStats(op, x, batch, o, ['lsePos', 'lseNeg'], {});
    let terms: Tensor;
    const meanValid = variant === 'paper' || form === 'in';
    if (form === 'out' && implOf(op, o.impl) !== 'composite') {
      // One fused kernel each way (row-terms.ts) for the mean of the terms below.
      return rowTermsMean(s.stats, { a: STAT.sumPosLogit, b: STAT.epsOut, n: STAT.countPos, scale: s.scale, valid: meanValid });
    }
    if (form === 'out') {
      const sumPos = column(s.stats, STAT.sumPosLogit);
      const epsOut = column(s.stats, STAT.epsOut);
      terms = sumPos.sub(epsOut).div(s.safeCount).mul(-s.scale);
    } else {
      if (variant === 'released') rejectLonelyAnchors(op, s.labels, s.reference, '+inf');
      const lsePos = column(s.stats, STAT.lsePos);
      const lseNeg = column(s.stats, STAT.lseNeg);
      // log((e^{−ε}/|P|)·e^{lsePos} + e^{lseNeg}); lseNeg is the finite sentinel when N(i) is empty.
      const denom = logAddExp([lsePos.sub(s.safeCount.log()).sub(epsilon), lseNeg]);
      terms = lsePos.sub(denom).mul(-s.scale);
    }
    const core: LossCore = meanValid ? { kind: 'meanValid', terms, valid: s.hasPos } : { kind: 'meanAll', terms };
    return reduce(core);
  });
}

/**
 * ε-SupCon (eq. 18 of Barbano et al.): −(1/|P|) Σ_p [l_ip − log(e^{−ε} Σ_{t∈P} e^{l_it} + Σ_n e^{l_in} + logEps)].
 * `released`: logEps defaults to 1e-6, anchors without positives contribute 0 and count in the mean.
 */
export function epsSupCon(x: Tensor, batch: LossBatch, options?: EpsSupConOptions): Tensor {
  return tidy(() => {
    const op = 'eps-supcon';
    const o = checkObject(op, options);
    const variant = variantOf(op, o.variant);
    const epsilon = nonNegative(op, 'epsilon', o.epsilon, 0);
    const logEps = nonNegative(op, 'logEps', o.logEps, variant === 'released' ? 1e-6 : 0);
    const s = supervisedStats(op, x, batch, o, ['sumPosLogit', 'lsePos', 'lseNeg'], {});
    const sumPos = column(s.stats, STAT.sumPosLogit);
    const lsePos = column(s.stats, STAT.lsePos);
    const lseNeg = column(s.stats, STAT.lseNeg);
    const denom = logAddExp([lsePos.sub(epsilon), lseNeg], [logEps]);
    // Σ_p [l_ip − denom] = sumPos − |P|·denom (the denominator does not depend on p).
    const terms = sumPos.sub(s.count.mul(denom)).div(s.safeCount).mul(-s.scale);
    const core: LossCore = variant === 'paper' ? { kind: 'meanValid', terms, valid: s.hasPos } : { kind: 'meanAll', terms };
    return reduce(core);
  });
}

/**
 * NT-Xent (SimCLR's InfoNCE), two views: log Σ_{k≠i} e^{S_ik/τ} − S_{i,partner}/τ with partner
 * (i + B) mod 2B, mean over the 2B rows. No labels, no scale factor; paper = released.
 */
export function ntXent(x: Tensor, batch: LossBatch, options?: NtXentOptions): Tensor {
  return tidy(() => {
    const op = 'nt-xent';
    const o = checkObject(op, options);
    const shape = resolveShape(op, x, batch, 2);
    if (shape.V !== 2) throw new InvalidArgumentError(op, 'nViews', `must be 2 (SimCLR pairs two views), got ${shape.V}`);
    variantOf(op, o.variant);
    const tau = temperatureOf(op, o, DEFAULT_TEMPERATURE).tau;
    const impl = implOf(op, o.impl);
    const z = l2Normalize(x);
    const stats = contrastiveRowStats(z, { temperature: tau, columns: ['lseAll'], impl });
    const { B, M, d } = shape;
    // The partner of row i is row (i + B) mod 2B: the other half, swapped.
    const swapped = concat([z.slice([B, 0], [M, d]), z.slice([0, 0], [B, d])], 0);
    const partnerLogit = z.mul(swapped).sum(1).div(tau);
    const terms = column(stats, STAT.lseAll).add(column(stats, STAT.rowMax)).sub(partnerLogit);
    return reduce({ kind: 'meanAll', terms });
  });
}
