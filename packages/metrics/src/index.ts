/**
 * @fairgpu/metrics — debiasing, regression and retrieval metrics, the FairKL similarity
 * diagnostic, Grad-CAM, and figures (SVG + the numbers behind them), on @fairgpu/tensor.
 *
 * Read top-down:
 *   (filled in as the modules land)
 * Files: `@fairgpu/metrics/node` writes figures as PNG + SVG + JSON (atomic).
 */
export {};
