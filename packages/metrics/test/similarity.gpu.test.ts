import { Rng, tensor } from '@fairgpu/tensor';
import { gpuOrSkip } from '@fairgpu/tensor/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { similarityDistributions, type SimilarityDistributions } from '../src/index.ts';
import { HISTOGRAM_CHUNK } from '../src/similarity.ts';
import { expectNumber, GROUPS, SIMILARITY_CASES, similarityReference } from './fixtures/reference.ts';

const gpu = await gpuOrSkip();
afterAll(() => gpu?.destroy());

const MOMENT_TOL = { rtol: 1e-4, atol: 2e-5 };

/** Histogram counts equal up to the pairs lying within f32 reach of a bin edge. */
function expectHistogram(got: number[], expected: number[], nearEdge: number, label: string): void {
  expect(
    got.reduce((a, b) => a + b, 0),
    `${label} total`,
  ).toBe(expected.reduce((a, b) => a + b, 0));
  const moved = got.reduce((acc, v, k) => acc + Math.abs(v - expected[k]), 0) / 2;
  expect(moved, `${label}: ${moved} pairs in another bin, ${nearEdge} near an edge`).toBeLessThanOrEqual(nearEdge);
}

describe.runIf(gpu)('similarityDistributions on the GPU', () => {
  for (const c of SIMILARITY_CASES) {
    it(`fixture: ${c.name}`, async () => {
      const n = c.embeddings.length;
      const d = c.embeddings[0].length;
      const flat = c.embeddings.flat();
      const z = tensor(flat, [n, d], { device: gpu! });
      const r = await similarityDistributions(z, { labels: c.labels, biasLabels: c.biasLabels, bins: c.bins });
      const ref = similarityReference(flat, n, d, c.labels, c.biasLabels, c.bins);
      GROUPS.forEach((g, k) => {
        const e = c.expected[g];
        expect(r[g].count).toBe(e.count);
        expectNumber(r[g].mean, e.mean, `${g} mean`, MOMENT_TOL);
        expectNumber(r[g].std, e.std, `${g} std`, MOMENT_TOL);
        expectHistogram(r[g].histogram.counts, e.histogram.counts, ref[k].nearEdge, g);
      });
      z.dispose();
    });
  }

  it('n = 701, d = 37 (padded to 40), 3 × 3 groups, 50 and 1 bins, histogram in 7+ row chunks vs the float64 host reference; memory flat', async () => {
    const n = 701;
    const d = 37;
    const rng = new Rng(11);
    const labels = Array.from({ length: n }, () => Math.floor(rng.uniform() * 3));
    const bias = labels.map((l) => (rng.uniform() < 0.7 ? l : Math.floor(rng.uniform() * 3)));
    const centres = Array.from({ length: 3 }, () => Array.from({ length: d }, () => rng.normal()));
    const flat = labels.flatMap((l) => Array.from({ length: d }, (_, k) => Math.fround(centres[l][k] + rng.normal())));
    const z = tensor(flat, [n, d], { device: gpu! });
    const biasT = tensor(bias, [n], { device: gpu!, dtype: 'i32' });
    const before = gpu!.backend.memory();
    const saved = HISTOGRAM_CHUNK.pairs;
    HISTOGRAM_CHUNK.pairs = 40_000; // ~245,000 pairs → several dispatches, uneven row ranges
    let r: SimilarityDistributions;
    let one: SimilarityDistributions;
    const t0 = performance.now();
    try {
      r = await similarityDistributions(z, { labels, biasLabels: biasT, bins: 50 });
      one = await similarityDistributions(z, { labels, biasLabels: bias, bins: 1 });
    } finally {
      HISTOGRAM_CHUNK.pairs = saved;
    }
    const gpuMs = performance.now() - t0;
    const after = gpu!.backend.memory();
    expect(after.tensors).toBe(before.tensors);
    expect(after.bytesInUse).toBe(before.bytesInUse);
    expect(after.peakBytesInUse).toBeLessThan((n * n * 4) / 2); // never an n×n matrix (1.97 MB here)
    const ref = similarityReference(flat, n, d, labels, bias, 50);
    const ref1 = similarityReference(flat, n, d, labels, bias, 1);
    GROUPS.forEach((g, k) => {
      expect(r[g].count).toBe(ref[k].count);
      expectNumber(r[g].mean, ref[k].mean, `${g} mean`, MOMENT_TOL);
      expectNumber(r[g].std, ref[k].std, `${g} std`, MOMENT_TOL);
      expectHistogram(r[g].histogram.counts, ref[k].counts, ref[k].nearEdge, g);
      expect(one[g].histogram.counts).toEqual(ref1[k].counts);
      expect(one[g].mean).toBe(r[g].mean);
    });
    console.log(
      `similarityDistributions n=701 d=37 (two calls): ${gpuMs.toFixed(0)} ms; PA ${r.positiveAligned.mean!.toFixed(4)} NC ${r.negativeConflicting.mean!.toFixed(4)}`,
    );
    z.dispose();
    biasT.dispose();
  });
});
