/**
 * Image resampling with PIL's BILINEAR filter (`Image.resize(size, Image.BILINEAR)`, which
 * torchvision's Resize and RandomResizedCrop call on PIL images): a triangle filter on pixel centres
 * (output pixel x samples the input at (x + 0.5)·scale − 0.5), widened by the scale factor when
 * shrinking, so downscaling averages every covered pixel (antialiasing) instead of skipping pixels.
 * Weights are normalised over the taps inside the image, which at the borders amounts to
 * clamping to the edge. Separable: a horizontal pass, then a vertical one.
 */
import { DatasetArgumentError, checkInteger } from './errors.ts';

/** The taps of each output coordinate: input indices start[o] … start[o] + count[o] − 1 with weights[o·taps + k]. */
export interface ResampleWeights {
  outSize: number;
  taps: number;
  start: Int32Array;
  count: Int32Array;
  weights: Float64Array;
}

/**
 * PIL's `precompute_coeffs` for the bilinear filter: output coordinates 0 … outSize − 1 cover input
 * coordinates [from, to) (a crop box; 0 and inSize for the whole image).
 */
export function resampleWeights(inSize: number, from: number, to: number, outSize: number): ResampleWeights {
  checkInteger('inSize', inSize, 1, 1 << 24);
  checkInteger('outSize', outSize, 1, 1 << 24);
  if (!(from >= 0 && to <= inSize && to > from)) throw new DatasetArgumentError('box', `expected 0 ≤ from < to ≤ ${inSize}, got [${from}, ${to})`);
  const scale = (to - from) / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale; // the bilinear filter's support is 1
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * taps);
  for (let o = 0; o < outSize; o++) {
    const centre = from + (o + 0.5) * scale;
    const lo = Math.max(Math.trunc(centre - support + 0.5), 0);
    const n = Math.min(Math.trunc(centre + support + 0.5), inSize) - lo;
    let total = 0;
    for (let k = 0; k < n; k++) {
      const t = Math.abs((k + lo - centre + 0.5) / filterScale);
      const w = t < 1 ? 1 - t : 0;
      weights[o * taps + k] = w;
      total += w;
    }
    if (total > 0) for (let k = 0; k < n; k++) weights[o * taps + k] /= total;
    start[o] = lo;
    count[o] = n;
  }
  return { outSize, taps, start, count, weights };
}

export interface RgbImage {
  width: number;
  height: number;
  /** width·height·channels bytes, HWC. */
  pixels: Uint8Array;
  channels: number;
}

/**
 * Resizes the box [x0, x1) × [y0, y1) of an HWC uint8 image (default the whole image) to
 * outWidth × outHeight with PIL's bilinear filter; each pass rounds to bytes as PIL does, so
 * results agree with PIL to ±1 (PIL uses 22-bit fixed-point weights).
 */
export function resizeImage(
  image: RgbImage,
  outWidth: number,
  outHeight: number,
  box: { x0: number; y0: number; x1: number; y1: number } = { x0: 0, y0: 0, x1: image.width, y1: image.height },
): Uint8Array {
  const { width, height, pixels, channels } = image;
  checkInteger('image.width', width, 1, 1 << 24);
  checkInteger('image.height', height, 1, 1 << 24);
  checkInteger('image.channels', channels, 1, 4);
  if (!(pixels instanceof Uint8Array) || pixels.length !== width * height * channels) {
    throw new DatasetArgumentError('image.pixels', `expected ${width}·${height}·${channels} bytes, got ${pixels?.length}`);
  }
  const wx = resampleWeights(width, box.x0, box.x1, outWidth);
  const wy = resampleWeights(height, box.y0, box.y1, outHeight);
  // Horizontal pass over the rows the vertical pass reads.
  const rowFrom = wy.start[0];
  const rowTo = wy.start[outHeight - 1] + wy.count[outHeight - 1];
  const rows = rowTo - rowFrom;
  const mid = new Uint8Array(rows * outWidth * channels);
  for (let y = 0; y < rows; y++) {
    const srcRow = (rowFrom + y) * width * channels;
    for (let x = 0; x < outWidth; x++) {
      const lo = wx.start[x];
      for (let c = 0; c < channels; c++) {
        let s = 0;
        for (let k = 0; k < wx.count[x]; k++) s += wx.weights[x * wx.taps + k] * pixels[srcRow + (lo + k) * channels + c];
        mid[(y * outWidth + x) * channels + c] = toByte(s);
      }
    }
  }
  const out = new Uint8Array(outHeight * outWidth * channels);
  for (let y = 0; y < outHeight; y++) {
    const lo = wy.start[y] - rowFrom;
    for (let x = 0; x < outWidth; x++) {
      for (let c = 0; c < channels; c++) {
        let s = 0;
        for (let k = 0; k < wy.count[y]; k++) s += wy.weights[y * wy.taps + k] * mid[((lo + k) * outWidth + x) * channels + c];
        out[(y * outWidth + x) * channels + c] = toByte(s);
      }
    }
  }
  return out;
}

function toByte(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.floor(v + 0.5);
}
