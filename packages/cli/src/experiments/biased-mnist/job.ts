/**
 * One ρ of the Biased-MNIST experiment: the models of `config.models`, trained on the GPU —
 *   - ce: vanilla cross-entropy (SimpleConvNet + linear classifier, Adam),
 *   - end: EnD, cross-entropy + α·R⊥ + β·R∥ on the SimpleConvNet's bottleneck (the global-pooled
 *     features), Adam, the authors' recipe,
 *   - supinfonce / fairkl: ε-SupInfoNCE (+ FairKL) on the encoder's features, with a linear
 *     classifier trained online on the detached, L2-normalised features (SGD for the encoder, Adam
 *     for the classifier),
 * then unbiased / bias-aligned / bias-conflicting test accuracy of each. Each model checkpoints
 * after every epoch; with `resume` a killed run continues where it stopped, and a finished model
 * (its checkpoint at the last epoch) is evaluated, not retrained.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  colourBiasMnist,
  createLoader,
  createRng,
  loadMnist,
  normalizeImages,
  permutation,
  type BiasedMnist,
  type HostBatch,
  type MnistSource,
} from '@fairgpu/datasets/node';
import { end as endLoss, epsSupInfoNCE, fairKL } from '@fairgpu/losses';
import { argmaxRows, groupAccuracy, type GroupAccuracy } from '@fairgpu/metrics';
import {
  Adam,
  CosineAnnealingLR,
  Linear,
  loadCheckpoint,
  manualSeed,
  MultiStepLR,
  SGD,
  SimpleConvNet,
  StepLR,
  saveCheckpoint,
  trainLoop,
  Module,
  writeFileAtomic,
  type LoopPosition,
  type LrScheduler,
  type Optimizer,
  type ProgressEvent,
} from '@fairgpu/nn/node';
import { crossEntropy, noGrad, scope, tensor, type GpuContext, type Tensor } from '@fairgpu/tensor';
import { MODEL_NAMES, type JobConfig, type ModelKey } from './config.ts';

export type { JobConfig, ModelKey } from './config.ts';
export { MODEL_KEYS } from './config.ts';

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

const mnistSplits = new Map<'train' | 'test', MnistSource>();

/** MNIST, read once per process: a ρ sweep (and the privacy probes) colour the same images again. */
function mnist(split: 'train' | 'test'): MnistSource {
  let source = mnistSplits.get(split);
  if (!source) mnistSplits.set(split, (source = loadMnist(split)));
  return source;
}

/** A seeded random subset of MNIST training images (all of them with trainSize 0), coloured at ρ. */
function trainingSet(config: JobConfig, rho = config.rho, size = config.trainSize): BiasedMnist {
  const source = mnist('train');
  const subset = size > 0 && size < source.count ? permutation(source.count, createRng(config.seed, 7001)).slice(0, size).sort() : undefined;
  return colourBiasMnist(source, { rho, seed: config.seed, subset });
}

/**
 * The privacy study's probe training set (ICCVW 2021): the MNIST training images coloured at
 * ρ = 0.999, whatever ρ the models were trained at; `size` images (0 = all 60,000).
 */
export function probeTrainingSet(config: JobConfig, size: number): BiasedMnist {
  return trainingSet(config, 0.999, size);
}

export function testSet(config: JobConfig): BiasedMnist {
  const source = mnist('test');
  const subset =
    config.testSize > 0 && config.testSize < source.count
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
  constructor(
    readonly encoder: SimpleConvNet,
    readonly head: Linear,
  ) {
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

/**
 * A SimpleConvNet classifier trained with Adam on cross-entropy, plus `regularizer` on its pooled
 * bottleneck when given: vanilla CE (none) and EnD (α·R⊥ + β·R∥).
 */
function convNetClassifier(
  config: JobConfig,
  key: 'ce' | 'end',
  recipe: { lr: number; weightDecay: number; milestones: number[] },
  regularizer?: (features: Tensor, b: HostBatch) => Tensor,
): Trainable {
  const net = new SimpleConvNet({ kernelSize: config.kernelSize, channels: config.channels, strides: config.strides });
  const opt = new Adam(net.parameters(), { lr: recipe.lr, weightDecay: recipe.weightDecay });
  const sched = stepDecay(opt, recipe.milestones);
  const head = (features: Tensor) => net.fc!.forward(features);
  return {
    name: MODEL_NAMES[key],
    modules: { net },
    optimizers: { opt },
    schedulers: { sched },
    async step(x, b) {
      const features = net.features(x);
      const ce = crossEntropy(head(features), tensor(b.labels, [b.size], { dtype: 'i32' }));
      const total = regularizer ? ce.add(regularizer(features, b)) : ce;
      await total.backward();
      opt.step();
      opt.zeroGrad();
      return total;
    },
    head,
    lr: () => opt.lr,
    classifier: net,
    encoderPath: '',
    features: (x) => net.features(x),
  };
}

function vanilla(config: JobConfig): Trainable {
  manualSeed(config.seed);
  return convNetClassifier(config, 'ce', config.ce);
}

/** EnD: cross-entropy on the logits plus EnD's regularizer on the bottleneck the classifier reads. */
function endModel(config: JobConfig): Trainable {
  manualSeed(config.seed + 2);
  const e = config.end;
  return convNetClassifier(config, 'end', e, (features, b) =>
    endLoss(features, { labels: b.labels, biasLabels: b.biasLabels }, { alpha: e.alpha, beta: e.beta }),
  );
}

/**
 * ε-SupInfoNCE (+ FairKL when `withFairKL`) on the encoder's features, with the online linear
 * classifier; ε-SupInfoNCE alone is the same model without the FairKL term (the ICLR 2023 ablation).
 */
function contrastive(config: JobConfig, withFairKL: boolean): Trainable {
  manualSeed(config.seed + (withFairKL ? 1 : 3));
  const f = config.fairkl;
  const encoder = new SimpleConvNet({ kernelSize: config.kernelSize, channels: config.channels, strides: config.strides, tanhLast: true, numClasses: 0 });
  const classifier = new Linear(encoder.featureDim, 10);
  const opt = new SGD(encoder.parameters(), { lr: f.lr, momentum: f.momentum, weightDecay: f.weightDecay });
  const clfOpt = new Adam(classifier.parameters(), { lr: f.classifierLr });
  const sched = new CosineAnnealingLR(opt, config.epochs);
  const classify = (features: Tensor) => classifier.forward(features.detach().normalize(-1));
  return {
    name: MODEL_NAMES[withFairKL ? 'fairkl' : 'supinfonce'],
    modules: { encoder, classifier },
    optimizers: { opt, clfOpt },
    schedulers: { sched },
    async step(x, b) {
      const features = encoder.features(x);
      const batch = { labels: b.labels, biasLabels: b.biasLabels };
      const contrastive = epsSupInfoNCE(features, batch, { temperature: f.temperature, epsilon: f.epsilon, variant: 'released' });
      const fair = withFairKL ? fairKL(features, batch, { temperature: f.fairklTemperature, variant: 'released' }) : null;
      const y = tensor(b.labels, [b.size], { dtype: 'i32' });
      // The classifier sees detached features: its loss only trains the classifier.
      const ce = crossEntropy(classify(features), y);
      const weighted = contrastive.mul(f.alpha);
      const total = (fair ? weighted.add(fair.mul(f.lambda)) : weighted).add(ce);
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

const MAKERS: Record<ModelKey, (config: JobConfig) => Trainable> = {
  ce: vanilla,
  end: endModel,
  supinfonce: (c) => contrastive(c, false),
  fairkl: (c) => contrastive(c, true),
};

/** A freshly initialised model of `key` for `config` (seeded by config.seed). */
export function buildModel(key: ModelKey, config: JobConfig): Trainable {
  return MAKERS[key](config);
}

/**
 * The model saved in `checkpoint` (a `<key>.ckpt.safetensors` of a run at `config`), ready for
 * analysis; the caller disposes it with `disposeModel`.
 */
export function restoreModel(
  key: ModelKey,
  config: JobConfig,
  checkpoint: string,
): TrainedModel & { modules: Record<string, Module>; optimizers: Record<string, Optimizer> } {
  const model = buildModel(key, config);
  loadCheckpoint(checkpoint, { models: model.modules, optimizers: model.optimizers, schedulers: model.schedulers });
  return {
    key,
    name: model.name,
    classifier: model.classifier,
    encoderPath: model.encoderPath,
    features: model.features,
    head: model.head,
    modules: model.modules,
    optimizers: model.optimizers,
  };
}

export function disposeModel(model: { modules: Record<string, Module>; optimizers: Record<string, Optimizer> }): void {
  for (const m of Object.values(model.modules)) m.dispose();
  for (const o of Object.values(model.optimizers)) o.dispose();
}

/** The test-set pass in eval mode (BatchNorm running statistics), then accuracy by (digit, colour) cell. */
export async function evaluate(model: Pick<Trainable, 'modules' | 'features' | 'head'>, test: BiasedMnist, batch: number): Promise<Evaluation> {
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
  for (const key of config.models) {
    const model = buildModel(key, config);
    const ckpt = join(runDir, `${key}.ckpt.safetensors`);
    const loader = createLoader(train, { batchSize: config.batch, seed: config.seed, dropLast: true, prefetch: 0 });
    let start: LoopPosition | undefined;
    let trainSeconds = 0;
    if (options.resume && existsSync(ckpt)) {
      const restored = loadCheckpoint(ckpt, { models: model.modules, optimizers: model.optimizers, schedulers: model.schedulers });
      start = restored?.position;
      trainSeconds = (restored?.extra as { trainSeconds?: number } | null)?.trainSeconds ?? 0;
      options.log(`${model.name}: resumed from ${ckpt} at epoch ${start?.epoch}, batch ${start?.index}`);
    }
    const epochs = key === 'ce' ? (config.ceEpochs ?? config.epochs) : key === 'end' ? (config.end.epochs ?? config.epochs) : config.epochs;
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
      key,
      name: model.name,
      unbiased: g.accuracy,
      aligned: g.aligned ?? Number.NaN,
      conflicting: g.conflicting ?? Number.NaN,
      trainSeconds,
      epochs,
      counts: { test: g.counts.total, aligned: g.counts.aligned, conflicting: g.counts.conflicting },
    });
    await options.analyse?.(
      { key, name: model.name, classifier: model.classifier, encoderPath: model.encoderPath, features: model.features, head: model.head },
      test,
      evaluation,
    );
    disposeModel(model);
  }
  return results;
}

export function writeResults(path: string, payload: unknown): void {
  writeFileAtomic(path, JSON.stringify(payload, null, 2) + '\n');
}
