/**
 * The Grad-CAM grid: one row per model with each map overlaid on its input (pytorch-grad-cam's
 * `show_cam_on_image` blend), the inputs in a row above (again before any row whose inputs
 * differ), row labels on the left, a colour bar on the right. Each cell is a small PNG embedded as
 * a data: URI (stored-deflate encoder, browser-safe) drawn with nearest-neighbour scaling, so a
 * 4 × 8 grid of 28 × 28 images is ≈ 0.2 MB of SVG.
 */
import { COLORMAP_NAMES, colormapHex, overlayHeatmap } from './colormap.ts';
import type { ColormapName } from './colormap.ts';
import { checkArrayLike, checkCount, checkFinite, checkName, checkNonEmptyArray, checkObject, checkString, fail, round } from './figure.ts';
import type { Figure, FigureOptions } from './figure.ts';
import { figureTitle, fitText } from './plot.ts';
import { pngDataUri } from './png.ts';
import { el, svgDocument, text, textWidth, tooltip } from './svg.ts';

export interface GradCamRow {
  /** Row label, e.g. the model name. */
  label: string;
  /** [B, 3, H, W] RGB in [0, 1] (or [B, 1, H, W] grey). */
  images: ArrayLike<number>;
  /** [B, H, W] Grad-CAM maps in [0, 1]. */
  maps: ArrayLike<number>;
  /** One caption per image, drawn under its cell (e.g. the prediction). */
  captions?: string[];
}

export interface GradCamFigureInput extends FigureOptions {
  rows: GradCamRow[];
  height: number;
  width: number;
  colormap?: ColormapName;
  /** Heatmap weight of the blend (pytorch-grad-cam's 1 − image_weight); default 0.5. */
  alpha?: number;
  /** Show the inputs in their own row; default true. */
  showInputs?: boolean;
  /** Displayed size of the longer side of a cell in px; default clamp(3 · max(H, W), 64, 112). */
  cellSize?: number;
  /** Divide each blend by its max, as `show_cam_on_image` does; default false. */
  rescale?: boolean;
  /** Put every map value into the JSON sidecar (rounded to 4 decimals); default true. */
  includeMaps?: boolean;
}

const GAP = 6;
const CAPTION = 15;

export function gradCamFigure(input: GradCamFigureInput): Figure {
  const op = 'gradCamFigure';
  checkObject(op, 'input', input);
  const name = checkName(op, 'input.name', input.name ?? 'grad-cam');
  const title = input.title ?? 'Grad-CAM';
  const H = checkCount(op, 'input.height', input.height);
  const W = checkCount(op, 'input.width', input.width);
  if (H < 1 || W < 1) fail(op, H < 1 ? 'input.height' : 'input.width', 'must be ≥ 1');
  const cmap = input.colormap ?? 'jet';
  if (!COLORMAP_NAMES.includes(cmap)) fail(op, 'input.colormap', `must be one of ${COLORMAP_NAMES.join(', ')}, got ${String(cmap)}`);
  const alpha = checkFinite(op, 'input.alpha', input.alpha ?? 0.5, { min: 0, max: 1 });
  const showInputs = input.showInputs ?? true;
  const cellSize = checkFinite(op, 'input.cellSize', input.cellSize ?? Math.min(112, Math.max(64, 3 * Math.max(H, W))), { positive: true });
  const pixels = H * W;
  const rows = checkNonEmptyArray<GradCamRow>(op, 'input.rows', input.rows).map((r, i) => {
    const a = `input.rows[${i}]`;
    checkObject(op, a, r);
    const label = checkString(op, `${a}.label`, r.label);
    const maps = checkArrayLike(op, `${a}.maps`, r.maps);
    const count = maps.length / pixels;
    if (!Number.isInteger(count) || count < 1) fail(op, `${a}.maps`, `must hold B · height · width = B · ${pixels} values, got ${maps.length}`);
    for (let k = 0; k < maps.length; k++) if (maps[k] < 0 || maps[k] > 1) fail(op, `${a}.maps[${k}]`, `must be in [0, 1], got ${maps[k]}`);
    const images = checkArrayLike(op, `${a}.images`, r.images);
    const channels = images.length / (count * pixels);
    if (channels !== 3 && channels !== 1)
      fail(op, `${a}.images`, `must hold B · 3 · height · width = ${3 * count * pixels} values (B = ${count} from maps), got ${images.length}`);
    const captions = r.captions === undefined ? [] : r.captions;
    if (!Array.isArray(captions) || captions.length > count) fail(op, `${a}.captions`, `must be an array of at most ${count} strings`);
    captions.forEach((c, k) => checkString(op, `${a}.captions[${k}]`, c));
    return { label, maps, images, channels, count, captions };
  });

  // Display rows: an input row before the first model row and before any whose inputs differ.
  type Display = { label: string; kind: 'input' | 'cam'; row: (typeof rows)[number] };
  const display: Display[] = [];
  rows.forEach((r, i) => {
    if (showInputs && (i === 0 || !sameValues(r.images, rows[i - 1].images))) {
      display.push({ label: rows.length > 1 && display.length > 0 ? `input (${r.label})` : 'input', kind: 'input', row: r });
    }
    display.push({ label: r.label, kind: 'cam', row: r });
  });

  const cellW = W >= H ? cellSize : (cellSize * W) / H;
  const cellH = H >= W ? cellSize : (cellSize * H) / W;
  const columns = Math.max(...rows.map((r) => r.count));
  // Model rows are bold: DejaVu Sans Bold runs ~12 % wider than the regular-weight estimate.
  const boldFactor = (d: Display) => (d.kind === 'cam' ? 1.15 : 1);
  const labelW = Math.min(240, Math.max(70, ...display.map((d) => textWidth(d.label, 13) * boldFactor(d) + 18)));
  const top = 44;
  const rowH = (d: Display) => cellH + (d.kind === 'cam' && d.row.captions.length > 0 ? CAPTION : 0) + GAP;
  const gridH = display.reduce((s, d) => s + rowH(d), 0);
  const contentW = labelW + columns * (cellW + GAP) + 14 + 16 + 44;
  const width = Math.ceil(Math.max(contentW, textWidth(title, 12) * 1.1 + 24));
  // Centred when a long title makes the figure wider than the grid.
  const left = labelW + (width - contentW) / 2;
  const barX = left + columns * (cellW + GAP) + 14;
  const height = Math.ceil(top + Math.max(gridH, 150) + 12);

  const body: string[] = [figureTitle(width, title)];
  let y = top;
  for (const d of display) {
    const r = d.row;
    body.push(
      text(left - 12, y + cellH / 2 + 5, fitText(d.label, (labelW - 16) / boldFactor(d), 13), {
        'text-anchor': 'end',
        'font-size': 13,
        'font-weight': d.kind === 'cam' ? 'bold' : undefined,
      }),
    );
    for (let b = 0; b < r.count; b++) {
      const image = sliceOf(r.images, b * r.channels * pixels, (b + 1) * r.channels * pixels);
      const map = sliceOf(r.maps, b * pixels, (b + 1) * pixels);
      const rgba = d.kind === 'cam' ? overlayHeatmap(image, map, { colormap: cmap, alpha, rescale: input.rescale }) : imageRgba(image, r.channels, pixels);
      const x = left + b * (cellW + GAP);
      body.push(
        el('image', {
          x,
          y,
          width: cellW,
          height: cellH,
          href: pngDataUri(W, H, rgba),
          preserveAspectRatio: 'none',
          // Nearest-neighbour scaling. 'optimizeSpeed' is the SVG 1.1 value; CSS Images 3 makes it
          // 'pixelated' in browsers. A 'pixelated' style would make resvg 2.6 smooth the image.
          'image-rendering': 'optimizeSpeed',
        }),
      );
      body.push(
        el(
          'rect',
          { x, y, width: cellW, height: cellH, fill: 'none', stroke: '#999', 'stroke-width': 0.5 },
          d.kind === 'cam' && r.captions[b] ? tooltip(r.captions[b]) : undefined,
        ),
      );
      if (d.kind === 'cam' && r.captions[b] !== undefined) {
        body.push(text(x + cellW / 2, y + cellH + 12, fitText(r.captions[b], cellW + GAP - 2, 10), { 'text-anchor': 'middle', 'font-size': 10 }));
      }
    }
    y += rowH(d);
  }

  // Colour bar: the colormap from 0 (bottom) to 1 (top).
  const barH = Math.min(gridH - GAP, 220);
  const stops = Array.from({ length: 33 }, (_, i) => el('stop', { offset: `${(100 * i) / 32}%`, 'stop-color': colormapHex(cmap, 1 - i / 32) }));
  body.push(
    el('defs', {}, el('linearGradient', { id: 'cam-colorbar', x1: 0, y1: 0, x2: 0, y2: 1 }, stops)),
    el('rect', { x: barX, y: top, width: 14, height: barH, fill: 'url(#cam-colorbar)', stroke: '#666', 'stroke-width': 0.5 }),
    ...[0, 0.5, 1].map((t) => text(barX + 19, top + barH * (1 - t) + 4, String(t), { 'font-size': 10 })),
  );

  const data = {
    height: H,
    width: W,
    colormap: cmap,
    alpha,
    rescale: input.rescale ?? false,
    blend: 'uint8(255 · (alpha · colormap[uint8(255 · map)] / 255 + (1 − alpha) · image))',
    rows: rows.map((r) => ({
      label: r.label,
      count: r.count,
      captions: r.captions,
      mapMean: Array.from({ length: r.count }, (_, b) => round(mean(sliceOf(r.maps, b * pixels, (b + 1) * pixels)), 4)),
      maps:
        input.includeMaps === false
          ? undefined
          : Array.from({ length: r.count }, (_, b) => Array.from(sliceOf(r.maps, b * pixels, (b + 1) * pixels), (v) => Math.round(v * 1e4) / 1e4)),
    })),
  };
  return { name, title, width, height, svg: svgDocument(width, height, title, body), data };
}

function sliceOf(a: ArrayLike<number>, start: number, end: number): ArrayLike<number> {
  return ArrayBuffer.isView(a) ? (a as unknown as Float32Array).subarray(start, end) : Array.prototype.slice.call(a, start, end);
}

function sameValues(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return a.length > 0 ? s / a.length : 0;
}

/** [C, H, W] in [0, 1] (C = 3 or 1) → RGBA bytes, truncated like `np.uint8(255 · x)`. */
function imageRgba(image: ArrayLike<number>, channels: number, n: number): Uint8ClampedArray {
  const out = new Uint8ClampedArray(4 * n);
  for (let p = 0; p < n; p++) {
    for (let c = 0; c < 3; c++) out[4 * p + c] = Math.floor(255 * Math.min(1, Math.max(0, image[(channels === 3 ? c : 0) * n + p])));
    out[4 * p + 3] = 255;
  }
  return out;
}
