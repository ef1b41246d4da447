/**
 * Small-multiple scatter plots (e.g. embeddings' first two principal components, one panel per
 * method), in rows of at most 3. Points are coloured by `values` through a colormap with a colour
 * bar (`colour: 'continuous'`, one range over all panels) or by integer `categories` with tab10
 * (`'categorical'`, cycling past 10, a legend of at most 10 entries and "… k more"). Each panel
 * has its own x and y range (5 % margins). A panel with more than `maxPoints` points is drawn as a
 * deterministic subsample by stride (indices ⌊i · n / maxPoints⌋); ranges, colour range and
 * category counts still come from every point. Points a panel's `highlight` marks (1) get a dark
 * outline ring, are drawn above the others and have a legend entry named `highlightLabel`.
 */
import { COLORMAP_NAMES, colormapHex, TAB10 } from './colormap.ts';
import type { ColormapName } from './colormap.ts';
import { checkArrayLike, checkCount, checkFinite, checkName, checkNonEmptyArray, checkObject, checkString, describe, fail, round } from './figure.ts';
import type { Figure, FigureOptions } from './figure.ts';
import { axes, clipPath, figureTitle, fitText, LEGEND_ROW, panelTitle } from './plot.ts';
import type { Rect } from './plot.ts';
import { formatTicks, linearScale, niceTicks } from './scale.ts';
import { el, escapeXml, num, svgDocument, text, textWidth, tooltip } from './svg.ts';
import { paddedDomain } from './line.ts';

export interface ScatterPanel {
  title: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** Colour values (`colour: 'continuous'`), one per point. */
  values?: ArrayLike<number>;
  /** Integer categories (`colour: 'categorical'`), one per point. */
  categories?: ArrayLike<number>;
  /** 1 = draw this point with a dark outline ring (e.g. the external site's points), 0 = plain; one per point. */
  highlight?: ArrayLike<number>;
}

export interface ScatterInput extends FigureOptions {
  panels: readonly ScatterPanel[];
  colour: 'continuous' | 'categorical';
  /** Colormap of the continuous values; default 'viridis'. */
  colormap?: ColormapName;
  /** Colour bar label (continuous) or legend title (categorical), e.g. 'age' or 'site'. */
  colourLabel?: string;
  /** Legend names of the categories: `categoryNames[k]` for category k (default `String(k)`). */
  categoryNames?: readonly string[];
  /** Legend name of the highlighted (ringed) points, e.g. 'external site'; default 'highlighted'. */
  highlightLabel?: string;
  xLabel?: string;
  yLabel?: string;
  /** Marker radius in px; default by the number of points drawn (3.5, 2.8 or 2.2). */
  pointRadius?: number;
  /** Points drawn per panel at most; default 2000. */
  maxPoints?: number;
  /** Put the drawn points into the JSON sidecar; default true. */
  includePoints?: boolean;
}

const PLOT = { left: 66, right: 22, width: 280, height: 280, bottom: 56 };
const TITLE_H = 26;
const MAX_COLUMNS = 3;
const MAX_LEGEND = 10;
const BAR = { width: 14, height: 220 };
const RING = '#111';

export function scatterFigure(input: ScatterInput): Figure {
  const op = 'scatterFigure';
  checkObject(op, 'input', input);
  const name = checkName(op, 'input.name', input.name ?? 'scatter');
  const title = checkString(op, 'input.title', input.title ?? 'Embeddings');
  const mode = input.colour;
  if (mode !== 'continuous' && mode !== 'categorical') fail(op, 'input.colour', `must be 'continuous' or 'categorical', got ${describe(mode)}`);
  const cmap = input.colormap ?? 'viridis';
  if (!COLORMAP_NAMES.includes(cmap)) fail(op, 'input.colormap', `must be one of ${COLORMAP_NAMES.join(', ')}, got ${describe(cmap)}`);
  const colourLabel = input.colourLabel === undefined ? undefined : checkString(op, 'input.colourLabel', input.colourLabel);
  const highlightLabel = input.highlightLabel === undefined ? 'highlighted' : checkString(op, 'input.highlightLabel', input.highlightLabel);
  const xLabel = input.xLabel === undefined ? 'PC 1' : checkString(op, 'input.xLabel', input.xLabel);
  const yLabel = input.yLabel === undefined ? 'PC 2' : checkString(op, 'input.yLabel', input.yLabel);
  const maxPoints = checkCount(op, 'input.maxPoints', input.maxPoints ?? 2000);
  if (maxPoints < 1) fail(op, 'input.maxPoints', 'must be ≥ 1');
  const radius = input.pointRadius === undefined ? undefined : checkFinite(op, 'input.pointRadius', input.pointRadius, { positive: true, max: 50 });
  let categoryNames: readonly string[] = [];
  if (input.categoryNames !== undefined) {
    if (!Array.isArray(input.categoryNames)) fail(op, 'input.categoryNames', `must be an array of strings, got ${describe(input.categoryNames)}`);
    categoryNames = input.categoryNames.map((s, i) => checkString(op, `input.categoryNames[${i}]`, s));
  }

  const panels = checkNonEmptyArray<ScatterPanel>(op, 'input.panels', input.panels).map((p, pi) => {
    const a = `input.panels[${pi}]`;
    checkObject(op, a, p);
    const panelTitleText = checkString(op, `${a}.title`, p.title);
    const x = checkArrayLike(op, `${a}.x`, p.x);
    const y = checkArrayLike(op, `${a}.y`, p.y, x.length);
    let colour: ArrayLike<number>;
    if (mode === 'continuous') {
      if (p.values === undefined) fail(op, `${a}.values`, "is required with colour 'continuous'");
      colour = checkArrayLike(op, `${a}.values`, p.values, x.length);
    } else {
      if (p.categories === undefined) fail(op, `${a}.categories`, "is required with colour 'categorical'");
      colour = checkArrayLike(op, `${a}.categories`, p.categories, x.length);
      for (let i = 0; i < colour.length; i++) if (!Number.isInteger(colour[i])) fail(op, `${a}.categories[${i}]`, `must be an integer, got ${colour[i]}`);
    }
    let highlight: ArrayLike<number> | undefined;
    if (p.highlight !== undefined) {
      highlight = checkArrayLike(op, `${a}.highlight`, p.highlight, x.length);
      for (let i = 0; i < highlight.length; i++)
        if (highlight[i] !== 0 && highlight[i] !== 1) fail(op, `${a}.highlight[${i}]`, `must be 0 or 1, got ${highlight[i]}`);
    }
    const n = x.length;
    const shown = n <= maxPoints ? Array.from({ length: n }, (_, i) => i) : Array.from({ length: maxPoints }, (_, i) => Math.floor((i * n) / maxPoints));
    let highlighted = 0;
    if (highlight) for (let i = 0; i < n; i++) highlighted += highlight[i];
    return { title: panelTitleText, x, y, colour, highlight, highlighted, n, shown };
  });

  // Colours: one value range over every point of every panel, or the sorted distinct categories.
  let vMin = Infinity;
  let vMax = -Infinity;
  const counts = new Map<number, number>();
  for (const p of panels) {
    for (let i = 0; i < p.n; i++) {
      const v = p.colour[i];
      if (mode === 'continuous') {
        if (v < vMin) vMin = v;
        if (v > vMax) vMax = v;
      } else {
        counts.set(v, (counts.get(v) ?? 0) + 1);
      }
    }
  }
  if (!(vMin <= vMax)) [vMin, vMax] = [0, 1];
  const categories = [...counts.keys()]
    .sort((a, b) => a - b)
    .map((value, i) => ({
      value,
      label: (value >= 0 && categoryNames[value]) || String(value),
      color: TAB10[i % TAB10.length],
      count: counts.get(value)!,
    }));
  const categoryIndex = new Map(categories.map((c, i) => [c.value, i]));
  const colourOf =
    mode === 'continuous'
      ? (v: number) => colormapHex(cmap, vMax > vMin ? (v - vMin) / (vMax - vMin) : 0.5)
      : (v: number) => categories[categoryIndex.get(v)!].color;
  const labelOf =
    mode === 'continuous'
      ? (v: number) => `${colourLabel ?? 'value'} ${formatValue(v)}`
      : (v: number) => `${colourLabel ? `${colourLabel} ` : ''}${categories[categoryIndex.get(v)!].label}`;

  const maxShown = Math.max(...panels.map((p) => p.shown.length));
  const r = radius ?? (maxShown > 1000 ? 2.2 : maxShown > 300 ? 2.8 : 3.5);
  const ringWidth = num(Math.min(1.2, Math.max(0.7, r * 0.28)));
  const totalHighlighted = panels.reduce((t, p) => t + p.highlighted, 0);
  const highlightEntry = (x: number, y: number, maxW: number) =>
    el('g', { class: 'legend-highlight' }, [
      el('circle', { cx: x + 11, cy: y, r: 4.5, fill: '#fff', stroke: RING, 'stroke-width': 1.4 }),
      text(x + 28, y + 4, fitText(highlightLabel, maxW, 11), { 'font-size': 11 }),
      tooltip(`${highlightLabel} (ringed): ${totalHighlighted} points`),
    ]);
  // Rows of at most 3, balanced (4 panels: 2 + 2, 5: 3 + 2).
  const rows = Math.ceil(panels.length / MAX_COLUMNS);
  const columns = Math.ceil(panels.length / rows);
  const panelW = PLOT.left + PLOT.width + PLOT.right;
  const top = 40 + TITLE_H;
  const rowH = PLOT.height + PLOT.bottom + TITLE_H;

  // Side column: the colour bar with its ticks and label, or the category legend.
  const sideX = columns * panelW + 6;
  const side: string[] = [];
  let sideW: number;
  if (mode === 'continuous') {
    const barH = Math.min(BAR.height, PLOT.height);
    const ticks = vMax > vMin ? niceTicks(vMin, vMax, 5) : [vMin];
    const labels = formatTicks(ticks);
    const barY = (v: number) => top + (vMax > vMin ? barH * (1 - (v - vMin) / (vMax - vMin)) : barH / 2);
    const stops = Array.from({ length: 33 }, (_, i) => el('stop', { offset: `${num((100 * i) / 32)}%`, 'stop-color': colormapHex(cmap, 1 - i / 32) }));
    const widest = Math.max(0, ...labels.map((s) => textWidth(s, 11)));
    side.push(
      el('defs', {}, el('linearGradient', { id: 'scatter-colorbar', x1: 0, y1: 0, x2: 0, y2: 1 }, stops)),
      el(
        'rect',
        { x: sideX, y: top, width: BAR.width, height: barH, fill: 'url(#scatter-colorbar)', stroke: '#666', 'stroke-width': 0.5 },
        tooltip(`${colourLabel ?? 'value'}: ${formatValue(vMin)} … ${formatValue(vMax)}`),
      ),
      ...ticks.flatMap((t, i) => [
        el('line', { x1: sideX + BAR.width, x2: sideX + BAR.width + 4, y1: barY(t), y2: barY(t), stroke: '#444' }),
        text(sideX + BAR.width + 7, barY(t) + 4, labels[i], { 'font-size': 11 }),
      ]),
    );
    sideW = BAR.width + 7 + widest + 8;
    if (colourLabel) {
      const lx = sideX + sideW + 8;
      const ly = top + barH / 2;
      // Beside the bar only, when the highlight entry sits below it.
      const labelH = totalHighlighted > 0 ? barH : PLOT.height;
      side.push(
        el(
          'text',
          { x: lx, y: ly, 'text-anchor': 'middle', 'font-size': 12, transform: `rotate(-90 ${num(lx)} ${num(ly)})` },
          escapeXml(fitText(colourLabel, labelH, 12)),
        ),
      );
      sideW += 20;
    }
    if (totalHighlighted > 0) {
      const labelW = Math.min(170, textWidth(highlightLabel, 11));
      side.push(highlightEntry(sideX - 4, top + barH + 26, labelW));
      sideW = Math.max(sideW, 24 + labelW + 8);
    }
  } else {
    const listed = categories.slice(0, MAX_LEGEND);
    const more = categories.length - listed.length;
    let y = top;
    const moreText = `… ${more} more`;
    const labelW = Math.min(
      170,
      Math.max(
        40,
        ...listed.map((c) => textWidth(c.label, 11)),
        more > 0 ? textWidth(moreText, 11) : 0,
        colourLabel ? textWidth(colourLabel, 11) * 1.1 - 28 : 0,
      ),
    );
    if (colourLabel) {
      side.push(text(sideX, y + 12, fitText(colourLabel, labelW + 28, 11), { 'font-size': 11, 'font-weight': 'bold' }));
      y += LEGEND_ROW + 2;
    }
    listed.forEach((c, i) => {
      const cy = y + i * LEGEND_ROW + LEGEND_ROW / 2;
      side.push(
        el('g', { class: 'legend-entry' }, [
          el('circle', { cx: sideX + 11, cy, r: 4.5, fill: c.color }),
          text(sideX + 28, cy + 4, fitText(c.label, labelW, 11), { 'font-size': 11 }),
          tooltip(`${c.label}: ${c.count} points`),
        ]),
      );
    });
    if (more > 0)
      side.push(text(sideX + 28, y + listed.length * LEGEND_ROW + LEGEND_ROW / 2 + 4, moreText, { 'font-size': 11, fill: '#555', class: 'legend-more' }));
    let hlW = 0;
    if (totalHighlighted > 0) {
      hlW = Math.min(170, textWidth(highlightLabel, 11));
      side.push(highlightEntry(sideX, y + (listed.length + (more > 0 ? 1 : 0)) * LEGEND_ROW + 8 + LEGEND_ROW / 2, hlW));
    }
    sideW = 28 + Math.max(labelW, hlW) + 12;
  }

  const width = Math.ceil(sideX + sideW + 12);
  const height = Math.ceil(top + rows * rowH - TITLE_H);
  const body: string[] = [figureTitle(width, title)];
  const data: unknown[] = [];

  panels.forEach((p, pi) => {
    const column = pi % columns;
    const row = Math.floor(pi / columns);
    const area: Rect = { x: column * panelW + PLOT.left, y: top + row * rowH, width: PLOT.width, height: PLOT.height };
    const xDomain = paddedDomain(Array.from(p.x));
    const yDomain = paddedDomain(Array.from(p.y));
    const x = linearScale(xDomain, [area.x, area.x + area.width]);
    const y = linearScale(yDomain, [area.y + area.height, area.y]);
    const clipId = `clip-scatter-${pi}`;
    // Highlighted points last, so that their rings are not covered.
    const h = p.highlight;
    const order = h ? [...p.shown.filter((i) => h[i] !== 1), ...p.shown.filter((i) => h[i] === 1)] : p.shown;
    const points = order.map((i) =>
      h?.[i] === 1
        ? el(
            'circle',
            { cx: x(p.x[i]), cy: y(p.y[i]), r, fill: colourOf(p.colour[i]), stroke: RING, 'stroke-width': ringWidth },
            tooltip(`#${i}: ${labelOf(p.colour[i])} (${highlightLabel})`),
          )
        : el('circle', { cx: x(p.x[i]), cy: y(p.y[i]), r, fill: colourOf(p.colour[i]) }, tooltip(`#${i}: ${labelOf(p.colour[i])}`)),
    );
    const shownTitle = p.shown.length < p.n ? `${p.title} (${p.shown.length} of ${p.n})` : p.title;
    body.push(
      el('defs', {}, clipPath(clipId, { x: area.x - r, y: area.y - r, width: area.width + 2 * r, height: area.height + 2 * r })),
      axes(area, x, y, { xLabel, yLabel, xTicks: 6, yTicks: 6, grid: false }),
      el('g', { class: 'points', 'clip-path': `url(#${clipId})`, 'fill-opacity': 0.8, stroke: 'none' }, points),
      panelTitle(area, shownTitle),
    );
    let pMin = Infinity;
    let pMax = -Infinity;
    for (let i = 0; i < p.n; i++) {
      if (p.colour[i] < pMin) pMin = p.colour[i];
      if (p.colour[i] > pMax) pMax = p.colour[i];
    }
    const perCategory = mode === 'categorical' ? Object.fromEntries(categories.map((c) => [String(c.value), 0])) : undefined;
    if (perCategory) for (let i = 0; i < p.n; i++) perCategory[String(p.colour[i])]++;
    data.push({
      title: p.title,
      n: p.n,
      shown: p.shown.length,
      stride: p.shown.length < p.n ? round(p.n / p.shown.length) : 1,
      xDomain: xDomain.map((v) => round(v)),
      yDomain: yDomain.map((v) => round(v)),
      valueRange: mode === 'continuous' && p.n > 0 ? [pMin, pMax] : null,
      categoryCounts: perCategory ?? null,
      highlighted: h ? p.highlighted : null,
      points:
        input.includePoints === false
          ? undefined
          : {
              index: p.shown,
              x: p.shown.map((i) => round(p.x[i])),
              y: p.shown.map((i) => round(p.y[i])),
              [mode === 'continuous' ? 'value' : 'category']: p.shown.map((i) => round(p.colour[i])),
              ...(h ? { highlight: p.shown.map((i) => h[i]) } : {}),
            },
    });
  });
  body.push(el('g', { class: mode === 'continuous' ? 'colorbar' : 'legend' }, side));

  return {
    name,
    title,
    width,
    height,
    svg: svgDocument(width, height, title, body),
    data: {
      colour: mode,
      colormap: mode === 'continuous' ? cmap : null,
      colourLabel: colourLabel ?? null,
      xLabel,
      yLabel,
      maxPoints,
      highlightLabel: panels.some((p) => p.highlight) ? highlightLabel : null,
      valueDomain: mode === 'continuous' ? [vMin, vMax] : null,
      categories: mode === 'categorical' ? categories : null,
      panels: data,
    },
  };
}

function formatValue(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(2).replace('-', '−').replace('e+', 'e');
  return String(Number(v.toPrecision(4))).replace('-', '−');
}
