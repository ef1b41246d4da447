/**
 * CIFAR-10 / CIFAR-100 binary distributions from a directory (Node): the folder the archive
 * extracts to (`cifar-10-batches-bin/`, `cifar-100-binary/`) or the folder above it.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  CIFAR10_CLASSES,
  CIFAR10_TEST_FILE,
  CIFAR10_TRAIN_FILES,
  CIFAR100_CLASSES,
  CIFAR100_COARSE_CLASSES,
  CIFAR100_TEST_FILE,
  CIFAR100_TRAIN_FILE,
  assembleCifar,
  parseCifarLabelNames,
  readCifar10Batch,
  readCifar100File,
  type CifarDataset,
  type CifarName,
  type CifarSplit,
} from './cifar.ts';
import { DatasetArgumentError, DatasetFormatError, checkKnownOptions, checkOptionsObject } from './errors.ts';
import { readFileBytes } from './node-files.ts';

const SUBFOLDER: Record<CifarName, string> = { cifar10: 'cifar-10-batches-bin', cifar100: 'cifar-100-binary' };

export interface CifarDirectoryOptions {
  split: CifarSplit;
}

/**
 * Where the binary files are: `directory` itself when it holds them, else its
 * `cifar-10-batches-bin/` / `cifar-100-binary/` subfolder. Errors say which files were expected
 * (and recognise the Python version's `data_batch_1` / `train` pickles).
 */
export function locateCifarDirectory(name: CifarName, directory: string): string {
  if (typeof directory !== 'string' || directory.length === 0) throw new DatasetArgumentError('directory', 'expected a directory path');
  const probe = name === 'cifar10' ? CIFAR10_TEST_FILE : CIFAR100_TEST_FILE;
  for (const candidate of [directory, join(directory, SUBFOLDER[name])]) if (existsSync(join(candidate, probe))) return candidate;
  if (!isDirectory(directory)) throw new DatasetFormatError(name, `${directory} is not a directory`);
  const python = name === 'cifar10' ? 'data_batch_1' : 'train';
  const pythonHint = [directory, join(directory, name === 'cifar10' ? 'cifar-10-batches-py' : 'cifar-100-python')].some(
    (d) => existsSync(join(d, python)) && !existsSync(join(d, `${python}.bin`)),
  )
    ? '; found the Python (pickle) version: download the binary version instead'
    : '';
  const expected = name === 'cifar10' ? `${CIFAR10_TRAIN_FILES.join(', ')} and ${CIFAR10_TEST_FILE}` : `${CIFAR100_TRAIN_FILE} and ${CIFAR100_TEST_FILE}`;
  throw new DatasetFormatError(
    name,
    `no ${probe} in ${directory} or ${join(directory, SUBFOLDER[name])}: expected the binary version's ${expected}${pythonHint}`,
  );
}

/** CIFAR-10 train (the five data batches, 50,000 images) or test (10,000) from `directory`. */
export function readCifar10(directory: string, options: CifarDirectoryOptions): CifarDataset {
  return readCifar('cifar10', directory, options);
}

/** CIFAR-100 train (50,000) or test (10,000), fine labels in `labels`, superclasses in `coarseLabels`. */
export function readCifar100(directory: string, options: CifarDirectoryOptions): CifarDataset {
  return readCifar('cifar100', directory, options);
}

function readCifar(name: CifarName, directory: string, options: CifarDirectoryOptions): CifarDataset {
  checkOptionsObject('options', options, "split ('train' | 'test')");
  checkKnownOptions('options', options, ['split']);
  const { split } = options;
  if (split !== 'train' && split !== 'test') throw new DatasetArgumentError('split', `expected 'train' or 'test', got ${String(split)}`);
  const dir = locateCifarDirectory(name, directory);
  const files =
    name === 'cifar10' ? (split === 'train' ? CIFAR10_TRAIN_FILES : [CIFAR10_TEST_FILE]) : [split === 'train' ? CIFAR100_TRAIN_FILE : CIFAR100_TEST_FILE];
  const parts = files.map((file) => {
    const path = join(dir, file);
    if (!existsSync(path)) throw new DatasetFormatError(name, `${path} is missing`);
    const bytes = readFileBytes(path);
    const records = name === 'cifar10' ? readCifar10Batch(bytes, { source: file }) : readCifar100File(bytes, { source: file });
    return { name: file, records };
  });
  const names = (file: string, classes: number) => {
    const path = join(dir, file);
    return existsSync(path) ? parseCifarLabelNames(new TextDecoder().decode(readFileBytes(path)), classes, file) : undefined;
  };
  return name === 'cifar10'
    ? assembleCifar(name, split, parts, { classNames: names('batches.meta.txt', CIFAR10_CLASSES) })
    : assembleCifar(name, split, parts, {
        classNames: names('fine_label_names.txt', CIFAR100_CLASSES),
        coarseClassNames: names('coarse_label_names.txt', CIFAR100_COARSE_CLASSES),
      });
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
