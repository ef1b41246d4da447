/**
 * Augmentations for SimCLR/SupCon-style two-view training, fused with normalisation: each writes
 * one image straight from uint8 HWC into its slot of the float32 NCHW batch, so no intermediate
 * image is allocated.
 *
 * - random crop with zero padding (torchvision `RandomCrop(size, padding)`: pad by `padding`
 *   black pixels on every side, then crop the original size at a random offset);
 * - or random resized crop (torchvision `RandomResizedCrop(size, scale, ratio)`, the SimCLR/SupCon
 *   crop): a box of a random area fraction in `scale` and aspect ratio in `ratio` (log-uniform),
 *   10 tries then the central crop, resampled back to the image size with the bilinear filter of
 *   resize.ts (in float, without PIL's rounding to bytes);
 * - horizontal flip with probability 0.5;
 * - colour jitter (brightness, contrast, saturation, hue; applied in that fixed order, where
 *   torchvision randomises the order), OFF by default: it changes the background
 *   colour, which is the very bias Biased-MNIST measures;
 * - random grayscale (torchvision `RandomGrayscale(p)`: L = 0.299 R + 0.587 G + 0.114 B in every
 *   channel), after the jitter, RGB only.
 *
 * The SupCon/SimCLR CIFAR recipe is `{ randomResizedCrop: { scale: [0.2, 1] }, horizontalFlip: true,
 * colourJitter: { brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1, probability: 0.8 },
 * grayscale: 0.2 }` (SUPCON_AUGMENT).
 */
import { DatasetArgumentError, checkInteger, checkKnownOptions, checkNumber } from './errors.ts';
import type { Rng } from './prng.ts';
import { resampleWeights } from './resize.ts';
import type { ResampleWeights } from './resize.ts';

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

export interface RandomResizedCrop {
  /** Range of the crop's area as a fraction of the image; default [0.08, 1] (torchvision's). */
  scale?: readonly [number, number];
  /** Range of the crop's aspect ratio width/height, drawn log-uniformly; default [3/4, 4/3]. */
  ratio?: readonly [number, number];
}

export interface AugmentOptions {
  /** Zero padding for the random crop; default 4 (0 disables cropping), 0 with randomResizedCrop. */
  cropPadding?: number;
  /** Random resized crop instead of the padded crop; true for torchvision's defaults. Default off. */
  randomResizedCrop?: RandomResizedCrop | boolean;
  /** Random horizontal flip; default true. */
  horizontalFlip?: boolean;
  /** Off by default (see module comment). */
  colourJitter?: ColourJitter | false;
  /** Probability of converting an image to grayscale (RGB only); default 0. */
  grayscale?: number;
}

export interface ResolvedAugment {
  cropPadding: number;
  randomResizedCrop: { scale: [number, number]; logRatio: [number, number] } | null;
  horizontalFlip: boolean;
  colourJitter: Required<ColourJitter> | null;
  grayscale: number;
}

/** The SupCon / SimCLR CIFAR training augmentation (HobbitLong/SupContrast `main_supcon.py`). */
export const SUPCON_AUGMENT: Readonly<AugmentOptions> = Object.freeze({
  randomResizedCrop: { scale: [0.2, 1] as const },
  horizontalFlip: true,
  colourJitter: { brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1, probability: 0.8 },
  grayscale: 0.2,
});

export function resolveAugment(options: AugmentOptions | boolean | undefined): ResolvedAugment | null {
  if (options === undefined || options === false) return null;
  if (options !== true && (options === null || typeof options !== 'object')) {
    throw new DatasetArgumentError('augment', `expected true, false or an options object, got ${options === null ? 'null' : String(options)}`);
  }
  const o = options === true ? {} : options;
  checkKnownOptions('augment', o, ['cropPadding', 'randomResizedCrop', 'horizontalFlip', 'colourJitter', 'grayscale']);
  const randomResizedCrop = resolveResizedCrop(o.randomResizedCrop);
  const cropPadding = checkInteger('augment.cropPadding', o.cropPadding ?? (randomResizedCrop ? 0 : 4), 0, 64);
  if (randomResizedCrop && cropPadding > 0) throw new DatasetArgumentError('augment.cropPadding', 'must be 0 with randomResizedCrop (one crop or the other)');
  const grayscale = checkNumber('augment.grayscale', o.grayscale ?? 0, 0, 1);
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
  return { cropPadding, randomResizedCrop, horizontalFlip: o.horizontalFlip ?? true, colourJitter, grayscale };
}

function resolveResizedCrop(value: RandomResizedCrop | boolean | undefined): ResolvedAugment['randomResizedCrop'] {
  if (value === undefined || value === false) return null;
  if (value !== true && (value === null || typeof value !== 'object')) {
    throw new DatasetArgumentError('augment.randomResizedCrop', `expected true, false or { scale, ratio }, got ${String(value)}`);
  }
  const o = value === true ? {} : value;
  checkKnownOptions('augment.randomResizedCrop', o, ['scale', 'ratio']);
  const pair = (name: string, v: unknown, fallback: [number, number], max: number): [number, number] => {
    if (v === undefined) return fallback;
    if (!Array.isArray(v) || v.length !== 2) throw new DatasetArgumentError(`augment.randomResizedCrop.${name}`, 'expected [min, max]');
    const lo = checkNumber(`augment.randomResizedCrop.${name}[0]`, v[0], Number.MIN_VALUE, max);
    const hi = checkNumber(`augment.randomResizedCrop.${name}[1]`, v[1], lo, max);
    return [lo, hi];
  };
  const scale = pair('scale', o.scale, [0.08, 1], 1);
  const ratio = pair('ratio', o.ratio, [3 / 4, 4 / 3], 100);
  return { scale, logRatio: [Math.log(ratio[0]), Math.log(ratio[1])] };
}

/** A crop box (top, left, height, width), as torchvision's RandomResizedCrop.get_params returns. */
export interface CropBox {
  top: number;
  left: number;
  height: number;
  width: number;
}

/** torchvision's RandomResizedCrop.get_params: 10 tries at a random area and log-uniform ratio, else the central crop. */
export function sampleResizedCrop(height: number, width: number, params: NonNullable<ResolvedAugment['randomResizedCrop']>, rng: Rng): CropBox {
  const area = height * width;
  const [s0, s1] = params.scale;
  const [r0, r1] = params.logRatio;
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * (s0 + (s1 - s0) * rng.nextFloat());
    const aspect = Math.exp(r0 + (r1 - r0) * rng.nextFloat());
    const w = roundHalfEven(Math.sqrt(target * aspect));
    const h = roundHalfEven(Math.sqrt(target / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      return { top: rng.nextInt(height - h + 1), left: rng.nextInt(width - w + 1), height: h, width: w };
    }
  }
  const inRatio = width / height;
  const minRatio = Math.exp(r0);
  const maxRatio = Math.exp(r1);
  let w = width;
  let h = height;
  if (inRatio < minRatio) h = roundHalfEven(w / minRatio);
  else if (inRatio > maxRatio) w = roundHalfEven(h * maxRatio);
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w };
}

/** Python's round(): ties to even. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v - Math.trunc(v)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Reusable per-loader scratch space for colour jitter (3·H·W floats). */
export interface AugmentScratch {
  floats: Float32Array;
  /** Per-image byte → jittered [0, 1] value. */
  byteTable: Float32Array;
  /** Output of the hue rotation, to avoid allocating per pixel. */
  rgb: Float64Array;
  /** The resized crop's horizontal pass (crop rows × W × C). */
  rows: Float32Array;
}

export function createAugmentScratch(): AugmentScratch {
  return { floats: new Float32Array(0), byteTable: new Float32Array(256), rgb: new Float64Array(3), rows: new Float32Array(0) };
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
  // Random draws in a fixed order (crop, flip, jitter, grayscale), each only when its option is on,
  // so adding an option never changes the stream of the others.
  const crop = aug.randomResizedCrop ? sampleResizedCrop(height, width, aug.randomResizedCrop, rng) : null;
  // Offset of the crop window inside the padded image, relative to the original's origin.
  const dy = pad > 0 ? rng.nextInt(2 * pad + 1) - pad : 0;
  const dx = pad > 0 ? rng.nextInt(2 * pad + 1) - pad : 0;
  const flip = aug.horizontalFlip && rng.nextUint32() < 0x80000000;
  const pixels = height * width;
  const source = index * pixels * channels;
  const jitter = aug.colourJitter && rng.nextFloat() < aug.colourJitter.probability ? drawJitter(aug.colourJitter, rng) : null;
  const grey = aug.grayscale > 0 && rng.nextFloat() < aug.grayscale;

  if (!jitter && !grey && !crop) {
    for (let c = 0; c < channels; c++) {
      // Zero padding maps to the table's value for byte 0.
      cropFlipChannel(images, source, channels, c, height, width, dy, dx, flip, table, c * 256, table[c * 256], out, target + c * pixels);
    }
    return;
  }
  colourInto(images, source, height, width, channels, out, target, table, jitter, grey, crop, dy, dx, flip, scratch);
}

/** One image's jitter factors, drawn in torchvision's parameter order (brightness, contrast, saturation, hue). */
interface JitterDraw {
  brightness: number;
  contrast: number;
  saturation: number;
  hueShift: number;
}

function drawJitter(jitter: Required<ColourJitter>, rng: Rng): JitterDraw {
  const brightness = factor(jitter.brightness, rng);
  const contrast = factor(jitter.contrast, rng);
  const saturation = factor(jitter.saturation, rng);
  const hueShift = jitter.hue > 0 ? (2 * rng.nextFloat() - 1) * jitter.hue : 0;
  return { brightness, contrast, saturation, hueShift };
}

/**
 * The resized crop of `box`, flipped when asked, as [0, 1] floats in CHW at `f`: PIL's order (crop,
 * then resize the crop, so the filter clamps at the crop's edges), horizontal pass then vertical.
 */
function resizedCropInto(
  images: Uint8Array,
  source: number,
  height: number,
  width: number,
  channels: number,
  box: CropBox,
  flip: boolean,
  f: Float32Array,
  scratch: AugmentScratch,
): void {
  const wx: ResampleWeights = resampleWeights(box.width, 0, box.width, width);
  const wy: ResampleWeights = resampleWeights(box.height, 0, box.height, height);
  const rowsNeeded = box.height * width * channels;
  if (scratch.rows.length < rowsNeeded) scratch.rows = new Float32Array(rowsNeeded);
  const rows = scratch.rows;
  for (let y = 0; y < box.height; y++) {
    const srcRow = source + (box.top + y) * width * channels;
    for (let x = 0; x < width; x++) {
      // Flip after the crop and resize, as torchvision's pipeline: output column x reads column W − 1 − x.
      const sx = flip ? width - 1 - x : x;
      const lo = box.left + wx.start[sx];
      for (let c = 0; c < channels; c++) {
        let acc = 0;
        for (let k = 0; k < wx.count[sx]; k++) acc += wx.weights[sx * wx.taps + k] * images[srcRow + (lo + k) * channels + c];
        rows[(y * width + x) * channels + c] = acc / 255;
      }
    }
  }
  const pixels = height * width;
  for (let y = 0; y < height; y++) {
    const lo = wy.start[y];
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        let acc = 0;
        for (let k = 0; k < wy.count[y]; k++) acc += wy.weights[y * wy.taps + k] * rows[((lo + k) * width + x) * channels + c];
        f[c * pixels + y * width + x] = acc;
      }
    }
  }
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

function colourInto(
  images: Uint8Array,
  source: number,
  height: number,
  width: number,
  channels: number,
  out: Float32Array,
  target: number,
  table: Float32Array,
  jitter: JitterDraw | null,
  grey: boolean,
  crop: CropBox | null,
  dy: number,
  dx: number,
  flip: boolean,
  scratch: AugmentScratch,
): void {
  const pixels = height * width;
  // Colour jitter, fused into two passes: brightness goes into a per-image byte → [0, 1] table used
  // by the gather (or multiplies the resized crop), which also sums each channel (luma is linear, so
  // the mean grey that contrast needs follows from the sums); contrast, saturation, hue, grayscale
  // and normalisation then run in one pixel pass.
  const brightness = jitter ? jitter.brightness : 1;
  const contrast = jitter ? jitter.contrast : 1;
  const saturation = jitter ? jitter.saturation : 1;
  const hueShift = jitter ? jitter.hueShift : 0;
  if (scratch.floats.length < pixels * channels) scratch.floats = new Float32Array(pixels * channels);
  const f = scratch.floats;
  if (crop) {
    resizedCropInto(images, source, height, width, channels, crop, flip, f, scratch);
    if (brightness !== 1) for (let p = 0; p < pixels * channels; p++) f[p] = Math.min(1, f[p] * brightness);
  } else {
    const byteTable = scratch.byteTable;
    for (let v = 0; v < 256; v++) byteTable[v] = Math.min(1, (v / 255) * brightness);
    for (let c = 0; c < channels; c++) cropFlipChannel(images, source, channels, c, height, width, dy, dx, flip, byteTable, 0, 0, f, c * pixels);
  }
  const sums = [0, 0, 0];
  for (let c = 0; c < Math.min(channels, 3); c++) {
    let sum = 0;
    for (let p = c * pixels; p < (c + 1) * pixels; p++) sum += f[p];
    sums[c] = sum;
  }
  if (channels !== 3) {
    // Contrast, saturation, hue and grayscale are defined on RGB; other images only get brightness.
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
    if (grey) {
      const luma = 0.299 * r + 0.587 * g + 0.114 * b;
      r = luma;
      g = luma;
      b = luma;
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
