/**
 * @fairgpu/privacy — attribute-inference attacks (linear and MLP probes), PCA on the GPU and the
 * Gaussian leakage of embeddings' principal components, on @fairgpu/tensor.
 *
 * Read top-down:
 *   (filled in as the modules land)
 * Files: `@fairgpu/privacy/node` writes leakage reports (JSON + Markdown + figures).
 */
export {};
