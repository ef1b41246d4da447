/**
 * @fairgpu/losses — every loss of spec/losses.md, `paper` and `released` variants.
 *
 * Read top-down (pytorch-metric-learning's pipeline, typed):
 *   lossRegistry     registry.ts       name → LossFn (x, batch, options) => scalar Tensor
 *   batch            batch.ts          LossBatch: labels / biasLabels / targets / nViews, validated and tiled
 *   options          options.ts        variant, impl, temperature … with defaults and typed errors
 *   contrastive      contrastive.ts    supcon, nt-xent, eps-supinfonce (out/in), eps-supcon:
 *                                      contrastiveRowStats (@fairgpu/kernels) → per-anchor term → reducer
 *   regression       regression.ts     y-aware, l-exp (row statistics), l-thr (host row sort + log-space prefix sums)
 *   debiasing        debias.ts         fairkl (pairMoments), end
 *   cross-entropy    crossEntropy.ts   with label smoothing
 *   reducer          reducer.ts        LossCore (discriminated union) → scalar
 *   validation       validate.ts       async NaN/Inf checks (checkFinite, validateFeatures, checkedLoss)
 */
export { lossRegistry } from './registry.ts';
export type { LossFn, LossName } from './registry.ts';
export type { LossBatch } from './batch.ts';
export { supcon, ntXent, epsSupInfoNCE, epsSupCon, DEFAULT_TEMPERATURE } from './contrastive.ts';
export type { SupConOptions, NtXentOptions, EpsSupInfoNCEOptions, EpsSupConOptions } from './contrastive.ts';
export { yAware, lExp, lThr } from './regression.ts';
export { kernelWeight } from '@fairgpu/kernels';
export type { KernelOptions, KernelRegressionOptions, LThrOptions, KernelName } from './regression.ts';
export { fairKL, end } from './debias.ts';
export type { FairKLOptions, EndOptions } from './debias.ts';
export { crossEntropy } from './crossEntropy.ts';
export type { CrossEntropyOptions } from './crossEntropy.ts';
export { reduce } from './reducer.ts';
export type { LossCore } from './reducer.ts';
export { checkFinite, validateFeatures, checkedLoss } from './validate.ts';
export type { Variant, Impl, CommonOptions, TemperatureOptions, ReferenceOptions } from './options.ts';
// The building blocks the vectors cover, from @fairgpu/kernels.
export { l2Normalize, cosineSimilarity, maskedLogSumExp, softmaxCrossEntropy } from '@fairgpu/kernels';
