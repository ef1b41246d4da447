/**
 * Gaussian fits per private-attribute group (the privacy figure): for each group, a translucent
 * unit-area histogram of its `values` (e.g. embeddings projected on the first principal component)
 * and the fitted normal density N(mean, std²) as a curve; one panel per model, tab10 colours.
 */
import { TAB10 } from './colormap.ts';
import { checkArrayLike, checkCount, checkFinite, checkName, checkNonEmptyArray, checkObject, checkString, fail, round } from './figure.ts';
import type { Figure, FigureOptions } from './figure.ts';
import { axes, clipPath, figureTitle, fitText, legend, legendWidth, LEGEND_ROW, panelTitle } from './plot.ts';
import type { LegendItem, Rect } from './plot.ts';
import { formatNumber, linearScale, niceDomain } from './scale.ts';
import { el, pathData, svgDocument } from './svg.ts';

export interface GaussianGroup {
  label: string;
  mean: number;
  std: number;
  /** The samples behind the fit; drawn as a histogram when given. */
  values?: ArrayLike<number>;
}

export interface GaussianPanel {
  title: string;
  groups: GaussianGroup[];
}

export interface GaussianDensityInput extends FigureOptions {
  panels: GaussianPanel[];
  xLabel?: string;
  /** Histogram bins per panel (shared by its groups); default 30. */
  bins?: number;
  /** One y scale for every panel (default true). */
  sharedY?: boolean;
}

const PANEL_W = 440;
const PLOT = { left: 62, top: 62, height: 240, right: 22 };
const CURVE_POINTS = 161;

export function normalPdf(x: number, mean: number, std: number): number {
  const z = (x - mean) / std;
  return Math.exp(-0.5 * z * z) / (std * Math.sqrt(2 * Math.PI));
}

export function gaussianDensityFigure(input: GaussianDensityInput): Figure {
  const op = 'gaussianDensityFigure';
  checkObject(op, 'input', input);
  const name = checkName(op, 'input.name', input.name ?? 'gaussian-density');
  const title = input.title ?? 'Gaussian fit per group on the first principal component';
  const bins = checkCount(op, 'input.bins', input.bins ?? 30);
  if (bins < 1) fail(op, 'input.bins', 'must be ≥ 1');
  const panels = checkNonEmptyArray<GaussianPanel>(op, 'input.panels', input.panels).map((p, pi) => {
    const a = `input.panels[${pi}]`;
    checkObject(op, a, p);
    const groups = checkNonEmptyArray<GaussianGroup>(op, `${a}.groups`, p.groups);
    if (groups.length > TAB10.length) fail(op, `${a}.groups`, `has ${groups.length} groups; at most ${TAB10.length} (the tab10 palette) are drawn`);
    return {
      title: checkString(op, `${a}.title`, p.title),
      groups: groups.map((g, gi) => {
        const ga = `${a}.groups[${gi}]`;
        checkObject(op, ga, g);
        return {
          label: checkString(op, `${ga}.label`, g.label),
          mean: checkFinite(op, `${ga}.mean`, g.mean),
          std: checkFinite(op, `${ga}.std`, g.std, { positive: true }),
          values: g.values === undefined ? undefined : Array.from(checkArrayLike(op, `${ga}.values`, g.values)),
        };
      }),
    };
  });

  // Per panel: x range covering mean ± 3.5 std and every value; histograms on shared edges.
  const prepared = panels.map((p) => {
    let lo = Infinity;
    let hi = -Infinity;
    for (const g of p.groups) {
      lo = Math.min(lo, g.mean - 3.5 * g.std);
      hi = Math.max(hi, g.mean + 3.5 * g.std);
      for (const v of g.values ?? []) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    const [d0, d1] = niceDomain(lo, hi, 6);
    const edges = Array.from({ length: bins + 1 }, (_, i) => d0 + ((d1 - d0) * i) / bins);
    const groups = p.groups.map((g, gi) => {
      const curveX = Array.from({ length: CURVE_POINTS }, (_, i) => d0 + ((d1 - d0) * i) / (CURVE_POINTS - 1));
      const curve = curveX.map((x) => normalPdf(x, g.mean, g.std));
      let histogram: { counts: number[]; density: number[] } | undefined;
      if (g.values !== undefined && g.values.length > 0) {
        const counts = new Array<number>(bins).fill(0);
        for (const v of g.values) counts[Math.min(bins - 1, Math.max(0, Math.floor(((v - d0) / (d1 - d0)) * bins)))]++;
        const w = (d1 - d0) / bins;
        histogram = { counts, density: counts.map((c) => c / (g.values!.length * w)) };
      }
      return { ...g, color: TAB10[gi], curveX, curve, histogram };
    });
    let yMax = 0;
    for (const g of groups) for (const v of [...g.curve, ...(g.histogram?.density ?? [])]) if (v > yMax) yMax = v;
    return { title: p.title, domain: [d0, d1] as [number, number], edges, groups, yMax };
  });
  const globalMax = Math.max(...prepared.map((p) => p.yMax));

  const legendItems = prepared.map((p) =>
    p.groups.map(
      (g): LegendItem => ({
        label: `${g.label}  (μ ${formatNumber(g.mean, 2)}, σ ${formatNumber(g.std, 2)})`,
        color: g.color,
        kind: g.histogram ? 'both' : 'line',
        opacity: 0.3,
      }),
    ),
  );
  const legendW = Math.ceil(Math.min(230, Math.max(...legendItems.map((items) => legendWidth(items)))));
  const panelW = PANEL_W + legendW;
  const width = panelW * prepared.length;
  const maxGroups = Math.max(...prepared.map((p) => p.groups.length));
  const height = Math.max(PLOT.top + PLOT.height + 52, PLOT.top + maxGroups * LEGEND_ROW + 20);
  const body: string[] = [figureTitle(width, title)];

  prepared.forEach((p, pi) => {
    const area: Rect = { x: pi * panelW + PLOT.left, y: PLOT.top, width: PANEL_W - PLOT.left - PLOT.right, height: PLOT.height };
    const x = linearScale(p.domain, [area.x, area.x + area.width]);
    const yMax = input.sharedY === false ? p.yMax : globalMax;
    const y = linearScale(niceDomain(0, yMax * 1.05, 5), [area.y + area.height, area.y]);
    const clipId = `clip-density-${pi}`;
    const series: string[] = [];
    for (const g of p.groups) {
      if (!g.histogram) continue;
      g.histogram.density.forEach((v, i) => {
        if (v <= 0) return;
        series.push(
          el('rect', {
            x: x(p.edges[i]),
            y: y(v),
            width: x(p.edges[i + 1]) - x(p.edges[i]),
            height: y(0) - y(v),
            fill: g.color,
            'fill-opacity': p.groups.length > 4 ? 0.14 : 0.22,
            stroke: 'none',
          }),
        );
      });
    }
    for (const g of p.groups) {
      series.push(
        el('path', { d: pathData(g.curveX.map((cx, i) => [x(cx), y(g.curve[i])] as [number, number])), fill: 'none', stroke: g.color, 'stroke-width': 2 }),
      );
    }
    const items = legendItems[pi].map((item) => ({ ...item, label: fitText(item.label, legendW - 30, 11) }));
    body.push(
      el('defs', {}, clipPath(clipId, area)),
      axes(area, x, y, { xLabel: input.xLabel ?? 'projection on the first principal component', yLabel: 'density', xTicks: 6 }),
      el('g', { 'clip-path': `url(#${clipId})` }, series),
      panelTitle(area, p.title),
      legend(items, area.x + area.width + 14, area.y),
    );
  });

  const data = {
    xLabel: input.xLabel ?? 'projection on the first principal component',
    panels: prepared.map((p) => ({
      title: p.title,
      edges: p.edges.map((e) => round(e, 9)),
      groups: p.groups.map((g) => ({
        label: g.label,
        mean: g.mean,
        std: g.std,
        n: g.values?.length ?? null,
        histogram: g.histogram ? { counts: g.histogram.counts, density: g.histogram.density.map((v) => round(v)) } : null,
      })),
    })),
  };
  return { name, title, width, height, svg: svgDocument(width, height, title, body), data };
}
