/**
 * @fairgpu/privacy — attribute-inference attacks (linear and MLP probes), PCA on the GPU and the
 * Gaussian leakage of embeddings' principal components, on @fairgpu/tensor.
 *
 * Read top-down:
 *   pca.ts        PCA: covariance (or subspace-iteration products) on the device, eigensolver on the host
 *   linalg.ts     float64 symmetric eigensolver (tred2 + tql2) and Gram–Schmidt
 *   probe.ts      attributeProbe: linear (multinomial logistic, L-BFGS) or MLP probe → accuracy vs chance
 *   lbfgs.ts      host L-BFGS over device-computed loss and gradient
 *   gaussian.ts   gaussianLeakage: per-group normal fits on a principal component, Bhattacharyya / KL, figure
 *   report.ts     leakageReport: probes + Gaussian fit per model, from embeddings or a frozen encoder
 * Files: `@fairgpu/privacy/node` writes leakage reports (JSON + Markdown + figures).
 */
export { pca } from './pca.ts';
export type { Pca, PcaOptions } from './pca.ts';
export { attributeProbe, groupScores } from './probe.ts';
export type { AttributeProbeOptions, LinearProbeOptions, MlpProbeOptions, ProbeResult, GroupScores, GroupAccuracy } from './probe.ts';
export { gaussianLeakage, bhattacharyyaCoefficient, klDivergenceNormal } from './gaussian.ts';
export type { GaussianLeakage, GaussianLeakageOptions, GaussianGroupFit, GaussianPair } from './gaussian.ts';
export { leakageReport, leakageMarkdown } from './report.ts';
export type { LeakageReport, LeakageReportOptions, LeakageModel, LeakageModelReport, ProbeSummary, Encoder, EncoderBatch, BatchSource } from './report.ts';
export type { LbfgsStop } from './lbfgs.ts';
export type { AttributeLike } from './validate.ts';
