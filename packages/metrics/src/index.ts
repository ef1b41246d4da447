/**
 * @fairgpu/metrics — debiasing, regression and retrieval metrics, the FairKL similarity
 * diagnostic, Grad-CAM, and figures (SVG + the numbers behind them), on @fairgpu/tensor.
 *
 * Read top-down:
 *   groupAccuracy            group.ts        accuracy overall / aligned / conflicting / per (label, bias) cell, unbiased, worst group
 *   regressionMetrics        regression.ts   MAE, RMSE, Pearson r, R² (scikit-learn's r2_score)
 *   retrievalMetrics         retrieval.ts    precision@1, R-precision, MAP@R (PML); GPU similarity tiles, host ranking
 *   similarityDistributions  similarity.ts   FairKL diagnostic: PA/PC/NA/NC pair similarity mean, std, histogram (GPU)
 *   (validate.ts: the typed argument checks they share)
 *   gradCam, heatmapMass     gradcam.ts      Grad-CAM maps through a forward hook (@fairgpu/nn); share of a map on a mask
 *   *Figure (builders)       figures/        SVG figures + data sidecars: similarity histograms, group accuracy, Grad-CAM grid, Gaussian densities; colormaps
 * Files: `@fairgpu/metrics/node` writes figures as PNG + SVG + JSON (atomic).
 */
export { gradCam, heatmapMass, bilinearResize } from './gradcam.ts';
export type { GradCamOptions } from './gradcam.ts';
export { groupAccuracy, argmaxRows } from './group.ts';
export type { GroupAccuracy, GroupAccuracyInput, CellAccuracy } from './group.ts';
export { regressionMetrics } from './regression.ts';
export type { RegressionMetrics } from './regression.ts';
export { retrievalMetrics } from './retrieval.ts';
export type { RetrievalMetrics, RetrievalOptions } from './retrieval.ts';
export { similarityDistributions, MAX_BINS } from './similarity.ts';
export type { SimilarityDistributions, SimilarityDistributionsOptions, SimilarityGroup, SimilarityHistogram } from './similarity.ts';
export type { NumericArray, LabelsInput } from './validate.ts';
export * from './figures/index.ts';
