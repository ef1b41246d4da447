import { afterAll, describe, expect, it } from 'vitest';
import { Rng, scope, tensor, type Tensor } from '@fairgpu/tensor';
import {
  AccuracyMeter,
  Adam,
  BatchNorm2d,
  Conv2d,
  CosineAnnealingLR,
  GlobalAvgPool2d,
  Linear,
  manualSeed,
  MaxPool2d,
  ReLU,
  Sequential,
  trainLoop,
  type ProgressEvent,
} from '../src/index.ts';
import { gpuOrSkip } from './helpers.ts';

const gpu = await gpuOrSkip();
afterAll(() => gpu?.destroy());

/**
 * A synthetic vision task a linear model on pixels cannot solve: an 8×8 image holds one bar at a
 * random position, vertical (class 0) or horizontal (class 1), over Gaussian noise.
 */
function bars(n: number, seed: number): { images: Float32Array; labels: Int32Array } {
  const rng = new Rng(seed);
  const images = new Float32Array(n * 64);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const label = rng.int(2);
    labels[i] = label;
    const at = rng.int(8);
    const from = rng.int(4);
    for (let p = 0; p < 64; p++) images[i * 64 + p] = 0.3 * rng.normal();
    for (let k = from; k < from + 4; k++) images[i * 64 + (label ? at * 8 + k : k * 8 + at)] += 1.5;
  }
  return { images, labels };
}

describe.runIf(gpu)('training a small conv net on the GPU', () => {
  it('reaches ≥ 95 % on held-out data of a synthetic task in well under a minute', async () => {
    const t0 = performance.now();
    manualSeed(1);
    const model = new Sequential(
      new Conv2d(1, 8, 3, { padding: 1, device: gpu! }),
      new BatchNorm2d(8, { device: gpu! }),
      new ReLU(),
      new MaxPool2d(2),
      new Conv2d(8, 16, 3, { padding: 1, device: gpu! }),
      new ReLU(),
      new GlobalAvgPool2d(),
      new Linear(16, 2, { device: gpu! }),
    );
    const opt = new Adam(model.parameters(), { lr: 0.02 });
    const sched = new CosineAnnealingLR(opt, 5);
    const batchSize = 32;
    const events: ProgressEvent[] = [];
    const toTensors = (d: { images: Float32Array; labels: Int32Array }) => ({
      x: tensor(d.images, [d.labels.length, 1, 8, 8], { device: gpu! }),
      y: tensor(d.labels, [d.labels.length], { device: gpu!, dtype: 'i32' }),
    });
    await trainLoop<{ x: Tensor; y: Tensor }>({
      epochs: 5,
      stepsPerEpoch: 12,
      batchSize,
      batch: (epoch, index) => toTensors(bars(batchSize, 1000 * epoch + index)),
      release: (b) => {
        b.x.dispose();
        b.y.dispose();
      },
      async step(b) {
        const loss = model
          .forward(b.x)
          .logSoftmax(-1)
          .gather(1, b.y.reshape([-1, 1]))
          .mean()
          .neg();
        await loss.backward();
        opt.step();
        opt.zeroGrad();
        return loss;
      },
      lr: () => opt.lr,
      endEpoch: () => sched.step(),
      logEvery: 6,
      onProgress: (e) => events.push(e),
    });
    model.eval();
    const test = bars(256, 99);
    const meter = new AccuracyMeter();
    await scope(async () => {
      const { x, y } = toTensors(test);
      meter.add(model.forward(x), y, test.labels);
    });
    const acc = await meter.read();
    meter.dispose();
    const seconds = (performance.now() - t0) / 1000;
    const epochs = events.filter((e) => e.type === 'epoch');
    expect(epochs).toHaveLength(5);
    expect(events.filter((e) => e.type === 'step').every((e) => e.type === 'step' && e.loss !== null && e.imagesPerSecond > 0)).toBe(true);
    expect(acc.all, `accuracy ${acc.all}`).toBeGreaterThanOrEqual(0.95);
    // group 1 = class 1 here: both groups are measured
    expect(acc.counts[1] + acc.counts[2]).toBe(256);
    expect(seconds).toBeLessThan(60);
    model.dispose();
    opt.dispose();
  }, 60_000);
});
