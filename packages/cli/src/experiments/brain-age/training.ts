/**
 * One model per method: an MLP encoder on the ROI features, trained with L1 through a linear head
 * (the baseline) or with a kernel contrastive regression loss on its output (y-aware, L^exp,
 * L^thr); checkpointed under the run directory and resumable.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createRng, permutation } from '@fairgpu/datasets';
import { lExp, lThr, yAware } from '@fairgpu/losses';
import {
  Adam,
  Linear,
  loadCheckpoint,
  manualSeed,
  MLP,
  ReLU,
  Sequential,
  saveCheckpoint,
  trainLoop,
  type LoopPosition,
  type Module,
  type ProgressEvent,
} from '@fairgpu/nn/node';
import { noGrad, tensor, tidy, type Tensor } from '@fairgpu/tensor';
import type { BrainAgeConfig, MethodSpec } from './config.ts';
import type { Split } from './data.ts';

export interface HostBatch {
  n: number;
  x: Float32Array;
  age: Float32Array;
}

export class BrainAgeModel {
  readonly encoder: MLP;
  /** The L1 baseline's age head (absent for the contrastive losses). */
  readonly head: Linear | null;
  /** The contrastive losses' projection head (SimCLR's: Linear → ReLU → Linear), absent with projection 0 and for L1. */
  readonly projection: Sequential | null;
  readonly opt: Adam;
  private readonly ageMean: number;
  private readonly ageStd: number;

  constructor(
    readonly method: MethodSpec,
    readonly config: BrainAgeConfig,
    featureCount: number,
    trainAge: Float32Array,
  ) {
    manualSeed(config.seed);
    const e = config.encoder;
    this.encoder = new MLP(featureCount, e.hidden, e.embedding);
    this.head = method.loss === 'l1' ? new Linear(e.embedding, 1) : null;
    this.projection =
      method.loss !== 'l1' && e.projection > 0
        ? new Sequential(new ReLU(), new Linear(e.embedding, e.embedding), new ReLU(), new Linear(e.embedding, e.projection))
        : null;
    const params = [...this.encoder.parameters(), ...(this.head ? this.head.parameters() : []), ...(this.projection ? this.projection.parameters() : [])];
    this.opt = new Adam(params, { lr: config.training.lr, weightDecay: config.training.weightDecay });
    let mean = 0;
    for (const a of trainAge) mean += a;
    mean /= trainAge.length;
    let v = 0;
    for (const a of trainAge) v += (a - mean) ** 2;
    this.ageMean = mean;
    this.ageStd = Math.sqrt(v / trainAge.length) || 1;
  }

  get modules(): Record<string, Module> {
    return { encoder: this.encoder, ...(this.head ? { head: this.head } : {}), ...(this.projection ? { projection: this.projection } : {}) };
  }

  /** The loss of one batch (L1 in years for the baseline), after backward and an optimizer step. */
  async step(b: HostBatch, featureCount: number): Promise<Tensor> {
    const x = tensor(b.x, [b.n, featureCount]);
    const f = this.encoder.forward(x);
    const t = this.config.training;
    let loss: Tensor;
    if (this.head) {
      const y = tensor(
        Float32Array.from(b.age, (a) => (a - this.ageMean) / this.ageStd),
        [b.n, 1],
      );
      loss = this.head.forward(f).sub(y).abs().mean().mul(this.ageStd);
    } else {
      const options = {
        kernel: this.method.kernel!,
        sigma: this.method.sigma!,
        temperature: t.temperature,
        variant: this.method.loss === 'l-thr' ? t.thrVariant : t.variant,
      };
      const batch = { targets: b.age };
      const z = this.projection ? this.projection.forward(f) : f;
      loss = this.method.loss === 'y-aware' ? yAware(z, batch, options) : this.method.loss === 'l-exp' ? lExp(z, batch, options) : lThr(z, batch, options);
    }
    await loss.backward();
    this.opt.step();
    this.opt.zeroGrad();
    return loss;
  }

  /** The representation of every row of `split` (eval mode, no graph), on the host. */
  async embed(split: Split, featureCount: number, chunk = 1024): Promise<Float32Array> {
    const d = this.config.encoder.embedding;
    const out = new Float32Array(split.n * d);
    this.encoder.eval();
    try {
      for (let start = 0; start < split.n; start += chunk) {
        const end = Math.min(split.n, start + chunk);
        const f = tidy(() =>
          noGrad(() => this.encoder.forward(tensor(split.x.subarray(start * featureCount, end * featureCount), [end - start, featureCount]))),
        );
        out.set(await f.toArray(), start * d);
        f.dispose();
      }
    } finally {
      this.encoder.train();
    }
    return out;
  }

  dispose(): void {
    for (const m of Object.values(this.modules)) m.dispose();
    this.opt.dispose();
  }
}

/** Batch `index` of `epoch`: a seeded permutation per epoch, full batches only (deterministic in (epoch, index)). */
export function batchSampler(train: Split, featureCount: number, batchSize: number, seed: number) {
  const size = Math.min(batchSize, train.n);
  const stepsPerEpoch = Math.floor(train.n / size);
  let cached: { epoch: number; order: Int32Array } | null = null;
  return {
    stepsPerEpoch,
    size,
    batch(epoch: number, index: number): HostBatch {
      if (!cached || cached.epoch !== epoch) cached = { epoch, order: permutation(train.n, createRng(seed, 1000 + epoch)) };
      const rows = cached.order.subarray(index * size, (index + 1) * size);
      const x = new Float32Array(size * featureCount);
      const age = new Float32Array(size);
      rows.forEach((i, r) => {
        x.set(train.x.subarray(i * featureCount, (i + 1) * featureCount), r * featureCount);
        age[r] = train.age[i];
      });
      return { n: size, x, age };
    },
  };
}

export interface TrainOutcome {
  /** Training wall time, summed over resumed sessions. */
  trainSeconds: number;
  /** Steps trained in this call (0 when a finished checkpoint was loaded). */
  stepsThisRun: number;
  resumedFrom: LoopPosition | null;
  finalEpochLoss: number | null;
}

/**
 * Trains `model` for the configured epochs, checkpointing to `<runDir>/<method key>.ckpt.safetensors`
 * after every epoch; with `resume` an existing checkpoint is loaded first and training continues
 * from its position (a finished model trains zero steps).
 */
export async function trainModel(
  model: BrainAgeModel,
  train: Split,
  featureCount: number,
  options: {
    runDir: string;
    resume: boolean;
    progress(event: ProgressEvent): void;
    log(line: string): void;
  },
): Promise<TrainOutcome> {
  const { config } = model;
  const ckpt = join(options.runDir, `${model.method.key}.ckpt.safetensors`);
  const sampler = batchSampler(train, featureCount, config.training.batchSize, config.seed);
  let start: LoopPosition | undefined;
  let trainSeconds = 0;
  let finalEpochLoss: number | null = null;
  if (options.resume && existsSync(ckpt)) {
    const restored = loadCheckpoint(ckpt, { models: model.modules, optimizers: { opt: model.opt } });
    if (restored) {
      start = restored.position;
      const extra = (restored.extra ?? {}) as { trainSeconds?: number; finalEpochLoss?: number | null; method?: string };
      if (extra.method !== undefined && extra.method !== model.method.id) throw new Error(`${ckpt} holds method ${extra.method}, not ${model.method.id}`);
      trainSeconds = extra.trainSeconds ?? 0;
      finalEpochLoss = extra.finalEpochLoss ?? null;
      options.log(`${model.method.id}: resumed from ${ckpt} at epoch ${start.epoch}, batch ${start.index}`);
    }
  }
  let t0 = performance.now();
  const end = await trainLoop<HostBatch>({
    epochs: config.training.epochs,
    stepsPerEpoch: sampler.stepsPerEpoch,
    batchSize: sampler.size,
    start,
    batch: (epoch, index) => sampler.batch(epoch, index),
    step: (b) => model.step(b, featureCount),
    lr: () => model.opt.lr,
    logEvery: config.training.logEvery,
    onProgress: (e) => {
      if (e.type === 'epoch') finalEpochLoss = e.meanLoss;
      options.progress(e);
    },
    checkpoint: async (position) => {
      trainSeconds += (performance.now() - t0) / 1000;
      t0 = performance.now();
      await saveCheckpoint(ckpt, {
        models: model.modules,
        optimizers: { opt: model.opt },
        position,
        extra: { method: model.method.id, trainSeconds, finalEpochLoss },
      });
    },
  });
  const begin = start ?? { epoch: 0, index: 0, globalStep: 0 };
  return { trainSeconds, stepsThisRun: end.globalStep - begin.globalStep, resumedFrom: start ?? null, finalEpochLoss };
}
