import { Rng, tensor } from '@fairgpu/tensor';
import { gpuOrSkip } from '@fairgpu/tensor/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { retrievalMetrics } from '../src/index.ts';
import { expectNumber, RETRIEVAL_CASES, retrievalReference } from './fixtures/reference.ts';

const gpu = await gpuOrSkip();
afterAll(() => gpu?.destroy());

/** Clustered embeddings: `classes` centres + noise, the last class a single sample. */
function clustered(n: number, d: number, classes: number, seed: number, noise = 0.9) {
  const rng = new Rng(seed);
  const centres = Array.from({ length: classes }, () => Array.from({ length: d }, () => rng.normal()));
  const labels = Array.from({ length: n }, (_, i) => (i === n - 1 ? classes : Math.floor(rng.uniform() * classes)));
  const rows = labels.map((l) => Array.from({ length: d }, (_, k) => Math.fround((l < classes ? centres[l][k] : 0) + noise * rng.normal())));
  return { rows, labels };
}

describe.runIf(gpu)('retrievalMetrics on the GPU', () => {
  for (const c of RETRIEVAL_CASES) {
    it(`fixture: ${c.name} ${JSON.stringify(c.options)}`, async () => {
      const z = tensor(c.embeddings.flat(), [c.embeddings.length, c.embeddings[0].length], { device: gpu! });
      for (const tileRows of [undefined, 5]) {
        const r = await retrievalMetrics(z, c.labels, { ...c.options, tileRows });
        for (const k of ['precisionAt1', 'rPrecision', 'mapAtR'] as const)
          expectNumber(r[k], c.expected[k], `${k} (tileRows ${tileRows})`, { rtol: 1e-6, atol: 1e-9 });
        expect(r.queries).toBe(c.expected.queries);
      }
      z.dispose();
    });
  }

  it('n = 1,537, d = 24, 12 classes + a singleton, tiles of 200 rows (last partial) vs the float64 host reference; memory flat, no n×n allocation', async () => {
    const { rows, labels } = clustered(1537, 24, 12, 7);
    const z = tensor(rows.flat(), [rows.length, 24], { device: gpu! });
    const before = gpu!.backend.memory();
    const t0 = performance.now();
    const r = await retrievalMetrics(z, labels, { tileRows: 200 });
    const gpuMs = performance.now() - t0;
    // Never an n×n matrix: two tiles of 200 × 1,537 and their readback copies stay under one
    // (the earlier cases of this file are tiny; with default tiles this n would fit in one tile).
    const peak = gpu!.backend.memory().peakBytesInUse;
    expect(peak).toBeLessThan(1537 * 1537 * 4);
    const avg = await retrievalMetrics(z, Int32Array.from(labels), { avgOfAvgs: true });
    const after = gpu!.backend.memory();
    expect(after.tensors).toBe(before.tensors);
    expect(after.bytesInUse).toBe(before.bytesInUse);
    const t1 = performance.now();
    const ref = retrievalReference(rows, labels);
    const refMs = performance.now() - t1;
    const refAvg = retrievalReference(rows, labels, true, true);
    // f32 similarities may swap neighbours whose float64 similarities differ by < ~1e-7.
    for (const k of ['precisionAt1', 'rPrecision', 'mapAtR'] as const) {
      expectNumber(r[k], ref[k], k, { rtol: 0, atol: 2e-3 });
      expectNumber(avg[k], refAvg[k], `avgOfAvgs ${k}`, { rtol: 0, atol: 2e-3 });
    }
    expect(r.queries).toBe(1536);
    console.log(
      `retrieval n=1537 d=24: GPU path ${gpuMs.toFixed(0)} ms (peak ${(peak / 2 ** 20).toFixed(1)} MiB), float64 host reference ${refMs.toFixed(0)} ms; p@1 ${r.precisionAt1.toFixed(4)} MAP@R ${r.mapAtR.toFixed(4)}`,
    );
    z.dispose();
  });
});
