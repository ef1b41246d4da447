/**
 * The brain-age experiment's configuration: a zod schema (strict objects, so a misspelt key is an
 * error), the four protocol presets, the method grammar and the published OpenBHB numbers.
 */
import { BRAIN_AGE_SITES_DEFAULTS } from '@fairgpu/datasets';
import { z } from 'zod';
import type { ProtocolName } from '../../experiment.ts';

export const LOSSES = ['l1', 'y-aware', 'l-exp', 'l-thr'] as const;
export type LossKind = (typeof LOSSES)[number];
export const KERNELS = ['rbf', 'cauchy', 'gaussian'] as const;
export type Kernel = (typeof KERNELS)[number];
export const MODALITIES = ['desikan_roi', 'destrieux_roi', 'vbm_roi'] as const;

/** A method: `l1`, or `<loss>:<kernel>:<σ>` for a kernel contrastive loss, e.g. `l-exp:rbf:2`. */
export interface MethodSpec {
  /** As written in the config. */
  id: string;
  /** File-name-safe key (checkpoints): `l1`, `l-exp_rbf_2`. */
  key: string;
  loss: LossKind;
  kernel?: Kernel;
  sigma?: number;
  /** For tables: "L^exp (rbf, σ = 2)". */
  label: string;
}

const METHOD_RE = /^(?:l1|(y-aware|l-exp|l-thr):(rbf|cauchy|gaussian):(\d+(?:\.\d+)?))$/;
const LOSS_LABEL: Record<LossKind, string> = { l1: 'L1', 'y-aware': 'y-aware', 'l-exp': 'L^exp', 'l-thr': 'L^thr' };

export function parseMethod(id: string): MethodSpec {
  const m = METHOD_RE.exec(id);
  if (!m) throw new Error(`method ${JSON.stringify(id)} is not 'l1' or '<y-aware|l-exp|l-thr>:<rbf|cauchy|gaussian>:<σ>' (e.g. 'l-exp:rbf:2')`);
  if (id === 'l1') return { id, key: 'l1', loss: 'l1', label: 'L1' };
  const loss = m[1] as LossKind;
  const kernel = m[2] as Kernel;
  const sigma = Number(m[3]);
  return { id, key: `${loss}_${kernel}_${m[3]}`, loss, kernel, sigma, label: `${LOSS_LABEL[loss]} (${kernel}, σ = ${m[3]})` };
}

const positive = z.number().positive();
const count = z.number().int().positive();

export const generatorSchema = z
  .object({
    internalSites: z.number().int().min(2),
    externalSites: z.number().int().min(1),
    subjectsPerSite: z.number().int().min(2),
    features: count,
    latentDim: count,
    nuisanceFeatures: z.number().int().min(0),
    bioNoise: z.number().min(0),
    siteAgeCorrelation: z.number().min(0).max(1),
    ageSpread: z.number().min(0),
    siteShift: z.number().min(0),
    scannerRank: count,
    idiosyncratic: z.number().min(0),
    siteScale: z.number().min(0).max(10),
    siteNuisance: z.number().min(0),
    noise: z.number().min(0),
    internalTestFraction: z.number().gt(0).max(0.9),
  })
  .strict();
export type GeneratorConfig = z.infer<typeof generatorSchema>;

const syntheticSchema = z
  .object({
    source: z.literal('synthetic'),
    generator: generatorSchema,
  })
  .strict();

const openBhbSchema = z
  .object({
    source: z.literal('openbhb'),
    /** Directory with `<split>.tsv` and `<split>_<modality>.npy` per split (see docs/brain-age.md). */
    dir: z.string().min(1),
    /** ROI modalities, flattened per subject and concatenated. */
    modalities: z.array(z.enum(MODALITIES)).min(1),
    splits: z.object({ train: z.string().min(1), internal: z.string().min(1), external: z.string().min(1) }).strict(),
  })
  .strict();

export const brainAgeConfigSchema = z
  .object({
    seed: z.number().int().min(0),
    data: z.discriminatedUnion('source', [syntheticSchema, openBhbSchema]),
    encoder: z
      .object({
        /** Hidden widths of the MLP (Linear → ReLU per entry). */
        hidden: z.array(count),
        /** Embedding (representation) dimension: the encoder's output, what the probes read. */
        embedding: count,
        /** Output width of the contrastive losses' projection head on the embedding (0: the loss reads the embedding itself). */
        projection: z.number().int().min(0),
      })
      .strict(),
    training: z
      .object({
        epochs: z.number().int().min(0),
        batchSize: z.number().int().min(4),
        /** Adam learning rate of every encoder (and the L1 head). */
        lr: positive,
        weightDecay: z.number().min(0),
        /** τ of the contrastive losses. */
        temperature: positive,
        /** Loss formula variant of @fairgpu/losses ('released': the authors' code, which produced the published numbers). */
        variant: z.enum(['paper', 'released']),
        /**
         * L^thr's variant on its own: 'released' adds log c_ji (up to log M) to logits of size 1/τ, which
         * swamps them at τ = 1 (measured: internal MAE 10.0 vs 4.5 with 'paper'; docs/brain-age.md).
         */
        thrVariant: z.enum(['paper', 'released']),
        /** Step events every n steps. */
        logEvery: count,
      })
      .strict(),
    /** `l1` and/or `<y-aware|l-exp|l-thr>:<rbf|cauchy|gaussian>:<σ>`. */
    methods: z
      .array(z.string().regex(METHOD_RE, "expected 'l1' or '<y-aware|l-exp|l-thr>:<rbf|cauchy|gaussian>:<σ>'"))
      .min(1)
      .refine((m) => new Set(m).size === m.length, 'methods must be distinct'),
    probes: z
      .object({
        /** Ridge penalty α on the standardised embeddings (scikit-learn's Ridge(alpha)). */
        ridgeAlpha: z.number().min(0),
        /** Inverse L2 strength of the logistic site probe (scikit-learn's C). */
        logisticC: positive,
        logisticMaxIterations: count,
      })
      .strict(),
    figure: z
      .object({
        /** Test embeddings drawn per panel (a seeded subset when there are more). */
        points: count,
      })
      .strict(),
  })
  .strict();

export type BrainAgeConfig = z.infer<typeof brainAgeConfigSchema>;

/** The synthetic data of every protocol (docs/brain-age.md, "The generator"). */
export const GENERATOR: GeneratorConfig = { ...BRAIN_AGE_SITES_DEFAULTS };

const ALL_KERNEL_METHODS = ['y-aware', 'l-exp', 'l-thr'].flatMap((loss) => ['rbf', 'cauchy'].flatMap((k) => [1, 2].map((s) => `${loss}:${k}:${s}`)));

const base: BrainAgeConfig = {
  seed: 0,
  data: { source: 'synthetic', generator: GENERATOR },
  encoder: { hidden: [128, 128], embedding: 64, projection: 0 },
  training: { epochs: 40, batchSize: 128, lr: 1e-3, weightDecay: 5e-5, temperature: 1, variant: 'released', thrVariant: 'paper', logEvery: 10 },
  methods: ['l1', 'y-aware:rbf:2', 'l-exp:rbf:2', 'l-thr:rbf:2', 'l-exp:rbf:1', 'l-exp:cauchy:1', 'l-exp:cauchy:2'],
  probes: { ridgeAlpha: 1, logisticC: 1, logisticMaxIterations: 500 },
  figure: { points: 800 },
};

export const PROTOCOLS: Record<ProtocolName, BrainAgeConfig> = {
  smoke: {
    ...base,
    data: { source: 'synthetic', generator: { ...GENERATOR, internalSites: 8, externalSites: 4, subjectsPerSite: 120, features: 32, nuisanceFeatures: 4 } },
    encoder: { hidden: [64], embedding: 32, projection: 0 },
    training: { ...base.training, epochs: 40, batchSize: 128, logEvery: 5 },
    methods: ['l1', 'l-exp:rbf:2'],
    probes: { ...base.probes, logisticMaxIterations: 100 },
    figure: { points: 200 },
  },
  quick: base,
  gpu: { ...base, training: { ...base.training, epochs: 100 }, methods: ['l1', ...ALL_KERNEL_METHODS] },
  full: {
    ...base,
    data: { source: 'synthetic', generator: { ...GENERATOR, internalSites: 48, externalSites: 16, subjectsPerSite: 70 } },
    encoder: { hidden: [256, 256], embedding: 128, projection: 0 },
    training: { ...base.training, epochs: 200, batchSize: 32 },
    methods: ['l1', ...ALL_KERNEL_METHODS],
  },
};

/** Published OpenBHB results (ResNet-18 3-D on the volumes, τ = 0.1, batch 32; Barbano et al. 2023). */
export interface PublishedRow {
  method: string;
  label: string;
  internalMae: number;
  siteBAcc: number;
  externalMae: number;
  score: number;
}

export const PUBLISHED: readonly PublishedRow[] = [
  { method: 'l1', label: 'L1 (organisers’ ResNet baseline)', internalMae: 2.67, siteBAcc: 0.067, externalMae: 4.18, score: 1.86 },
  { method: 'y-aware:rbf:2', label: 'y-aware (rbf, σ = 2)', internalMae: 2.66, siteBAcc: 0.066, externalMae: 4.1, score: 1.82 },
  { method: 'l-thr:rbf:2', label: 'L^thr (rbf, σ = 2)', internalMae: 2.95, siteBAcc: 0.0573, externalMae: 4.1, score: 1.74 },
  { method: 'l-exp:rbf:2', label: 'L^exp (rbf, σ = 2)', internalMae: 2.55, siteBAcc: 0.051, externalMae: 3.76, score: 1.54 },
];
/** OpenBHB: 64 site classes (chance balanced accuracy 1/64). */
export const PUBLISHED_SITE_CLASSES = 64;
