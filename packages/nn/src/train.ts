/**
 * A training loop with typed progress events, GPU-side metrics and resumable state.
 *
 * The loop owns only the schedule of work: which (epoch, batch) comes next, when to report, when to
 * checkpoint. The caller supplies `step(batch)` (forward, loss, backward, optimizer step; returns the
 * scalar loss tensor) and `batch(epoch, index)`, which must depend only on (epoch, index) — e.g.
 * `loader.batch(epoch, index)` of @fairgpu/datasets — so a run resumed from a checkpoint at
 * (epoch, index) sees exactly the batches an uninterrupted run would.
 *
 * The running loss is summed on the GPU; it is read back only every `logEvery` steps and at the end
 * of each epoch, so the step loop never waits on readback otherwise.
 */
import { assertKnownOptions, concat, InvalidArgumentError, isTensor, keep, noGrad, scope, tensor, tidy, type Tensor } from '@fairgpu/tensor';

/** Where a run is: the next batch to train on. */
export interface LoopPosition {
  /** Epoch of the next step (0-based). */
  epoch: number;
  /** Index of the next batch within the epoch. */
  index: number;
  /** Steps done since the start of training. */
  globalStep: number;
}

export type ProgressEvent =
  | {
      type: 'step';
      epoch: number;
      index: number;
      stepsPerEpoch: number;
      globalStep: number;
      totalSteps: number;
      loss: number | null;
      lr: number;
      imagesPerSecond: number;
    }
  | { type: 'epoch'; epoch: number; epochs: number; meanLoss: number; lr: number; seconds: number; imagesPerSecond: number }
  | { type: 'checkpoint'; position: LoopPosition };

export interface LoopOptions<B> {
  epochs: number;
  stepsPerEpoch: number;
  /** The batch of (epoch, index): deterministic in its arguments. May be a promise. */
  batch(epoch: number, index: number): B | Promise<B>;
  /** One optimisation step; returns the scalar loss (disposed by the loop). */
  step(batch: B, position: LoopPosition): Promise<Tensor> | Tensor;
  /** Images per batch, for images/s. */
  batchSize: number;
  /** Disposes a batch after its step (e.g. its GPU tensors). */
  release?(batch: B): void;
  /** Current learning rate for reports. */
  lr?(): number;
  /** Called after each epoch's last step (e.g. `scheduler.step()`), before a checkpoint. */
  endEpoch?(epoch: number): void | Promise<void>;
  /** Start here (a resumed run); default the beginning. */
  start?: LoopPosition;
  /** Read the loss back and emit a step event every n steps; default 10. */
  logEvery?: number;
  /** Called with the position after every `checkpointEvery` steps and at each epoch end. */
  checkpoint?(position: LoopPosition): void | Promise<void>;
  checkpointEvery?: number;
  onProgress?(event: ProgressEvent): void;
  /** Stop after this many steps in this call (tests); the position is still checkpointed. */
  maxSteps?: number;
}

const LOOP_KEYS = [
  'epochs',
  'stepsPerEpoch',
  'batch',
  'step',
  'batchSize',
  'release',
  'lr',
  'endEpoch',
  'start',
  'logEvery',
  'checkpoint',
  'checkpointEvery',
  'onProgress',
  'maxSteps',
] as const;

/**
 * Runs the schedule. Options are validated up front (unknown keys, integer counts, callbacks);
 * when `batch`, `step` or a callback throws, the loop's own device state (the running loss) is
 * freed, the batch is released and the error propagates.
 */
export async function trainLoop<B>(options: LoopOptions<B>): Promise<LoopPosition> {
  if (!options || typeof options !== 'object')
    throw new InvalidArgumentError('trainLoop', 'options', `must be an object, got ${options === null ? 'null' : typeof options}`);
  assertKnownOptions('trainLoop', options, LOOP_KEYS);
  const { epochs, stepsPerEpoch, batchSize, logEvery = 10, checkpointEvery = 0 } = options;
  for (const [name, v, min] of [
    ['epochs', epochs, 0],
    ['stepsPerEpoch', stepsPerEpoch, 1],
    ['batchSize', batchSize, 1],
    ['logEvery', logEvery, 1],
    ['checkpointEvery', checkpointEvery, 0],
  ] as const) {
    if (!Number.isInteger(v) || v < min) throw new InvalidArgumentError('trainLoop', `options.${name}`, `must be an integer ≥ ${min}, got ${v}`);
  }
  if (typeof options.step !== 'function') throw new InvalidArgumentError('trainLoop', 'options.step', `must be a function, got ${typeof options.step}`);
  if (typeof options.batch !== 'function') throw new InvalidArgumentError('trainLoop', 'options.batch', `must be a function, got ${typeof options.batch}`);
  for (const name of ['release', 'lr', 'endEpoch', 'checkpoint', 'onProgress'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function')
      throw new InvalidArgumentError('trainLoop', `options.${name}`, `must be a function, got ${typeof options[name]}`);
  }
  if (options.maxSteps !== undefined && !(Number.isInteger(options.maxSteps) && options.maxSteps >= 0)) {
    throw new InvalidArgumentError('trainLoop', 'options.maxSteps', `must be an integer ≥ 0, got ${options.maxSteps}`);
  }
  const pos: LoopPosition = { ...(options.start ?? { epoch: 0, index: 0, globalStep: 0 }) };
  if (options.start !== undefined) assertKnownOptions('trainLoop', options.start, ['epoch', 'index', 'globalStep']);
  if (
    !(
      Number.isInteger(pos.epoch) &&
      Number.isInteger(pos.index) &&
      Number.isInteger(pos.globalStep) &&
      pos.epoch >= 0 &&
      pos.index >= 0 &&
      pos.globalStep >= 0 &&
      pos.index <= stepsPerEpoch
    )
  ) {
    throw new InvalidArgumentError(
      'trainLoop',
      'options.start',
      `is outside the run: ${JSON.stringify(options.start)} (epoch, index ≤ stepsPerEpoch and globalStep must be integers ≥ 0)`,
    );
  }
  const lr = () => options.lr?.() ?? NaN;
  const totalSteps = epochs * stepsPerEpoch;
  let budget = options.maxSteps ?? Infinity;
  // Device state the loop owns; freed when anything below throws.
  let lossSum: Tensor | null = null;
  let loss: Tensor | null = null;
  try {
    while (pos.epoch < epochs && budget > 0) {
      const t0 = performance.now();
      const firstIndex = pos.index;
      // Sum of this epoch's losses, on the device; read at report points only.
      lossSum = null;
      let windowStart = performance.now();
      let windowSteps = 0;
      while (pos.index < stepsPerEpoch && budget > 0) {
        const b = await options.batch(pos.epoch, pos.index);
        try {
          loss = await scope(async () => checkLoss(await options.step(b, { ...pos })));
        } finally {
          options.release?.(b);
        }
        const current: Tensor = loss;
        const sum: Tensor = noGrad(() => tidy(() => keep(lossSum ? lossSum.add(current.detach()) : current.detach().reshape([]))));
        lossSum?.dispose();
        lossSum = sum;
        pos.index++;
        pos.globalStep++;
        windowSteps++;
        budget--;
        const report = pos.index % logEvery === 0 || pos.index === stepsPerEpoch;
        let value: number | null = null;
        if (report) {
          value = await current.item();
          const now = performance.now();
          options.onProgress?.({
            type: 'step',
            epoch: pos.epoch,
            index: pos.index,
            stepsPerEpoch,
            globalStep: pos.globalStep,
            totalSteps,
            loss: value,
            lr: lr(),
            imagesPerSecond: (windowSteps * batchSize) / ((now - windowStart) / 1000),
          });
          windowStart = now;
          windowSteps = 0;
        }
        current.dispose();
        loss = null;
        if (pos.index === stepsPerEpoch) break;
        if (checkpointEvery && pos.globalStep % checkpointEvery === 0 && options.checkpoint) {
          await options.checkpoint({ ...pos });
          options.onProgress?.({ type: 'checkpoint', position: { ...pos } });
        }
      }
      if (pos.index < stepsPerEpoch) {
        lossSum?.dispose();
        lossSum = null;
        if (options.checkpoint) await options.checkpoint({ ...pos });
        break;
      }
      const steps = pos.index - firstIndex;
      const meanLoss = lossSum ? (await lossSum.item()) / Math.max(steps, 1) : NaN;
      lossSum?.dispose();
      lossSum = null;
      await options.endEpoch?.(pos.epoch);
      const seconds = (performance.now() - t0) / 1000;
      options.onProgress?.({
        type: 'epoch',
        epoch: pos.epoch,
        epochs: options.epochs,
        meanLoss,
        lr: lr(),
        seconds,
        imagesPerSecond: (steps * batchSize) / seconds,
      });
      pos.epoch++;
      pos.index = 0;
      if (options.checkpoint) {
        await options.checkpoint({ ...pos });
        options.onProgress?.({ type: 'checkpoint', position: { ...pos } });
      }
    }
  } catch (e) {
    (loss as Tensor | null)?.dispose();
    (lossSum as Tensor | null)?.dispose();
    throw e;
  }
  return pos;
}

/** The value `step` returned: a live one-element f32 tensor (disposed by the enclosing scope otherwise). */
function checkLoss(value: unknown): Tensor {
  if (!isTensor(value))
    throw new InvalidArgumentError('trainLoop', 'options.step', `must return the loss tensor, got ${value === null ? 'null' : typeof value}`);
  if (value.isDisposed)
    throw new InvalidArgumentError('trainLoop', 'options.step', 'returned a disposed tensor; return the loss undisposed (the loop disposes it)');
  if (value.size !== 1) throw new InvalidArgumentError('trainLoop', 'options.step', `must return a scalar loss, got shape [${value.shape.join(', ')}]`);
  return value;
}

/**
 * Counts of correct predictions, accumulated on the device: `add(logits, labels, group)` adds one
 * batch (no readback); `read()` returns the accuracies. A prediction is correct when the true
 * class's logit is the row maximum (a tie counts as correct). `group` (0/1 per sample on the host,
 * e.g. the loader's bias-aligned flags) also gives the accuracy within group 1 and group 0.
 */
export class AccuracyMeter {
  private correct: Tensor | null = null;
  private readonly totals: [number, number, number] = [0, 0, 0];
  add(logits: Tensor, labels: Tensor, group?: ArrayLike<number>): void {
    if (logits.rank !== 2 || labels.rank !== 1 || labels.shape[0] !== logits.shape[0]) {
      throw new InvalidArgumentError(
        'AccuracyMeter.add',
        'labels',
        `must be [N] for logits [N, C]; got [${labels.shape.join(', ')}] and [${logits.shape.join(', ')}]`,
      );
    }
    const n = logits.shape[0];
    if (group && group.length !== n) throw new InvalidArgumentError('AccuracyMeter.add', 'group', `must have ${n} entries, got ${group.length}`);
    const flags = Float32Array.from({ length: n }, (_, i) => (group && group[i] ? 1 : 0));
    const inGroup = flags.reduce((a, b) => a + b, 0);
    const next = noGrad(() =>
      tidy(() => {
        const picked = logits.gather(1, labels.reshape([-1, 1])).reshape([-1]);
        const hit = picked.ge(logits.max(1));
        const g = tensor(flags, [n], { device: logits.backend });
        // [all, group 1, group 0] correct counts
        const counts = concat([hit.sum().reshape([1]), hit.mul(g).sum().reshape([1]), hit.mul(g.neg().add(1)).sum().reshape([1])], 0);
        return keep(this.correct ? this.correct.add(counts) : counts);
      }),
    );
    this.correct?.dispose();
    this.correct = next;
    this.totals[0] += n;
    this.totals[1] += inGroup;
    this.totals[2] += n - inGroup;
  }
  /** Accuracies in [0, 1]: all samples, group 1, group 0 (NaN for an empty group); one readback. */
  async read(): Promise<{ all: number; group1: number; group0: number; counts: [number, number, number] }> {
    const c = this.correct ? Array.from(await this.correct.toArray()) : [0, 0, 0];
    const [all, g1, g0] = this.totals;
    return { all: c[0] / all, group1: c[1] / g1, group0: c[2] / g0, counts: [all, g1, g0] };
  }
  dispose(): void {
    this.correct?.dispose();
    this.correct = null;
  }
}
