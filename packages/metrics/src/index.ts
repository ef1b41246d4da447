/**
 * @fairgpu/metrics — debiasing, regression and retrieval metrics, the FairKL similarity
 * diagnostic, Grad-CAM, and figures (SVG + the numbers behind them), on @fairgpu/tensor.
 *
 * Read top-down:
 *   gradCam, heatmapMass   gradcam.ts   Grad-CAM maps through a forward hook; share of a map on a mask
 *   (filled in as the modules land)
 * Files: `@fairgpu/metrics/node` writes figures as PNG + SVG + JSON (atomic).
 */
export { gradCam, heatmapMass, bilinearResize } from './gradcam.ts';
export type { GradCamOptions } from './gradcam.ts';
