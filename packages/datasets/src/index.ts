/**
 * @fairgpu/datasets — runtime-neutral entry point (browser, Deno, Node).
 *
 * Read top-down:
 *   1. Biased-MNIST: the colouring protocol on MNIST bytes (biased-mnist.ts), with the exact
 *      ⌊n·ρ⌋ (exact-fraction.ts) and the seeded PRNG (prng.ts).
 *   2. Normalisation to float32 NCHW (normalize.ts).
 *   3. The batching loader with M-per-class sampling, two-view augmentation and prefetching
 *      (loader.ts, augment.ts).
 *   4. Validated readers on bytes: IDX (idx.ts), .npy (npy.ts), CIFAR-10/100 binary records
 *      (cifar.ts); PIL-bilinear resampling (resize.ts).
 *   5. Multi-site brain-age data: OpenBHB assembly, a synthetic generator, the challenge metric
 *      (openbhb.ts); Corrupted CIFAR-10 / bFFHQ file-name parsing (bias-folders.ts).
 *   6. Typed errors (errors.ts).
 *
 * Anything that reads files or decodes PNG (pngjs needs Node's zlib) is in `@fairgpu/datasets/node`
 * (node.ts), which re-exports this module too.
 */
export {
  BAHNG_PALETTE,
  FAIRKL_PALETTE,
  BIASED_MNIST_TRAIN_RHOS,
  UNBIASED_RHO,
  MNIST_CLASSES,
  MNIST_SIDE,
  colourBiasMnist,
  colourBiasMnistSplits,
  colourBiasMnistValidation,
  holdOutValidation,
  alignedFlags,
  getSample,
  digitMask,
  resolvePalette,
  validateMnistSource,
} from './biased-mnist.ts';
export type {
  Rgb,
  PaletteOption,
  MnistSource,
  BiasedImageSet,
  BiasedMnist,
  ColourBiasOptions,
  BiasedMnistSplitOptions,
  ValidationHoldout,
  Sample,
} from './biased-mnist.ts';
export { floorTimesFraction } from './exact-fraction.ts';
export { createRng, permutation, shuffleInPlace } from './prng.ts';
export type { Rng } from './prng.ts';

export { normalizationTable, normalizeImages } from './normalize.ts';
export type { Normalization, ImageSet } from './normalize.ts';

export { createLoader } from './loader.ts';
export type { Loader, LoaderOptions, HostBatch, Sampler } from './loader.ts';
export { resolveAugment, sampleResizedCrop, SUPCON_AUGMENT } from './augment.ts';
export type { AugmentOptions, ColourJitter, RandomResizedCrop, CropBox } from './augment.ts';
export { resampleWeights, resizeImage } from './resize.ts';
export type { ResampleWeights, RgbImage } from './resize.ts';

export { readIdx, readIdxImages, readIdxLabels, encodeIdxU8, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC } from './idx.ts';
export type { IdxArray, IdxImages, IdxData } from './idx.ts';
export {
  CIFAR_SIDE,
  CIFAR_IMAGE_BYTES,
  CIFAR10_RECORD_BYTES,
  CIFAR100_RECORD_BYTES,
  CIFAR10_CLASSES,
  CIFAR100_CLASSES,
  CIFAR100_COARSE_CLASSES,
  CIFAR10_CLASS_NAMES,
  CIFAR10_TRAIN_FILES,
  CIFAR10_TEST_FILE,
  CIFAR100_TRAIN_FILE,
  CIFAR100_TEST_FILE,
  readCifar10Batch,
  readCifar100File,
  encodeCifar10Batch,
  encodeCifar100File,
  assembleCifar,
  parseCifarLabelNames,
  syntheticCifarImages,
} from './cifar.ts';
export type { CifarRecords, CifarReadOptions, CifarEncodeInput, CifarLayout, CifarDataset, CifarName, CifarSplit, SyntheticCifarOptions } from './cifar.ts';
export { readNpy, encodeNpy } from './npy.ts';
export type { NpyArray, NpyData, NpyDtype } from './npy.ts';

export {
  OPENBHB_SIZES,
  OPENBHB_AGE_RANGE,
  parseTsv,
  parseOpenBhbParticipants,
  assembleOpenBhb,
  syntheticMultiSite,
  meanAbsoluteError,
  balancedAccuracy,
  challengeScore,
  challengeScoreFromPredictions,
} from './openbhb.ts';
export type { ParticipantsTable, OpenBhbParticipants, OpenBhbSplit, MultiSiteOptions, MultiSiteSet, MultiSiteData } from './openbhb.ts';
export { syntheticBrainAgeSites, BRAIN_AGE_SITES_DEFAULTS } from './multisite.ts';
export type { BrainAgeSitesOptions, BrainAgeSitesData, BrainAgeSitesModel } from './multisite.ts';
export { parseBiasFileName, assembleBiasFolder } from './bias-folders.ts';
export type { BiasFileName, BiasFolderEntry, BiasFolderDataset } from './bias-folders.ts';

export { DatasetFormatError, DatasetArgumentError, FAIRGPU_ERROR, isFairgpuError } from './errors.ts';
