import { describe, expect, it } from 'vitest';
import { colourBiasMnist } from '../src/biased-mnist.ts';
import { createLoader } from '../src/loader.ts';
import type { HostBatch } from '../src/loader.ts';
import { normalizeImages } from '../src/normalize.ts';
import { DatasetArgumentError } from '../src/errors.ts';
import { syntheticMnist } from './helpers.ts';

const dataset = colourBiasMnist(syntheticMnist(1000), { rho: 0.9, seed: 4 });
const imageFloats = 3 * 28 * 28;

function collect(loader: { epochSync(e: number): IterableIterator<HostBatch> }, epoch: number): HostBatch[] {
  return [...loader.epochSync(epoch)];
}

describe('loader', () => {
  it('covers every sample once per epoch, reshuffles per epoch, and is deterministic for a seed', () => {
    const loader = createLoader(dataset, { batchSize: 64, seed: 1 });
    expect(loader.batchesPerEpoch).toBe(16);
    const epoch0 = collect(loader, 0);
    const seen = epoch0.flatMap((b) => [...b.indices]);
    expect(seen.length).toBe(1000);
    expect(new Set(seen).size).toBe(1000);
    expect(epoch0[15].size).toBe(1000 - 15 * 64);
    const again = collect(createLoader(dataset, { batchSize: 64, seed: 1 }), 0).flatMap((b) => [...b.indices]);
    expect(again).toEqual(seen);
    const epoch1 = collect(loader, 1).flatMap((b) => [...b.indices]);
    expect(epoch1).not.toEqual(seen);
    expect(createLoader(dataset, { batchSize: 64, dropLast: true }).batchesPerEpoch).toBe(15);
  });

  it('builds one contiguous NCHW Float32Array per batch with matching labels', () => {
    const batch = createLoader(dataset, { batchSize: 32, seed: 2 }).batch(0, 3);
    expect(batch.shape).toEqual([32, 3, 28, 28]);
    expect(batch.images).toBeInstanceOf(Float32Array);
    expect(batch.images.length).toBe(32 * imageFloats);
    const reference = normalizeImages(dataset, { indices: batch.indices });
    let maxError = 0;
    for (let i = 0; i < reference.length; i++) maxError = Math.max(maxError, Math.abs(reference[i] - batch.images[i]));
    expect(maxError).toBeLessThan(1e-6);
    for (let i = 0; i < 32; i++) {
      expect(batch.labels[i]).toBe(dataset.labels[batch.indices[i]]);
      expect(batch.biasLabels[i]).toBe(dataset.biasLabels[batch.indices[i]]);
      expect(batch.aligned[i]).toBe(batch.labels[i] === batch.biasLabels[i] ? 1 : 0);
    }
  });

  it('M-per-class sampling gives every class in a batch at least m positives', () => {
    const loader = createLoader(dataset, { batchSize: 40, seed: 3, sampler: { kind: 'm-per-class', m: 4 } });
    expect(loader.batchesPerEpoch).toBe(25);
    for (const batch of loader.epochSync(0)) {
      expect(batch.size).toBe(40);
      const counts = new Map<number, number>();
      for (const label of batch.labels) counts.set(label, (counts.get(label) ?? 0) + 1);
      for (const count of counts.values()) expect(count % 4).toBe(0);
      expect(counts.size).toBe(10); // 10 groups over 10 classes, visited in a cycle
    }
    expect(() => createLoader(dataset, { batchSize: 30, sampler: { kind: 'm-per-class', m: 4 } })).toThrow(DatasetArgumentError);
  });

  it('two views are independently augmented crops/flips of the same images, without colour change by default', () => {
    const loader = createLoader(dataset, { batchSize: 16, seed: 5, twoViews: true, augment: true });
    const batch = loader.batch(0, 0);
    expect(batch.shape).toEqual([32, 3, 28, 28]);
    expect(batch.views).toBe(2);
    const plain = normalizeImages(dataset, { indices: batch.indices });
    const padValue = -1; // black zero padding after (0/255 − 0.5)/0.5
    let differingViews = 0;
    let recoloured = 0;
    for (let i = 0; i < 16; i++) {
      const view1 = batch.images.subarray(i * imageFloats, (i + 1) * imageFloats);
      const view2 = batch.images.subarray((16 + i) * imageFloats, (17 + i) * imageFloats);
      if (view1.some((v, k) => Math.abs(v - view2[k]) > 1e-6)) differingViews++;
      // Without colour jitter every output value is either padding or a value of the original image
      // in the same channel (cropping and flipping move pixels, never recolour them).
      for (const view of [view1, view2]) {
        for (let c = 0; c < 3; c++) {
          const allowed = new Set([padValue, ...plain.subarray(i * imageFloats + c * 784, i * imageFloats + (c + 1) * 784)].map((v) => Math.round(v * 1e4)));
          for (let p = 0; p < 784; p++) if (!allowed.has(Math.round(view[c * 784 + p] * 1e4))) recoloured++;
        }
      }
    }
    expect(recoloured).toBe(0);
    expect(differingViews).toBeGreaterThan(12);
    // Same seed, same batch → same augmentation.
    expect(createLoader(dataset, { batchSize: 16, seed: 5, twoViews: true, augment: true }).batch(0, 0).images).toEqual(batch.images);
  });

  it('flip-only augmentation mirrors rows exactly', () => {
    const batch = createLoader(dataset, { batchSize: 50, seed: 6, augment: { cropPadding: 0, horizontalFlip: true } }).batch(0, 0);
    const plain = normalizeImages(dataset, { indices: batch.indices });
    let flipped = 0;
    for (let i = 0; i < 50; i++) {
      const out = batch.images.subarray(i * imageFloats, (i + 1) * imageFloats);
      const src = plain.subarray(i * imageFloats, (i + 1) * imageFloats);
      const same = out.every((v, k) => Math.abs(v - src[k]) < 1e-6);
      const mirrored = out.every((v, k) => {
        const x = k % 28;
        return Math.abs(v - src[k - x + 27 - x]) < 1e-6;
      });
      expect(same || mirrored).toBe(true);
      if (!same) flipped++;
    }
    expect(flipped).toBeGreaterThan(10);
    expect(flipped).toBeLessThan(40);
  });

  it('colour jitter, when enabled, changes colours and stays within the normalised range', () => {
    const batch = createLoader(dataset, {
      batchSize: 8,
      seed: 7,
      augment: { cropPadding: 0, horizontalFlip: false, colourJitter: { brightness: 0.4, contrast: 0.4, saturation: 0.4 } },
    }).batch(0, 0);
    const plain = normalizeImages(dataset, { indices: batch.indices });
    let maxChange = 0;
    let outOfRange = 0;
    for (let k = 0; k < plain.length; k++) {
      if (batch.images[k] < -1 - 1e-6 || batch.images[k] > 1 + 1e-6) outOfRange++;
      maxChange = Math.max(maxChange, Math.abs(batch.images[k] - plain[k]));
    }
    expect(outOfRange).toBe(0);
    expect(maxChange).toBeGreaterThan(0.05);
  });

  it('prefetches: the next batch is uploaded while the consumer awaits its GPU work', async () => {
    const uploaded: number[] = [];
    const loader = createLoader(dataset, {
      batchSize: 100,
      seed: 8,
      prefetch: 1,
      upload: (batch) => {
        uploaded.push(batch.index);
        return { tensorOf: batch.index, floats: batch.images.length };
      },
    });
    const received: number[] = [];
    for await (const item of loader.epoch(0)) {
      received.push(item.tensorOf);
      expect(item.floats).toBe(100 * imageFloats);
      await new Promise((resolve) => setTimeout(resolve, 2)); // stands in for a GPU step
      if (item.tensorOf < 9) expect(uploaded).toContain(item.tensorOf + 1);
    }
    expect(received).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(uploaded).toEqual(received);
  });

  it('supports asynchronous upload, stops cleanly on break and reports bad options by name', async () => {
    const loader = createLoader(dataset, { batchSize: 100, seed: 9, prefetch: 3, upload: async (batch) => batch.index * 2 });
    const got: number[] = [];
    for await (const value of loader.epoch(2)) {
      got.push(value);
      if (got.length === 3) break;
    }
    expect(got).toEqual([0, 2, 4]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const host = createLoader(dataset, { batchSize: 250, prefetch: 0 });
    const sizes: number[] = [];
    for await (const batch of host.epoch(0)) sizes.push(batch.size);
    expect(sizes).toEqual([250, 250, 250, 250]);
    expect(() => createLoader(dataset, { batchSize: 0 })).toThrow(/batchSize/);
    expect(() => createLoader(dataset, { batchSize: 8, augment: { cropPadding: -1 } })).toThrow(/augment.cropPadding/);
  });
});

describe('colour jitter details', () => {
  const base = { batchSize: 1, seed: 1, sampler: 'sequential' as const };
  const plainFirst = normalizeImages(dataset, { indices: [0] });

  it('hue rotation by half a turn maps a pure colour to its complement, keeping white white', () => {
    // Hue shift is drawn from [−0.5, 0.5]; find a seed whose draw is near ±0.5 by checking red → cyan-ish.
    const tiny = {
      length: 1,
      height: 1,
      width: 2,
      channels: 3,
      images: Uint8Array.of(255, 0, 0, 255, 255, 255),
      labels: Int32Array.of(0),
      biasLabels: Int32Array.of(0),
    };
    let checked = 0;
    for (let seed = 0; seed < 40; seed++) {
      const batch = createLoader(tiny, { ...base, seed, augment: { cropPadding: 0, horizontalFlip: false, colourJitter: { hue: 0.5 } } }).batch(0, 0);
      // NCHW: [R(p0), R(p1), G(p0), G(p1), B(p0), B(p1)], normalised to [−1, 1].
      const [r0, r1, g0, g1, b0, b1] = batch.images;
      expect(r1).toBeCloseTo(1, 5);
      expect(g1).toBeCloseTo(1, 5);
      expect(b1).toBeCloseTo(1, 5);
      // A pure hue stays fully saturated at full value: one channel at 1, one at −1.
      expect(Math.max(r0, g0, b0)).toBeCloseTo(1, 5);
      expect(Math.min(r0, g0, b0)).toBeCloseTo(-1, 5);
      if (r0 < -0.99) checked++; // red rotated into the cyan half (green/blue region)
    }
    expect(checked).toBeGreaterThan(5);
  });

  it('brightness alone scales [0, 1] intensities', () => {
    const batch = createLoader(dataset, { ...base, augment: { cropPadding: 0, horizontalFlip: false, colourJitter: { brightness: 0.5 } } }).batch(0, 0);
    // (x + 1)/2 recovers [0, 1]; the output/input ratio is one factor (up to clamping at 1).
    const ratios: number[] = [];
    for (let k = 0; k < plainFirst.length; k++) {
      const input = (plainFirst[k] + 1) / 2;
      const output = (batch.images[k] + 1) / 2;
      if (input > 0.05 && output < 0.999) ratios.push(output / input);
    }
    expect(ratios.length).toBeGreaterThan(100);
    const spread = Math.max(...ratios) - Math.min(...ratios);
    expect(spread).toBeLessThan(1e-3);
    expect(ratios[0]).toBeGreaterThanOrEqual(0.5 - 1e-6);
    expect(ratios[0]).toBeLessThanOrEqual(1.5 + 1e-6);
  });
});

describe('random crop reference', () => {
  /** Naive torchvision semantics: pad by `pad` zeros, crop 28×28 at (pad + dy, pad + dx), then maybe flip. */
  function naive(plain: Float32Array, dy: number, dx: number, flip: boolean): Float32Array {
    const out = new Float32Array(imageFloats);
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 28; y++) {
        for (let x = 0; x < 28; x++) {
          const sy = y + dy;
          const sx = (flip ? 27 - x : x) + dx;
          out[c * 784 + y * 28 + x] = sy >= 0 && sy < 28 && sx >= 0 && sx < 28 ? plain[c * 784 + sy * 28 + sx] : -1;
        }
      }
    }
    return out;
  }

  it('every augmented image equals a padded crop (offsets within ±padding), possibly flipped', () => {
    const pad = 3;
    const batch = createLoader(dataset, { batchSize: 12, seed: 10, augment: { cropPadding: pad } }).batch(0, 0);
    const plain = normalizeImages(dataset, { indices: batch.indices });
    const offsetsSeen = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const got = batch.images.subarray(i * imageFloats, (i + 1) * imageFloats);
      const source = plain.subarray(i * imageFloats, (i + 1) * imageFloats);
      let match: string | null = null;
      for (let dy = -pad; dy <= pad && !match; dy++) {
        for (let dx = -pad; dx <= pad && !match; dx++) {
          for (const flip of [false, true]) {
            const expected = naive(source, dy, dx, flip);
            if (expected.every((v, k) => Math.abs(v - got[k]) < 1e-6)) {
              match = `${dy},${dx},${flip}`;
              break;
            }
          }
        }
      }
      expect(match, `image ${i}`).not.toBeNull();
      offsetsSeen.add(match!);
    }
    expect(offsetsSeen.size).toBeGreaterThan(6); // offsets are actually random
  });
});
