import { describe, expect, it } from 'vitest';
import { colourBiasMnist, digitMask, type MnistSource } from '@fairgpu/datasets';
import { conflictingIndices } from '../src/experiments/biased-mnist/diagnostics.ts';
import { blockSides, gradcamLayer, GPU, FULL, QUICK } from '../src/experiments/biased-mnist/config.ts';

/** 60 fake 28×28 digits: a filled square whose size depends on the label. */
function fakeMnist(): MnistSource {
  const count = 60;
  const pixels = new Uint8Array(count * 784);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = i % 10;
    const half = 3 + labels[i];
    for (let y = 14 - half; y < 14 + half; y++) for (let x = 14 - half; x < 14 + half; x++) pixels[i * 784 + y * 28 + x] = 200;
  }
  return { count, rows: 28, cols: 28, pixels, labels };
}

describe('diagnostics helpers', () => {
  it('block sides and the Grad-CAM layer follow the protocols (quick: 4×4 last block → the 7×7 second block)', () => {
    expect(blockSides(QUICK)).toEqual([14, 7, 4, 4]);
    expect(gradcamLayer(QUICK)).toEqual({ layer: 'extracter.5', side: 7 });
    expect(blockSides(GPU)).toEqual([14, 7, 7, 7]);
    expect(gradcamLayer(GPU)).toEqual({ layer: 'extracter', side: 7 });
    expect(gradcamLayer(FULL)).toEqual({ layer: 'extracter', side: 28 });
    expect(gradcamLayer({ kernelSize: 3, strides: [2, 2, 2, 2] })).toEqual({ layer: 'extracter.5', side: 7 });
    expect(gradcamLayer({ kernelSize: 3, strides: [4, 4, 4, 4] })).toEqual({ layer: 'extracter.2', side: 7 });
    // No block reaches 7×7: the last block, whatever its size.
    expect(gradcamLayer({ kernelSize: 3, strides: [8, 2, 2, 2] })).toEqual({ layer: 'extracter', side: 1 });
  });

  it('digit masks are the white pixels; conflicting images come one per class first', () => {
    const source = fakeMnist();
    const set = colourBiasMnist(source, { rho: 0.1, seed: 3 });
    for (let i = 0; i < set.labels.length; i++) {
      const mask = digitMask(set, i);
      const source_ = set.sourceIndices[i];
      let same = 0;
      for (let p = 0; p < 784; p++) if ((mask[p] === 1) === (source.pixels[source_ * 784 + p] !== 0)) same++;
      expect(same).toBe(784);
    }
    const picked = conflictingIndices(set, 12);
    expect(picked).toHaveLength(12);
    for (const i of picked) expect(set.labels[i]).not.toBe(set.biasLabels[i]);
    const firstLabels = picked.slice(0, 10).map((i) => set.labels[i]);
    expect(new Set(firstLabels).size).toBe(10);
    expect(firstLabels).toEqual([...firstLabels].sort((a, b) => a - b));
  });
});
