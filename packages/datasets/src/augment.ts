/**
 * Augmentations for SimCLR/SupCon-style two-view training, fused with normalisation: each writes
 * one image straight from uint8 HWC into its slot of the float32 NCHW batch, so no intermediate
 * image is allocated.
 *
 * - random crop with zero padding (torchvision `RandomCrop(size, padding)`: pad by `padding`
 *   black pixels on every side, then crop the original size at a random offset);
 * - horizontal flip with probability 0.5;
 * - colour jitter (brightness, contrast, saturation, hue; applied in that fixed order, where
 *   torchvision randomises the order), OFF by default: it changes the background
 *   colour, which is the very bias Biased-MNIST measures.
 */
import { DatasetArgumentError, checkInteger, checkKnownOptions, checkNumber } from './errors.ts';
import type { Rng } from './prng.ts';

export interface ColourJitter {
  /** Brightness factor drawn from [1 − brightness, 1 + brightness]. */
  brightness?: number;
  /** Contrast factor drawn from [1 − contrast, 1 + contrast], around the image's mean grey. */
  contrast?: number;
  /** Saturation factor drawn from [1 − saturation, 1 + saturation], around each pixel's grey. */
  saturation?: number;
  /** Hue shift drawn from [−hue, hue] turns (at most 0.5). */
  hue?: number;
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
  if (options === undefined || options === false) return null;
  if (options !== true && (options === null || typeof options !== 'object')) {
    throw new DatasetArgumentError('augment', `expected true, false or an options object, got ${options === null ? 'null' : String(options)}`);
  }
  const o = options === true ? {} : options;
  checkKnownOptions('augment', o, ['cropPadding', 'horizontalFlip', 'colourJitter']);
  const cropPadding = checkInteger('augment.cropPadding', o.cropPadding ?? 4, 0, 64);
  const jitter = o.colourJitter;
  let colourJitter: Required<ColourJitter> | null = null;
  if (jitter !== undefined && jitter !== false && (jitter === null || typeof jitter !== 'object')) {
    throw new DatasetArgumentError('augment.colourJitter', `expected false or an options object, got ${String(jitter)}`);
  }
  if (jitter) {
    checkKnownOptions('augment.colourJitter', jitter, ['brightness', 'contrast', 'saturation', 'hue', 'probability']);
    colourJitter = {
      brightness: checkNumber('augment.colourJitter.brightness', jitter.brightness ?? 0, 0, 1),
      contrast: checkNumber('augment.colourJitter.contrast', jitter.contrast ?? 0, 0, 1),
      saturation: checkNumber('augment.colourJitter.saturation', jitter.saturation ?? 0, 0, 1),
      hue: checkNumber('augment.colourJitter.hue', jitter.hue ?? 0, 0, 0.5),
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
  /** Per-image byte → jittered [0, 1] value. */
  byteTable: Float32Array;
  /** Output of the hue rotation, to avoid allocating per pixel. */
  rgb: Float64Array;
}

export function createAugmentScratch(): AugmentScratch {
  return { floats: new Float32Array(0), byteTable: new Float32Array(256), rgb: new Float64Array(3) };
}

/**
 * Augments image `index` of `images` (uint8, HWC, `channels` = 3 for jitter) and writes it
 * normalised into `out` at float offset `target` (CHW).
 */
export function augmentInto(
  images: Uint8Array,
  index: number,
  height: number,
  width: number,
  channels: number,
  out: Float32Array,
  target: number,
  table: Float32Array,
  aug: ResolvedAugment,
  rng: Rng,
  scratch: AugmentScratch,
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
      // Zero padding maps to the table's value for byte 0.
      cropFlipChannel(images, source, channels, c, height, width, dy, dx, flip, table, c * 256, table[c * 256], out, target + c * pixels);
    }
    return;
  }
  jitterInto(images, source, height, width, channels, out, target, table, jitter, dy, dx, flip, rng, scratch);
}

/**
 * Writes channel c of the cropped (offset dy, dx) and optionally flipped image through a lookup
 * table: out[o + y·W + x] = lut[lutOffset + byte at (y + dy, sx)] with sx = x + dx, or
 * W − 1 − x + dx when flipped (flip after crop, as torchvision), and padValue outside the image.
 * The in-bounds column range is computed once per call so the inner loop has no bounds checks.
 */
function cropFlipChannel(
  images: Uint8Array,
  source: number,
  channels: number,
  c: number,
  height: number,
  width: number,
  dy: number,
  dx: number,
  flip: boolean,
  lut: Float32Array,
  lutOffset: number,
  padValue: number,
  out: Float32Array,
  o: number,
): void {
  const xStart = flip ? Math.max(0, dx) : Math.max(0, -dx);
  const xEnd = flip ? Math.min(width, width + dx) : Math.min(width, width - dx);
  const step = flip ? -channels : channels;
  for (let y = 0; y < height; y++, o += width) {
    const sy = y + dy;
    if (sy < 0 || sy >= height || xStart >= xEnd) {
      out.fill(padValue, o, o + width);
      continue;
    }
    if (xStart > 0) out.fill(padValue, o, o + xStart);
    let s = source + sy * width * channels + c + (flip ? width - 1 - xStart + dx : xStart + dx) * channels;
    for (let x = xStart; x < xEnd; x++, s += step) out[o + x] = lut[lutOffset + images[s]];
    if (xEnd < width) out.fill(padValue, o + xEnd, o + width);
  }
}

function jitterInto(
  images: Uint8Array,
  source: number,
  height: number,
  width: number,
  channels: number,
  out: Float32Array,
  target: number,
  table: Float32Array,
  jitter: Required<ColourJitter>,
  dy: number,
  dx: number,
  flip: boolean,
  rng: Rng,
  scratch: AugmentScratch,
): void {
  const pixels = height * width;
  // Colour jitter, fused into two passes: brightness goes into a per-image byte → [0, 1] table used
  // by the gather, which also sums each channel (luma is linear, so the mean grey that contrast needs
  // follows from the sums); contrast, saturation, hue and normalisation then run in one pixel pass.
  const brightness = factor(jitter.brightness, rng);
  const contrast = factor(jitter.contrast, rng);
  const saturation = factor(jitter.saturation, rng);
  const hueShift = jitter.hue > 0 ? (2 * rng.nextFloat() - 1) * jitter.hue : 0;
  if (scratch.floats.length < pixels * channels) scratch.floats = new Float32Array(pixels * channels);
  const f = scratch.floats;
  const byteTable = scratch.byteTable;
  for (let v = 0; v < 256; v++) byteTable[v] = Math.min(1, (v / 255) * brightness);
  const sums = [0, 0, 0];
  for (let c = 0; c < channels; c++) {
    cropFlipChannel(images, source, channels, c, height, width, dy, dx, flip, byteTable, 0, 0, f, c * pixels);
    if (c < 3) {
      let sum = 0;
      for (let p = c * pixels; p < (c + 1) * pixels; p++) sum += f[p];
      sums[c] = sum;
    }
  }
  if (channels !== 3) {
    // Contrast, saturation and hue are defined on RGB; other images only get brightness.
    for (let c = 0; c < channels; c++) {
      const zero = table[c * 256];
      const span = table[c * 256 + 255] - zero;
      for (let p = 0; p < pixels; p++) out[target + c * pixels + p] = zero + f[c * pixels + p] * span;
    }
    return;
  }
  const meanGrey = (0.299 * sums[0] + 0.587 * sums[1] + 0.114 * sums[2]) / pixels;
  const zeroR = table[0];
  const spanR = table[255] - zeroR;
  const zeroG = table[256];
  const spanG = table[511] - zeroG;
  const zeroB = table[512];
  const spanB = table[767] - zeroB;
  const rgb = scratch.rgb;
  let lastR = -1;
  let lastG = -1;
  let lastB = -1;
  for (let p = 0; p < pixels; p++) {
    let r = f[p];
    let g = f[pixels + p];
    let b = f[2 * pixels + p];
    if (contrast !== 1) {
      r = clamp01(meanGrey + contrast * (r - meanGrey));
      g = clamp01(meanGrey + contrast * (g - meanGrey));
      b = clamp01(meanGrey + contrast * (b - meanGrey));
    }
    if (saturation !== 1) {
      const luma = 0.299 * r + 0.587 * g + 0.114 * b;
      r = clamp01(luma + saturation * (r - luma));
      g = clamp01(luma + saturation * (g - luma));
      b = clamp01(luma + saturation * (b - luma));
    }
    if (hueShift !== 0) {
      // Images here are mostly runs of one colour (background, white strokes), so remembering the
      // last conversion skips most of the HSV round trips.
      if (r !== lastR || g !== lastG || b !== lastB) {
        lastR = r;
        lastG = g;
        lastB = b;
        rotateHue(r, g, b, hueShift, rgb);
      }
      r = rgb[0];
      g = rgb[1];
      b = rgb[2];
    }
    out[target + p] = zeroR + r * spanR;
    out[target + pixels + p] = zeroG + g * spanG;
    out[target + 2 * pixels + p] = zeroB + b * spanB;
  }
}

/** RGB → HSV, hue + shift (in turns, wrapped), → RGB; as torchvision's adjust_hue. Writes `result`. */
function rotateHue(r: number, g: number, b: number, shift: number, result: Float64Array): void {
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const chroma = max - min;
  if (chroma === 0) {
    result[0] = r;
    result[1] = g;
    result[2] = b;
    return;
  }
  let hue: number;
  if (max === r) hue = (g - b) / chroma / 6;
  else if (max === g) hue = ((b - r) / chroma + 2) / 6;
  else hue = ((r - g) / chroma + 4) / 6;
  hue = (((hue + shift) % 1) + 1) % 1;
  const saturation = chroma / max;
  const h6 = hue * 6;
  const sector = Math.floor(h6) % 6;
  const fraction = h6 - Math.floor(h6);
  const p = max * (1 - saturation);
  const q = max * (1 - saturation * fraction);
  const t = max * (1 - saturation * (1 - fraction));
  switch (sector) {
    case 0:
      result[0] = max;
      result[1] = t;
      result[2] = p;
      break;
    case 1:
      result[0] = q;
      result[1] = max;
      result[2] = p;
      break;
    case 2:
      result[0] = p;
      result[1] = max;
      result[2] = t;
      break;
    case 3:
      result[0] = p;
      result[1] = q;
      result[2] = max;
      break;
    case 4:
      result[0] = t;
      result[1] = p;
      result[2] = max;
      break;
    default:
      result[0] = max;
      result[1] = p;
      result[2] = q;
  }
}

function factor(amount: number, rng: Rng): number {
  return amount > 0 ? 1 - amount + 2 * amount * rng.nextFloat() : 1;
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}
