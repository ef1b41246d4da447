/**
 * One method of the table, trained and evaluated:
 *   - ce: a ResNet-18 classifier trained end to end with cross-entropy (crop + flip);
 *   - simclr / supcon / eps-supinfonce: a ResNet-18 encoder and a projection head trained on two
 *     augmented views per image (SUPCON_AUGMENT) with NT-Xent (no labels), SupCon, or ε-SupInfoNCE;
 *     then a linear classifier on the frozen encoder's features (the SupCon protocol's second stage).
 * Top-1 accuracy on the test split from the classifier (CE) or encoder + linear classifier.
 * Each stage checkpoints after every epoch under the run directory; with `resume` a finished stage
 * is loaded (zero steps) and a partial one continues from its position.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createLoader, createRng, normalizeImages, permutation, SUPCON_AUGMENT, type HostBatch } from '@fairgpu/datasets/node';
import { epsSupInfoNCE, ntXent, supcon } from '@fairgpu/losses';
import { argmaxRows } from '@fairgpu/metrics';
import {
  Linear,
  LrScheduler,
  loadCheckpoint,
  manualSeed,
  ProjectionHead,
  ResNet18,
  SGD,
  saveCheckpoint,
  trainLoop,
  type LoopPosition,
  type Module,
  type Optimizer,
  type ProgressEvent,
} from '@fairgpu/nn/node';
import { crossEntropy, noGrad, scope, tensor, type Tensor } from '@fairgpu/tensor';
import { METHOD_LABELS, NORMALIZATION, type GenericVisionConfig, type MethodKey } from './config.ts';
import type { ImageSplit, VisionData } from './data.ts';

/**
 * The SupCon code's schedule, per step: linear warm-up from min(0.01, lr) to the cosine's value at
 * the end of the warm-up, then cosine annealing from lr to lr·10⁻³ (its eta_min = lr·0.1³) at the
 * last step. A pure function of the step, so a resumed run continues the same curve.
 */
export class SupConSchedule extends LrScheduler {
  private readonly etaMin: number;
  private readonly warmupFrom: number;
  constructor(
    optimizer: Optimizer,
    readonly totalSteps: number,
    readonly warmupSteps: number,
  ) {
    super(optimizer);
    this.etaMin = this.baseLr * 1e-3;
    this.warmupFrom = Math.min(0.01, this.baseLr);
    this.start();
  }
  private cosine(t: number): number {
    return this.etaMin + ((this.baseLr - this.etaMin) * (1 + Math.cos((Math.PI * Math.min(t, this.totalSteps)) / Math.max(this.totalSteps, 1)))) / 2;
  }
  lrAt(t: number): number {
    if (t < this.warmupSteps) return this.warmupFrom + (t / this.warmupSteps) * (this.cosine(this.warmupSteps) - this.warmupFrom);
    return this.cosine(t);
  }
}

export interface StageOutcome {
  /** Wall time of the stage's training, summed over resumed sessions. */
  trainSeconds: number;
  stepsThisRun: number;
  finalEpochLoss: number | null;
  checkpoint: string;
}

export interface MethodOutcome {
  method: MethodKey;
  label: string;
  /** Top-1 accuracy on the test split, in [0, 1]. */
  top1: number;
  /** Top-1 of the final classifier on the (un-augmented) training images. */
  trainTop1: number;
  testCount: number;
  representation: StageOutcome;
  /** The linear-evaluation stage (contrastive methods only). */
  linear: StageOutcome | null;
}

interface RunOptions {
  runDir: string;
  resume: boolean;
  log(line: string): void;
  progress(task: string, event: ProgressEvent): void;
}

/** A stage's trainable parts and its step. */
interface Stage<B> {
  task: string;
  key: string;
  modules: Record<string, Module>;
  optimizers: Record<string, Optimizer>;
  schedulers: Record<string, LrScheduler>;
  epochs: number;
  stepsPerEpoch: number;
  batchSize: number;
  batch(epoch: number, index: number): B;
  step(batch: B): Promise<Tensor>;
  lr(): number;
}

/** Trains a stage with checkpoints after every epoch (resumable; a finished stage trains zero steps). */
async function runStage<B>(stage: Stage<B>, config: GenericVisionConfig, options: RunOptions): Promise<StageOutcome> {
  const ckpt = join(options.runDir, `${stage.key}.ckpt.safetensors`);
  let start: LoopPosition | undefined;
  let trainSeconds = 0;
  let finalEpochLoss: number | null = null;
  const parts = { models: stage.modules, optimizers: stage.optimizers, schedulers: stage.schedulers };
  if (options.resume && existsSync(ckpt)) {
    const restored = loadCheckpoint(ckpt, parts);
    if (restored) {
      const extra = (restored.extra ?? {}) as { trainSeconds?: number; finalEpochLoss?: number | null; stage?: string };
      if (extra.stage !== undefined && extra.stage !== stage.key) throw new Error(`${ckpt} holds stage ${extra.stage}, not ${stage.key}`);
      start = restored.position;
      trainSeconds = extra.trainSeconds ?? 0;
      finalEpochLoss = extra.finalEpochLoss ?? null;
      options.log(`${stage.task}: resumed from ${ckpt} at epoch ${start.epoch}, batch ${start.index}`);
    }
  }
  let t0 = performance.now();
  const end = await trainLoop<B>({
    epochs: stage.epochs,
    stepsPerEpoch: stage.stepsPerEpoch,
    batchSize: stage.batchSize,
    start,
    batch: (epoch, index) => stage.batch(epoch, index),
    step: (b) => stage.step(b),
    lr: stage.lr,
    logEvery: config.logEvery,
    onProgress: (e) => {
      if (e.type === 'epoch') {
        // A diverged stage is an error here, not a NaN in the table.
        if (!Number.isFinite(e.meanLoss))
          throw new Error(`${stage.task}: the mean loss of epoch ${e.epoch + 1} is ${e.meanLoss} (training diverged; lower the lr)`);
        finalEpochLoss = e.meanLoss;
      }
      options.progress(stage.task, e);
    },
    checkpoint: async (position) => {
      trainSeconds += (performance.now() - t0) / 1000;
      t0 = performance.now();
      await saveCheckpoint(ckpt, { ...parts, position, extra: { stage: stage.key, trainSeconds, finalEpochLoss } });
    },
  });
  const begin = start ?? { epoch: 0, index: 0, globalStep: 0 };
  return { trainSeconds, stepsThisRun: end.globalStep - begin.globalStep, finalEpochLoss, checkpoint: `${stage.key}.ckpt.safetensors` };
}

/** One optimisation step of every stage: backward, parameter update, gradients cleared, schedule advanced. */
async function descend(loss: Tensor, opt: { step(): void; zeroGrad(): void }, sched: { step(): void }): Promise<Tensor> {
  await loss.backward();
  opt.step();
  opt.zeroGrad();
  sched.step();
  return loss;
}

function sgd(params: Tensor[], stage: GenericVisionConfig['ce'], stepsPerEpoch: number): { opt: SGD; sched: SupConSchedule } {
  const opt = new SGD(params, { lr: stage.lr, momentum: stage.momentum, weightDecay: stage.weightDecay });
  const sched = new SupConSchedule(opt, stage.epochs * stepsPerEpoch, stage.warmupEpochs * stepsPerEpoch);
  return { opt, sched };
}

/** Crop + flip, the CE and linear stages' augmentation (SupCon's main_ce.py / main_linear.py). */
const CROP_FLIP = { randomResizedCrop: { scale: [0.2, 1] as [number, number] }, horizontalFlip: true };

function stepsFor(n: number, batch: number, what: string): number {
  const steps = Math.floor(n / Math.min(batch, n));
  if (steps < 1) throw new Error(`${what}: ${n} training images are fewer than one batch`);
  return steps;
}

/** Trains and evaluates one method; everything it allocated on the device is freed before it returns. */
export async function trainMethod(method: MethodKey, config: GenericVisionConfig, data: VisionData, options: RunOptions): Promise<MethodOutcome> {
  manualSeed(config.seed + METHOD_SEEDS[method]);
  const { train } = data;
  const normalization = NORMALIZATION[config.dataset];
  const label = METHOD_LABELS[method];
  const owned: Array<{ dispose(): void }> = [];
  try {
    if (method === 'ce') {
      const c = config.ce;
      const batch = Math.min(c.batch, train.length);
      const loader = createLoader(train, { batchSize: batch, seed: config.seed, dropLast: true, augment: CROP_FLIP, normalization, prefetch: 0 });
      const net = new ResNet18({ width: config.model.width, numClasses: data.classes });
      const { opt, sched } = sgd(net.parameters(), c, loader.batchesPerEpoch);
      owned.push(net, opt);
      const representation = await runStage<HostBatch>(
        {
          task: label,
          key: method,
          modules: { net },
          optimizers: { opt },
          schedulers: { sched },
          epochs: c.epochs,
          stepsPerEpoch: stepsFor(train.length, batch, label),
          batchSize: batch,
          batch: (e, i) => loader.batch(e, i),
          async step(b) {
            const loss = crossEntropy(net.forward(tensor(b.images, b.shape)), tensor(b.labels, [b.size], { dtype: 'i32' }));
            return descend(loss, opt, sched);
          },
          lr: () => opt.lr,
        },
        config,
        options,
      );
      const predict = (x: Tensor) => net.forward(x);
      return { method, label, ...(await accuracy([net], predict, data, config)), representation, linear: null };
    }

    const c = config.contrastive;
    const batch = Math.min(c.batch, train.length);
    const loader = createLoader(train, {
      batchSize: batch,
      seed: config.seed,
      dropLast: true,
      twoViews: true,
      augment: SUPCON_AUGMENT,
      normalization,
      prefetch: 0,
    });
    const encoder = new ResNet18({ width: config.model.width, numClasses: 0 });
    const head = new ProjectionHead(encoder.featureDim, config.model.projection);
    const { opt, sched } = sgd([...encoder.parameters(), ...head.parameters()], c, loader.batchesPerEpoch);
    owned.push(encoder, head, opt);
    const loss = contrastiveLoss(method, config);
    const representation = await runStage<HostBatch>(
      {
        task: label,
        key: method,
        modules: { encoder, head },
        optimizers: { opt },
        schedulers: { sched },
        epochs: c.epochs,
        stepsPerEpoch: stepsFor(train.length, batch, label),
        batchSize: 2 * batch,
        batch: (e, i) => loader.batch(e, i),
        async step(b) {
          // Rows are view-major (view 1 of the B images, then view 2): the losses' nViews layout.
          const z = head.forward(encoder.features(tensor(b.images, b.shape)));
          const l = loss(z, b.labels);
          return descend(l, opt, sched);
        },
        lr: () => opt.lr,
      },
      config,
      options,
    );
    const linear = await trainLinear(method, encoder, config, data, options, owned);
    const predict = (x: Tensor) => linear.classifier.forward(encoder.features(x));
    // With cached features the training images' logits need only the classifier.
    const trainLogits = linear.trainFeatures ? (x: Tensor) => linear.classifier.forward(x) : null;
    return {
      method,
      label,
      ...(await accuracy([encoder, linear.classifier], predict, data, config, trainLogits && { features: linear.trainFeatures!, head: trainLogits })),
      representation,
      linear: linear.outcome,
    };
  } finally {
    for (const o of owned) o.dispose();
  }
}

/** Seed offsets, so methods do not share an initialisation by accident of order. */
const METHOD_SEEDS: Record<MethodKey, number> = { ce: 0, simclr: 1, supcon: 2, 'eps-supinfonce': 3 };

function contrastiveLoss(method: Exclude<MethodKey, 'ce'>, config: GenericVisionConfig): (z: Tensor, labels: Int32Array) => Tensor {
  const c = config.contrastive;
  const base = c.baseTemperature;
  if (method === 'simclr') {
    // NT-Xent, the SupCon code's SimCLR (its loss without labels), with that code's τ/baseTemperature factor.
    const tau = c.temperature.simclr;
    return (z) => ntXent(z, { nViews: 2 }, { temperature: tau }).mul(tau / base);
  }
  if (method === 'supcon')
    return (z, labels) => supcon(z, { labels, nViews: 2 }, { temperature: c.temperature.supcon, baseTemperature: base, variant: 'released' });
  return (z, labels) =>
    epsSupInfoNCE(z, { labels, nViews: 2 }, { temperature: c.temperature.epsSupInfoNCE, baseTemperature: base, epsilon: c.epsilon, variant: 'released' });
}

/** The linear-evaluation stage: a Linear classifier on the frozen encoder's features. */
async function trainLinear(
  method: MethodKey,
  encoder: ResNet18,
  config: GenericVisionConfig,
  data: VisionData,
  options: RunOptions,
  owned: Array<{ dispose(): void }>,
): Promise<{ classifier: Linear; outcome: StageOutcome; trainFeatures: Float32Array | null }> {
  const l = config.linear;
  const { train } = data;
  const batch = Math.min(l.batch, train.length);
  const classifier = new Linear(encoder.featureDim, data.classes);
  owned.push(classifier);
  const normalization = NORMALIZATION[config.dataset];
  encoder.eval();
  const task = `${METHOD_LABELS[method]} · linear`;
  const stepsPerEpoch = stepsFor(train.length, batch, task);
  const { opt, sched } = sgd(classifier.parameters(), l, stepsPerEpoch);
  owned.push(opt);
  const train1 = (logits: Tensor, labels: Int32Array) => crossEntropy(logits, tensor(labels, [labels.length], { dtype: 'i32' }));
  let stage: Stage<{ x: Float32Array | null; b: HostBatch | null; labels: Int32Array }>;
  // The two ways of feeding the classifier (augmented images, or cached features) share all but batch() and step().
  const shared = {
    task,
    key: `${method}-linear`,
    modules: { classifier },
    optimizers: { opt },
    schedulers: { sched },
    epochs: l.epochs,
    stepsPerEpoch,
    batchSize: batch,
    lr: () => opt.lr,
  };
  let trainFeatures: Float32Array | null = null;
  if (l.augment) {
    const loader = createLoader(train, { batchSize: batch, seed: config.seed + 17, dropLast: true, augment: CROP_FLIP, normalization, prefetch: 0 });
    stage = {
      ...shared,
      batch: (e, i) => {
        const b = loader.batch(e, i);
        return { x: null, b, labels: b.labels };
      },
      async step({ b, labels }) {
        const f = noGrad(() => encoder.features(tensor(b!.images, b!.shape)));
        const loss = train1(classifier.forward(f), labels);
        return descend(loss, opt, sched);
      },
    };
  } else {
    // The features of the plain training images, once: the encoder is frozen and un-augmented here.
    const d = encoder.featureDim;
    const features = await embed((x) => encoder.features(x), train, config);
    trainFeatures = features;
    let cached: { epoch: number; order: Int32Array } | null = null;
    stage = {
      ...shared,
      batch: (epoch, index) => {
        if (cached?.epoch !== epoch) cached = { epoch, order: permutation(train.length, createRng(config.seed, 9100 + epoch)) };
        const rows = cached.order.subarray(index * batch, (index + 1) * batch);
        const x = new Float32Array(rows.length * d);
        rows.forEach((r, k) => x.set(features.subarray(r * d, (r + 1) * d), k * d));
        return { x, b: null, labels: Int32Array.from(rows, (r) => train.labels[r]) };
      },
      async step({ x, labels }) {
        const loss = train1(classifier.forward(tensor(x!, [labels.length, d])), labels);
        return descend(loss, opt, sched);
      },
    };
  }
  const outcome = await runStage(stage, config, options);
  return { classifier, outcome, trainFeatures };
}

/** `fn` of every image of `split` (eval-mode modules, no graph), rows concatenated on the host. */
async function embed(fn: (x: Tensor) => Tensor, split: ImageSplit, config: GenericVisionConfig): Promise<Float32Array> {
  const normalization = NORMALIZATION[config.dataset];
  let out = new Float32Array(0);
  let width = 0;
  for (let from = 0; from < split.length; from += config.evalBatch) {
    const indices = Array.from({ length: Math.min(config.evalBatch, split.length - from) }, (_, k) => from + k);
    await scope(async () => {
      const x = tensor(normalizeImages(split, { indices, ...normalization }), [indices.length, 3, split.height, split.width]);
      const y = noGrad(() => fn(x));
      if (width === 0) {
        width = y.shape[1];
        out = new Float32Array(split.length * width);
      }
      out.set(await y.toArray(), from * width);
    });
  }
  return out;
}

/** Top-1 of `predict` (logits) on the test split and on the plain training images, modules in eval mode. */
async function accuracy(
  modules: Module[],
  predict: (x: Tensor) => Tensor,
  data: VisionData,
  config: GenericVisionConfig,
  cachedTrain: { features: Float32Array; head: (features: Tensor) => Tensor } | null = null,
): Promise<{ top1: number; trainTop1: number; testCount: number }> {
  for (const m of modules) m.eval();
  try {
    const correct = (logits: ArrayLike<number>, split: ImageSplit) => {
      const predictions = argmaxRows(logits, split.length, data.classes);
      let n = 0;
      for (let i = 0; i < split.length; i++) if (predictions[i] === split.labels[i]) n++;
      return n / split.length;
    };
    const top1 = correct(await embed(predict, data.test, config), data.test);
    let trainLogits: ArrayLike<number>;
    if (cachedTrain) {
      const { features, head } = cachedTrain;
      const d = features.length / data.train.length;
      trainLogits = await scope(async () => noGrad(() => head(tensor(features, [data.train.length, d]))).toArray());
    } else {
      trainLogits = await embed(predict, data.train, config);
    }
    return { top1, trainTop1: correct(trainLogits, data.train), testCount: data.test.length };
  } finally {
    for (const m of modules) m.train();
  }
}
