/**
 * Figures (browser-safe: SVG strings + the numbers behind them; PNG and files come from
 * `@fairgpu/metrics/node`). Builders: similarity histograms (FairKL diagnostic), per-cell accuracy
 * bars, the Grad-CAM grid, Gaussian densities per group (privacy). Internals: svg.ts (builder,
 * escaping), scale.ts (nice ticks), plot.ts (axes, legends), colormap.ts, png.ts.
 */
export type { Figure, FigureOptions } from './figure.ts';
export { similarityHistogramFigure, similarityHistogramComparisonFigure, histogramOverlap, SIMILARITY_GROUPS } from './histogram.ts';
export type { SimilarityDistributionsLike, SimilarityGroupLike, SimilarityPanel, SimilarityHistogramOptions } from './histogram.ts';
export { groupAccuracyFigure, groupAccuracyComparisonFigure } from './bars.ts';
export type { GroupAccuracyLike, GroupAccuracyCellLike, GroupAccuracyModel, GroupAccuracyOptions } from './bars.ts';
export { gradCamFigure } from './gradcam-grid.ts';
export type { GradCamRow, GradCamFigureInput } from './gradcam-grid.ts';
export { gaussianDensityFigure, normalPdf } from './density.ts';
export type { GaussianDensityInput, GaussianPanel, GaussianGroup } from './density.ts';
export { lineChartFigure } from './line.ts';
export type { LineChartInput, LinePanel, LineSeries, LinePoint } from './line.ts';
export { scatterFigure } from './scatter.ts';
export type { ScatterInput, ScatterPanel } from './scatter.ts';
export { colormap, colormapTable, colormapHex, overlayHeatmap, COLORMAP_NAMES, TAB10 } from './colormap.ts';
export type { ColormapName, OverlayOptions } from './colormap.ts';
export { escapeXml, svgDocument } from './svg.ts';
export { niceTicks, linearScale } from './scale.ts';
export { encodePngRgba, pngDataUri } from './png.ts';
