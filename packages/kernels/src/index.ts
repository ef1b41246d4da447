/**
 * @fairgpu/kernels — similarity, masked log-sum-exp and fused contrastive statistics.
 *
 * Read top-down:
 *   contrastiveRowStats  stats.ts + composite.ts / fused.ts   per-anchor statistics [M, STATS_COLUMNS]
 *                                                             (the contract with @fairgpu/losses,
 *                                                             docs/contrastive-stats.md)
 *   pairMoments          pairs.ts + composite.ts / fused.ts   FairKL's pooled pair moments [4, 3]
 *   building blocks      composite.ts                         l2Normalize, cosineSimilarity,
 *                                                             maskedLogSumExp, softmaxCrossEntropy
 * Each fused op has a materialised composite twin (`impl: 'composite'`): the test reference, and
 * a choice for users when M is small.
 */
import type { Tensor } from '@fairgpu/tensor';
import { contrastiveRowStatsComposite, pairMomentsComposite } from './composite.ts';
import { contrastiveRowStatsFused, pairMomentsFused } from './fused.ts';
import { resolvePairOptions, type PairMomentsOptions } from './pairs.ts';
import { resolveStatsOptions, type ContrastiveStatsOptions } from './stats.ts';

export { STAT, STATS_COLUMNS, EMPTY_LSE } from './stats.ts';
export type { ContrastiveStatsOptions, StatName } from './stats.ts';
export { PAIR, MOMENT } from './pairs.ts';
export type { PairMomentsOptions } from './pairs.ts';
export type { Impl, KernelType } from './options.ts';
export { l2Normalize, cosineSimilarity, maskedLogSumExp, softmaxCrossEntropy } from './composite.ts';
// Numerics and validators shared with @fairgpu/losses (one implementation each).
export { kernelWeight, checkImpl, checkPositive, checkNonNegative } from './options.ts';
export { kernelWeights, logAddExp } from './composite.ts';

/**
 * Per-anchor contrastive statistics [M, STATS_COLUMNS] (columns: `STAT`), differentiable with
 * respect to `anchors` (and `options.reference`).
 * @example
 * const st = contrastiveRowStats(z, { temperature: 0.1, labels }); // fused by default
 * // SupCon reads three columns: the fused forward is then a single pass.
 * contrastiveRowStats(z, { temperature: 0.1, labels, columns: ['lseAll', 'sumPosLogit', 'countPos'] });
 */
export function contrastiveRowStats(anchors: Tensor, options: ContrastiveStatsOptions): Tensor {
  const r = resolveStatsOptions(anchors, options);
  return r.impl === 'composite' ? contrastiveRowStatsComposite(r) : contrastiveRowStatsFused(r);
}

/**
 * FairKL's pooled pair moments [4, 3]: rows `PAIR` (PA, PC, NA, NC), columns `MOMENT`
 * (count, Σ s, Σ s²) with s = ⟨z_i, z_j⟩/τ.
 */
export function pairMoments(anchors: Tensor, options: PairMomentsOptions): Tensor {
  const r = resolvePairOptions(anchors, options);
  return r.impl === 'composite' ? pairMomentsComposite(r) : pairMomentsFused(r);
}
