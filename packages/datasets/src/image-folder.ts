/**
 * ImageFolder-style datasets (torchvision's `datasets.ImageFolder`; ImageNet-100 as distributed):
 * `<root>/<class>/**.png|jpg|jpeg`, one class per sub-directory, classes numbered in sorted name
 * order, files read in sorted path order (deterministic). PNG goes through png.ts (pngjs), JPEG
 * through jpeg-js; both check the declared size against `maxPixels` before decoding and turn every
 * decoder failure into a DatasetFormatError naming the file.
 *
 * Images of different sizes need `size`: each image is resized so its shorter side is `size`
 * (PIL bilinear with antialiasing, resize.ts), then centre-cropped to size × size — torchvision's
 * `Resize(size)` + `CenterCrop(size)`.
 *
 * Node-only (file access; pngjs needs zlib), exported from `@fairgpu/datasets/node`.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import jpeg from 'jpeg-js';
import { DatasetArgumentError, DatasetFormatError, checkInteger, checkKnownOptions } from './errors.ts';
import { readFileBytes } from './node-files.ts';
import { decodePng } from './png.ts';
import type { DecodedImage } from './png.ts';
import { resizeImage } from './resize.ts';
import type { BiasedImageSet } from './biased-mnist.ts';

const DEFAULT_MAX_PIXELS = 4096 * 4096;
/** jpeg-js's own default is 512 MB per decode; a 16-megapixel JPEG needs well under 256 MB. */
const DEFAULT_JPEG_MEMORY_MB = 256;

export interface JpegDecodeOptions {
  /** Largest accepted width·height; default 4096·4096 (checked from the SOF header before decoding, and passed to jpeg-js as maxResolutionInMP). */
  maxPixels?: number;
  /** jpeg-js's allocation cap per decode (maxMemoryUsageInMB); default 256. */
  maxMemoryMB?: number;
}

/** Decodes a baseline or progressive JPEG to RGB HWC (greyscale is expanded; CMYK/Adobe transforms are jpeg-js's). */
export function decodeJpeg(bytes: Uint8Array, options: JpegDecodeOptions = {}): DecodedImage {
  checkKnownOptions('options', options, ['maxPixels', 'maxMemoryMB']);
  options ??= {};
  const maxPixels = checkInteger('maxPixels', options.maxPixels ?? DEFAULT_MAX_PIXELS, 1, Number.MAX_SAFE_INTEGER);
  const maxMemoryMB = checkInteger('maxMemoryMB', options.maxMemoryMB ?? DEFAULT_JPEG_MEMORY_MB, 1, 1 << 16);
  if (!(bytes instanceof Uint8Array)) throw new DatasetFormatError('jpeg', 'input must be a Uint8Array');
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) throw new DatasetFormatError('jpeg', 'bad signature (no SOI marker)');
  const declared = readJpegSize(bytes);
  if (declared && declared.width * declared.height > maxPixels) {
    throw new DatasetFormatError('jpeg', `frame header declares ${declared.width}×${declared.height} pixels, more than maxPixels = ${maxPixels}`);
  }
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      tolerantDecoding: false,
      maxResolutionInMP: maxPixels / 1e6,
      maxMemoryUsageInMB: maxMemoryMB,
    });
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new DatasetFormatError('jpeg', `cannot decode: ${reason}`, { cause });
  }
  const { width, height, data } = decoded;
  if (!(width > 0 && height > 0) || data?.length !== width * height * 3) {
    throw new DatasetFormatError('jpeg', `decoder returned ${width}×${height} with ${data?.length} bytes`);
  }
  return { width, height, rgb: data };
}

/** Width and height from the first SOF marker, or null when none is found before the scan (jpeg-js then reports the problem). */
export function readJpegSize(bytes: Uint8Array): { width: number; height: number } | null {
  let o = 2;
  while (o + 4 <= bytes.length) {
    if (bytes[o] !== 0xff) return null;
    const marker = bytes[o + 1];
    if (marker === 0xff) {
      o++; // fill byte
      continue;
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      o += 2;
      continue;
    }
    const length = (bytes[o + 2] << 8) | bytes[o + 3];
    if (length < 2) return null;
    // SOF0..SOF15 except DHT (c4), JPG (c8) and DAC (cc).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (o + 9 > bytes.length) return null;
      return { height: (bytes[o + 5] << 8) | bytes[o + 6], width: (bytes[o + 7] << 8) | bytes[o + 8] };
    }
    if (marker === 0xda) return null;
    o += 2 + length;
  }
  return null;
}

export interface ImageFolderOptions {
  /** Resize every image's shorter side to `size`, then centre-crop size × size (see module comment). */
  size?: number;
  /** Largest accepted width·height per image; default 4096·4096. */
  maxPixels?: number;
  /** Refuse folders with more image files than this; default 2,000,000. */
  maxFiles?: number;
  /** Read only these class folders, in this order (class k = classes[k]); default every sub-directory, sorted. */
  classes?: readonly string[];
}

/** A BiasedImageSet (HWC RGB bytes, labels) of every readable image, with where each came from. */
export interface ImageFolderDataset extends BiasedImageSet {
  channels: 3;
  /** No bias attribute: a copy of `labels` (every sample counts as bias-aligned in the loader). */
  biasLabels: Int32Array;
  classNames: string[];
  /** Path of each image relative to the root, '/'-separated. */
  paths: string[];
}

const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'];

/** Reads `<root>/<class>/**.{png,jpg,jpeg}` (see module comment). */
export function readImageFolder(root: string, options: ImageFolderOptions = {}): ImageFolderDataset {
  checkKnownOptions('options', options, ['size', 'maxPixels', 'maxFiles', 'classes']);
  options ??= {};
  if (typeof root !== 'string' || root.length === 0) throw new DatasetArgumentError('root', 'expected a directory path');
  const size = options.size === undefined ? undefined : checkInteger('size', options.size, 1, 4096);
  const maxPixels = checkInteger('maxPixels', options.maxPixels ?? DEFAULT_MAX_PIXELS, 1, Number.MAX_SAFE_INTEGER);
  const maxFiles = checkInteger('maxFiles', options.maxFiles ?? 2_000_000, 1, 2 ** 31 - 1);
  if (!isDirectory(root)) throw new DatasetFormatError('image-folder', `${root} is not a directory`);
  let classNames: string[];
  if (options.classes !== undefined) {
    if (!Array.isArray(options.classes) || !options.classes.every((c) => typeof c === 'string' && c.length > 0))
      throw new DatasetArgumentError('classes', 'expected an array of folder names');
    if (new Set(options.classes).size !== options.classes.length) throw new DatasetArgumentError('classes', 'must not repeat a folder');
    classNames = [...options.classes];
    for (const c of classNames) if (!isDirectory(join(root, c))) throw new DatasetFormatError('image-folder', `class folder ${join(root, c)} does not exist`);
  } else {
    classNames = readdirSync(root)
      .filter((name) => !name.startsWith('.') && isDirectory(join(root, name)))
      .sort();
  }
  if (classNames.length === 0) throw new DatasetFormatError('image-folder', `${root} has no class sub-directories (expected <root>/<class>/*.png|jpg)`);
  const files: Array<{ path: string; label: number }> = [];
  const collect = (directory: string, label: number): void => {
    for (const name of readdirSync(directory).sort()) {
      if (name.startsWith('.')) continue;
      const full = join(directory, name);
      if (isDirectory(full)) collect(full, label);
      else if (IMAGE_EXTENSIONS.some((e) => name.toLowerCase().endsWith(e))) {
        if (files.length >= maxFiles) throw new DatasetFormatError('image-folder', `more than maxFiles = ${maxFiles} images under ${root}`);
        files.push({ path: relative(root, full).split(sep).join('/'), label });
      }
    }
  };
  classNames.forEach((c, k) => collect(join(root, c), k));
  if (files.length === 0) throw new DatasetFormatError('image-folder', `no .png, .jpg or .jpeg files under ${root}`);

  let height = 0;
  let width = 0;
  let images = new Uint8Array(0);
  files.forEach(({ path }, i) => {
    let image: DecodedImage;
    try {
      const bytes = readFileBytes(join(root, path));
      image = /\.png$/i.test(path) ? decodePng(bytes, { maxPixels }) : decodeJpeg(bytes, { maxPixels });
    } catch (error) {
      if (error instanceof DatasetFormatError) throw new DatasetFormatError('image-folder', `${path}: ${error.message}`, { cause: error });
      throw error;
    }
    const pixels = size === undefined ? image.rgb : shorterSideCentreCrop(image, size);
    const h = size ?? image.height;
    const w = size ?? image.width;
    if (i === 0) {
      height = h;
      width = w;
      images = new Uint8Array(files.length * h * w * 3);
    } else if (h !== height || w !== width) {
      throw new DatasetFormatError('image-folder', `${path} is ${w}×${h} but ${files[0].path} is ${width}×${height}; pass size to resize every image`);
    }
    images.set(pixels, i * h * w * 3);
  });
  const labels = Int32Array.from(files, (f) => f.label);
  return { length: files.length, height, width, channels: 3, images, labels, biasLabels: labels.slice(), classNames, paths: files.map((f) => f.path) };
}

/** torchvision Resize(size) (shorter side → size, the other side rounded down as torchvision does) + CenterCrop(size). */
function shorterSideCentreCrop(image: DecodedImage, size: number): Uint8Array {
  const { width, height } = image;
  const short = Math.min(width, height);
  const long = Math.max(width, height);
  const longOut = Math.trunc((size * long) / short);
  const outW = width <= height ? size : longOut;
  const outH = width <= height ? longOut : size;
  const resized = outW === width && outH === height ? image.rgb : resizeImage({ width, height, channels: 3, pixels: image.rgb }, outW, outH);
  // CenterCrop: top-left at round((H − size)/2), round((W − size)/2).
  const top = Math.round((outH - size) / 2);
  const left = Math.round((outW - size) / 2);
  const out = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) out.set(resized.subarray(((top + y) * outW + left) * 3, ((top + y) * outW + left + size) * 3), y * size * 3);
  return out;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
