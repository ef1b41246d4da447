import { assertKnownOptions, InvalidArgumentError, type Tensor } from '@fairgpu/tensor';
import { checkFeatures, checkImpl, checkPositive, checkVector, type Impl } from './options.ts';

/**
 * Pooled pair moments for FairKL (and EnD's group sums): over the pairs (i, j) of the batch, with
 * s_ij = ⟨z_i, z_j⟩/τ, four groups by (same label?, same bias label?) —
 *   row PAIR.PA: same label, same bias;  PAIR.PC: same label, other bias;
 *   row PAIR.NA: other label, same bias; PAIR.NC: other label, other bias —
 * and three columns [count, Σ s, Σ s²]. Differentiable in Σ s and Σ s² (the counts are data).
 */

export const PAIR = Object.freeze({ PA: 0, PC: 1, NA: 2, NC: 3 } as const);
export const MOMENT = Object.freeze({ count: 0, sum: 1, sumSq: 2 } as const);

export interface PairMomentsOptions {
  /** τ > 0. */
  temperature: number;
  /** i32 [M] class labels. */
  labels: Tensor;
  /** i32 [M] bias (sensitive attribute) labels. */
  biasLabels: Tensor;
  /**
   * 'upper': unordered pairs i < j (the FairKL paper); 'all': every (i, j) of the M×M matrix,
   * diagonal included (the released FairKL code).
   */
  pairs: 'upper' | 'all';
  impl?: Impl;
}

export interface ResolvedPairOptions {
  impl: Impl;
  anchors: Tensor;
  temperature: number;
  labels: Tensor;
  biasLabels: Tensor;
  pairs: 'upper' | 'all';
}

export function resolvePairOptions(anchors: Tensor, options: PairMomentsOptions): ResolvedPairOptions {
  const op = 'pairMoments';
  if (!options || typeof options !== 'object') throw new InvalidArgumentError(op, 'options', 'must be an object { temperature, labels, biasLabels, pairs }');
  assertKnownOptions(op, options, ['temperature', 'labels', 'biasLabels', 'pairs', 'impl']);
  const z = checkFeatures(op, 'anchors', anchors);
  const m = z.shape[0];
  if (options.pairs !== 'upper' && options.pairs !== 'all')
    throw new InvalidArgumentError(op, 'pairs', `must be 'upper' or 'all', got ${String(options.pairs)}`);
  return {
    impl: checkImpl(op, options.impl),
    anchors: z,
    temperature: checkPositive(op, 'temperature', options.temperature),
    labels: checkVector(op, 'labels', options.labels, m, 'i32', z.backend),
    biasLabels: checkVector(op, 'biasLabels', options.biasLabels, m, 'i32', z.backend),
    pairs: options.pairs,
  };
}
