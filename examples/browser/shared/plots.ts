/**
 * Drawing for the examples: the loss curve through @fairgpu/metrics' lineChartFigure (the SVG the
 * CLI's reports use), a 2-D scatter in plain SVG (points in the Biased-MNIST palette's own colours
 * when coloured by bias, tab10 when coloured by digit), and images on canvases.
 */
import { lineChartFigure, TAB10, type LinePoint } from '@fairgpu/metrics';
import type { Rgb } from '@fairgpu/datasets';

/** Puts a figure's standalone SVG document into `container`, scaled to its width. */
function placeSvg(container: HTMLElement, svg: string): void {
  container.innerHTML = svg.replace(/^<\?xml[^>]*>\s*/, '');
  const el = container.querySelector('svg');
  if (el) {
    el.removeAttribute('height');
    el.setAttribute('width', '100%');
  }
}

export function drawLossCurve(container: HTMLElement, series: { name: string; points: LinePoint[] }[], title: string): void {
  if (!series.some((s) => s.points.length > 0)) return;
  placeSvg(container, lineChartFigure({ title, series, xLabel: 'step', yLabel: 'loss' }).svg);
}

export interface ScatterOptions {
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** Colour of each point as a CSS colour. */
  colours: readonly string[];
  /** Legend entries (colour, text). */
  legend: { colour: string; text: string }[];
  xLabel: string;
  yLabel: string;
  /** Points drawn with a dark ring (e.g. bias-conflicting images). */
  ring?: ArrayLike<number>;
  ringLabel?: string;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

function node(name: string, attrs: Record<string, string | number>, parent?: Element): SVGElement {
  const el = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  parent?.appendChild(el);
  return el;
}

/** A square scatter plot with 5 % margins, axis labels and a legend on the right. */
export function drawScatter(container: HTMLElement, o: ScatterOptions): void {
  const size = 340;
  const pad = { left: 44, top: 12, bottom: 40 };
  const legendW = 150;
  const svg = node('svg', { viewBox: `0 0 ${pad.left + size + 16 + legendW} ${pad.top + size + pad.bottom}`, width: '100%', role: 'img' });
  const n = o.x.length;
  const range = (a: ArrayLike<number>) => {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < a.length; i++) {
      lo = Math.min(lo, a[i]);
      hi = Math.max(hi, a[i]);
    }
    const m = (hi - lo || 1) * 0.05;
    return [lo - m, hi + m];
  };
  const [x0, x1] = range(o.x);
  const [y0, y1] = range(o.y);
  const sx = (v: number) => pad.left + ((v - x0) / (x1 - x0)) * size;
  const sy = (v: number) => pad.top + size - ((v - y0) / (y1 - y0)) * size;
  node('rect', { x: pad.left, y: pad.top, width: size, height: size, fill: '#fff', stroke: '#999' }, svg);
  if (x0 < 0 && x1 > 0) node('line', { x1: sx(0), x2: sx(0), y1: pad.top, y2: pad.top + size, stroke: '#ddd' }, svg);
  if (y0 < 0 && y1 > 0) node('line', { x1: pad.left, x2: pad.left + size, y1: sy(0), y2: sy(0), stroke: '#ddd' }, svg);
  const r = n > 400 ? 2.6 : 3.4;
  // Ringed points last, so they stay visible above the others.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (o.ring?.[a] ?? 0) - (o.ring?.[b] ?? 0));
  for (const i of order) {
    const ring = o.ring?.[i] ? { stroke: '#111', 'stroke-width': 1.3 } : { stroke: 'rgba(0,0,0,0.25)', 'stroke-width': 0.5 };
    node('circle', { cx: sx(o.x[i]).toFixed(1), cy: sy(o.y[i]).toFixed(1), r, fill: o.colours[i], ...ring }, svg);
  }
  const label = (text: string, attrs: Record<string, string | number>) => (node('text', { 'font-size': 12, fill: '#333', ...attrs }, svg).textContent = text);
  label(o.xLabel, { x: pad.left + size / 2, y: pad.top + size + 26, 'text-anchor': 'middle' });
  label(o.yLabel, { x: 14, y: pad.top + size / 2, 'text-anchor': 'middle', transform: `rotate(-90 14 ${pad.top + size / 2})` });
  const lx = pad.left + size + 16;
  const entries = [...o.legend, ...(o.ringLabel ? [{ colour: 'ring', text: o.ringLabel }] : [])];
  entries.forEach((e, k) => {
    const y = pad.top + 10 + 19 * k;
    if (e.colour === 'ring') node('circle', { cx: lx + 6, cy: y - 4, r: 4.5, fill: '#fff', stroke: '#111', 'stroke-width': 1.5 }, svg);
    else node('circle', { cx: lx + 6, cy: y - 4, r: 5, fill: e.colour, stroke: 'rgba(0,0,0,0.3)' }, svg);
    label(e.text, { x: lx + 16, y });
  });
  container.replaceChildren(svg);
}

export const CLASS_COLOURS = TAB10;

export function rgbCss([r, g, b]: Rgb): string {
  return `rgb(${r}, ${g}, ${b})`;
}

/** Names of the Biased-MNIST (Bahng) palette's colours, by bias class. */
export const PALETTE_NAMES = ['red', 'green', 'blue', 'yellow', 'magenta', 'cyan', 'orange', 'pink', 'violet', 'grey'];

/** An RGBA [H, W, 4] byte image on a new canvas, shown at `scale`× with crisp pixels. */
export function imageCanvas(rgba: Uint8ClampedArray, width: number, height: number, scale: number): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  canvas.style.width = `${width * scale}px`;
  canvas.style.height = `${height * scale}px`;
  canvas.style.imageRendering = 'pixelated';
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('canvas 2d context unavailable');
  ctx.putImageData(new ImageData(new Uint8ClampedArray(rgba), width, height), 0, 0);
  return canvas;
}

/** Image `index` of an HWC RGB byte set as RGBA bytes. */
export function rgbaOf(images: Uint8Array, index: number, pixels: number): Uint8ClampedArray {
  const out = new Uint8ClampedArray(4 * pixels);
  for (let p = 0; p < pixels; p++) {
    out[4 * p] = images[3 * (index * pixels + p)];
    out[4 * p + 1] = images[3 * (index * pixels + p) + 1];
    out[4 * p + 2] = images[3 * (index * pixels + p) + 2];
    out[4 * p + 3] = 255;
  }
  return out;
}
