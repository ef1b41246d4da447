/**
 * @fairgpu/metrics/node — file output: figures as PNG (rasterised with @resvg/resvg-js), SVG and a
 * JSON sidecar with the numbers behind them, each written atomically (a temporary file in the
 * same directory, fsync, rename), the same pattern as @fairgpu/nn's checkpoints.
 */
import { existsSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { InvalidArgumentError } from '@fairgpu/tensor';
import type { Figure } from './figures/index.ts';

export type FigureFormat = 'png' | 'svg' | 'json';

export interface RenderPngOptions {
  /** Device pixels per SVG pixel; default 2. */
  scale?: number;
  /** Extra font files (TTF/OTF) besides the system's. */
  fontFiles?: string[];
}

const DEJAVU_DIRS = ['/usr/share/fonts/truetype/dejavu', '/usr/share/fonts/dejavu', '/usr/share/fonts/TTF'];

/** DejaVu Sans files found on this machine (Debian: fonts-dejavu-core), loaded explicitly. */
function dejavuFiles(): string[] {
  const files: string[] = [];
  for (const dir of DEJAVU_DIRS) {
    for (const f of ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf']) if (existsSync(join(dir, f))) files.push(join(dir, f));
    if (files.length > 0) break;
  }
  return files;
}

function checkFigure(op: string, figure: unknown): asserts figure is Figure {
  const f = figure as Figure;
  if (typeof f !== 'object' || f === null || typeof f.svg !== 'string' || typeof f.name !== 'string') {
    throw new InvalidArgumentError(op, 'figure', 'must be a Figure { name, title, width, height, svg, data }');
  }
}

/**
 * Rasterises a figure's SVG to PNG bytes at `scale` × its size. Text uses DejaVu Sans (loaded from
 * the system fonts and, when present, the DejaVu files directly); without any font resvg drops
 * text silently, so install fonts-dejavu-core (Debian) or pass `fontFiles`.
 */
export function renderPng(figure: Figure, options: RenderPngOptions = {}): Uint8Array {
  const png = rasterise('renderPng', figure, options).asPng();
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}

/** The rasterised figure as RGBA bytes [height, width, 4] (what renderPng encodes). */
export function renderRgba(figure: Figure, options: RenderPngOptions = {}): { width: number; height: number; pixels: Uint8Array } {
  const image = rasterise('renderRgba', figure, options);
  const px = image.pixels;
  return { width: image.width, height: image.height, pixels: new Uint8Array(px.buffer, px.byteOffset, px.byteLength) };
}

function rasterise(op: string, figure: Figure, options: RenderPngOptions) {
  checkFigure(op, figure);
  const scale = options.scale ?? 2;
  if (typeof scale !== 'number' || !(scale > 0 && scale <= 16))
    throw new InvalidArgumentError(op, 'options.scale', `must be a number in (0, 16], got ${String(scale)}`);
  const fontFiles = [...dejavuFiles(), ...(options.fontFiles ?? [])];
  const resvg = new Resvg(figure.svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: '#ffffff',
    font: {
      loadSystemFonts: true,
      fontFiles,
      defaultFontFamily: 'DejaVu Sans',
      sansSerifFamily: 'DejaVu Sans',
    },
  });
  return resvg.render();
}

export interface WriteFigureOptions {
  /** Default ['png', 'svg', 'json']. */
  formats?: FigureFormat[];
  /** Passed to renderPng. */
  scale?: number;
}

export type WrittenFigure = { [F in FigureFormat]?: string };

/**
 * Writes `<outDir>/<figure.name>.{png,svg,json}` (creating `outDir`). Every output is produced and
 * written to a temporary file first; only when all are on disk are they renamed into place, so a
 * failure (rendering, disk full) leaves no partial file and no temporary file behind. The JSON
 * sidecar is `{ name, title, data }`, pretty-printed.
 */
export async function writeFigure(figure: Figure, outDir: string, options: WriteFigureOptions = {}): Promise<WrittenFigure> {
  const op = 'writeFigure';
  checkFigure(op, figure);
  if (typeof outDir !== 'string' || outDir === '') throw new InvalidArgumentError(op, 'outDir', 'must be a non-empty path');
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(figure.name)) {
    throw new InvalidArgumentError(op, 'figure.name', `must be a file stem of letters, digits, '.', '_' or '-', got ${JSON.stringify(figure.name)}`);
  }
  const formats = options.formats ?? ['png', 'svg', 'json'];
  if (!Array.isArray(formats) || formats.length === 0 || formats.some((f) => f !== 'png' && f !== 'svg' && f !== 'json')) {
    throw new InvalidArgumentError(op, 'options.formats', `must be a non-empty array of 'png', 'svg', 'json', got ${JSON.stringify(formats)}`);
  }
  const unique = [...new Set(formats)];
  const contents = unique.map((format): [FigureFormat, Uint8Array | string] => [
    format,
    format === 'png'
      ? renderPng(figure, { scale: options.scale })
      : format === 'svg'
        ? figure.svg
        : `${JSON.stringify({ name: figure.name, title: figure.title, data: figure.data }, null, 2)}\n`,
  ]);

  await mkdir(outDir, { recursive: true });
  const staged: Array<{ format: FigureFormat; tmp: string; path: string }> = [];
  const written: WrittenFigure = {};
  try {
    for (const [format, bytes] of contents) {
      const path = join(outDir, `${figure.name}.${format}`);
      const tmp = join(outDir, `.${figure.name}.${format}.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2, 8)}.tmp`);
      staged.push({ format, tmp, path });
      const handle = await open(tmp, 'wx');
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
    for (const s of staged) {
      await rename(s.tmp, s.path);
      written[s.format] = s.path;
    }
  } catch (error) {
    await Promise.all(staged.map((s) => rm(s.tmp, { force: true })));
    throw error;
  }
  await syncDirectory(outDir);
  return written;
}

async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some platforms cannot open a directory for fsync; the rename itself is still atomic.
  }
}
