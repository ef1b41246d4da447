/**
 * PNG decoding through pngjs, wrapped so that (a) every failure surfaces as a DatasetFormatError
 * and (b) the image size in the IHDR chunk is checked against a cap BEFORE pngjs allocates the
 * output bitmap (pngjs trusts the header, so a 2^31 × 2^31 header would otherwise be attempted).
 *
 * pngjs depends on Node's zlib and stream modules, so this module is exported from
 * `@fairgpu/datasets/node`, not from the runtime-neutral entry point.
 */
import { inflateSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { DatasetFormatError, checkInteger, checkKnownOptions } from './errors.ts';

export interface DecodedImage {
  width: number;
  height: number;
  /** width·height·3 bytes, RGB, row-major (HWC). Alpha is dropped; grey is expanded to RGB. */
  rgb: Uint8Array;
}

export interface PngDecodeOptions {
  /** Largest accepted width·height; default 4096·4096. */
  maxPixels?: number;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const DEFAULT_MAX_PIXELS = 4096 * 4096;

/** Reads width and height from the IHDR chunk, validating the signature and chunk framing. */
export function readPngSize(bytes: Uint8Array): { width: number; height: number } {
  if (!(bytes instanceof Uint8Array)) throw new DatasetFormatError('png', 'input must be a Uint8Array');
  if (bytes.length < 33) throw new DatasetFormatError('png', `file of ${bytes.length} bytes is too short for a signature and IHDR chunk`);
  for (let i = 0; i < SIGNATURE.length; i++) {
    if (bytes[i] !== SIGNATURE[i]) throw new DatasetFormatError('png', 'bad signature');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ihdrLength = view.getUint32(8, false);
  const type = String.fromCharCode(bytes[12], bytes[13], bytes[14], bytes[15]);
  if (type !== 'IHDR' || ihdrLength !== 13) throw new DatasetFormatError('png', 'first chunk is not a 13-byte IHDR');
  const width = view.getUint32(16, false);
  const height = view.getUint32(20, false);
  if (width === 0 || height === 0) throw new DatasetFormatError('png', `IHDR declares an empty ${width}×${height} image`);
  return { width, height };
}

export function decodePng(bytes: Uint8Array, options: PngDecodeOptions = {}): DecodedImage {
  checkKnownOptions('options', options, ['maxPixels']);
  const maxPixels = checkInteger('maxPixels', options?.maxPixels ?? DEFAULT_MAX_PIXELS, 1, Number.MAX_SAFE_INTEGER);
  const { width, height } = readPngSize(bytes);
  if (width * height > maxPixels) {
    throw new DatasetFormatError('png', `IHDR declares ${width}×${height} pixels, more than maxPixels = ${maxPixels}`);
  }
  if (bytes[28] === 1) checkInterlacedInflateSize(bytes, width, height);
  let rgba: Uint8Array;
  try {
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const png = PNG.sync.read(buffer);
    if (png.width !== width || png.height !== height || png.data.length !== width * height * 4) {
      throw new Error(`decoder returned ${png.width}×${png.height} with ${png.data.length} bytes`);
    }
    rgba = png.data;
  } catch (cause) {
    if (cause instanceof DatasetFormatError) throw cause;
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new DatasetFormatError('png', `cannot decode: ${reason}`, { cause });
  }
  const rgb = new Uint8Array(width * height * 3);
  for (let p = 0, q = 0; q < rgb.length; p += 4, q += 3) {
    rgb[q] = rgba[p];
    rgb[q + 1] = rgba[p + 1];
    rgb[q + 2] = rgba[p + 2];
  }
  return { width, height, rgb };
}

const CHANNELS_BY_COLOUR_TYPE: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/**
 * pngjs bounds inflation by the expected size for normal PNGs but not for interlaced (Adam7) ones,
 * where a small file could inflate to gigabytes. For those we inflate the IDAT stream once
 * ourselves with an output cap (Adam7 adds at most one filter byte per pass row, so twice the plain
 * size plus a margin is a safe bound).
 */
function checkInterlacedInflateSize(bytes: Uint8Array, width: number, height: number): void {
  const channels = CHANNELS_BY_COLOUR_TYPE[bytes[25]];
  const depth = bytes[24];
  if (channels === undefined || ![1, 2, 4, 8, 16].includes(depth)) {
    throw new DatasetFormatError('png', `unsupported colour type ${bytes[25]} / bit depth ${depth}`);
  }
  const limit = 2 * height * (Math.ceil((width * channels * depth) / 8) + 1) + 1024;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const parts: Uint8Array[] = [];
  for (let offset = 8; offset + 12 <= bytes.length; ) {
    const length = view.getUint32(offset, false);
    if (offset + 12 + length > bytes.length) break; // pngjs reports the truncation
    if (bytes[offset + 4] === 0x49 && bytes[offset + 5] === 0x44 && bytes[offset + 6] === 0x41 && bytes[offset + 7] === 0x54) {
      parts.push(bytes.subarray(offset + 8, offset + 8 + length)); // IDAT
    }
    offset += 12 + length;
  }
  const total = parts.reduce((n, part) => n + part.length, 0);
  const stream = new Uint8Array(total);
  parts.reduce((at, part) => (stream.set(part, at), at + part.length), 0);
  try {
    inflateSync(stream, { maxOutputLength: limit });
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new DatasetFormatError('png', `interlaced image data does not inflate within ${limit} bytes: ${reason}`, { cause });
  }
}

/** Encodes an RGB image as an 8-bit RGBA PNG (opaque); used for fixtures and exports. */
export function encodePng(image: DecodedImage): Uint8Array {
  const { width, height, rgb } = image;
  if (rgb.length !== width * height * 3) throw new DatasetFormatError('png', `rgb has ${rgb.length} bytes, expected ${width}×${height}×3`);
  const png = new PNG({ width, height });
  for (let p = 0, q = 0; q < rgb.length; p += 4, q += 3) {
    png.data[p] = rgb[q];
    png.data[p + 1] = rgb[q + 1];
    png.data[p + 2] = rgb[q + 2];
    png.data[p + 3] = 255;
  }
  return new Uint8Array(PNG.sync.write(png));
}
