/**
 * Batching loader: seeded shuffling, an M-per-class sampler, optional two-view augmentation, and
 * prefetching. Every batch is ONE contiguous normalised Float32Array in NCHW order plus Int32Array
 * labels, so a GPU consumer uploads it with a single buffer write; the `upload` callback lets the
 * caller turn each host batch into a device tensor while the previous step still runs.
 *
 * Determinism: the order of epoch e and the augmentation of batch b depend only on
 * (seed, e, b), not on prefetch timing.
 */
import { DatasetArgumentError, checkInteger, checkKnownOptions, checkOptionsObject, checkSeed } from './errors.ts';
import { augmentInto, createAugmentScratch, resolveAugment } from './augment.ts';
import type { AugmentOptions, AugmentScratch, ResolvedAugment } from './augment.ts';
import { normalizationTable } from './normalize.ts';
import type { Normalization } from './normalize.ts';
import { createRng, permutation, shuffleInPlace } from './prng.ts';
import type { BiasedImageSet } from './biased-mnist.ts';

export type Sampler = 'random' | 'sequential' | { kind: 'm-per-class'; m: number };

export interface HostBatch {
  epoch: number;
  /** Position of this batch in its epoch. */
  index: number;
  /** Number of distinct samples B. */
  size: number;
  /** 1, or 2 for two-view batches: images holds view 1 of all B samples, then view 2. */
  views: 1 | 2;
  /** [views·B, C, H, W]. */
  shape: [number, number, number, number];
  images: Float32Array;
  /** B labels (not repeated per view). */
  labels: Int32Array;
  biasLabels: Int32Array;
  /** 1 where label === biasLabel. */
  aligned: Uint8Array;
  /** Dataset index of each sample. */
  indices: Int32Array;
}

export interface LoaderOptions<T = HostBatch> {
  batchSize: number;
  /** Seed for shuffling, sampling and augmentation; default 0. */
  seed?: number;
  /** Default 'random' (a fresh seeded permutation each epoch). */
  sampler?: Sampler;
  /** Drop the last incomplete batch; default false. M-per-class batches are always full. */
  dropLast?: boolean;
  /** Two independently augmented views per sample (SimCLR/SupCon); default false. */
  twoViews?: boolean;
  /**
   * Augmentation: true for defaults (crop padding 4, flip, no colour jitter); SUPCON_AUGMENT for the
   * SimCLR/SupCon recipe (random resized crop, flip, colour jitter, grayscale). Default: none.
   */
  augment?: AugmentOptions | boolean;
  /** Default (x/255 − 0.5)/0.5 per channel. */
  normalization?: Normalization;
  /** Batches prepared ahead of the consumer; default 1, 0 disables prefetching. */
  prefetch?: number;
  /**
   * Turns a host batch into whatever the consumer wants (e.g. a GPU tensor via one
   * `queue.writeBuffer`). Called when the batch is prepared, i.e. ahead of the consumer when
   * prefetching. May return a promise.
   */
  upload?: (batch: HostBatch) => T | Promise<T>;
}

export interface Loader<T> {
  readonly batchesPerEpoch: number;
  readonly options: Readonly<LoaderOptions<T>>;
  /** Batches of one epoch, prefetched; yields upload(batch) (the host batch without `upload`). */
  epoch(epoch: number): AsyncIterableIterator<T>;
  /** Host batches of one epoch, synchronously, without prefetching or upload. */
  epochSync(epoch: number): IterableIterator<HostBatch>;
  /** Builds one host batch directly. */
  batch(epoch: number, index: number): HostBatch;
}

export function createLoader(dataset: BiasedImageSet, options: LoaderOptions<HostBatch> & { upload?: undefined }): Loader<HostBatch>;
export function createLoader<T>(dataset: BiasedImageSet, options: LoaderOptions<T> & { upload: (batch: HostBatch) => T | Promise<T> }): Loader<T>;
export function createLoader<T>(dataset: BiasedImageSet, options: LoaderOptions<T>): Loader<T> {
  return new BatchLoader<T>(dataset, options);
}

const LOADER_KEYS = ['batchSize', 'seed', 'sampler', 'dropLast', 'twoViews', 'augment', 'normalization', 'prefetch', 'upload'] as const;

/** Random-stream ids; kept apart so epochs, samplers and augmentation never share a sequence. */
const STREAM_EPOCH_ORDER = 0x1000_0000;
const STREAM_AUGMENT = 0x8000_0000;

class BatchLoader<T> implements Loader<T> {
  readonly batchesPerEpoch: number;
  private readonly batchSize: number;
  private readonly seed: number;
  private readonly sampler: Sampler;
  private readonly augment: ResolvedAugment | null;
  private readonly views: 1 | 2;
  private readonly table: Float32Array;
  private readonly prefetch: number;
  private readonly scratch: AugmentScratch = createAugmentScratch();
  private readonly classMembers: Int32Array[] | null = null;
  private cachedPlan: { epoch: number; plan: Int32Array } | null = null;

  constructor(
    private readonly dataset: BiasedImageSet,
    readonly options: LoaderOptions<T>,
  ) {
    checkOptionsObject('dataset', dataset, 'length, height, width, channels, images, labels and biasLabels');
    checkOptionsObject('options', options, 'batchSize');
    checkKnownOptions('options', options, LOADER_KEYS);
    const n = dataset.length;
    const { images, labels, biasLabels, height, width, channels } = dataset;
    if (images.length !== n * height * width * channels) {
      throw new DatasetArgumentError('dataset.images', `has ${images.length} bytes, expected ${n}·${height}·${width}·${channels}`);
    }
    if (labels.length !== n || biasLabels.length !== n) throw new DatasetArgumentError('dataset.labels', `labels and biasLabels must have ${n} entries`);
    this.batchSize = checkInteger('batchSize', options.batchSize, 1, 1 << 20);
    this.seed = checkSeed('seed', options.seed ?? 0);
    this.sampler = options.sampler ?? 'random';
    for (const flag of ['dropLast', 'twoViews'] as const) {
      if (options[flag] !== undefined && typeof options[flag] !== 'boolean')
        throw new DatasetArgumentError(flag, `expected a boolean, got ${String(options[flag])}`);
    }
    if (options.upload !== undefined && typeof options.upload !== 'function')
      throw new DatasetArgumentError('upload', `expected a function, got ${typeof options.upload}`);
    if (typeof this.sampler === 'object' && this.sampler !== null) checkKnownOptions('sampler', this.sampler, ['kind', 'm']);
    this.views = options.twoViews ? 2 : 1;
    this.augment = resolveAugment(options.augment);
    // Grayscale mixes the three colour channels: it has no meaning for other channel counts.
    if (this.augment && this.augment.grayscale > 0 && channels !== 3)
      throw new DatasetArgumentError('augment.grayscale', `needs RGB images (3 channels), the dataset has ${channels}`);
    this.table = normalizationTable(channels, options.normalization);
    this.prefetch = checkInteger('prefetch', options.prefetch ?? 1, 0, 64);

    if (typeof this.sampler === 'object' && this.sampler !== null && this.sampler.kind === 'm-per-class') {
      const m = checkInteger('sampler.m', this.sampler.m, 1, this.batchSize);
      if (this.batchSize % m !== 0) throw new DatasetArgumentError('sampler.m', `batchSize ${this.batchSize} is not a multiple of m = ${m}`);
      this.classMembers = groupByClass(labels);
      if (this.classMembers.length === 0) throw new DatasetArgumentError('dataset', 'is empty');
      this.batchesPerEpoch = Math.floor(n / this.batchSize);
    } else if (this.sampler === 'random' || this.sampler === 'sequential') {
      this.batchesPerEpoch = options.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
    } else {
      throw new DatasetArgumentError('sampler', `expected 'random', 'sequential' or { kind: 'm-per-class', m }`);
    }
  }

  /** Dataset indices of every sample of the epoch, batch after batch. */
  private plan(epoch: number): Int32Array {
    if (this.cachedPlan?.epoch === epoch) return this.cachedPlan.plan;
    const rng = createRng(this.seed, STREAM_EPOCH_ORDER + epoch);
    let plan: Int32Array;
    if (this.classMembers) {
      plan = mPerClassPlan(this.classMembers, this.batchesPerEpoch, this.batchSize, (this.sampler as { m: number }).m, rng);
    } else if (this.sampler === 'sequential') {
      plan = Int32Array.from({ length: this.dataset.length }, (_, i) => i);
    } else {
      plan = permutation(this.dataset.length, rng);
    }
    this.cachedPlan = { epoch, plan };
    return plan;
  }

  batch(epoch: number, index: number): HostBatch {
    checkInteger('epoch', epoch, 0, 2 ** 31 - 1);
    checkInteger('index', index, 0, this.batchesPerEpoch - 1);
    const plan = this.plan(epoch);
    const start = index * this.batchSize;
    const indices = plan.slice(start, Math.min(start + this.batchSize, plan.length));
    const size = indices.length;
    const { height, width, channels, images } = this.dataset;
    const imageFloats = height * width * channels;
    const out = new Float32Array(this.views * size * imageFloats);
    const labels = new Int32Array(size);
    const biasLabels = new Int32Array(size);
    const aligned = new Uint8Array(size);
    // Stream = top bit | epoch mod 2048 (11 bits) | batch index (20 bits): distinct for every batch
    // of 2,048 consecutive epochs with up to 2^20 batches each, apart from the epoch-order streams.
    const rng = this.augment ? createRng(this.seed, STREAM_AUGMENT + (epoch % 2048) * 0x10_0000 + (index % 0x10_0000)) : null;
    for (let v = 0; v < this.views; v++) {
      for (let i = 0; i < size; i++) {
        const sample = indices[i];
        const target = (v * size + i) * imageFloats;
        if (this.augment && rng) {
          augmentInto(images, sample, height, width, channels, out, target, this.table, this.augment, rng, this.scratch);
        } else {
          writeNormalized(images, sample * imageFloats, height * width, channels, out, target, this.table);
        }
      }
    }
    for (let i = 0; i < size; i++) {
      labels[i] = this.dataset.labels[indices[i]];
      biasLabels[i] = this.dataset.biasLabels[indices[i]];
      aligned[i] = labels[i] === biasLabels[i] ? 1 : 0;
    }
    return {
      epoch,
      index,
      size,
      views: this.views,
      shape: [this.views * size, channels, height, width],
      images: out,
      labels,
      biasLabels,
      aligned,
      indices,
    };
  }

  *epochSync(epoch: number): IterableIterator<HostBatch> {
    for (let b = 0; b < this.batchesPerEpoch; b++) yield this.batch(epoch, b);
  }

  async *epoch(epoch: number): AsyncIterableIterator<T> {
    const upload = this.options.upload ?? ((batch: HostBatch) => batch as unknown as T);
    const pending: Array<Promise<T>> = [];
    let next = 0;
    let cancelled = false;
    // Batch preparation runs as a macrotask, so it happens while the consumer awaits its GPU work
    // rather than delaying the delivery of the batch the consumer is waiting for.
    const enqueue = (): void => {
      while (next < this.batchesPerEpoch && pending.length <= this.prefetch) {
        const index = next++;
        const promise = runSoon(() => (cancelled ? (undefined as T) : upload(this.batch(epoch, index))));
        promise.catch(() => {}); // surfaced when awaited; avoids unhandled rejections after `break`
        pending.push(promise);
      }
    };
    try {
      while (next < this.batchesPerEpoch || pending.length > 0) {
        enqueue();
        const batch = await pending.shift()!;
        enqueue();
        yield batch;
      }
    } finally {
      cancelled = true;
    }
  }
}

function writeNormalized(images: Uint8Array, source: number, pixels: number, channels: number, out: Float32Array, target: number, table: Float32Array): void {
  for (let c = 0; c < channels; c++) {
    const tableOffset = c * 256;
    const plane = target + c * pixels;
    for (let p = 0, s = source + c; p < pixels; p++, s += channels) out[plane + p] = table[tableOffset + images[s]];
  }
}

function groupByClass(labels: Int32Array): Int32Array[] {
  const groups = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    let group = groups.get(labels[i]);
    if (!group) groups.set(labels[i], (group = []));
    group.push(i);
  }
  return [...groups.keys()].sort((a, b) => a - b).map((k) => Int32Array.from(groups.get(k)!));
}

/**
 * M-per-class sampling (as pytorch-metric-learning's MPerClassSampler): each batch holds
 * batchSize/m groups of m samples of one class, so every class in a batch has ≥ m ≥ 2 positives
 * for SupCon. Classes are visited in a shuffled cycle (reshuffled on wrap); within a class samples
 * are drawn without replacement from a shuffled pool, refilled when exhausted.
 */
function mPerClassPlan(classMembers: Int32Array[], batches: number, batchSize: number, m: number, rng: ReturnType<typeof createRng>): Int32Array {
  const pools = classMembers.map((members) => shuffleInPlace(members.slice(), rng));
  const cursors = new Int32Array(pools.length);
  const classOrder = permutation(pools.length, rng);
  let classCursor = 0;
  const plan = new Int32Array(batches * batchSize);
  let o = 0;
  for (let b = 0; b < batches; b++) {
    for (let g = 0; g < batchSize / m; g++) {
      if (classCursor === classOrder.length) {
        shuffleInPlace(classOrder, rng);
        classCursor = 0;
      }
      const c = classOrder[classCursor++];
      const pool = pools[c];
      for (let k = 0; k < m; k++) {
        if (cursors[c] === pool.length) {
          shuffleInPlace(pool, rng);
          cursors[c] = 0;
        }
        plan[o++] = pool[cursors[c]++];
      }
    }
  }
  return plan;
}

type Task = () => void;

/** setImmediate where it exists (Node, Deno), else a MessageChannel hop, else setTimeout. */
function scheduleMacrotask(task: Task): void {
  const g = globalThis as { setImmediate?: (t: Task) => void; MessageChannel?: typeof MessageChannel };
  if (typeof g.setImmediate === 'function') {
    g.setImmediate(task);
  } else if (typeof g.MessageChannel === 'function') {
    const channel = new g.MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      task();
    };
    channel.port2.postMessage(null);
  } else {
    setTimeout(task, 0);
  }
}

function runSoon<T>(work: () => T | Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    scheduleMacrotask(() => {
      try {
        resolve(work());
      } catch (error) {
        reject(error);
      }
    });
  });
}
