/**
 * The generic-vision experiment's configuration: a zod schema (strict objects: a misspelt key is an
 * error naming it), the four protocol presets, and the published top-1 numbers the report puts next
 * to the measured ones (spec: published-results.md, "Generic vision").
 *
 * Protocol sources. published-results.md gives only the architecture (ResNet-50) and the top-1
 * numbers; the recipe is that of the SupCon code (HobbitLong/SupContrast README and main_*.py,
 * which the ε-SupInfoNCE code, EIDOSLAB/unbiased-contrastive-learning `contrastive/`, is built on):
 *   contrastive stage  SGD momentum 0.9, wd 1e-4, batch 1024, lr 0.5, cosine to lr·10⁻³, 10 warm-up
 *                      epochs from 0.01 (batch > 256), 1000 epochs, τ = 0.1 (SupCon, ε-SupInfoNCE)
 *                      and 0.5 (SimCLR), projection head Linear–ReLU–Linear to 128 d;
 *   cross-entropy      the same optimiser, batch 1024, lr 0.8, 500 epochs, crop + flip only;
 *   linear evaluation  frozen encoder, SGD, batch 512, lr 5 (the README's value for SupCon
 *                      encoders), cosine, 100 epochs, crop + flip.
 * Our choices, not the papers': ResNet-18 (the model this project has; the published numbers are
 * ResNet-50), ε = 0.1 for ε-SupInfoNCE (the paper tunes ε; 0.1 is the Biased-MNIST recipe's), the
 * SupCon code's baseTemperature 0.07 (each term scaled by τ/0.07, as in its loss), and a per-step
 * (not per-epoch) cosine.
 */
import { z } from 'zod';
import type { ProtocolName } from '../../experiment.ts';

export const METHODS = ['ce', 'simclr', 'supcon', 'eps-supinfonce'] as const;
export type MethodKey = (typeof METHODS)[number];
export const METHOD_LABELS: Record<MethodKey, string> = {
  ce: 'Cross-entropy',
  simclr: 'SimCLR',
  supcon: 'SupCon',
  'eps-supinfonce': 'ε-SupInfoNCE',
};

export const DATASETS = ['cifar10', 'cifar100', 'imagenet100'] as const;
export type DatasetName = (typeof DATASETS)[number];
export const DATASET_LABELS: Record<DatasetName, string> = { cifar10: 'CIFAR-10', cifar100: 'CIFAR-100', imagenet100: 'ImageNet-100' };

const positive = z.number().positive().finite();
const nonNegative = z.number().nonnegative().finite();
const count = z.int().nonnegative();
const epochs = z.int().positive();

const sgdStage = z.strictObject({
  epochs,
  batch: z.int().min(2),
  lr: positive,
  momentum: z.number().min(0).lt(1),
  weightDecay: nonNegative,
  /** Linear warm-up from min(0.01, lr) over this many epochs (0: none). */
  warmupEpochs: count,
});

export const genericVisionConfigSchema = z
  .strictObject({
    seed: count,
    /** Which published table row the run reproduces; `--dataset` sets it. */
    dataset: z.enum(DATASETS),
    /**
     * Directory with the dataset's files (`--data`): the CIFAR binary version (`data_batch_1.bin` …
     * `test_batch.bin`, or `train.bin` / `test.bin`) or an ImageNet-100 folder with `train/<class>/`
     * and `val/<class>/`. null: the smoke protocol's generated images.
     */
    data: z.string().min(1).nullable(),
    /** Images generated in the CIFAR format when `data` is null (smoke only): per class, train and test. */
    synthetic: z.strictObject({ trainPerClass: z.int().positive(), testPerClass: z.int().positive(), noise: z.number().min(0).max(128) }).nullable(),
    /** Training images used (a seeded subset; 0 = all). */
    trainSize: count,
    /** Test images evaluated (a seeded subset; 0 = all). */
    testSize: count,
    /** ImageNet-100 only: images are resized (shorter side) and centre-cropped to this side. */
    imageSize: z.int().min(8).max(512),
    model: z.strictObject({
      /** ResNet-18 width (channels of layer1; 64 is the standard network, smaller is width-reduced). */
      width: z.int().positive(),
      /** Output dimension of the projection head (contrastive methods). */
      projection: z.int().positive(),
    }),
    methods: z
      .array(z.enum(METHODS))
      .min(1)
      .refine((m) => new Set(m).size === m.length, { message: 'must not repeat a method' }),
    contrastive: sgdStage.extend({
      temperature: z.strictObject({ simclr: positive, supcon: positive, epsSupInfoNCE: positive }),
      /** ε of ε-SupInfoNCE. */
      epsilon: nonNegative,
      /** Each loss term is multiplied by τ / baseTemperature (the SupCon code's 0.07). */
      baseTemperature: positive,
    }),
    ce: sgdStage,
    linear: sgdStage.extend({
      /** Train the linear classifier on crop + flip views through the frozen encoder (the published protocol) instead of on the features of the plain training images, computed once. */
      augment: z.boolean(),
    }),
    /** Images per forward pass when computing features and test predictions. */
    evalBatch: z.int().positive(),
    /** Step events every n steps. */
    logEvery: z.int().positive(),
  })
  .superRefine((c, ctx) => {
    if (c.data === null && c.synthetic === null)
      ctx.addIssue({
        code: 'custom',
        path: ['data'],
        message: `${DATASET_LABELS[c.dataset]} is read from files: pass --data <dir> (${DATA_HINT[c.dataset]}); only the smoke protocol generates its own images`,
      });
    if (c.data === null && c.dataset === 'imagenet100')
      ctx.addIssue({ code: 'custom', path: ['data'], message: `ImageNet-100 has no generated stand-in: pass --data <dir> (${DATA_HINT.imagenet100})` });
  });

export type GenericVisionConfig = z.infer<typeof genericVisionConfigSchema>;

const DATA_HINT: Record<DatasetName, string> = {
  cifar10: 'the CIFAR-10 binary version: data_batch_1.bin … data_batch_5.bin, test_batch.bin',
  cifar100: 'the CIFAR-100 binary version: train.bin, test.bin',
  imagenet100: 'train/<class>/*.jpg and val/<class>/*.jpg',
};

/** The published protocol as far as it is specified (module comment), with ResNet-18. */
export const FULL: GenericVisionConfig = {
  seed: 0,
  dataset: 'cifar10',
  data: null,
  synthetic: null,
  trainSize: 0,
  testSize: 0,
  imageSize: 32,
  model: { width: 64, projection: 128 },
  methods: [...METHODS],
  contrastive: {
    epochs: 1000,
    batch: 1024,
    lr: 0.5,
    momentum: 0.9,
    weightDecay: 1e-4,
    warmupEpochs: 10,
    temperature: { simclr: 0.5, supcon: 0.1, epsSupInfoNCE: 0.1 },
    epsilon: 0.1,
    baseTemperature: 0.07,
  },
  ce: { epochs: 500, batch: 1024, lr: 0.8, momentum: 0.9, weightDecay: 1e-4, warmupEpochs: 10 },
  linear: { epochs: 100, batch: 512, lr: 5, momentum: 0.9, weightDecay: 0, warmupEpochs: 0, augment: true },
  evalBatch: 500,
  logEvery: 20,
};

export const PROTOCOLS: Record<ProtocolName, GenericVisionConfig> = {
  /**
   * ≤ 60 s on 2 cores: a width-4 ResNet-18 (1/16 of the standard channels), 100 training and 50
   * test images generated in the CIFAR format (written to the run directory and read back with the
   * CIFAR reader), two contrastive steps per method, four CE steps, the linear stage on cached
   * features. It checks the pipeline end to end, not accuracy.
   */
  smoke: {
    ...FULL,
    data: null,
    synthetic: { trainPerClass: 10, testPerClass: 5, noise: 24 },
    trainSize: 100,
    testSize: 50,
    model: { width: 4, projection: 32 },
    contrastive: { ...FULL.contrastive, epochs: 1, batch: 50, lr: 0.05, warmupEpochs: 0 },
    ce: { ...FULL.ce, epochs: 2, batch: 50, lr: 0.05, warmupEpochs: 0 },
    linear: { ...FULL.linear, epochs: 20, batch: 50, lr: 0.1, augment: false },
    evalBatch: 100,
    logEvery: 1,
  },
  /** ≈ 15 min on 2 cores needs real files: 2,000 training and 1,000 test images, width 8, a few epochs. */
  quick: {
    ...FULL,
    trainSize: 2000,
    testSize: 1000,
    model: { width: 8, projection: 64 },
    contrastive: { ...FULL.contrastive, epochs: 3, batch: 64, lr: 0.05, warmupEpochs: 0 },
    ce: { ...FULL.ce, epochs: 3, batch: 64, lr: 0.05, warmupEpochs: 0 },
    linear: { ...FULL.linear, epochs: 30, batch: 256, lr: 0.5, augment: false },
    evalBatch: 250,
    logEvery: 5,
  },
  /** Minutes to an hour on one GPU: the full width and data, 50 epochs per stage, batch 256 (no warm-up needed at ≤ 256). */
  gpu: {
    ...FULL,
    contrastive: { ...FULL.contrastive, epochs: 50, batch: 256, lr: 0.125, warmupEpochs: 0 },
    ce: { ...FULL.ce, epochs: 50, batch: 256, lr: 0.2, warmupEpochs: 0 },
    linear: { ...FULL.linear, epochs: 20, batch: 512, lr: 1, augment: false },
  },
  full: FULL,
};

/**
 * Published top-1 accuracy (%), ResNet-50: the ε-SupInfoNCE paper's Table (Barbano et al., ICLR
 * 2023), as given in spec/published-results.md. The paper's numbers, never measured here.
 */
export const PUBLISHED_TOP1: Record<DatasetName, Partial<Record<MethodKey | 'max-margin', number>>> = {
  cifar10: { simclr: 93.6, ce: 94.73, 'max-margin': 92.4, supcon: 95.64, 'eps-supinfonce': 96.14 },
  cifar100: { simclr: 70.7, ce: 73.43, 'max-margin': 70.5, supcon: 75.41, 'eps-supinfonce': 76.04 },
  imagenet100: { ce: 82.1, supcon: 81.99, 'eps-supinfonce': 83.3 },
};

/** Per-channel mean and std of each dataset's training images (the SupCon code's constants). */
export const NORMALIZATION: Record<DatasetName, { mean: number[]; std: number[] }> = {
  cifar10: { mean: [0.4914, 0.4822, 0.4465], std: [0.2023, 0.1994, 0.201] },
  cifar100: { mean: [0.5071, 0.4867, 0.4408], std: [0.2675, 0.2565, 0.2761] },
  imagenet100: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
};
