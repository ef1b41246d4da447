import { colourBiasMnist, colourBiasMnistSplits, colourBiasMnistValidation, holdOutValidation } from '../src/biased-mnist.ts';
import { encodeIdxU8, readIdxImages } from '../src/idx.ts';
import { createLoader } from '../src/loader.ts';
import { normalizationTable, normalizeImages } from '../src/normalize.ts';
import { encodeNpy } from '../src/npy.ts';
import { parseOpenBhbParticipants, syntheticMultiSite } from '../src/openbhb.ts';
import { biasedMnist, biasedMnistValidation, decodePng, loadOpenBhb, readBiasFolderDataset } from '../src/node.ts';
import { syntheticMnist } from './helpers.ts';

/**
 * Bad options of @fairgpu/datasets, one row each: `act` must throw a DatasetArgumentError whose
 * `argument` is `argument` and whose message matches `message`. (Nothing here allocates device
 * memory: datasets are host arrays, so there is no memory() baseline to compare.)
 */
export interface DatasetErrorCase {
  name: string;
  act(): unknown;
  argument: string;
  message: RegExp;
}

const source = syntheticMnist(200);
const set = colourBiasMnist(source, { rho: 0.9, seed: 1 });
const tsv = 'participant_id\tage\tsite\ns1\t20\t0\n';

export function datasetErrorCases(): DatasetErrorCase[] {
  return [
    // Numbers that used to be accepted.
    {
      name: 'createLoader seed NaN',
      act: () => createLoader(set, { batchSize: 8, seed: NaN }),
      argument: 'seed',
      message: /expected an integer seed, got NaN/,
    },
    { name: 'createLoader fractional seed', act: () => createLoader(set, { batchSize: 8, seed: 1.5 }), argument: 'seed', message: /got 1\.5/ },
    {
      name: 'biasedMnist validationSize −5',
      act: () => biasedMnist({ split: 'train', rho: 0.99, seed: 0, validationSize: -5 }),
      argument: 'validationSize',
      message: /expected an integer in \[0, \d+\], got -5/,
    },
    {
      name: 'biasedMnist validationSize 1.5',
      act: () => biasedMnist({ split: 'train', rho: 0.99, seed: 0, validationSize: 1.5 }),
      argument: 'validationSize',
      message: /got 1\.5/,
    },
    { name: 'biasedMnist seed NaN', act: () => biasedMnist({ split: 'train', rho: 0.99, seed: NaN }), argument: 'seed', message: /integer seed/ },
    {
      name: 'biasedMnist rho NaN',
      act: () => biasedMnist({ split: 'test', rho: NaN, seed: 0 }),
      argument: 'rho',
      message: /expected a number in \[0, 1\], got NaN/,
    },
    { name: 'holdOutValidation seed NaN', act: () => holdOutValidation(100, 10, NaN), argument: 'seed', message: /integer seed/ },
    { name: 'colourBiasMnist stream −1', act: () => colourBiasMnist(source, { rho: 0.5, seed: 1, stream: -1 }), argument: 'stream', message: /got -1/ },
    {
      name: 'normalization mean NaN',
      act: () => normalizationTable(3, { mean: [0.5, NaN, 0.5] }),
      argument: 'mean',
      message: /mean\[1\] must be a finite number, got NaN/,
    },
    {
      name: 'loader dropLast not a boolean',
      act: () => createLoader(set, { batchSize: 8, dropLast: 'yes' as never }),
      argument: 'dropLast',
      message: /expected a boolean/,
    },
    {
      name: 'augment not an object',
      act: () => createLoader(set, { batchSize: 8, augment: 'flip' as never }),
      argument: 'augment',
      message: /expected true, false or an options object/,
    },
    { name: 'decodePng maxPixels 0', act: () => decodePng(new Uint8Array(40), { maxPixels: 0 }), argument: 'maxPixels', message: /got 0/ },
    { name: 'encodeNpy version 4', act: () => encodeNpy(new Uint8Array(1), [1], { version: 4 as never }), argument: 'version', message: /got 4/ },

    // Missing option objects: a typed error, not a TypeError.
    {
      name: 'biasedMnist() with no options',
      act: () => biasedMnist(undefined as never),
      argument: 'options',
      message: /expected an options object with split \('train' \| 'test'\), rho and seed, got undefined/,
    },
    {
      name: 'biasedMnistValidation() with no options',
      act: () => biasedMnistValidation(undefined as never),
      argument: 'options',
      message: /seed and validationSize/,
    },
    { name: 'createLoader without options', act: () => createLoader(set, undefined as never), argument: 'options', message: /with batchSize/ },
    { name: 'createLoader without a dataset', act: () => createLoader(null as never, { batchSize: 8 }), argument: 'dataset', message: /got null/ },
    { name: 'colourBiasMnist without options', act: () => colourBiasMnist(source, undefined as never), argument: 'options', message: /rho and seed/ },
    { name: 'syntheticMultiSite without options', act: () => syntheticMultiSite(undefined as never), argument: 'options', message: /seed/ },
    { name: 'loadOpenBhb without files', act: () => loadOpenBhb(null as never), argument: 'files', message: /participants and modalities/ },

    // Misspelt option keys, in every option object.
    {
      name: 'createLoader misspelt option',
      act: () => createLoader(set, { batchSize: 8, seeed: 3 } as never),
      argument: 'options',
      message:
        /unknown option 'seeed' \(did you mean 'seed'\?\); known options: batchSize, seed, sampler, dropLast, twoViews, augment, normalization, prefetch, upload/,
    },
    {
      name: 'sampler misspelt key',
      act: () => createLoader(set, { batchSize: 8, sampler: { kind: 'm-per-class', M: 2 } as never }),
      argument: 'sampler',
      message: /unknown option 'M' \(did you mean 'm'\?\)/,
    },
    {
      name: 'augment misspelt option',
      act: () => createLoader(set, { batchSize: 8, augment: { cropPading: 2 } as never }),
      argument: 'augment',
      message: /'cropPading' \(did you mean 'cropPadding'\?\)/,
    },
    {
      name: 'colour jitter misspelt option',
      act: () => createLoader(set, { batchSize: 8, augment: { colourJitter: { brightnes: 0.2 } as never } }),
      argument: 'augment.colourJitter',
      message: /'brightnes' \(did you mean 'brightness'\?\)/,
    },
    {
      name: 'normalization misspelt option',
      act: () => createLoader(set, { batchSize: 8, normalization: { means: [0, 0, 0] } as never }),
      argument: 'normalization',
      message: /'means' \(did you mean 'mean'\?\)/,
    },
    {
      name: 'normalizeImages misspelt option',
      act: () => normalizeImages(set, { indice: [0] } as never),
      argument: 'options',
      message: /'indice' \(did you mean 'indices'\?\)/,
    },
    {
      name: 'colourBiasMnist misspelt option',
      act: () => colourBiasMnist(source, { rho: 0.5, seed: 1, pallete: 'fairkl' } as never),
      argument: 'options',
      message: /'pallete' \(did you mean 'palette'\?\)/,
    },
    {
      name: 'colourBiasMnistSplits misspelt option',
      act: () => colourBiasMnistSplits(source, { rho: 0.5, seed: 1, validationsize: 10 } as never),
      argument: 'options',
      message: /'validationsize' \(did you mean 'validationSize'\?\)/,
    },
    {
      name: 'colourBiasMnistValidation misspelt option',
      act: () => colourBiasMnistValidation(source, { seed: 1, validationSize: 10, rh: 0.1 } as never),
      argument: 'options',
      message: /'rh' \(did you mean 'rho'\?\)/,
    },
    {
      name: 'biasedMnist misspelt option',
      act: () => biasedMnist({ split: 'train', rho: 0.99, seed: 0, validation_size: 100 } as never),
      argument: 'options',
      message: /'validation_size'.*known options: split, rho, seed, palette, validationSize, keepValidationInTrain, mnistDirectory/,
    },
    {
      name: 'biasedMnistValidation misspelt option',
      act: () => biasedMnistValidation({ seed: 0, validationSize: 10, mnistDir: '.' } as never),
      argument: 'options',
      message: /'mnistDir'/,
    },
    {
      name: 'syntheticMultiSite misspelt option',
      act: () => syntheticMultiSite({ seed: 1, noize: 0.1 } as never),
      argument: 'options',
      message: /'noize' \(did you mean 'noise'\?\)/,
    },
    {
      name: 'parseOpenBhbParticipants misspelt option',
      act: () => parseOpenBhbParticipants(tsv, { siteVocab: ['0'] } as never),
      argument: 'options',
      message: /'siteVocab'/,
    },
    {
      name: 'loadOpenBhb misspelt key',
      act: () => loadOpenBhb({ participants: 'p.tsv', modalities: {}, sites: [] } as never),
      argument: 'files',
      message: /'sites'/,
    },
    {
      name: 'readBiasFolderDataset misspelt option',
      act: () => readBiasFolderDataset('.', { maxfiles: 10 } as never),
      argument: 'options',
      message: /'maxfiles' \(did you mean 'maxFiles'\?\)/,
    },
    {
      name: 'decodePng misspelt option',
      act: () => decodePng(new Uint8Array(40), { maxPixel: 10 } as never),
      argument: 'options',
      message: /'maxPixel' \(did you mean 'maxPixels'\?\)/,
    },
    {
      name: 'encodeNpy misspelt option',
      act: () => encodeNpy(new Uint8Array(1), [1], { verison: 2 } as never),
      argument: 'options',
      message: /'verison' \(did you mean 'version'\?\)/,
    },
    {
      name: 'readIdxImages misspelt expectation',
      act: () => readIdxImages(encodeIdxU8([1, 28, 28], new Uint8Array(784)), { row: 28 } as never),
      argument: 'expect',
      message: /'row' \(did you mean 'rows'\?\)/,
    },
  ];
}
