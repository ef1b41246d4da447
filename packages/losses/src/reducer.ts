import { where, type Tensor } from '@fairgpu/tensor';

/**
 * The last stage of every loss (pytorch-metric-learning's reducer), typed: a loss core returns one
 * of these results and `reduce` turns it into the scalar loss. Adding a kind without handling it
 * here does not compile.
 */
export type LossCore =
  /** Per-anchor terms [M], averaged over every anchor. */
  | { readonly kind: 'meanAll'; readonly terms: Tensor }
  /**
   * Per-anchor terms [M] averaged over the anchors with `valid` = 1 (f32 0/1, [M]); none valid
   * gives 0, not NaN. Invalid anchors' terms may hold anything finite: they are replaced by 0
   * with `where` (so even a non-finite value there cannot leak through a 0·x product).
   */
  | { readonly kind: 'meanValid'; readonly terms: Tensor; readonly valid: Tensor }
  /** Already a scalar (pooled statistics: FairKL, EnD). */
  | { readonly kind: 'scalar'; readonly value: Tensor };

export function reduce(core: LossCore): Tensor {
  switch (core.kind) {
    case 'meanAll':
      return core.terms.mean();
    case 'meanValid': {
      const kept = where(core.valid, core.terms, 0).sum();
      return kept.div(core.valid.sum().maximum(1));
    }
    case 'scalar':
      return core.value.reshape([]);
    default: {
      const unreachable: never = core;
      throw new Error(`unhandled loss core ${String((unreachable as { kind: string }).kind)}`);
    }
  }
}
