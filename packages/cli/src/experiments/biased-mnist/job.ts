/**
 * The main job: Biased-MNIST at ρ (0.997 by default), models trained on the GPU —
 *   1. vanilla cross-entropy (SimpleConvNet + linear classifier, Adam),
 *   2. ε-SupInfoNCE + FairKL on the encoder's features, with a linear classifier trained online on
 *      the detached, L2-normalised features (SGD for the encoder, Adam for the classifier),
 *   3. EnD (opt-in with `--only`/`models`): cross-entropy + α·R⊥ + β·R∥ on the SimpleConvNet's
 *      bottleneck (the global-pooled features), Adam, the authors' recipe,
 * then unbiased / bias-aligned / bias-conflicting test accuracy for each, next to the published
 * numbers, printed and written as JSON. Each model checkpoints after every epoch; `--resume` picks
 * a killed run up where it stopped.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { colourBiasMnist, createLoader, createRng, loadMnist, normalizeImages, permutation, type BiasedMnist, type HostBatch } from '@fairgpu/datasets/node';
import { end as endLoss, epsSupInfoNCE, fairKL } from '@fairgpu/losses';
import { argmaxRows, groupAccuracy, type GroupAccuracy } from '@fairgpu/metrics';
import {
  Adam, CosineAnnealingLR, Linear, loadCheckpoint, manualSeed, MultiStepLR, SGD, SimpleConvNet, StepLR, saveCheckpoint, trainLoop,
  Module, writeFileAtomic, type LoopPosition, type LrScheduler, type Optimizer, type ProgressEvent,
} from '@fairgpu/nn/node';
import { crossEntropy, noGrad, scope, tensor, type GpuContext, type Tensor } from '@fairgpu/tensor';

export interface JobConfig {
  protocol: 'quick' | 'gpu' | 'full';
  rho: number;
  seed: number;
  /** Training images drawn from MNIST's 60,000 before colouring (0 = all). */
  trainSize: number;
  /** Which models to train, in this order (vanilla CE and FairKL by default). */
  models: ModelKey[];
  /** Images of the ρ = 0.1 test set evaluated (0 = all 10,000). */
  testSize: number;
  /** Epochs of the ε-SupInfoNCE + FairKL model (and of vanilla CE unless `ceEpochs` is set). */
  epochs: number;
  /**
   * Epochs of vanilla CE when they differ: CE reaches its colour-shortcut plateau within the first
   * epoch (docs/training.md), so the quick protocol spends its budget on the model that needs it.
   */
  ceEpochs?: number;
  batch: number;
  kernelSize: number;
  channels: number[];
  strides: number[];
  ce: { lr: number; weightDecay: number; milestones: number[] };
  fairkl: { lr: number; weightDecay: number; momentum: number; temperature: number; epsilon: number; alpha: number; lambda: number; fairklTemperature: number; classifierLr: number };
  /** EnD: Adam (lr, weightDecay, step decay ×0.1 at `milestones`), α weights R⊥, β weights R∥. */
  end: { lr: number; weightDecay: number; milestones: number[]; alpha: number; beta: number; epochs?: number };
}

export const MODEL_KEYS = ['ce', 'end', 'fairkl'] as const;
export type ModelKey = (typeof MODEL_KEYS)[number];

/** The published protocol (spec: published-results.md, "Training recipes"). */
export const FULL: Omit<JobConfig, 'rho' | 'seed'> = {
  protocol: 'full', models: ['ce', 'fairkl'], trainSize: 0, testSize: 0, epochs: 80, batch: 256, kernelSize: 7, channels: [16, 32, 64, 128], strides: [1, 1, 1, 1],
  ce: { lr: 1e-3, weightDecay: 1e-4, milestones: [20, 40, 60] },
  fairkl: { lr: 0.01, weightDecay: 1e-4, momentum: 0.9, temperature: 0.1, epsilon: 0.1, alpha: 1, lambda: 1, fairklTemperature: 1, classifierLr: 1e-3 },
  // The published recipe's start (α = β = 0.1; the paper tuned them per ρ) with step decay every 20 epochs.
  end: { lr: 1e-3, weightDecay: 1e-4, milestones: [20, 40, 60], alpha: 0.1, beta: 0.1 },
};

/**
 * The quick default, sized by measurement to finish in ≤ 15 minutes on this machine's 2 cores and
 * llvmpipe (see docs/training.md): 3×3 kernels, a narrower SimpleConvNet whose first three blocks
 * stride by 2 (28² → 14² → 7² → 4²), all 60,000 training images (184 bias-conflicting). FairKL
 * λ = 30 with SGD lr 0.003 for 4 epochs: the setting a λ × lr sweep on an H100 found (λ ≤ 10 or a
 * larger lr keep the colour shortcut in this budget). Vanilla CE trains 2 epochs: it sits on the
 * colour shortcut after the first (10 epochs on the H100 gave the same accuracy).
 */
export const QUICK: Omit<JobConfig, 'rho' | 'seed'> = {
  ...FULL, protocol: 'quick', trainSize: 0, testSize: 5000, epochs: 4, ceEpochs: 2, batch: 128, kernelSize: 3, channels: [8, 16, 16, 32], strides: [2, 2, 2, 1],
  ce: { ...FULL.ce, milestones: [] },
  fairkl: { ...FULL.fairkl, lr: 0.003, lambda: 30 },
  // An α × β sweep on this machine (docs/training.md): β = 30 (entangle same-class pairs of other
  // colours) does the debiasing (β ≤ 1 keeps the colour shortcut); α = 5 (decorrelate same-colour
  // pairs) gave 56.2 % and the lowest colour-probe accuracy (65.4 %) in 4 epochs; α = 10 collapsed
  // the ReLU bottleneck to zero.
  end: { ...FULL.end, milestones: [], alpha: 5, beta: 30 },
};

/**
 * The default on a hardware adapter: the quick network with strides 2/2/1/1 on all 60,000 images
 * for 6 epochs, FairKL λ = 30 with SGD lr 0.003. In a λ × lr sweep on an NVIDIA H100 (6 epochs each,
 * docs/training.md) this setting gave 74.8 % unbiased accuracy where vanilla CE stays at ~11 %;
 * λ = 1 (the published weight) gave 10.3 in that budget. About 4 minutes on that GPU.
 */
export const GPU: Omit<JobConfig, 'rho' | 'seed'> = {
  ...QUICK, protocol: 'gpu', testSize: 0, epochs: 6, ceEpochs: undefined, strides: [2, 2, 1, 1],
};

export const PROTOCOLS = { quick: QUICK, gpu: GPU, full: FULL } as const;

/** Side of each block's output for 28×28 inputs (padding k//2): ⌊(side + 2·⌊k/2⌋ − k)/stride⌋ + 1. */
export function blockSides(config: Pick<JobConfig, 'kernelSize' | 'strides'>, side = 28): number[] {
  const pad = Math.floor(config.kernelSize / 2);
  return config.strides.map((s) => (side = Math.floor((side + 2 * pad - config.kernelSize) / s) + 1));
}

/**
 * The SimpleConvNet layer Grad-CAM explains: the last block's activation ('extracter') when its maps
 * are at least `minSide` wide, else the deepest block's activation that is ('extracter.<3b+2>').
 * The quick network's last block is 4×4: each cell covers a 7×7 patch, too coarse to tell the digit
 * from the background.
 */
export function gradcamLayer(config: Pick<JobConfig, 'kernelSize' | 'strides'>, minSide = 7): { layer: string; side: number } {
  const sides = blockSides(config);
  if (sides.at(-1)! >= minSide) return { layer: 'extracter', side: sides.at(-1)! };
  for (let b = sides.length - 1; b >= 0; b--) if (sides[b] >= minSide) return { layer: `extracter.${3 * b + 2}`, side: sides[b] };
  return { layer: 'extracter', side: sides.at(-1)! };
}

export const PUBLISHED: Record<string, Record<string, number>> = {
  'Vanilla (ReBias paper)': { 0.999: 10.4, 0.997: 33.4, 0.995: 72.1, 0.99: 89.1 },
  'CE (Hong & Yang 2021)': { 0.999: 11.8, 0.997: 62.5, 0.995: 79.5, 0.99: 90.8 },
  'EnD (CVPR 2021)': { 0.999: 52.3, 0.997: 83.7, 0.995: 93.9, 0.99: 96.0 },
  'ε-SupInfoNCE + FairKL (ICLR 2023)': { 0.999: 89.6, 0.997: 94.1, 0.995: 97.0, 0.99: 97.9 },
};

/** Colour-probe accuracy (%) at ρ = 0.997 of the privacy study (ICCVW 2021; published-results.md), by model key. */
export const PUBLISHED_PRIVACY: Partial<Record<ModelKey, number>> = { ce: 88.87, end: 18.71 };

export interface ModelResult {
  key: ModelKey;
  name: string;
  unbiased: number;
  aligned: number;
  conflicting: number;
  trainSeconds: number;
  epochs: number;
  counts: { test: number; aligned: number; conflicting: number };
}

/** A seeded random subset of MNIST training images (all of them with trainSize 0), coloured at ρ. */
function trainingSet(config: JobConfig, rho = config.rho, size = config.trainSize): BiasedMnist {
  const source = loadMnist('train');
  const subset = size > 0 && size < source.count
    ? permutation(source.count, createRng(config.seed, 7001)).slice(0, size).sort()
    : undefined;
  return colourBiasMnist(source, { rho, seed: config.seed, subset });
}

/**
 * The privacy study's probe training set (ICCVW 2021): the MNIST training images coloured at
 * ρ = 0.999, whatever ρ the models were trained at; `size` images (0 = all 60,000).
 */
export function probeTrainingSet(config: JobConfig, size: number): BiasedMnist {
  return trainingSet(config, 0.999, size);
}

function testSet(config: JobConfig): BiasedMnist {
  const source = loadMnist('test');
  const subset = config.testSize > 0 && config.testSize < source.count
    ? permutation(source.count, createRng(config.seed, 7002)).slice(0, config.testSize).sort()
    : undefined;
  return colourBiasMnist(source, { rho: 0.1, seed: config.seed, subset });
}

interface Trainable {
  name: string;
  modules: Record<string, Module>;
  optimizers: Record<string, Optimizer>;
  schedulers: Record<string, LrScheduler>;
  step(x: Tensor, b: HostBatch): Promise<Tensor>;
  /** Logits from the bottleneck `features(x)`: the model's prediction is head(features(x)). */
  head(features: Tensor): Tensor;
  lr(): number;
  /** The model as one Module from images to logits (Grad-CAM hooks a layer of its encoder). */
  classifier: Module;
  /** Path of the SimpleConvNet encoder in `classifier.namedModules()` ('' when it is the classifier itself). */
  encoderPath: string;
  /** The representation the debiasing acts on: the SimpleConvNet's pooled bottleneck [B, d]. */
  features(x: Tensor): Tensor;
}

/** A trained model as the analyses after training see it (diagnostics.ts). */
export type TrainedModel = Pick<Trainable, 'name' | 'classifier' | 'encoderPath' | 'features' | 'head'> & { key: ModelKey };

/** One pass over a set: each image's predicted class and bottleneck features ([n, dim] row-major). */
export interface Embedded {
  predictions: Int32Array;
  features: Float32Array;
  dim: number;
}

/** The test set's pass, shared by the accuracy table and the diagnostics. */
export interface Evaluation extends Embedded {
  groups: GroupAccuracy;
}

/**
 * Predictions and bottleneck features of every image of `set`, `batch` images at a time, without a
 * graph: one forward pass (logits = head(features)) and one readback per batch.
 */
export async function embedSet(model: Pick<Trainable, 'features' | 'head'>, set: BiasedMnist, batch: number): Promise<Embedded> {
  const n = set.labels.length;
  const predictions = new Int32Array(n);
  let features = new Float32Array(0);
  let dim = 0;
  for (let from = 0; from < n; from += batch) {
    const indices = Array.from({ length: Math.min(batch, n - from) }, (_, k) => from + k);
    await scope(async () => {
      const x = tensor(normalizeImages(set, { indices }), [indices.length, 3, set.height, set.width]);
      const { f, logits } = noGrad(() => {
        const f = model.features(x);
        return { f, logits: model.head(f) };
      });
      const [l, fv] = await Promise.all([logits.toArray(), f.toArray()]);
      if (dim === 0) {
        dim = f.shape[1];
        features = new Float32Array(n * dim);
      }
      features.set(fv, from * dim);
      predictions.set(argmaxRows(l, indices.length, logits.shape[1]), from);
    });
  }
  return { predictions, features, dim };
}

/**
 * The FairKL model's encoder and online classifier as one Module: logits of the L2-normalised
 * features, without the training step's detach, so gradients reach the encoder (Grad-CAM).
 */
class EncoderClassifier extends Module {
  constructor(readonly encoder: SimpleConvNet, readonly head: Linear) {
    super();
    this.registerModule('encoder', encoder);
    this.registerModule('head', head);
  }
  forward(x: Tensor): Tensor {
    return this.head.forward(this.encoder.features(x).normalize(-1));
  }
}

/** ×0.1 at each milestone epoch; a constant rate without milestones (the quick and gpu protocols). */
function stepDecay(opt: Optimizer, milestones: number[]): LrScheduler {
  return milestones.length ? new MultiStepLR(opt, milestones, 0.1) : new StepLR(opt, 1_000_000, 1);
}

function vanilla(config: JobConfig): Trainable {
  manualSeed(config.seed);
  const net = new SimpleConvNet({ kernelSize: config.kernelSize, channels: config.channels, strides: config.strides });
  const opt = new Adam(net.parameters(), { lr: config.ce.lr, weightDecay: config.ce.weightDecay });
  const sched = stepDecay(opt, config.ce.milestones);
  return {
    name: 'Vanilla CE',
    modules: { net },
    optimizers: { opt },
    schedulers: { sched },
    async step(x, b) {
      const y = tensor(b.labels, [b.size], { dtype: 'i32' });
      const loss = crossEntropy(net.forward(x), y);
      await loss.backward();
      opt.step();
      opt.zeroGrad();
      return loss;
    },
    head: (features) => net.fc!.forward(features),
    lr: () => opt.lr,
    classifier: net,
    encoderPath: '',
    features: (x) => net.features(x),
  };
}

/** EnD: cross-entropy on the logits plus EnD's regularizer on the bottleneck the classifier reads. */
function endModel(config: JobConfig): Trainable {
  manualSeed(config.seed + 2);
  const e = config.end;
  const net = new SimpleConvNet({ kernelSize: config.kernelSize, channels: config.channels, strides: config.strides });
  const opt = new Adam(net.parameters(), { lr: e.lr, weightDecay: e.weightDecay });
  const sched = stepDecay(opt, e.milestones);
  return {
    name: 'EnD',
    modules: { net },
    optimizers: { opt },
    schedulers: { sched },
    async step(x, b) {
      const features = net.features(x);
      const y = tensor(b.labels, [b.size], { dtype: 'i32' });
      const ce = crossEntropy(net.fc!.forward(features), y);
      const reg = endLoss(features, { labels: b.labels, biasLabels: b.biasLabels }, { alpha: e.alpha, beta: e.beta });
      const total = ce.add(reg);
      await total.backward();
      opt.step();
      opt.zeroGrad();
      return total;
    },
    head: (features) => net.fc!.forward(features),
    lr: () => opt.lr,
    classifier: net,
    encoderPath: '',
    features: (x) => net.features(x),
  };
}

function debiased(config: JobConfig): Trainable {
  manualSeed(config.seed + 1);
  const f = config.fairkl;
  const encoder = new SimpleConvNet({ kernelSize: config.kernelSize, channels: config.channels, strides: config.strides, tanhLast: true, numClasses: 0 });
  const classifier = new Linear(encoder.featureDim, 10);
  const opt = new SGD(encoder.parameters(), { lr: f.lr, momentum: f.momentum, weightDecay: f.weightDecay });
  const clfOpt = new Adam(classifier.parameters(), { lr: f.classifierLr });
  const sched = new CosineAnnealingLR(opt, config.epochs);
  const classify = (features: Tensor) => classifier.forward(features.detach().normalize(-1));
  return {
    name: 'ε-SupInfoNCE + FairKL',
    modules: { encoder, classifier },
    optimizers: { opt, clfOpt },
    schedulers: { sched },
    async step(x, b) {
      const features = encoder.features(x);
      const batch = { labels: b.labels, biasLabels: b.biasLabels };
      const contrastive = epsSupInfoNCE(features, batch, { temperature: f.temperature, epsilon: f.epsilon, variant: 'released' });
      const fair = fairKL(features, batch, { temperature: f.fairklTemperature, variant: 'released' });
      const y = tensor(b.labels, [b.size], { dtype: 'i32' });
      // The classifier sees detached features: its loss only trains the classifier.
      const ce = crossEntropy(classify(features), y);
      const total = contrastive.mul(f.alpha).add(fair.mul(f.lambda)).add(ce);
      await total.backward();
      opt.step();
      clfOpt.step();
      opt.zeroGrad();
      clfOpt.zeroGrad();
      return total;
    },
    head: classify,
    lr: () => opt.lr,
    classifier: new EncoderClassifier(encoder, classifier),
    encoderPath: 'encoder',
    features: (x) => encoder.features(x),
  };
}

/** The test-set pass in eval mode (BatchNorm running statistics), then accuracy by (digit, colour) cell. */
async function evaluate(model: Trainable, test: BiasedMnist, batch: number): Promise<Evaluation> {
  for (const m of Object.values(model.modules)) m.eval();
  try {
    const embedded = await embedSet(model, test, batch);
    return { ...embedded, groups: groupAccuracy({ predictions: embedded.predictions, labels: test.labels, biasLabels: test.biasLabels }) };
  } finally {
    for (const m of Object.values(model.modules)) m.train();
  }
}

export interface RunOptions {
  gpu: GpuContext;
  config: JobConfig;
  runDir: string;
  resume: boolean;
  onProgress(model: string, event: ProgressEvent): void;
  log(line: string): void;
  /** Runs on each trained model before it is freed (diagnostics, privacy probes), with its test-set pass. */
  analyse?(model: TrainedModel, test: BiasedMnist, evaluation: Evaluation): Promise<void>;
}

export async function runJob(options: RunOptions): Promise<ModelResult[]> {
  const { config, runDir } = options;
  const train = trainingSet(config);
  const test = testSet(config);
  const conflicting = Array.from(train.labels).filter((y, i) => y !== train.biasLabels[i]).length;
  options.log(`train: ${train.labels.length} images (ρ = ${config.rho}, ${conflicting} bias-conflicting); test: ${test.labels.length} images at ρ = 0.1`);
  mkdirSync(runDir, { recursive: true });
  const results: ModelResult[] = [];
  const makers: Record<ModelKey, (config: JobConfig) => Trainable> = { ce: vanilla, end: endModel, fairkl: debiased };
  for (const key of config.models) {
    const make = makers[key];
    const model = make(config);
    const ckpt = join(runDir, `${make.name}.ckpt.safetensors`);
    const loader = createLoader(train, { batchSize: config.batch, seed: config.seed, dropLast: true, prefetch: 0 });
    let start: LoopPosition | undefined;
    let trainSeconds = 0;
    if (options.resume && existsSync(ckpt)) {
      const restored = loadCheckpoint(ckpt, { models: model.modules, optimizers: model.optimizers, schedulers: model.schedulers });
      start = restored?.position;
      trainSeconds = (restored?.extra as { trainSeconds?: number } | null)?.trainSeconds ?? 0;
      options.log(`${model.name}: resumed from ${ckpt} at epoch ${start?.epoch}, batch ${start?.index}`);
    }
    const epochs = make === vanilla ? config.ceEpochs ?? config.epochs : make === endModel ? config.end.epochs ?? config.epochs : config.epochs;
    let t0 = performance.now();
    await trainLoop<HostBatch>({
      epochs,
      stepsPerEpoch: loader.batchesPerEpoch,
      batchSize: config.batch,
      start,
      batch: (epoch, index) => loader.batch(epoch, index),
      step: (b) => model.step(tensor(b.images, b.shape), b),
      lr: model.lr,
      endEpoch: () => {
        for (const s of Object.values(model.schedulers)) s.step();
      },
      checkpoint: async (position) => {
        trainSeconds += (performance.now() - t0) / 1000;
        t0 = performance.now();
        await saveCheckpoint(ckpt, { models: model.modules, optimizers: model.optimizers, schedulers: model.schedulers, position, extra: { trainSeconds } });
      },
      logEvery: 5,
      onProgress: (e) => options.onProgress(model.name, e),
    });
    const evaluation = await evaluate(model, test, 500);
    const g = evaluation.groups;
    results.push({
      // Plain accuracy on the ρ = 0.1 test set (the published tables' "unbiased"); NaN for an empty subset.
      key, name: model.name, unbiased: g.accuracy, aligned: g.aligned ?? Number.NaN, conflicting: g.conflicting ?? Number.NaN, trainSeconds, epochs,
      counts: { test: g.counts.total, aligned: g.counts.aligned, conflicting: g.counts.conflicting },
    });
    await options.analyse?.({ key, name: model.name, classifier: model.classifier, encoderPath: model.encoderPath, features: model.features, head: model.head }, test, evaluation);
    for (const m of Object.values(model.modules)) m.dispose();
    for (const o of Object.values(model.optimizers)) o.dispose();
  }
  return results;
}

export function writeResults(path: string, payload: unknown): void {
  writeFileAtomic(path, JSON.stringify(payload, null, 2) + '\n');
}
