/**
 * The FairKL diagnostic figure: histograms of positive/negative × bias-aligned/conflicting cosine
 * similarities, each normalised to unit area (so groups with very different counts compare), one
 * panel per model. The seed's point: FairKL makes positive-aligned and positive-conflicting overlap.
 */
import { checkArrayLike, checkCount, checkFinite, checkName, checkNonEmptyArray, checkObject, checkString, fail, round } from './figure.ts';
import type { Figure, FigureOptions } from './figure.ts';
import { axes, clipPath, figureTitle, legend, LEGEND_ROW, panelTitle } from './plot.ts';
import type { LegendItem, Rect } from './plot.ts';
import { formatNumber, linearScale, niceDomain } from './scale.ts';
import { el, pathData, svgDocument, text, tooltip } from './svg.ts';

/** One group of `similarityDistributions` (declared structurally: no import of that module). */
export interface SimilarityGroupLike {
  count: number;
  /** null (or NaN) only for an empty group. */
  mean: number | null;
  std: number | null;
  /** `edges` has bins + 1 increasing values, `counts` bins non-negative values. */
  histogram: { edges: ArrayLike<number>; counts: ArrayLike<number> };
}

/** The shape of `similarityDistributions(...)`'s result that the figure reads. */
export interface SimilarityDistributionsLike {
  positiveAligned: SimilarityGroupLike;
  positiveConflicting: SimilarityGroupLike;
  negativeAligned: SimilarityGroupLike;
  negativeConflicting: SimilarityGroupLike;
}

export interface SimilarityPanel {
  title: string;
  distributions: SimilarityDistributionsLike;
}

export interface SimilarityHistogramOptions extends FigureOptions {
  /** Title of the single panel (default none) when `panels` is not given. */
  panelTitle?: string;
  /** Several models side by side (e.g. vanilla vs debiased); replaces `distributions`. */
  panels?: SimilarityPanel[];
  /** x range; default [-1, 1] (cosine similarity). */
  xDomain?: [number, number];
  /** One y scale for every panel (default true) so panels compare. */
  sharedY?: boolean;
}

export const SIMILARITY_GROUPS = [
  { key: 'positiveAligned', label: 'positive, bias-aligned', color: '#1f77b4', dash: undefined },
  { key: 'positiveConflicting', label: 'positive, bias-conflicting', color: '#ff7f0e', dash: undefined },
  { key: 'negativeAligned', label: 'negative, bias-aligned', color: '#2ca02c', dash: '6 3' },
  { key: 'negativeConflicting', label: 'negative, bias-conflicting', color: '#d62728', dash: '6 3' },
] as const;

type GroupKey = (typeof SIMILARITY_GROUPS)[number]['key'];

interface GroupData {
  count: number;
  mean: number | null;
  std: number | null;
  edges: number[];
  counts: number[];
  /** counts / (Σ counts · bin width): unit area. All zeros when the group is empty. */
  density: number[];
}

const PANEL_W = 470;
const PLOT = { left: 62, right: 28, top: 62, height: 230 };

/** Similarity histograms of one model, or of several side by side with `options.panels`. */
export function similarityHistogramFigure(distributions: SimilarityDistributionsLike | undefined, options: SimilarityHistogramOptions = {}): Figure {
  const op = 'similarityHistogramFigure';
  const panels =
    options.panels !== undefined
      ? checkPanels(op, 'options.panels', options.panels)
      : [{ title: options.panelTitle ?? '', distributions: checkDistributions(op, 'distributions', distributions) }];
  return build(op, panels, options);
}

/** Several models side by side: `[{ title: 'vanilla', distributions }, { title: 'FairKL', … }]`. */
export function similarityHistogramComparisonFigure(
  panels: SimilarityPanel[],
  options: Omit<SimilarityHistogramOptions, 'panels' | 'panelTitle'> = {},
): Figure {
  const op = 'similarityHistogramComparisonFigure';
  return build(op, checkPanels(op, 'panels', panels), options);
}

function checkPanels(op: string, arg: string, panels: unknown): Array<{ title: string; distributions: Record<GroupKey, GroupData> }> {
  return checkNonEmptyArray<SimilarityPanel>(op, arg, panels).map((p, i) => {
    checkObject(op, `${arg}[${i}]`, p);
    return { title: checkString(op, `${arg}[${i}].title`, p.title), distributions: checkDistributions(op, `${arg}[${i}].distributions`, p.distributions) };
  });
}

function checkDistributions(op: string, arg: string, d: unknown): Record<GroupKey, GroupData> {
  checkObject(op, arg, d);
  const out = {} as Record<GroupKey, GroupData>;
  for (const { key } of SIMILARITY_GROUPS) {
    const a = `${arg}.${key}`;
    const g = d[key];
    checkObject(op, a, g);
    const count = checkCount(op, `${a}.count`, g.count);
    // An empty group may carry NaN statistics; a non-empty one must not.
    const stat = (name: 'mean' | 'std') =>
      count === 0 && (g[name] === null || Number.isNaN(g[name])) ? null : checkFinite(op, `${a}.${name}`, g[name], name === 'std' ? { min: 0 } : undefined);
    const mean = stat('mean');
    const std = stat('std');
    checkObject(op, `${a}.histogram`, g.histogram);
    const counts = Array.from(checkArrayLike(op, `${a}.histogram.counts`, g.histogram.counts));
    const edges = Array.from(checkArrayLike(op, `${a}.histogram.edges`, g.histogram.edges, counts.length + 1));
    if (counts.length === 0) fail(op, `${a}.histogram.counts`, 'must have at least one bin');
    counts.forEach((c, i) => c < 0 && fail(op, `${a}.histogram.counts[${i}]`, `must be ≥ 0, got ${c}`));
    edges.forEach(
      (e, i) =>
        i > 0 && !(e > edges[i - 1]) && fail(op, `${a}.histogram.edges`, `must increase strictly (edges[${i - 1}] = ${edges[i - 1]}, edges[${i}] = ${e})`),
    );
    const total = counts.reduce((s, c) => s + c, 0);
    const density = counts.map((c, i) => (total > 0 ? c / (total * (edges[i + 1] - edges[i])) : 0));
    out[key] = { count, mean, std, edges, counts, density };
  }
  return out;
}

/** Overlap coefficient Σ min(p, q) · width of two unit-area histograms on the same edges, else null. */
export function histogramOverlap(
  a: { edges: readonly number[]; density: readonly number[] },
  b: { edges: readonly number[]; density: readonly number[] },
): number | null {
  if (a.edges.length !== b.edges.length || a.edges.some((e, i) => Math.abs(e - b.edges[i]) > 1e-9)) return null;
  if (!a.density.some((v) => v > 0) || !b.density.some((v) => v > 0)) return null;
  let s = 0;
  for (let i = 0; i < a.density.length; i++) s += Math.min(a.density[i], b.density[i]) * (a.edges[i + 1] - a.edges[i]);
  return s;
}

function build(op: string, panels: Array<{ title: string; distributions: Record<GroupKey, GroupData> }>, options: SimilarityHistogramOptions): Figure {
  const name = checkName(op, 'options.name', options.name ?? 'similarity-histograms');
  const title = options.title ?? 'Cosine similarities by pair type';
  const xDomain = options.xDomain ?? [-1, 1];
  if (!Array.isArray(xDomain) || xDomain.length !== 2 || !(xDomain[0] < xDomain[1])) fail(op, 'options.xDomain', 'must be [min, max] with min < max');
  const maxOf = (p: (typeof panels)[number]) => Math.max(0, ...SIMILARITY_GROUPS.map(({ key }) => Math.max(...p.distributions[key].density)));
  const globalMax = Math.max(...panels.map(maxOf));

  const width = PANEL_W * panels.length;
  const legendTop = PLOT.top + PLOT.height + 50;
  const height = legendTop + LEGEND_ROW * 5 + 12;
  const body: string[] = [figureTitle(width, title)];
  const data: unknown[] = [];

  panels.forEach((panel, pi) => {
    const area: Rect = { x: pi * PANEL_W + PLOT.left, y: PLOT.top, width: PANEL_W - PLOT.left - PLOT.right, height: PLOT.height };
    const yMax = options.sharedY === false ? maxOf(panel) : globalMax;
    const x = linearScale(xDomain, [area.x, area.x + area.width]);
    const y = linearScale(niceDomain(0, yMax > 0 ? yMax * 1.05 : 1, 5), [area.y + area.height, area.y]);
    const clipId = `clip-hist-${pi}`;
    const series: string[] = [];
    const items: LegendItem[] = [];
    for (const g of SIMILARITY_GROUPS) {
      const d = panel.distributions[g.key];
      const stats = d.count > 0 && d.mean !== null ? `n = ${thousands(d.count)}, ${formatNumber(d.mean, 3)} ± ${formatNumber(d.std ?? 0, 3)}` : 'n = 0';
      items.push({ label: `${g.label}: ${stats}`, color: g.color, kind: 'line', dash: g.dash });
      if (!d.density.some((v) => v > 0)) continue;
      const pts: Array<[number, number]> = [[x(d.edges[0]), y(0)]];
      d.density.forEach((v, i) => pts.push([x(d.edges[i]), y(v)], [x(d.edges[i + 1]), y(v)]));
      pts.push([x(d.edges[d.edges.length - 1]), y(0)]);
      const path = pathData(pts);
      series.push(el('path', { d: `${path}Z`, fill: g.color, 'fill-opacity': 0.13, stroke: 'none' }));
      series.push(
        el(
          'path',
          { d: path, fill: 'none', stroke: g.color, 'stroke-width': 1.8, 'stroke-dasharray': g.dash, 'stroke-linejoin': 'miter' },
          tooltip(`${g.label}: ${stats}`),
        ),
      );
    }
    const overlap = histogramOverlap(panel.distributions.positiveAligned, panel.distributions.positiveConflicting);
    body.push(
      el('defs', {}, clipPath(clipId, area)),
      axes(area, x, y, { xLabel: 'cosine similarity', yLabel: 'density', yTicks: 5, xTicks: 8 }),
      el('g', { 'clip-path': `url(#${clipId})` }, series),
      panelTitle(area, panel.title),
      legend(items, area.x, legendTop),
    );
    if (overlap !== null) {
      body.push(
        text(area.x + 28, legendTop + LEGEND_ROW * 4 + 12, `overlap of the two positive histograms: ${formatNumber(overlap, 2)}`, {
          'font-size': 11,
          fill: '#555',
        }),
      );
    }
    data.push({
      title: panel.title,
      positiveOverlap: overlap === null ? null : round(overlap),
      groups: Object.fromEntries(
        SIMILARITY_GROUPS.map(({ key }) => {
          const d = panel.distributions[key];
          return [key, { count: d.count, mean: d.mean, std: d.std, edges: d.edges, counts: d.counts, density: d.density.map((v) => round(v)) }];
        }),
      ),
    });
  });
  return { name, title, width, height, svg: svgDocument(width, height, title, body), data: { xDomain, panels: data } };
}

export function thousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
