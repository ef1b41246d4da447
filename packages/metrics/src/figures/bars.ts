/**
 * Per-cell (class × bias) accuracy as grouped bars: one group per class, its bias-aligned cell
 * first and solid, the bias-conflicting cells translucent, and the unbiased accuracy (mean over the
 * cells present) as a dashed line. Several models stack as panels sharing the x layout.
 */
import { TAB10 } from './colormap.ts';
import { checkCount, checkFinite, checkName, checkNonEmptyArray, checkObject, checkString, fail, round } from './figure.ts';
import type { Figure, FigureOptions } from './figure.ts';
import { axes, figureTitle, fitText, legend, LEGEND_ROW, panelTitle } from './plot.ts';
import type { Rect } from './plot.ts';
import { formatNumber, linearScale } from './scale.ts';
import { el, text, tooltip, svgDocument } from './svg.ts';

export interface GroupAccuracyCellLike {
  label: number | string;
  bias: number | string;
  count: number;
  /** Fraction in [0, 1] (NaN allowed for an empty cell). */
  accuracy: number;
  /** Whether the cell is bias-aligned; default `bias === label` (Biased-MNIST: colour index = digit). */
  aligned?: boolean;
}

/** The shape of a group-accuracy result the figure reads (declared structurally). */
export interface GroupAccuracyLike {
  cells: readonly GroupAccuracyCellLike[];
  /** Unbiased accuracy: mean of the accuracies of the cells present, in [0, 1]. */
  unbiased: number;
}

export interface GroupAccuracyModel {
  name: string;
  result: GroupAccuracyLike;
}

export interface GroupAccuracyOptions extends FigureOptions {
  /** Several models, one panel each; replaces `result`. */
  models?: GroupAccuracyModel[];
  /** Display names of the classes (index = label when labels are numbers, or a map). */
  labelNames?: readonly string[] | Record<string, string>;
  /** Decides alignment when cells do not say (default `bias === label`). */
  isAligned?: (cell: GroupAccuracyCellLike) => boolean;
  xLabel?: string;
}

const PLOT = { left: 70, right: 120, panelTop: 28, height: 210, bottom: 52 };

export function groupAccuracyFigure(result: GroupAccuracyLike | undefined, options: GroupAccuracyOptions = {}): Figure {
  const op = 'groupAccuracyFigure';
  const models =
    options.models !== undefined ? checkModels(op, 'options.models', options.models, options) : [{ name: '', ...checkResult(op, 'result', result, options) }];
  return build(op, models, options);
}

/** One panel per model: `[{ name: 'vanilla', result }, { name: 'FairKL', result }]`. */
export function groupAccuracyComparisonFigure(models: GroupAccuracyModel[], options: Omit<GroupAccuracyOptions, 'models'> = {}): Figure {
  const op = 'groupAccuracyComparisonFigure';
  return build(op, checkModels(op, 'models', models, options), options);
}

interface Cell {
  label: number | string;
  bias: number | string;
  count: number;
  accuracy: number | null;
  aligned: boolean;
}
interface Model {
  name: string;
  cells: Cell[];
  unbiased: number;
}

function checkModels(op: string, arg: string, models: unknown, options: GroupAccuracyOptions): Model[] {
  return checkNonEmptyArray<GroupAccuracyModel>(op, arg, models).map((m, i) => {
    checkObject(op, `${arg}[${i}]`, m);
    return { name: checkString(op, `${arg}[${i}].name`, m.name), ...checkResult(op, `${arg}[${i}].result`, m.result, options) };
  });
}

function checkResult(op: string, arg: string, r: unknown, options: GroupAccuracyOptions): { cells: Cell[]; unbiased: number } {
  checkObject(op, arg, r);
  const unbiased = checkFinite(op, `${arg}.unbiased`, r.unbiased, { min: 0, max: 1 });
  const cells = checkNonEmptyArray<GroupAccuracyCellLike>(op, `${arg}.cells`, r.cells).map((c, i) => {
    const a = `${arg}.cells[${i}]`;
    checkObject(op, a, c);
    for (const key of ['label', 'bias'] as const) {
      if (typeof c[key] !== 'number' && typeof c[key] !== 'string') fail(op, `${a}.${key}`, `must be a number or a string, got ${typeof c[key]}`);
    }
    const count = checkCount(op, `${a}.count`, c.count);
    const accuracy = count === 0 && Number.isNaN(c.accuracy) ? null : checkFinite(op, `${a}.accuracy`, c.accuracy, { min: 0, max: 1 });
    const cell = c as unknown as GroupAccuracyCellLike;
    const aligned = typeof cell.aligned === 'boolean' ? cell.aligned : options.isAligned ? options.isAligned(cell) : cell.bias === cell.label;
    return { label: cell.label, bias: cell.bias, count, accuracy, aligned };
  });
  return { cells, unbiased };
}

function compareKeys(a: number | string, b: number | string): number {
  return typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b), 'en', { numeric: true });
}

function build(op: string, models: Model[], options: GroupAccuracyOptions): Figure {
  const name = checkName(op, 'options.name', options.name ?? 'group-accuracy');
  const title = options.title ?? 'Accuracy per (class, bias) cell';
  const labels = [...new Set(models.flatMap((m) => m.cells.map((c) => c.label)))].sort(compareKeys);
  const labelName = (l: number | string): string => {
    const names = options.labelNames;
    if (names === undefined) return String(l);
    const n = Array.isArray(names) ? (typeof l === 'number' ? names[l] : undefined) : (names as Record<string, string>)[String(l)];
    return n ?? String(l);
  };
  // Cells of each class in display order: aligned first, then by bias.
  const order = (cells: Cell[], label: number | string) =>
    cells.filter((c) => c.label === label).sort((a, b) => Number(b.aligned) - Number(a.aligned) || compareKeys(a.bias, b.bias));
  const perGroup = Math.max(...labels.map((l) => Math.max(...models.map((m) => order(m.cells, l).length))));
  const barW = perGroup > 12 ? 4 : perGroup > 5 ? 7 : 16;
  const groupGap = Math.max(10, barW * 1.5);
  const groupW = perGroup * barW + groupGap;
  const plotW = Math.max(420, labels.length * groupW);
  const width = Math.ceil(PLOT.left + plotW + PLOT.right);
  const panelH = PLOT.panelTop + PLOT.height + PLOT.bottom;
  const legendTop = 44 + models.length * panelH;
  const height = legendTop + LEGEND_ROW * 3 + 14;
  const body: string[] = [figureTitle(width, title)];
  const data: unknown[] = [];

  models.forEach((m, mi) => {
    const color = TAB10[mi % TAB10.length];
    const area: Rect = { x: PLOT.left, y: 44 + mi * panelH + PLOT.panelTop, width: plotW, height: PLOT.height };
    const y = linearScale([0, 1], [area.y + area.height, area.y]);
    const x = linearScale([0, 1], [area.x, area.x + area.width]);
    const slot = plotW / labels.length;
    const bars: string[] = [];
    labels.forEach((l, li) => {
      const cells = order(m.cells, l);
      const x0 = area.x + li * slot + (slot - cells.length * barW) / 2;
      cells.forEach((c, ci) => {
        if (c.accuracy === null) return;
        const top = y(c.accuracy);
        bars.push(
          el(
            'rect',
            {
              x: x0 + ci * barW,
              y: top,
              width: Math.max(1, barW - 1),
              height: area.y + area.height - top,
              fill: color,
              'fill-opacity': c.aligned ? 1 : 0.4,
              stroke: c.aligned ? '#111' : 'none',
              'stroke-width': c.aligned ? 1 : 0,
            },
            tooltip(`class ${labelName(c.label)}, bias ${c.bias}${c.aligned ? ' (aligned)' : ''}: ${formatNumber(100 * c.accuracy, 1)} % of ${c.count}`),
          ),
        );
      });
      bars.push(text(area.x + (li + 0.5) * slot, area.y + area.height + 17, fitText(labelName(l), slot - 2, 11), { 'text-anchor': 'middle', 'font-size': 11 }));
    });
    const present = m.cells.filter((c) => c.accuracy !== null && c.count > 0);
    const weighted = (cells: Cell[]) => {
      const n = cells.reduce((s, c) => s + c.count, 0);
      return n > 0 ? cells.reduce((s, c) => s + c.count * (c.accuracy ?? 0), 0) / n : null;
    };
    const aligned = weighted(present.filter((c) => c.aligned));
    const conflicting = weighted(present.filter((c) => !c.aligned));
    const worst = present.length > 0 ? Math.min(...present.map((c) => c.accuracy ?? 1)) : null;
    const uy = y(m.unbiased);
    const pct = (v: number | null) => (v === null ? '–' : `${formatNumber(100 * v, 1)} %`);
    const panelName = [m.name, `aligned ${pct(aligned)}, conflicting ${pct(conflicting)}, worst cell ${pct(worst)}`].filter(Boolean).join(' — ');
    body.push(
      axes(area, x, y, {
        xAxis: false,
        yLabel: 'accuracy',
        yTicks: 5,
        yFormat: (t) => t.map((v) => `${formatNumber(100 * v, 0)} %`),
        xLabel: options.xLabel ?? 'class',
      }),
      el('g', {}, bars),
      el('line', { x1: area.x, x2: area.x + area.width, y1: uy, y2: uy, stroke: '#111', 'stroke-width': 1.5, 'stroke-dasharray': '6 4' }),
      text(area.x + area.width + 8, uy - 2, 'unbiased', { 'font-size': 11 }),
      text(area.x + area.width + 8, uy + 12, pct(m.unbiased), { 'font-size': 11, 'font-weight': 'bold' }),
      panelTitle(area, panelName),
    );
    data.push({
      name: m.name,
      unbiased: m.unbiased,
      alignedAccuracy: aligned === null ? null : round(aligned),
      conflictingAccuracy: conflicting === null ? null : round(conflicting),
      worstCellAccuracy: worst,
      cells: m.cells.map((c) => ({ label: c.label, bias: c.bias, aligned: c.aligned, count: c.count, accuracy: c.accuracy })),
    });
  });
  const keyColor = TAB10[0];
  body.push(
    legend(
      [
        { label: 'bias-aligned cell', color: keyColor, kind: 'both', stroke: '#111' },
        { label: 'bias-conflicting cells', color: keyColor, kind: 'box', opacity: 0.4 },
        { label: 'unbiased accuracy (mean over the cells present)', color: '#111', kind: 'line', dash: '6 4' },
      ],
      PLOT.left,
      legendTop,
    ),
  );
  return { name, title, width, height, svg: svgDocument(width, height, title, body), data: { labels, models: data } };
}
