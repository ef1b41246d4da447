import * as raw from './composites.ts';
import { tidy } from './scope.ts';
import type { Tensor } from './tensor.ts';

/**
 * The composites as the public API and the Tensor methods expose them: each call runs in its own
 * `tidy`, so the intermediates it creates (the sum inside `mean`, the max inside `logsumexp`, …)
 * are disposed when it returns, even when no scope is open. Without this, such a hidden handle
 * kept its graph node — and through it every node and saved value upstream — alive after the
 * user disposed every tensor they held (docs/architecture.md, memory rule 3). Composites calling
 * each other inside `composites.ts` use the raw functions: they already run inside one tidy.
 */
function owned<F extends (...args: never[]) => Tensor>(pick: () => F): F {
  // `pick` reads the raw function at call time: composites.ts may not be evaluated yet when this
  // module is (tensor.ts ↔ ops ↔ dispatch form an import cycle).
  return ((...args: Parameters<F>) => tidy(() => pick()(...args))) as F;
}

export type { VarianceOptions } from './composites.ts';
export const square = owned(() => raw.square);
export const min = owned(() => raw.min);
export const mean = owned(() => raw.mean);
export const variance = owned(() => raw.variance);
export const logsumexp = owned(() => raw.logsumexp);
export const logSoftmax = owned(() => raw.logSoftmax);
export const softmax = owned(() => raw.softmax);
export const normalize = owned(() => raw.normalize);
export const clamp = owned(() => raw.clamp);
export const transpose = owned(() => raw.transpose);
export const flatten = owned(() => raw.flatten);
export const crossEntropy = owned(() => raw.crossEntropy);
