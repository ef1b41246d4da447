/**
 * The examples' analysis code (examples/browser/shared/analysis.ts) on the float64 CPU backend:
 * the PCA projection the Biased-MNIST page plots against numpy (tools/examples/fixtures/pca.json,
 * written by pca_reference.py), k-NN and the aligned / conflicting split against hand-worked cases.
 */
import { readFileSync } from 'node:fs';
import { memory } from '@fairgpu/tensor';
import { describe, expect, it } from 'vitest';
import { groupedAccuracy, knnPredict, project2d } from '../../examples/browser/shared/analysis.ts';

const fixture = JSON.parse(readFileSync(new URL('./fixtures/pca.json', import.meta.url), 'utf8')) as {
  n: number;
  d: number;
  x: number[];
  components: number[];
  explained_variance_ratio: number[];
  scores: number[];
};

describe('project2d (the page PCA)', () => {
  it('matches numpy / scikit-learn: variance ratios, components (sign convention included), scores', async () => {
    const before = memory('cpu').tensors;
    const p = await project2d(Float32Array.from(fixture.x), fixture.n, fixture.d, 'cpu');
    expect(memory('cpu').tensors).toBe(before);
    // The page uploads float32 embeddings; the fixture's data are those float32 values.
    expect(p.ratio[0]).toBeCloseTo(fixture.explained_variance_ratio[0], 6);
    expect(p.ratio[1]).toBeCloseTo(fixture.explained_variance_ratio[1], 6);
    expect(p.ratio[0] + p.ratio[1]).toBeLessThanOrEqual(1);
    for (let i = 0; i < fixture.components.length; i++) expect(p.components[i]).toBeCloseTo(fixture.components[i], 5);
    // Scores go through float32 transform on the device: compare at float32 precision of their scale.
    const scale = Math.max(...fixture.scores.map(Math.abs));
    for (let i = 0; i < fixture.scores.length; i++) expect(Math.abs(p.scores[i] - fixture.scores[i])).toBeLessThan(1e-5 * scale);
  });

  it('rejects a shape that does not match the data', async () => {
    await expect(project2d(new Float32Array(10), 3, 4, 'cpu')).rejects.toThrow(/n = 3, d = 4/);
    await expect(project2d(new Float32Array(4), 2, 2, 'cpu')).rejects.toThrow(RangeError);
  });
});

describe('knnPredict', () => {
  // Reference points on the unit circle's axes; cosine similarity ignores the norm.
  const reference = [1, 0, 2, 0.1, 0, 1, 0, 3, -1, 0];
  const labels = [0, 0, 1, 1, 2];

  it('takes the majority of the k most similar (cosine) reference rows', () => {
    expect(Array.from(knnPredict(reference, labels, [5, 0.2, 0.1, 4, -3, 0.1], 2, 1))).toEqual([0, 1, 2]);
    // k = 3 from (1, 0.05): the two label-0 rows and one label-1 row → 0.
    expect(Array.from(knnPredict(reference, labels, [1, 0.05], 2, 3))).toEqual([0]);
    // k = 5 is every row: 0 and 1 have two votes each; the tie goes to the larger summed similarity (0, near (1, 0)).
    expect(Array.from(knnPredict(reference, labels, [1, 0.2], 2, 5))).toEqual([0]);
    expect(Array.from(knnPredict(reference, labels, [0.2, 1], 2, 5))).toEqual([1]);
  });

  it('rejects k out of range and mismatched sizes', () => {
    expect(() => knnPredict(reference, labels, [1, 0], 2, 6)).toThrow(RangeError);
    expect(() => knnPredict(reference, labels, [1, 0, 1], 2, 1)).toThrow(RangeError);
  });
});

describe('groupedAccuracy', () => {
  it('splits accuracy into bias-aligned (colour = digit) and bias-conflicting images', () => {
    const g = groupedAccuracy([1, 2, 3, 0, 5], [1, 2, 3, 4, 6], [1, 0, 3, 4, 6]);
    // aligned (label = bias): indices 0, 2, 3, 4, of which 0 and 2 are predicted right; conflicting: index 1, right.
    expect(g.counts).toEqual({ total: 5, aligned: 4, conflicting: 1 });
    expect(g.accuracy).toBeCloseTo(3 / 5, 12);
    expect(g.aligned).toBeCloseTo(2 / 4, 12);
    expect(g.conflicting).toBe(1);
    expect(groupedAccuracy([0], [0], [0]).conflicting).toBeNull();
  });
});
