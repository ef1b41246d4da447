/**
 * The SimCLR/SupCon augmentations on RGB 32×32 images: random resized crop (geometry against a naive
 * crop-then-resize reference and PIL-rounded resizeImage, box statistics against torchvision's
 * sampling rule), flip after the crop, grayscale (luma, probability), colour-jitter probability,
 * and SUPCON_AUGMENT through the loader.
 */
import { describe, expect, it } from 'vitest';
import { augmentInto, createAugmentScratch, resolveAugment, sampleResizedCrop, SUPCON_AUGMENT } from '../src/augment.ts';
import { syntheticCifarImages } from '../src/cifar.ts';
import { DatasetArgumentError } from '../src/errors.ts';
import { createLoader } from '../src/loader.ts';
import { normalizationTable, normalizeImages } from '../src/normalize.ts';
import { createRng } from '../src/prng.ts';
import { resizeImage } from '../src/resize.ts';

const S = 32;
const P = S * S;
const synthetic = syntheticCifarImages({ classes: 10, perClass: 20, seed: 9 });
const dataset = { length: synthetic.count, height: S, width: S, channels: 3, images: synthetic.images, labels: synthetic.labels, biasLabels: synthetic.labels };
/** Identity normalisation, so outputs are [0, 1] intensities. */
const unit = normalizationTable(3, { mean: [0, 0, 0], std: [1, 1, 1] });

/** Naive float reference: crop (top, left, h, w), resize to 32×32 with the bilinear triangle on pixel centres, clamped to the crop, then maybe flip. */
function naiveResizedCrop(index: number, box: { top: number; left: number; height: number; width: number }, flip: boolean): Float64Array {
  const out = new Float64Array(3 * P);
  const taps = (inSize: number, o: number) => {
    const scale = inSize / S;
    const centre = (o + 0.5) * scale;
    const support = Math.max(scale, 1);
    const list: Array<[number, number]> = [];
    for (let i = 0; i < inSize; i++) {
      const t = Math.abs((i + 0.5 - centre) / support);
      if (t < 1) list.push([i, 1 - t]);
    }
    const total = list.reduce((s, [, w]) => s + w, 0);
    return list.map(([i, w]) => [i, w / total] as [number, number]);
  };
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const sx = flip ? S - 1 - x : x;
      for (let c = 0; c < 3; c++) {
        let v = 0;
        for (const [iy, wy] of taps(box.height, y))
          for (const [ix, wx] of taps(box.width, sx)) v += wy * wx * dataset.images[index * 3 * P + ((box.top + iy) * S + box.left + ix) * 3 + c];
        out[c * P + y * S + x] = v / 255;
      }
    }
  }
  return out;
}

describe('random resized crop', () => {
  const aug = resolveAugment({ randomResizedCrop: { scale: [0.2, 1] }, horizontalFlip: true })!;

  it('each output is the bilinear resize of the box torchvision’s rule draws, flipped after the crop', () => {
    const scratch = createAugmentScratch();
    let flipped = 0;
    for (let k = 0; k < 24; k++) {
      const out = new Float32Array(3 * P);
      augmentInto(dataset.images, k, S, S, 3, out, 0, unit, aug, createRng(5, k), scratch);
      // Replay the same stream: the crop box is drawn first, then the flip.
      const replay = createRng(5, k);
      const box = sampleResizedCrop(S, S, aug.randomResizedCrop!, replay);
      const flip = replay.nextUint32() < 0x80000000;
      if (flip) flipped++;
      const expected = naiveResizedCrop(k, box, flip);
      let worst = 0;
      for (let i = 0; i < out.length; i++) worst = Math.max(worst, Math.abs(out[i] - expected[i]));
      expect(worst, `image ${k}, box ${JSON.stringify(box)}`).toBeLessThan(1e-5);
      // PIL (resizeImage rounds each pass to bytes) agrees within 1/255 per pass.
      const crop = new Uint8Array(box.height * box.width * 3);
      for (let y = 0; y < box.height; y++)
        crop.set(
          dataset.images.subarray(k * 3 * P + ((box.top + y) * S + box.left) * 3, k * 3 * P + ((box.top + y) * S + box.left + box.width) * 3),
          y * box.width * 3,
        );
      const pil = resizeImage({ width: box.width, height: box.height, channels: 3, pixels: crop }, S, S);
      let pilWorst = 0;
      for (let y = 0; y < S; y++)
        for (let x = 0; x < S; x++)
          for (let c = 0; c < 3; c++) pilWorst = Math.max(pilWorst, Math.abs(out[c * P + y * S + x] - pil[(y * S + (flip ? S - 1 - x : x)) * 3 + c] / 255));
      expect(pilWorst).toBeLessThanOrEqual(2.01 / 255);
    }
    expect(flipped).toBeGreaterThan(4);
    expect(flipped).toBeLessThan(20);
  });

  it('scale [1, 1] and ratio [1, 1] give the image itself', () => {
    const whole = resolveAugment({ randomResizedCrop: { scale: [1, 1], ratio: [1, 1] }, horizontalFlip: false })!;
    const out = new Float32Array(3 * P);
    augmentInto(dataset.images, 3, S, S, 3, out, 0, unit, whole, createRng(1, 1), createAugmentScratch());
    const plain = normalizeImages(dataset, { indices: [3], mean: [0, 0, 0], std: [1, 1, 1] });
    for (let i = 0; i < out.length; i++) expect(Math.abs(out[i] - plain[i])).toBeLessThan(1e-6);
  });

  it('boxes follow torchvision’s sampling: inside the image, area fraction in scale, aspect in ratio, uniform position', () => {
    const rng = createRng(7, 0);
    const n = 20000;
    let areaSum = 0;
    let fallbacks = 0;
    const lefts = new Array(S).fill(0);
    let outside = 0;
    let minArea = 1;
    let minRatio = 10;
    let maxRatio = 0;
    for (let i = 0; i < n; i++) {
      const b = sampleResizedCrop(S, S, aug.randomResizedCrop!, rng);
      if (!(b.top >= 0 && b.left >= 0 && b.top + b.height <= S && b.left + b.width <= S)) outside++;
      const area = (b.width * b.height) / P;
      if (b.width === S && b.height === S) fallbacks++;
      // Rounding w and h to integers moves the area and ratio a little past the ranges.
      minArea = Math.min(minArea, area);
      minRatio = Math.min(minRatio, b.width / b.height);
      maxRatio = Math.max(maxRatio, b.width / b.height);
      areaSum += area;
      if (b.width === 16) lefts[b.left]++;
    }
    expect(outside).toBe(0);
    expect(minArea).toBeGreaterThanOrEqual(0.2 - 0.05);
    expect(minArea).toBeLessThan(0.22);
    expect(minRatio).toBeGreaterThanOrEqual(0.75 * (1 - 2 / (Math.sqrt(0.2) * S)) - 1e-9);
    expect(maxRatio).toBeLessThanOrEqual((4 / 3) * (1 + 2 / (Math.sqrt(0.2) * S)) + 1e-9);
    expect(minRatio).toBeLessThan(0.8);
    expect(maxRatio).toBeGreaterThan(1.25);
    // Area fraction ~ U(0.2, 1) minus the draws whose w or h exceed 32 (retried): mean a little under 0.6.
    expect(areaSum / n).toBeGreaterThan(0.52);
    expect(areaSum / n).toBeLessThan(0.6);
    expect(fallbacks / n).toBeLessThan(0.01);
    // Left offsets of 16-wide boxes are uniform on 0…16.
    const counts = lefts.slice(0, 17);
    const mean = counts.reduce((a, b) => a + b, 0) / 17;
    for (const c of counts) expect(Math.abs(c - mean)).toBeLessThan(5 * Math.sqrt(mean) + 5);
  });
});

describe('grayscale and jitter probability', () => {
  it('grayscale(p) turns about p of the images into their luma 0.299 R + 0.587 G + 0.114 B', () => {
    const aug = resolveAugment({ cropPadding: 0, horizontalFlip: false, grayscale: 0.3 })!;
    const scratch = createAugmentScratch();
    const plain = normalizeImages(dataset, { mean: [0, 0, 0], std: [1, 1, 1] });
    let grey = 0;
    const rng = createRng(3, 3);
    for (let k = 0; k < dataset.length; k++) {
      const out = new Float32Array(3 * P);
      augmentInto(dataset.images, k, S, S, 3, out, 0, unit, aug, rng, scratch);
      const src = plain.subarray(k * 3 * P, (k + 1) * 3 * P);
      const isGrey = out.subarray(0, P).every((v, p) => v === out[P + p] && v === out[2 * P + p]);
      let worst = 0;
      if (isGrey) {
        grey++;
        for (let p = 0; p < P; p++) worst = Math.max(worst, Math.abs(out[p] - (0.299 * src[p] + 0.587 * src[P + p] + 0.114 * src[2 * P + p])));
      } else {
        for (let i = 0; i < out.length; i++) worst = Math.max(worst, Math.abs(out[i] - src[i]));
      }
      expect(worst, `image ${k}`).toBeLessThan(1e-6);
    }
    // 200 images at p = 0.3: 60 ± 4.2σ.
    expect(grey).toBeGreaterThan(60 - 4.2 * Math.sqrt(200 * 0.3 * 0.7));
    expect(grey).toBeLessThan(60 + 4.2 * Math.sqrt(200 * 0.3 * 0.7));
  });

  it('colour jitter with probability 0.8 changes about 80 % of the images and keeps values in [0, 1]', () => {
    const aug = resolveAugment({
      cropPadding: 0,
      horizontalFlip: false,
      colourJitter: { brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1, probability: 0.8 },
    })!;
    const plain = normalizeImages(dataset, { mean: [0, 0, 0], std: [1, 1, 1] });
    const rng = createRng(4, 4);
    const scratch = createAugmentScratch();
    let changed = 0;
    for (let k = 0; k < dataset.length; k++) {
      const out = new Float32Array(3 * P);
      augmentInto(dataset.images, k, S, S, 3, out, 0, unit, aug, rng, scratch);
      expect(out.every((v) => v >= -1e-6 && v <= 1 + 1e-6)).toBe(true);
      if (out.some((v, i) => Math.abs(v - plain[k * 3 * P + i]) > 1e-6)) changed++;
    }
    expect(changed).toBeGreaterThan(160 - 4.2 * Math.sqrt(200 * 0.16));
    expect(changed).toBeLessThan(160 + 4.2 * Math.sqrt(200 * 0.16));
  });
});

describe('SUPCON_AUGMENT through the loader', () => {
  it('two views per sample, independently augmented, deterministic, within the normalised range', () => {
    const normalization = { mean: [0.4914, 0.4822, 0.4465], std: [0.2023, 0.1994, 0.201] };
    const make = () => createLoader(dataset, { batchSize: 16, seed: 2, twoViews: true, augment: SUPCON_AUGMENT, normalization });
    const batch = make().batch(0, 1);
    expect(batch.shape).toEqual([32, 3, 32, 32]);
    expect(make().batch(0, 1).images).toEqual(batch.images);
    const lo = Math.min(...normalization.mean.map((m, c) => -m / normalization.std[c]));
    const hi = Math.max(...normalization.mean.map((m, c) => (1 - m) / normalization.std[c]));
    let differing = 0;
    for (let i = 0; i < 16; i++) {
      const a = batch.images.subarray(i * 3 * P, (i + 1) * 3 * P);
      const b = batch.images.subarray((16 + i) * 3 * P, (17 + i) * 3 * P);
      if (a.some((v, k) => Math.abs(v - b[k]) > 1e-4)) differing++;
    }
    expect(differing).toBe(16);
    expect(batch.images.every((v) => v >= lo - 1e-5 && v <= hi + 1e-5)).toBe(true);
  });

  it('rejects contradictory or out-of-range options by name', () => {
    expect(() => resolveAugment({ randomResizedCrop: true, cropPadding: 4 })).toThrow(/augment.cropPadding/);
    expect(() => resolveAugment({ randomResizedCrop: { scale: [0.5, 0.2] } })).toThrow(/scale\[1\]/);
    expect(() => resolveAugment({ randomResizedCrop: { scale: [0, 1] } })).toThrow(/scale\[0\]/);
    expect(() => resolveAugment({ randomResizedCrop: { ratio: [1] as never } })).toThrow(/ratio/);
    expect(() => resolveAugment({ randomResizedCrop: { scales: [0.2, 1] } as never })).toThrow(/did you mean 'scale'/);
    expect(() => resolveAugment({ grayscale: 1.5 })).toThrow(DatasetArgumentError);
    const grey1 = { length: 2, height: 2, width: 2, channels: 1, images: new Uint8Array(8), labels: Int32Array.of(0, 1), biasLabels: Int32Array.of(0, 1) };
    expect(() => createLoader(grey1, { batchSize: 2, augment: { grayscale: 0.2 } })).toThrow(/augment.grayscale: needs RGB/);
    expect(() => createLoader(grey1, { batchSize: 2, augment: { randomResizedCrop: true } }).batch(0, 0)).not.toThrow();
  });
});
