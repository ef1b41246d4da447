import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '@fairgpu/tensor';
import { escapeXml, similarityHistogramFigure, svgDocument } from '../src/index.ts';
import type { Figure } from '../src/index.ts';
import { renderPng, renderRgba, writeFigure } from '../src/node.ts';

const root = mkdtempSync(join(tmpdir(), 'fairgpu-figures-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
function pngSize(png: Uint8Array): [number, number] {
  const dv = new DataView(png.buffer, png.byteOffset);
  return [dv.getUint32(16), dv.getUint32(20)];
}

const textFigure = (text: string, name = 'text'): Figure => ({
  name,
  title: text,
  width: 120,
  height: 40,
  data: { text },
  svg: svgDocument(120, 40, text, `<text x="4" y="28" font-size="24" fill="#000">${escapeXml(text)}</text>`),
});
const blankFigure: Figure = { name: 'blank', title: '', width: 120, height: 40, data: {}, svg: svgDocument(120, 40, '', '') };

function darkPixels(figure: Figure): number {
  const { pixels } = renderRgba(figure, { scale: 1 });
  let n = 0;
  for (let i = 0; i < pixels.length; i += 4) if (pixels[i] < 128) n++;
  return n;
}

describe('renderPng', () => {
  it('writes a PNG of width · scale × height · scale pixels', () => {
    const f = similarityHistogramFigure({
      positiveAligned: { count: 2, mean: 0.9, std: 0.01, histogram: { edges: [-1, 0, 1], counts: [0, 2] } },
      positiveConflicting: { count: 2, mean: 0.1, std: 0.01, histogram: { edges: [-1, 0, 1], counts: [0, 2] } },
      negativeAligned: { count: 2, mean: -0.1, std: 0.01, histogram: { edges: [-1, 0, 1], counts: [2, 0] } },
      negativeConflicting: { count: 2, mean: -0.9, std: 0.01, histogram: { edges: [-1, 0, 1], counts: [2, 0] } },
    });
    const png = renderPng(f);
    expect(Array.from(png.slice(0, 8))).toEqual(PNG_SIGNATURE);
    expect(pngSize(png)).toEqual([2 * f.width, 2 * f.height]);
    expect(pngSize(renderPng(f, { scale: 1 }))).toEqual([f.width, f.height]);
  });
  it('renders text: a font is found, so glyphs put dark pixels on the white background', () => {
    expect(darkPixels(blankFigure)).toBe(0);
    expect(darkPixels(textFigure('Hg 0.5'))).toBeGreaterThan(100);
    expect(renderRgba(textFigure('x'), { scale: 3 })).toMatchObject({ width: 360, height: 120 });
  });
  it('names bad arguments', () => {
    expect(() => renderPng(textFigure('x'), { scale: 0 })).toThrow(InvalidArgumentError);
    expect(() => renderPng({} as Figure)).toThrow(/argument 'figure'/);
  });
});

describe('writeFigure', () => {
  it('writes <name>.png, .svg and .json (creating outDir); the sidecar is { name, title, data }', async () => {
    const dir = join(root, 'a', 'b');
    const f = textFigure('sidecar <&>', 'fig-1');
    const written = await writeFigure(f, dir);
    expect(written).toEqual({ png: join(dir, 'fig-1.png'), svg: join(dir, 'fig-1.svg'), json: join(dir, 'fig-1.json') });
    expect(readdirSync(dir).sort()).toEqual(['fig-1.json', 'fig-1.png', 'fig-1.svg']);
    expect(readFileSync(written.svg!, 'utf8')).toBe(f.svg);
    expect(Array.from(readFileSync(written.png!).subarray(0, 8))).toEqual(PNG_SIGNATURE);
    const json = readFileSync(written.json!, 'utf8');
    expect(JSON.parse(json)).toEqual({ name: 'fig-1', title: 'sidecar <&>', data: { text: 'sidecar <&>' } });
    expect(json).toContain('\n  "name": "fig-1"');
  });
  it('writes only the formats asked for, and replaces existing files', async () => {
    const dir = join(root, 'formats');
    await writeFigure(textFigure('one', 'f'), dir, { formats: ['json'] });
    await writeFigure(textFigure('two', 'f'), dir, { formats: ['json', 'svg'] });
    expect(readdirSync(dir).sort()).toEqual(['f.json', 'f.svg']);
    expect(JSON.parse(readFileSync(join(dir, 'f.json'), 'utf8')).title).toBe('two');
  });
  it('leaves no partial file and no temporary file when a write fails', async () => {
    const dir = join(root, 'fail');
    mkdirSync(join(dir, 'g.svg'), { recursive: true }); // a directory where the SVG should go: rename fails
    await expect(writeFigure(textFigure('x', 'g'), dir, { formats: ['svg'] })).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(['g.svg']);
    expect(readdirSync(join(dir, 'g.svg'))).toEqual([]);
  });
  it('renders before writing anything: a bad PNG scale writes no file', async () => {
    const dir = join(root, 'norender');
    await expect(writeFigure(textFigure('x', 'h'), dir, { scale: -1 })).rejects.toThrow(InvalidArgumentError);
    expect(() => readdirSync(dir)).toThrow();
  });
  it('refuses names that are not file stems and unknown formats', async () => {
    await expect(writeFigure(textFigure('x', '../up'), root)).rejects.toThrow(/'figure.name'/);
    await expect(writeFigure(textFigure('x', 'ok'), root, { formats: ['pdf' as 'png'] })).rejects.toThrow(/'options.formats'/);
  });
});
