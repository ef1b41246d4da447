/**
 * Corrupted CIFAR-10 and bFFHQ as released by LfF/DFA: `align/<class>/*.png` (bias-aligned) and
 * `conflict/<class>/*.png` (bias-conflicting), every file name ending `_<label>_<bias>.png`.
 * This module holds the runtime-neutral part (name parsing and assembling decoded images);
 * directory walking and PNG decoding are in `node-files.ts`.
 */
import { DatasetFormatError } from './errors.ts';
import type { BiasedImageSet } from './biased-mnist.ts';

export interface BiasFileName {
  label: number;
  bias: number;
}

const NAME_PATTERN = /_(\d{1,6})_(\d{1,6})\.png$/i;

/** `'123_4_7.png'` → `{ label: 4, bias: 7 }`. */
export function parseBiasFileName(name: string): BiasFileName {
  const match = NAME_PATTERN.exec(name);
  if (!match) throw new DatasetFormatError('bias-folder', `file name ${JSON.stringify(name)} does not end in _<label>_<bias>.png`);
  return { label: Number(match[1]), bias: Number(match[2]) };
}

export interface BiasFolderEntry {
  /** Path relative to the dataset root, '/'-separated. */
  path: string;
  /** 'align', 'conflict', or '' when the folder has no such subsets (e.g. a flat test folder). */
  subset: string;
  width: number;
  height: number;
  rgb: Uint8Array;
}

export interface BiasFolderDataset extends BiasedImageSet {
  channels: 3;
  paths: string[];
  subsets: string[];
}

/**
 * Packs decoded images into one contiguous dataset; all images must have the same size. When a
 * file sits in a `<class>/` folder, that folder must agree with the label in its name.
 */
export function assembleBiasFolder(entries: readonly BiasFolderEntry[]): BiasFolderDataset {
  if (entries.length === 0) throw new DatasetFormatError('bias-folder', 'no PNG files found');
  const { width, height } = entries[0];
  const size = width * height * 3;
  const images = new Uint8Array(entries.length * size);
  const labels = new Int32Array(entries.length);
  const biasLabels = new Int32Array(entries.length);
  entries.forEach((entry, i) => {
    if (entry.width !== width || entry.height !== height) {
      throw new DatasetFormatError('bias-folder', `${entry.path} is ${entry.width}×${entry.height}, but ${entries[0].path} is ${width}×${height}`);
    }
    const parts = entry.path.split('/');
    const { label, bias } = parseBiasFileName(parts[parts.length - 1]);
    const folder = parts.length >= 2 ? parts[parts.length - 2] : '';
    if (/^\d+$/.test(folder) && Number(folder) !== label) {
      throw new DatasetFormatError('bias-folder', `${entry.path}: label ${label} in the name disagrees with class folder ${folder}`);
    }
    images.set(entry.rgb, i * size);
    labels[i] = label;
    biasLabels[i] = bias;
  });
  return {
    length: entries.length,
    height,
    width,
    channels: 3,
    images,
    labels,
    biasLabels,
    paths: entries.map((e) => e.path),
    subsets: entries.map((e) => e.subset),
  };
}
