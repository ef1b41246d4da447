/**
 * Line charts (training curves): one line with point markers per series, tab10 colours (dashed
 * once the palette wraps), a legend on the right, nice ticks (integer x ticks when every x is an
 * integer, e.g. epochs), optionally a log y axis. Non-finite y values (NaN, ±Infinity, null: a
 * diverged or missing epoch) break the line instead of throwing; a point with finite neighbours on
 * neither side is drawn as a marker alone. `panels` draws small multiples (rows of at most 3) with
 * their own y scales and a shared x range and label: losses of different scales, one model each.
 */
import { TAB10 } from './colormap.ts';
import { checkFinite, checkName, checkNonEmptyArray, checkObject, checkString, describe, fail, round } from './figure.ts';
import type { Figure, FigureOptions } from './figure.ts';
import { axes, figureTitle, fitText, legend, legendWidth, LEGEND_ROW, panelTitle } from './plot.ts';
import type { LegendItem, Rect } from './plot.ts';
import { formatTicks, linearScale, niceTicks } from './scale.ts';
import type { LinearScale } from './scale.ts';
import { el, pathData, svgDocument, tooltip } from './svg.ts';

export interface LinePoint {
  x: number;
  /** A non-finite value (NaN, ±Infinity) or null leaves a gap in the line. */
  y: number | null;
}

export interface LineSeries {
  name: string;
  /** Drawn in order of x (stable); series may have different lengths, or none. */
  points: readonly LinePoint[];
}

export interface LinePanel {
  title: string;
  series: readonly LineSeries[];
  /** This panel's y label (default the figure's `yLabel`). */
  yLabel?: string;
}

export interface LineChartInput extends FigureOptions {
  /** One chart; give either `series` or `panels`. */
  series?: readonly LineSeries[];
  /** Small multiples side by side (rows of at most 3), each with its own y scale. */
  panels?: readonly LinePanel[];
  xLabel?: string;
  yLabel?: string;
  /** Logarithmic y axis; every finite y must be > 0. */
  logY?: boolean;
}

/** Plot area of one panel; the legend sits right of the last panel of the first row. */
const PLOT = { left: 72, right: 24, width: 470, height: 280, bottom: 56 };
const PANEL_PLOT_W = 330;
const TITLE_H = 26;
const MAX_COLUMNS = 3;

interface Series {
  name: string;
  points: Array<{ x: number; y: number | null }>;
  color: string;
  dash: string | undefined;
}
interface Panel {
  title: string;
  yLabel: string | undefined;
  series: Series[];
}

export function lineChartFigure(input: LineChartInput): Figure {
  const op = 'lineChartFigure';
  checkObject(op, 'input', input);
  const name = checkName(op, 'input.name', input.name ?? 'line-chart');
  const title = checkString(op, 'input.title', input.title ?? 'Training curves');
  const xLabel = input.xLabel === undefined ? 'epoch' : checkString(op, 'input.xLabel', input.xLabel);
  const yLabel = input.yLabel === undefined ? undefined : checkString(op, 'input.yLabel', input.yLabel);
  if (input.logY !== undefined && typeof input.logY !== 'boolean') fail(op, 'input.logY', `must be a boolean, got ${describe(input.logY)}`);
  const logY = input.logY === true;
  if (input.series !== undefined && input.panels !== undefined) fail(op, 'input.panels', 'give either series or panels, not both');

  // One colour per distinct series name over all panels, in order of first appearance.
  const colours = new Map<string, { color: string; dash: string | undefined }>();
  const style = (seriesName: string) => {
    let s = colours.get(seriesName);
    if (s === undefined) {
      const i = colours.size;
      s = { color: TAB10[i % TAB10.length], dash: i >= TAB10.length ? '6 3' : undefined };
      colours.set(seriesName, s);
    }
    return s;
  };
  const checkSeries = (arg: string, series: unknown): Series[] =>
    checkNonEmptyArray<LineSeries>(op, arg, series).map((s, si) => {
      const a = `${arg}[${si}]`;
      checkObject(op, a, s);
      const seriesName = checkString(op, `${a}.name`, s.name);
      if (!Array.isArray(s.points)) fail(op, `${a}.points`, `must be an array of { x, y }, got ${describe(s.points)}`);
      const points = s.points.map((p: unknown, pi: number) => {
        const pa = `${a}.points[${pi}]`;
        checkObject(op, pa, p);
        const x = checkFinite(op, `${pa}.x`, p.x);
        if (p.y !== null && typeof p.y !== 'number') fail(op, `${pa}.y`, `must be a number (non-finite or null for a gap), got ${describe(p.y)}`);
        const y = p.y !== null && Number.isFinite(p.y) ? p.y : null;
        if (logY && y !== null && !(y > 0)) fail(op, `${pa}.y`, `must be > 0 with logY, got ${y}`);
        return { x, y, index: pi };
      });
      points.sort((p, q) => p.x - q.x || p.index - q.index);
      return { name: seriesName, points: points.map(({ x, y }) => ({ x, y })), ...style(seriesName) };
    });

  let panels: Panel[];
  if (input.panels !== undefined) {
    panels = checkNonEmptyArray<LinePanel>(op, 'input.panels', input.panels).map((p, pi) => {
      const a = `input.panels[${pi}]`;
      checkObject(op, a, p);
      return {
        title: checkString(op, `${a}.title`, p.title),
        yLabel: p.yLabel === undefined ? yLabel : checkString(op, `${a}.yLabel`, p.yLabel),
        series: checkSeries(`${a}.series`, p.series),
      };
    });
  } else {
    panels = [{ title: '', yLabel, series: checkSeries('input.series', input.series) }];
  }
  const multi = input.panels !== undefined;

  // Shared x range; y per panel. Integer x (epochs) get integer ticks.
  const xs = panels.flatMap((p) => p.series.flatMap((s) => s.points.map((q) => q.x)));
  const xDomain = paddedDomain(xs);
  const integerX = xs.length > 0 && xs.every(Number.isInteger);

  const items: LegendItem[] = [...colours].map(([label, s]) => ({ label, color: s.color, dash: s.dash }));
  const legendW = Math.ceil(Math.min(220, legendWidth(items)));
  // Rows of at most 3, balanced (4 panels: 2 + 2, 5: 3 + 2).
  const rows = Math.ceil(panels.length / MAX_COLUMNS);
  const columns = Math.ceil(panels.length / rows);
  const plotW = multi ? PANEL_PLOT_W : PLOT.width;
  const panelW = PLOT.left + plotW + PLOT.right;
  // Row r's plot area starts at top + r · rowH; a panel title needs TITLE_H above it.
  const top = multi ? 40 + TITLE_H : 46;
  const rowH = PLOT.height + PLOT.bottom + (multi ? TITLE_H : 0);
  const width = Math.ceil(columns * panelW + legendW + 16);
  const height = Math.ceil(Math.max(top + rows * rowH - (multi ? TITLE_H : 0), top + items.length * LEGEND_ROW + 20));
  const body: string[] = [figureTitle(width, title)];
  const data: unknown[] = [];

  panels.forEach((p, pi) => {
    const column = pi % columns;
    const row = Math.floor(pi / columns);
    const area: Rect = { x: column * panelW + PLOT.left, y: top + row * rowH, width: plotW, height: PLOT.height };
    const x = withTicks(linearScale(xDomain, [area.x, area.x + area.width]), integerX);
    const ys = p.series.flatMap((s) => s.points.flatMap((q) => (q.y === null ? [] : [q.y])));
    const y = logY ? logScale(ys, [area.y + area.height, area.y]) : linearScale(paddedDomain(ys), [area.y + area.height, area.y]);
    const marks: string[] = [];
    for (const s of p.series) {
      const runs: Array<Array<[number, number]>> = [[]];
      for (const q of s.points) {
        if (q.y === null) {
          if (runs[runs.length - 1].length > 0) runs.push([]);
        } else {
          runs[runs.length - 1].push([x(q.x), y(q.y)]);
        }
      }
      const d = runs
        .filter((r) => r.length > 1)
        .map((r) => pathData(r))
        .join('');
      const finite = s.points.filter((q) => q.y !== null);
      const last = finite[finite.length - 1];
      if (d !== '') {
        marks.push(
          el(
            'path',
            { d, fill: 'none', stroke: s.color, 'stroke-width': 2, 'stroke-dasharray': s.dash, 'stroke-linejoin': 'round', class: 'series' },
            tooltip(`${s.name}: ${finite.length} points${last ? `, last ${formatX(last.x)} → ${formatY(last.y!)}` : ''}`),
          ),
        );
      }
      const r = s.points.length > 60 ? 2 : 3;
      for (const q of finite) {
        marks.push(
          el(
            'circle',
            { cx: x(q.x), cy: y(q.y!), r, fill: s.color, stroke: '#ffffff', 'stroke-width': 0.8, class: 'marker' },
            tooltip(`${s.name}: ${xLabel} ${formatX(q.x)}, ${formatY(q.y!)}`),
          ),
        );
      }
    }
    body.push(axes(area, x, y, { xLabel, yLabel: p.yLabel, xTicks: 8, yTicks: 6, yFormat: logY ? logFormat : undefined }), el('g', { class: 'lines' }, marks));
    if (multi) body.push(panelTitle(area, p.title));
    data.push({
      title: p.title,
      yLabel: p.yLabel ?? null,
      yDomain: y.domain.map((v) => round(v)),
      series: p.series.map((s) => {
        const finite = s.points.filter((q) => q.y !== null) as Array<{ x: number; y: number }>;
        const best = finite.reduce<{ x: number; y: number } | null>((b, q) => (b === null || q.y < b.y ? q : b), null);
        return {
          name: s.name,
          color: s.color,
          n: s.points.length,
          gaps: s.points.length - finite.length,
          min: best === null ? null : { x: best.x, y: round(best.y) },
          last: finite.length === 0 ? null : { x: finite[finite.length - 1].x, y: round(finite[finite.length - 1].y) },
          points: s.points.map((q) => ({ x: round(q.x, 9), y: q.y === null ? null : round(q.y) })),
        };
      }),
    });
  });

  // Legend: line + marker keys, right of the first row.
  const legendX = columns * panelW + 4;
  const fitted = items.map((item) => ({ ...item, label: fitText(item.label, legendW - 30, 11) }));
  body.push(legend(fitted, legendX, top));
  body.push(
    el(
      'g',
      { class: 'legend-markers' },
      items.map((item, i) =>
        el('circle', { cx: legendX + 11, cy: top + i * LEGEND_ROW + LEGEND_ROW / 2, r: 3, fill: item.color, stroke: '#ffffff', 'stroke-width': 0.8 }),
      ),
    ),
  );

  return {
    name,
    title,
    width,
    height,
    svg: svgDocument(width, height, title, body),
    data: { xLabel, yLabel: yLabel ?? null, logY, xDomain: xDomain.map((v) => round(v)), panels: data },
  };
}

/** Data range with 5 % margins on each side (matplotlib's default); [0, 1] when empty. */
export function paddedDomain(values: readonly number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!(lo <= hi)) return [0, 1];
  if (lo === hi) {
    const d = lo === 0 ? 0.5 : Math.abs(lo) * 0.1;
    return [lo - d, hi + d];
  }
  const pad = (hi - lo) * 0.05;
  return [lo - pad, hi + pad];
}

/** The scale with only integer ticks when `integer` (and at least one falls in the domain). */
function withTicks(scale: LinearScale, integer: boolean): LinearScale {
  if (!integer) return scale;
  const ticks = (count = 5) => {
    const t = scale.ticks(count).filter(Number.isInteger);
    return t.length > 0 ? t : scale.ticks(count);
  };
  return Object.assign(((v: number) => scale(v)) as LinearScale, { domain: scale.domain, range: scale.range, ticks });
}

/** A log10 scale over the values (5 % margins in log space) with 1-2-5 (or decade) ticks. */
function logScale(values: readonly number[], range: readonly [number, number]): LinearScale {
  const [l0, l1] = paddedDomain(values.map(Math.log10));
  const inner = linearScale([l0, l1], range);
  const lo = 10 ** l0;
  const hi = 10 ** l1;
  const ticks = () => logTicks(lo, hi);
  return Object.assign(((v: number) => inner(Math.log10(v))) as LinearScale, { domain: [lo, hi] as const, range: inner.range, ticks });
}

function logTicks(lo: number, hi: number): number[] {
  const k0 = Math.floor(Math.log10(lo));
  const k1 = Math.ceil(Math.log10(hi));
  const at = (mults: readonly number[], every = 1) => {
    const t: number[] = [];
    for (let k = k0; k <= k1; k++) {
      if ((k - k0) % every !== 0) continue;
      for (const m of mults) {
        const v = Number((m * 10 ** k).toPrecision(12));
        if (v >= lo && v <= hi) t.push(v);
      }
    }
    return t;
  };
  const decades = at([1], Math.max(1, Math.ceil((k1 - k0) / 8)));
  if (decades.length >= 3) return decades;
  const ones = at([1, 2, 5]);
  if (ones.length >= 3) return ones;
  const all = at([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  if (all.length >= 3 && all.length <= 10) return all;
  return niceTicks(lo, hi, 5).filter((v) => v > 0);
}

/** Log tick labels: each with its own decimals (0.02, 0.5, 1, 20); a linear fallback as usual. */
function logFormat(ticks: readonly number[]): string[] {
  const oneDigit = ticks.every((t) => Number.isInteger(Number((t / 10 ** Math.floor(Math.log10(t) + 1e-9)).toPrecision(6))));
  return oneDigit ? ticks.map((t) => (t < 1e-4 || t >= 1e6 ? t.toExponential(0).replace('e+', 'e').replace('-', '−') : formatY(t))) : formatTicks(ticks);
}

function formatX(v: number): string {
  return Number.isInteger(v) ? String(v).replace('-', '−') : formatY(v);
}

/** A y value for tooltips and log ticks: 4 significant digits, exponent form when tiny or huge. */
function formatY(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 1e-4 || a >= 1e6) return v.toExponential(2).replace('-', '−').replace('e+', 'e');
  return String(Number(v.toPrecision(4))).replace('-', '−');
}
