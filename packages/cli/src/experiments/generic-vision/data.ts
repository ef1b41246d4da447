/**
 * The experiment's images: CIFAR-10 / CIFAR-100 from the binary files in `config.data`, an
 * ImageNet-100 folder (`train/<class>/`, `val/<class>/`), or — smoke protocol, no `data` — images
 * generated in the CIFAR binary format, written under the run directory and read back through the
 * same CIFAR reader as real files. Seeded subsets when `trainSize` / `testSize` ask for them.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  CIFAR10_TEST_FILE,
  CIFAR10_TRAIN_FILES,
  CIFAR100_TEST_FILE,
  CIFAR100_TRAIN_FILE,
  createRng,
  encodeCifar10Batch,
  encodeCifar100File,
  permutation,
  readCifar10,
  readCifar100,
  readImageFolder,
  syntheticCifarImages,
  type BiasedImageSet,
} from '@fairgpu/datasets/node';
import { writeFileAtomic } from '@fairgpu/nn/node';
import { DATASET_LABELS, type GenericVisionConfig } from './config.ts';

/** What the loader and the evaluation read: HWC RGB bytes with labels (biasLabels = labels: no bias attribute). */
export interface ImageSplit extends BiasedImageSet {
  channels: 3;
}

export interface VisionData {
  train: ImageSplit;
  test: ImageSplit;
  classes: number;
  classNames: readonly string[];
  /** 'files' (the user's) or 'generated' (smoke). */
  source: 'files' | 'generated';
  /** Where the images came from (a directory). */
  directory: string;
  /** One line for the log and the report. */
  summary: string;
}

export function loadVisionData(config: GenericVisionConfig, runDir: string): VisionData {
  if (config.dataset === 'imagenet100') return loadImageNet100(config);
  const generated = config.data === null;
  const directory = generated ? writeSyntheticCifar(config, join(runDir, `generated-${config.dataset}`)) : config.data!;
  const read = config.dataset === 'cifar10' ? readCifar10 : readCifar100;
  const train = read(directory, { split: 'train' });
  const test = read(directory, { split: 'test' });
  const classes = config.dataset === 'cifar10' ? 10 : 100;
  const trainSplit = subset(train, config.trainSize, config.seed, 8101);
  const testSplit = subset(test, config.testSize, config.seed, 8102);
  const what = generated
    ? `generated ${DATASET_LABELS[config.dataset]}-format images (class-dependent gratings, not natural images)`
    : DATASET_LABELS[config.dataset];
  return {
    train: trainSplit,
    test: testSplit,
    classes,
    classNames: train.classNames,
    source: generated ? 'generated' : 'files',
    directory,
    summary: `${what} from ${directory} (${train.files.map((f) => f.name).join(', ')}): train ${trainSplit.length} of ${train.length}, test ${testSplit.length} of ${test.length}, ${classes} classes`,
  };
}

/** Writes the smoke protocol's images as the binary distribution's files (once per run directory). */
function writeSyntheticCifar(config: GenericVisionConfig, directory: string): string {
  const s = config.synthetic!;
  const classes = config.dataset === 'cifar10' ? 10 : 100;
  mkdirSync(directory, { recursive: true });
  const train = syntheticCifarImages({ classes, perClass: s.trainPerClass, seed: config.seed, noise: s.noise });
  const test = syntheticCifarImages({ classes, perClass: s.testPerClass, seed: config.seed + 1_000_003, noise: s.noise });
  if (config.dataset === 'cifar10') {
    // Five training batches as in the real distribution (the last ones may be short).
    const per = Math.ceil(train.count / CIFAR10_TRAIN_FILES.length);
    CIFAR10_TRAIN_FILES.forEach((file, b) => {
      const from = Math.min(train.count, b * per);
      const to = Math.min(train.count, (b + 1) * per);
      if (to <= from) throw new Error(`synthetic.trainPerClass: ${train.count} images cannot fill ${CIFAR10_TRAIN_FILES.length} batches`);
      writeOnce(join(directory, file), () =>
        encodeCifar10Batch({ images: train.images.subarray(from * 3072, to * 3072), labels: train.labels.subarray(from, to) }),
      );
    });
    writeOnce(join(directory, CIFAR10_TEST_FILE), () => encodeCifar10Batch({ images: test.images, labels: test.labels }));
  } else {
    // CIFAR-100's 20 superclasses group 5 fine classes each; the generated ones group consecutive labels.
    const coarse = (labels: Int32Array) => Int32Array.from(labels, (l) => Math.floor(l / 5));
    writeOnce(join(directory, CIFAR100_TRAIN_FILE), () =>
      encodeCifar100File({ images: train.images, labels: train.labels, coarseLabels: coarse(train.labels) }),
    );
    writeOnce(join(directory, CIFAR100_TEST_FILE), () => encodeCifar100File({ images: test.images, labels: test.labels, coarseLabels: coarse(test.labels) }));
  }
  return directory;
}

function writeOnce(path: string, bytes: () => Uint8Array): void {
  // A resumed run reads the files it wrote (same seed, same bytes) instead of rewriting them.
  if (!existsSync(path)) writeFileAtomic(path, bytes());
}

function loadImageNet100(config: GenericVisionConfig): VisionData {
  const root = config.data!;
  const train = readImageFolder(join(root, 'train'), { size: config.imageSize });
  const test = readImageFolder(join(root, 'val'), { size: config.imageSize, classes: train.classNames });
  const trainSplit = subset(train, config.trainSize, config.seed, 8101);
  const testSplit = subset(test, config.testSize, config.seed, 8102);
  return {
    train: trainSplit,
    test: testSplit,
    classes: train.classNames.length,
    classNames: train.classNames,
    source: 'files',
    directory: root,
    summary: `ImageNet-100 folders under ${root} at ${config.imageSize}×${config.imageSize}: train ${trainSplit.length} of ${train.length}, val ${testSplit.length} of ${test.length}, ${train.classNames.length} classes`,
  };
}

/** `size` images of `set` by a seeded permutation, in dataset order (all of them with size 0 or ≥ length). */
function subset(set: ImageSplit, size: number, seed: number, stream: number): ImageSplit {
  const base = {
    length: set.length,
    height: set.height,
    width: set.width,
    channels: 3 as const,
    images: set.images,
    labels: set.labels,
    biasLabels: set.biasLabels,
  };
  if (size === 0 || size >= set.length) return base;
  const keep = permutation(set.length, createRng(seed, stream)).slice(0, size).sort();
  const bytes = set.height * set.width * 3;
  const images = new Uint8Array(size * bytes);
  keep.forEach((i, k) => images.set(set.images.subarray(i * bytes, (i + 1) * bytes), k * bytes));
  const labels = Int32Array.from(keep, (i) => set.labels[i]);
  return { ...base, length: size, images, labels, biasLabels: labels.slice() };
}
