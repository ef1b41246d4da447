/** Axes, panels and legends shared by the figure builders. */
import { el, escapeXml, num, text, textWidth } from './svg.ts';
import { formatTicks, type LinearScale } from './scale.ts';

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface AxesOptions {
  xLabel?: string;
  yLabel?: string;
  xTicks?: number;
  yTicks?: number;
  /** Formats y tick values (default: just enough decimals). */
  yFormat?: (values: readonly number[]) => string[];
  /** Horizontal grid lines at the y ticks (default true). */
  grid?: boolean;
  /** Draw x ticks (default true; false for categorical x axes drawn by the caller). */
  xAxis?: boolean;
}

/** Frame, ticks, tick labels, axis labels and grid of a plot area (drawn under the data). */
export function axes(area: Rect, x: LinearScale, y: LinearScale, o: AxesOptions = {}): string {
  const parts: string[] = [];
  const bottom = area.y + area.height;
  const yt = y.ticks(o.yTicks ?? 5);
  const yl = (o.yFormat ?? formatTicks)(yt);
  yt.forEach((t, i) => {
    const py = y(t);
    if (o.grid !== false) parts.push(el('line', { x1: area.x, x2: area.x + area.width, y1: py, y2: py, stroke: '#e6e6e6', 'stroke-width': 1 }));
    parts.push(el('line', { x1: area.x - 5, x2: area.x, y1: py, y2: py, stroke: '#444' }));
    parts.push(text(area.x - 8, py + 4, yl[i], { 'text-anchor': 'end', 'font-size': 11 }));
  });
  if (o.xAxis !== false) {
    const xt = x.ticks(o.xTicks ?? 8);
    const xl = formatTicks(xt);
    xt.forEach((t, i) => {
      const px = x(t);
      parts.push(el('line', { x1: px, x2: px, y1: bottom, y2: bottom + 5, stroke: '#444' }));
      parts.push(text(px, bottom + 18, xl[i], { 'text-anchor': 'middle', 'font-size': 11 }));
    });
  }
  parts.push(el('rect', { x: area.x, y: area.y, width: area.width, height: area.height, fill: 'none', stroke: '#444', 'stroke-width': 1 }));
  if (o.xLabel) parts.push(text(area.x + area.width / 2, bottom + 36, o.xLabel, { 'text-anchor': 'middle', 'font-size': 12 }));
  if (o.yLabel) {
    const widest = Math.max(0, ...yl.map((s) => textWidth(s, 11)));
    const lx = area.x - 14 - widest - 6;
    parts.push(
      el(
        'text',
        { x: lx, y: area.y + area.height / 2, 'text-anchor': 'middle', 'font-size': 12, transform: `rotate(-90 ${num(lx)} ${num(area.y + area.height / 2)})` },
        escapeXml(o.yLabel),
      ),
    );
  }
  return el('g', { class: 'axes' }, parts);
}

/** A clip path for a plot area, so data never draws over the frame or the labels. */
export function clipPath(id: string, area: Rect): string {
  return el('clipPath', { id }, el('rect', { x: area.x, y: area.y, width: area.width, height: area.height }));
}

export interface LegendItem {
  label: string;
  color: string;
  /** 'line' (a stroke, optionally dashed), 'box' (a filled square), 'both' (box with outline). */
  kind?: 'line' | 'box' | 'both';
  dash?: string;
  opacity?: number;
  /** Outline colour of a 'both' key (default the item's colour). */
  stroke?: string;
}

export const LEGEND_ROW = 17;

/** Width a vertical legend of these items takes. */
export function legendWidth(items: readonly LegendItem[], size = 11): number {
  return 30 + Math.max(0, ...items.map((i) => textWidth(i.label, size)));
}

/** A vertical legend with its top-left corner at (x, y); one row per item. */
export function legend(items: readonly LegendItem[], x: number, y: number, size = 11): string {
  const parts = items.map((item, i) => {
    const cy = y + i * LEGEND_ROW + LEGEND_ROW / 2;
    const kind = item.kind ?? 'line';
    const key =
      kind === 'line'
        ? el('line', { x1: x, x2: x + 22, y1: cy, y2: cy, stroke: item.color, 'stroke-width': 2.5, 'stroke-dasharray': item.dash })
        : el('rect', {
            x: x + 4,
            y: cy - 6,
            width: 14,
            height: 12,
            fill: item.color,
            'fill-opacity': item.opacity ?? 1,
            stroke: kind === 'both' ? (item.stroke ?? item.color) : 'none',
            'stroke-width': kind === 'both' && item.stroke ? 1 : 1.5,
            'stroke-dasharray': item.dash,
          });
    return key + text(x + 28, cy + 4, item.label, { 'font-size': size });
  });
  return el('g', { class: 'legend' }, parts);
}

/** Panel title, centred above a plot area. */
export function panelTitle(area: Rect, title: string): string {
  return text(area.x + area.width / 2, area.y - 10, fitText(title, (area.width + 40) / BOLD, 13), {
    'text-anchor': 'middle',
    'font-size': 13,
    'font-weight': 'bold',
  });
}

/** Figure title, centred at the top; a long one is set smaller (down to 11 px), then shortened. */
export function figureTitle(width: number, title: string): string {
  let size = 16;
  while (size > 11 && textWidth(title, size) * BOLD > width - 20) size--;
  return text(width / 2, 24, fitText(title, (width - 20) / BOLD, size), { 'text-anchor': 'middle', 'font-size': size, 'font-weight': 'bold' });
}

/** DejaVu Sans Bold is about 10 % wider than the regular face. */
export const BOLD = 1.1;

/** Shortens `s` with an ellipsis so it fits `width` px at `size`. */
export function fitText(s: string, width: number, size: number): string {
  if (textWidth(s, size) <= width) return s;
  let t = s;
  while (t.length > 1 && textWidth(`${t}…`, size) > width) t = t.slice(0, -1);
  return `${t}…`;
}
