/**
 * Augmentations for SimCLR/SupCon-style two-view training, fused with normalisation: each writes
 * one image straight from uint8 HWC into its slot of the float32 NCHW batch, so no intermediate
 * image is allocated.
 *
 * - random crop with zero padding (torchvision `RandomCrop(size, padding)`: pad by `padding`
 *   black pixels on every side, then crop the original size at a random offset);
 * - horizontal flip with probability 0.5;
 * - colour jitter (brightness, contrast, saturation), OFF by default: it changes the background
 *   colour, which is the very bias Biased-MNIST measures.
 */
import { DatasetArgumentError, checkInteger, checkNumber } from './errors.ts';
import type { Rng } from './prng.ts';

export interface ColourJitter {
  /** Brightness factor drawn from [1 − brightness, 1 + brightness]. */
  brightness?: number;
  /** Contrast factor drawn from [1 − contrast, 1 + contrast], around the image's mean grey. */
  contrast?: number;
  /** Saturation factor drawn from [1 − saturation, 1 + saturation], around each pixel's grey. */
  saturation?: number;
  /** Probability of jittering an image at all; default 1. */
  probability?: number;
}

export interface AugmentOptions {
  /** Zero padding for the random crop; default 4 (0 disables cropping). */
  cropPadding?: number;
  /** Random horizontal flip; default true. */
  horizontalFlip?: boolean;
  /** Off by default (see module comment). */
  colourJitter?: ColourJitter | false;
}

export interface ResolvedAugment {
  cropPadding: number;
  horizontalFlip: boolean;
  colourJitter: Required<ColourJitter> | null;
}

export function resolveAugment(options: AugmentOptions | boolean | undefined): ResolvedAugment | null {
  if (!options) return null;
  const o = options === true ? {} : options;
  const cropPadding = checkInteger('augment.cropPadding', o.cropPadding ?? 4, 0, 64);
  const jitter = o.colourJitter;
  let colourJitter: Required<ColourJitter> | null = null;
  if (jitter) {
    colourJitter = {
      brightness: checkNumber('augment.colourJitter.brightness', jitter.brightness ?? 0, 0, 1),
      contrast: checkNumber('augment.colourJitter.contrast', jitter.contrast ?? 0, 0, 1),
      saturation: checkNumber('augment.colourJitter.saturation', jitter.saturation ?? 0, 0, 1),
      probability: checkNumber('augment.colourJitter.probability', jitter.probability ?? 1, 0, 1),
    };
  }
  if (o.horizontalFlip !== undefined && typeof o.horizontalFlip !== 'boolean') {
    throw new DatasetArgumentError('augment.horizontalFlip', 'expected a boolean');
  }
  return { cropPadding, horizontalFlip: o.horizontalFlip ?? true, colourJitter };
}

/** Reusable per-loader scratch space for colour jitter (3·H·W floats). */
export interface AugmentScratch {
  floats: Float32Array;
}

/**
 * Augments image `index` of `images` (uint8, HWC, `channels` = 3 for jitter) and writes it
 * normalised into `out` at float offset `target` (CHW).
 */
export function augmentInto(
  images: Uint8Array, index: number, height: number, width: number, channels: number,
  out: Float32Array, target: number, table: Float32Array, aug: ResolvedAugment, rng: Rng, scratch: AugmentScratch,
): void {
  const pad = aug.cropPadding;
  // Offset of the crop window inside the padded image, relative to the original's origin.
  const dy = pad > 0 ? rng.nextInt(2 * pad + 1) - pad : 0;
  const dx = pad > 0 ? rng.nextInt(2 * pad + 1) - pad : 0;
  const flip = aug.horizontalFlip && rng.nextUint32() < 0x80000000;
  const pixels = height * width;
  const source = index * pixels * channels;
  const jitter = aug.colourJitter && rng.nextFloat() < aug.colourJitter.probability ? aug.colourJitter : null;

  if (!jitter) {
    for (let c = 0; c < channels; c++) {
      const tableOffset = c * 256;
      const padValue = table[tableOffset]; // zero padding, normalised
      let o = target + c * pixels;
      for (let y = 0; y < height; y++) {
        const sy = y + dy;
        if (sy < 0 || sy >= height) {
          out.fill(padValue, o, o + width);
          o += width;
          continue;
        }
        const row = source + sy * width * channels + c;
        for (let x = 0; x < width; x++, o++) {
          const sx = (flip ? width - 1 - x : x) + dx;
          out[o] = sx >= 0 && sx < width ? table[tableOffset + images[row + sx * channels]] : padValue;
        }
      }
    }
    return;
  }

  // Colour jitter works on [0, 1] floats: gather the cropped/flipped image, jitter, then normalise
  // using the table's affine map (value = table[0] + v·(table[255] − table[0])).
  if (scratch.floats.length < pixels * channels) scratch.floats = new Float32Array(pixels * channels);
  const f = scratch.floats;
  for (let c = 0; c < channels; c++) {
    let o = c * pixels;
    for (let y = 0; y < height; y++) {
      const sy = y + dy;
      if (sy < 0 || sy >= height) {
        f.fill(0, o, o + width);
        o += width;
        continue;
      }
      const row = source + sy * width * channels + c;
      for (let x = 0; x < width; x++, o++) {
        const sx = (flip ? width - 1 - x : x) + dx;
        f[o] = sx >= 0 && sx < width ? UNIT[images[row + sx * channels]] : 0;
      }
    }
  }
  applyColourJitter(f, pixels, channels, jitter, rng);
  for (let c = 0; c < channels; c++) {
    const zero = table[c * 256];
    const span = table[c * 256 + 255] - zero;
    const o = target + c * pixels;
    for (let p = 0; p < pixels; p++) out[o + p] = zero + f[c * pixels + p] * span;
  }
}

/** v / 255 for every byte value. */
const UNIT = Float32Array.from({ length: 256 }, (_, v) => v / 255);

function factor(amount: number, rng: Rng): number {
  return amount > 0 ? 1 - amount + 2 * amount * rng.nextFloat() : 1;
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/** Brightness, then contrast, then saturation (torchvision randomises the order; we fix it). */
function applyColourJitter(f: Float32Array, pixels: number, channels: number, jitter: Required<ColourJitter>, rng: Rng): void {
  const brightness = factor(jitter.brightness, rng);
  const contrast = factor(jitter.contrast, rng);
  const saturation = factor(jitter.saturation, rng);
  const n = pixels * channels;
  if (brightness !== 1) for (let i = 0; i < n; i++) f[i] = clamp01(f[i] * brightness);
  if (channels !== 3) return;
  if (contrast !== 1) {
    let meanGrey = 0;
    for (let p = 0; p < pixels; p++) meanGrey += grey(f, p, pixels);
    meanGrey /= pixels;
    for (let i = 0; i < n; i++) f[i] = clamp01(meanGrey + contrast * (f[i] - meanGrey));
  }
  if (saturation !== 1) {
    for (let p = 0; p < pixels; p++) {
      const r = f[p];
      const g = f[pixels + p];
      const b = f[2 * pixels + p];
      const luma = 0.299 * r + 0.587 * g + 0.114 * b;
      f[p] = clamp01(luma + saturation * (r - luma));
      f[pixels + p] = clamp01(luma + saturation * (g - luma));
      f[2 * pixels + p] = clamp01(luma + saturation * (b - luma));
    }
  }
}

/** ITU-R 601 luma, as torchvision's rgb_to_grayscale. */
function grey(f: Float32Array, p: number, pixels: number): number {
  return 0.299 * f[p] + 0.587 * f[pixels + p] + 0.114 * f[2 * pixels + p];
}
