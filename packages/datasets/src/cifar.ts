/**
 * CIFAR-10 / CIFAR-100 "binary version" readers on bytes (https://www.cs.toronto.edu/~kriz/cifar.html).
 *
 *   CIFAR-10:  data_batch_1.bin … data_batch_5.bin, test_batch.bin — records of
 *              1 label byte (0..9) + 3072 pixel bytes.
 *   CIFAR-100: train.bin, test.bin — records of 1 coarse label byte (0..19) + 1 fine label byte
 *              (0..99) + 3072 pixel bytes.
 *
 * The 3072 pixel bytes of a record are three 1024-byte planes (red, green, blue), each a 32×32
 * image in row-major order: the byte of channel c, row y, column x is at 1024·c + 32·y + x.
 * Readers return HWC (what the loader and normalisation read; `layout: 'chw'` keeps the planes).
 * Every length and label is checked before anything is allocated: a truncated file, a file of
 * the other CIFAR variant or a label outside the classes is a DatasetFormatError naming the record.
 *
 * Runtime-neutral: directories are read by `readCifar10` / `readCifar100` in cifar-files.ts
 * (`@fairgpu/datasets/node`).
 */
import { DatasetArgumentError, DatasetFormatError, checkInteger, checkKnownOptions, checkSeed } from './errors.ts';
import { createRng } from './prng.ts';

export const CIFAR_SIDE = 32;
/** 3 planes of 32×32 bytes. */
export const CIFAR_IMAGE_BYTES = 3 * CIFAR_SIDE * CIFAR_SIDE;
export const CIFAR10_RECORD_BYTES = 1 + CIFAR_IMAGE_BYTES;
export const CIFAR100_RECORD_BYTES = 2 + CIFAR_IMAGE_BYTES;
export const CIFAR10_CLASSES = 10;
export const CIFAR100_CLASSES = 100;
export const CIFAR100_COARSE_CLASSES = 20;
/** The names of `batches.meta.txt`, in label order. */
export const CIFAR10_CLASS_NAMES: readonly string[] = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
/** The file names of the binary distributions. */
export const CIFAR10_TRAIN_FILES: readonly string[] = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'];
export const CIFAR10_TEST_FILE = 'test_batch.bin';
export const CIFAR100_TRAIN_FILE = 'train.bin';
export const CIFAR100_TEST_FILE = 'test.bin';

export type CifarLayout = 'hwc' | 'chw';

export interface CifarRecords {
  count: number;
  /** count·3072 bytes: HWC per image (default) or the file's CHW planes with `layout: 'chw'`. */
  images: Uint8Array;
  layout: CifarLayout;
  /** The label (CIFAR-10) or the fine label (CIFAR-100) of each record. */
  labels: Int32Array;
  /** CIFAR-100's coarse (superclass) label of each record; absent for CIFAR-10. */
  coarseLabels?: Int32Array;
}

export interface CifarReadOptions {
  /** 'hwc' (default: what the loader reads) or 'chw' (the file's planes, as stored). */
  layout?: CifarLayout;
  /** The number of records the file must hold (10,000 for a real batch file); default: any. */
  records?: number;
  /** Name used in error messages (the file name); default the format. */
  source?: string;
}

/** Reads one CIFAR-10 batch file (`data_batch_<k>.bin`, `test_batch.bin`). */
export function readCifar10Batch(bytes: Uint8Array, options: CifarReadOptions = {}): CifarRecords {
  return readRecords('cifar10', bytes, options, 1);
}

/** Reads a CIFAR-100 file (`train.bin`, `test.bin`): fine labels in `labels`, superclasses in `coarseLabels`. */
export function readCifar100File(bytes: Uint8Array, options: CifarReadOptions = {}): CifarRecords {
  return readRecords('cifar100', bytes, options, 2);
}

function readRecords(format: 'cifar10' | 'cifar100', bytes: Uint8Array, options: CifarReadOptions, labelBytes: 1 | 2): CifarRecords {
  checkKnownOptions('options', options, ['layout', 'records', 'source']);
  options ??= {};
  const layout = options.layout ?? 'hwc';
  if (layout !== 'hwc' && layout !== 'chw') throw new DatasetArgumentError('layout', `expected 'hwc' or 'chw', got ${String(layout)}`);
  if (options.records !== undefined) checkInteger('records', options.records, 1, 2 ** 31 - 1);
  if (options.source !== undefined && typeof options.source !== 'string') throw new DatasetArgumentError('source', 'expected a string');
  const where = options.source ? `${options.source}: ` : '';
  if (!(bytes instanceof Uint8Array)) throw new DatasetFormatError(format, `${where}input must be a Uint8Array`);
  const recordBytes = labelBytes + CIFAR_IMAGE_BYTES;
  const otherBytes = labelBytes === 1 ? CIFAR100_RECORD_BYTES : CIFAR10_RECORD_BYTES;
  if (bytes.length === 0) throw new DatasetFormatError(format, `${where}the file is empty`);
  if (bytes.length % recordBytes !== 0) {
    const count = Math.floor(bytes.length / recordBytes);
    const hint =
      bytes.length % otherBytes === 0
        ? ` (it is a whole number of ${otherBytes}-byte records: a ${labelBytes === 1 ? 'CIFAR-100' : 'CIFAR-10'} file?)`
        : ' (truncated, or not the binary version of the dataset)';
    throw new DatasetFormatError(
      format,
      `${where}${bytes.length} bytes is not a whole number of ${recordBytes}-byte records: ${count} records and ${bytes.length - count * recordBytes} bytes left over${hint}`,
    );
  }
  const count = bytes.length / recordBytes;
  if (options.records !== undefined && count !== options.records) {
    throw new DatasetFormatError(format, `${where}holds ${count} records, expected ${options.records}`);
  }
  const labels = new Int32Array(count);
  const coarseLabels = labelBytes === 2 ? new Int32Array(count) : undefined;
  const fineClasses = labelBytes === 1 ? CIFAR10_CLASSES : CIFAR100_CLASSES;
  // Labels first: a file with a bad label is rejected before the pixel copy.
  for (let r = 0, o = 0; r < count; r++, o += recordBytes) {
    const fine = bytes[o + labelBytes - 1];
    if (fine >= fineClasses) {
      throw new DatasetFormatError(format, `${where}record ${r}: ${labelBytes === 2 ? 'fine ' : ''}label ${fine} is not below ${fineClasses}`);
    }
    labels[r] = fine;
    if (coarseLabels) {
      const coarse = bytes[o];
      if (coarse >= CIFAR100_COARSE_CLASSES)
        throw new DatasetFormatError(format, `${where}record ${r}: coarse label ${coarse} is not below ${CIFAR100_COARSE_CLASSES}`);
      coarseLabels[r] = coarse;
    }
  }
  const images = new Uint8Array(count * CIFAR_IMAGE_BYTES);
  const plane = CIFAR_SIDE * CIFAR_SIDE;
  for (let r = 0; r < count; r++) {
    const source = r * recordBytes + labelBytes;
    const target = r * CIFAR_IMAGE_BYTES;
    if (layout === 'chw') {
      images.set(bytes.subarray(source, source + CIFAR_IMAGE_BYTES), target);
      continue;
    }
    for (let c = 0; c < 3; c++) {
      const from = source + c * plane;
      for (let p = 0; p < plane; p++) images[target + 3 * p + c] = bytes[from + p];
    }
  }
  return { count, images, layout, labels, ...(coarseLabels ? { coarseLabels } : {}) };
}

export interface CifarEncodeInput {
  /** count·3072 bytes, HWC per image (or CHW with `layout: 'chw'`). */
  images: Uint8Array;
  layout?: CifarLayout;
  labels: ArrayLike<number>;
  /** CIFAR-100 only: the coarse label of each image. */
  coarseLabels?: ArrayLike<number>;
}

/** Writes CIFAR-10 batch bytes (tests, the smoke protocol's generated data). */
export function encodeCifar10Batch(input: CifarEncodeInput): Uint8Array {
  if (input?.coarseLabels !== undefined) throw new DatasetArgumentError('coarseLabels', 'CIFAR-10 records have one label; use encodeCifar100File');
  return encodeRecords(input, 1);
}

/** Writes CIFAR-100 file bytes (`coarseLabels` required). */
export function encodeCifar100File(input: CifarEncodeInput): Uint8Array {
  if (input?.coarseLabels === undefined) throw new DatasetArgumentError('coarseLabels', 'CIFAR-100 records need a coarse label per image');
  return encodeRecords(input, 2);
}

function encodeRecords(input: CifarEncodeInput, labelBytes: 1 | 2): Uint8Array {
  checkKnownOptions('input', input, ['images', 'layout', 'labels', 'coarseLabels']);
  const { images, labels } = input;
  const layout = input.layout ?? 'hwc';
  if (layout !== 'hwc' && layout !== 'chw') throw new DatasetArgumentError('layout', `expected 'hwc' or 'chw', got ${String(layout)}`);
  if (!(images instanceof Uint8Array) || images.length % CIFAR_IMAGE_BYTES !== 0) {
    throw new DatasetArgumentError('images', `expected a Uint8Array of count·${CIFAR_IMAGE_BYTES} bytes`);
  }
  const count = images.length / CIFAR_IMAGE_BYTES;
  if (labels?.length !== count) throw new DatasetArgumentError('labels', `expected ${count} labels, got ${labels?.length}`);
  if (labelBytes === 2 && input.coarseLabels?.length !== count)
    throw new DatasetArgumentError('coarseLabels', `expected ${count} labels, got ${input.coarseLabels?.length}`);
  const fineClasses = labelBytes === 1 ? CIFAR10_CLASSES : CIFAR100_CLASSES;
  const recordBytes = labelBytes + CIFAR_IMAGE_BYTES;
  const out = new Uint8Array(count * recordBytes);
  const plane = CIFAR_SIDE * CIFAR_SIDE;
  for (let r = 0; r < count; r++) {
    const o = r * recordBytes;
    const fine = checkInteger(`labels[${r}]`, labels[r], 0, fineClasses - 1);
    if (labelBytes === 2) out[o] = checkInteger(`coarseLabels[${r}]`, input.coarseLabels![r], 0, CIFAR100_COARSE_CLASSES - 1);
    out[o + labelBytes - 1] = fine;
    const source = r * CIFAR_IMAGE_BYTES;
    if (layout === 'chw') {
      out.set(images.subarray(source, source + CIFAR_IMAGE_BYTES), o + labelBytes);
      continue;
    }
    for (let c = 0; c < 3; c++) for (let p = 0; p < plane; p++) out[o + labelBytes + c * plane + p] = images[source + 3 * p + c];
  }
  return out;
}

export interface SyntheticCifarOptions {
  /** Number of classes (10 for CIFAR-10-like, 100 for CIFAR-100-like). */
  classes: number;
  /** Images per class. */
  perClass: number;
  seed: number;
  /** Pixel noise standard deviation in bytes; default 24. */
  noise?: number;
}

/**
 * Small CIFAR-shaped stand-in images (32×32 RGB, HWC) for tests and the smoke protocol, where the
 * real files cannot be downloaded: class k is an oriented sinusoidal grating (orientation and
 * frequency from k) with a random phase, contrast and position, over a class-dependent tint, plus
 * noise. Orientation and frequency survive grayscale and colour jitter, so the contrastive views
 * keep a class signal. Labels cycle 0, 1, …, classes − 1 (balanced); deterministic for a seed.
 */
export function syntheticCifarImages(options: SyntheticCifarOptions): { count: number; images: Uint8Array; labels: Int32Array } {
  checkKnownOptions('options', options, ['classes', 'perClass', 'seed', 'noise']);
  const classes = checkInteger('classes', options?.classes, 2, 256);
  const perClass = checkInteger('perClass', options.perClass, 1, 100_000);
  const seed = checkSeed('seed', options.seed);
  const noise = options.noise ?? 24;
  if (!(noise >= 0 && noise <= 128)) throw new DatasetArgumentError('noise', `expected a number in [0, 128], got ${String(noise)}`);
  const count = classes * perClass;
  if (count * CIFAR_IMAGE_BYTES > 2 ** 31 - 1) throw new DatasetArgumentError('perClass', `${count} images do not fit in one buffer`);
  const rng = createRng(seed, 0x5ce1);
  const images = new Uint8Array(count * CIFAR_IMAGE_BYTES);
  const labels = new Int32Array(count);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rng.nextFloat())) * Math.cos(2 * Math.PI * rng.nextFloat());
  for (let i = 0; i < count; i++) {
    const k = i % classes;
    labels[i] = k;
    // Golden-ratio spacing spreads orientations of many classes over the half turn.
    const theta = Math.PI * ((k * 0.618034) % 1) + 0.15 * (rng.nextFloat() - 0.5);
    const frequency = (2 * Math.PI * (2 + (k % 4))) / CIFAR_SIDE;
    const phase = 2 * Math.PI * rng.nextFloat();
    const contrast = 60 + 40 * rng.nextFloat();
    const tint = [(k * 53) % 97, (k * 29) % 89, (k * 71) % 83].map((t) => 80 + t);
    const cx = Math.cos(theta);
    const sy = Math.sin(theta);
    for (let y = 0; y < CIFAR_SIDE; y++) {
      for (let x = 0; x < CIFAR_SIDE; x++) {
        const wave = contrast * Math.sin(frequency * (x * cx + y * sy) + phase);
        const o = i * CIFAR_IMAGE_BYTES + 3 * (y * CIFAR_SIDE + x);
        for (let c = 0; c < 3; c++) images[o + c] = Math.max(0, Math.min(255, Math.round(tint[c] + wave + noise * gauss())));
      }
    }
  }
  return { count, images, labels };
}

export type CifarName = 'cifar10' | 'cifar100';
export type CifarSplit = 'train' | 'test';

/** A CIFAR split as the loader reads it (an image set with labels), plus names and provenance. */
export interface CifarDataset {
  name: CifarName;
  split: CifarSplit;
  length: number;
  height: 32;
  width: 32;
  channels: 3;
  /** length·32·32·3 RGB bytes, HWC per image. */
  images: Uint8Array;
  /** Class (CIFAR-100: fine label) of each image. */
  labels: Int32Array;
  /** CIFAR has no bias attribute: a copy of `labels` (every sample counts as bias-aligned in the loader). */
  biasLabels: Int32Array;
  /** CIFAR-100 superclass of each image. */
  coarseLabels?: Int32Array;
  classNames: readonly string[];
  coarseClassNames?: readonly string[];
  /** The files read, in order, with their record counts. */
  files: ReadonlyArray<{ name: string; records: number }>;
}

/** Concatenates the records of a split's files (HWC) into one dataset. */
export function assembleCifar(
  name: CifarName,
  split: CifarSplit,
  parts: ReadonlyArray<{ name: string; records: CifarRecords }>,
  names: { classNames?: readonly string[]; coarseClassNames?: readonly string[] } = {},
): CifarDataset {
  if (name !== 'cifar10' && name !== 'cifar100') throw new DatasetArgumentError('name', `expected 'cifar10' or 'cifar100', got ${String(name)}`);
  if (split !== 'train' && split !== 'test') throw new DatasetArgumentError('split', `expected 'train' or 'test', got ${String(split)}`);
  if (!Array.isArray(parts) || parts.length === 0) throw new DatasetArgumentError('parts', 'expected at least one file of records');
  const length = parts.reduce((n, p) => n + p.records.count, 0);
  const images = new Uint8Array(length * CIFAR_IMAGE_BYTES);
  const labels = new Int32Array(length);
  const coarse = name === 'cifar100' ? new Int32Array(length) : undefined;
  let at = 0;
  for (const { name: file, records } of parts) {
    if (records.layout !== 'hwc') throw new DatasetArgumentError('parts', `${file}: records must be read with layout 'hwc'`);
    if ((records.coarseLabels !== undefined) !== (name === 'cifar100')) throw new DatasetArgumentError('parts', `${file}: not ${name} records`);
    images.set(records.images, at * CIFAR_IMAGE_BYTES);
    labels.set(records.labels, at);
    if (coarse) coarse.set(records.coarseLabels!, at);
    at += records.count;
  }
  const classes = name === 'cifar10' ? CIFAR10_CLASSES : CIFAR100_CLASSES;
  const classNames = names.classNames ?? (name === 'cifar10' ? CIFAR10_CLASS_NAMES : Array.from({ length: classes }, (_, k) => `class ${k}`));
  if (classNames.length !== classes) throw new DatasetArgumentError('classNames', `expected ${classes} names, got ${classNames.length}`);
  const coarseClassNames = coarse ? (names.coarseClassNames ?? Array.from({ length: CIFAR100_COARSE_CLASSES }, (_, k) => `superclass ${k}`)) : undefined;
  if (coarseClassNames && coarseClassNames.length !== CIFAR100_COARSE_CLASSES) {
    throw new DatasetArgumentError('coarseClassNames', `expected ${CIFAR100_COARSE_CLASSES} names, got ${coarseClassNames.length}`);
  }
  return {
    name,
    split,
    length,
    height: 32,
    width: 32,
    channels: 3,
    images,
    labels,
    biasLabels: labels.slice(),
    ...(coarse ? { coarseLabels: coarse, coarseClassNames } : {}),
    classNames,
    files: parts.map((p) => ({ name: p.name, records: p.records.count })),
  };
}

/** Class names from a `batches.meta.txt` / `fine_label_names.txt` text: one name per non-empty line, exactly `classes` of them. */
export function parseCifarLabelNames(text: string, classes: number, source = 'label names'): string[] {
  if (typeof text !== 'string') throw new DatasetArgumentError('text', 'expected a string');
  const names = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  if (names.length !== classes) throw new DatasetFormatError('cifar', `${source}: ${names.length} names, expected ${classes}`);
  return names;
}
