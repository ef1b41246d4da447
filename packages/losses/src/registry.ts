import type { Tensor } from '@fairgpu/tensor';
import type { LossBatch } from './batch.ts';
import { epsSupCon, epsSupInfoNCE, ntXent, supcon } from './contrastive.ts';
import { crossEntropy } from './crossEntropy.ts';
import { end, fairKL } from './debias.ts';
import { lExp, lThr, yAware } from './regression.ts';

/** Every loss has this shape: features [M, d], the batch, options → a scalar tensor. */
export type LossFn = (x: Tensor, batch: LossBatch, options?: Record<string, unknown>) => Tensor;

export type LossName = 'supcon' | 'nt-xent' | 'eps-supinfonce' | 'eps-supcon' | 'fairkl' | 'end' | 'y-aware' | 'l-exp' | 'l-thr' | 'cross-entropy';

/** The losses by their spec names (spec/losses.md). Frozen: register your own in a copy. */
export const lossRegistry: Readonly<Record<LossName, LossFn>> = Object.freeze({
  supcon: supcon as LossFn,
  'nt-xent': ntXent as LossFn,
  'eps-supinfonce': epsSupInfoNCE as LossFn,
  'eps-supcon': epsSupCon as LossFn,
  fairkl: fairKL as LossFn,
  end: end as LossFn,
  'y-aware': yAware as LossFn,
  'l-exp': lExp as LossFn,
  'l-thr': lThr as LossFn,
  'cross-entropy': crossEntropy as LossFn,
});
