/**
 * resize.ts against PIL 9.4's BILINEAR resize (fixtures/resize-pil.json, written by
 * fixtures/resize_reference.py): downscaling (antialiased), upscaling, one axis, and a box.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { resampleWeights, resizeImage } from '../src/resize.ts';
import { DatasetArgumentError } from '../src/errors.ts';

interface Case {
  width: number;
  height: number;
  box: [number, number, number, number] | null;
  pixels: number[];
}
const fixture = JSON.parse(readFileSync(new URL('./fixtures/resize-pil.json', import.meta.url), 'utf8')) as {
  source: { width: number; height: number; pixels: number[] };
  cases: Case[];
};

describe('resizeImage (PIL bilinear)', () => {
  const source = { width: fixture.source.width, height: fixture.source.height, channels: 3, pixels: Uint8Array.from(fixture.source.pixels) };
  for (const c of fixture.cases) {
    it(`${source.width}×${source.height} → ${c.width}×${c.height}${c.box ? ` from box [${c.box.join(', ')}]` : ''} agrees with PIL to ±1`, () => {
      const box = c.box ? { x0: c.box[0], y0: c.box[1], x1: c.box[2], y1: c.box[3] } : undefined;
      const out = resizeImage(source, c.width, c.height, box);
      expect(out.length).toBe(c.pixels.length);
      let worst = 0;
      let exact = 0;
      for (let i = 0; i < out.length; i++) {
        const d = Math.abs(out[i] - c.pixels[i]);
        worst = Math.max(worst, d);
        if (d === 0) exact++;
      }
      // PIL's 22-bit fixed-point weights can round the other way at .5 boundaries.
      expect(worst).toBeLessThanOrEqual(1);
      expect(exact / out.length).toBeGreaterThan(0.95);
    });
  }

  it('weights of each output pixel sum to one and stay inside the image', () => {
    for (const [inSize, outSize] of [
      [37, 11],
      [23, 64],
      [5, 5],
      [1, 9],
    ]) {
      const w = resampleWeights(inSize, 0, inSize, outSize);
      for (let o = 0; o < outSize; o++) {
        let total = 0;
        for (let k = 0; k < w.count[o]; k++) total += w.weights[o * w.taps + k];
        expect(Math.abs(total - 1)).toBeLessThan(1e-12);
        expect(w.start[o]).toBeGreaterThanOrEqual(0);
        expect(w.start[o] + w.count[o]).toBeLessThanOrEqual(inSize);
      }
    }
    // Same size: the identity.
    const id = resampleWeights(7, 0, 7, 7);
    for (let o = 0; o < 7; o++) expect(id.weights[o * id.taps + (o - id.start[o])]).toBe(1);
  });

  it('rejects bad sizes and boxes by name', () => {
    expect(() => resampleWeights(10, 4, 4, 3)).toThrow(DatasetArgumentError);
    expect(() => resampleWeights(10, 0, 11, 3)).toThrow(/box/);
    expect(() => resizeImage({ width: 2, height: 2, channels: 3, pixels: new Uint8Array(11) }, 4, 4)).toThrow(/image.pixels/);
    expect(() => resizeImage({ width: 2, height: 2, channels: 3, pixels: new Uint8Array(12) }, 0, 4)).toThrow(/outSize/);
  });
});
