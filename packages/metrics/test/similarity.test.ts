import { cpuBackend, DtypeMismatchError, InvalidArgumentError, ShapeMismatchError, tensor } from '@fairgpu/tensor';
import { describe, expect, it } from 'vitest';
import { similarityDistributions } from '../src/index.ts';
import { histogramEdges, numpyBin, pairCounts } from '../src/similarity.ts';
import { expectArgumentError, expectNumber, GROUPS, SIMILARITY_CASES } from './fixtures/reference.ts';

const cpu = cpuBackend();
const make = (rows: number[][]) => tensor(rows.flat(), [rows.length, rows[0].length], { device: cpu, allowNonFinite: true });

describe('similarityDistributions on the CPU reference vs numpy (fixtures)', () => {
  for (const c of SIMILARITY_CASES) {
    it(c.name, async () => {
      const z = make(c.embeddings);
      const r = await similarityDistributions(z, { labels: c.labels, biasLabels: c.biasLabels, bins: c.bins });
      for (const g of GROUPS) {
        const e = c.expected[g];
        expect(r[g].count, `${g} count`).toBe(e.count);
        expectNumber(r[g].mean, e.mean, `${g} mean`, { rtol: 1e-9, atol: 1e-12 });
        expectNumber(r[g].std, e.std, `${g} std`, { rtol: 1e-7, atol: 1e-9 });
        expect(r[g].histogram.counts, `${g} histogram`).toEqual(e.histogram.counts);
        expect(r[g].histogram.edges.length).toBe(c.bins + 1);
        r[g].histogram.edges.forEach((x, k) => expectNumber(x, e.histogram.edges[k], `${g} edge ${k}`, { rtol: 0, atol: 1e-15 }));
      }
      z.dispose();
    });
  }

  it('bins default to 50; one row has no pairs (mean and std null)', async () => {
    const r = await similarityDistributions(make([[1, 2]]), { labels: [0], biasLabels: [0] });
    for (const g of GROUPS) {
      expect(r[g]).toMatchObject({ count: 0, mean: null, std: null });
      expect(r[g].histogram.counts).toEqual(new Array(50).fill(0));
    }
  });

  it('labels as i32 tensors give the same result as arrays', async () => {
    const c = SIMILARITY_CASES[0];
    const z = make(c.embeddings);
    const n = c.labels.length;
    const a = await similarityDistributions(z, { labels: tensor(c.labels, [n], { device: cpu, dtype: 'i32' }), biasLabels: Int32Array.from(c.biasLabels) });
    const b = await similarityDistributions(z, { labels: c.labels, biasLabels: c.biasLabels });
    expect(a).toEqual(b);
  });

  it('numpy binning: edges land in the upper bin, 1 in the last, out-of-range values clamp', () => {
    const edges = histogramEdges(4);
    expect([-1, -0.5, 0, 0.5, 1, 1.0000001, -3].map((x) => numpyBin(x, 4, edges))).toEqual([0, 1, 2, 3, 3, 3, 0]);
    expect(numpyBin(0.3, 1, histogramEdges(1))).toBe(0);
  });

  it('pair counts from labels are the combinatorial counts', () => {
    // 2 rows (0,0), 1 row (0,1), 2 rows (1,0): PA = 1 + 1 = 2, PC = 2, NA = 4, NC = 2; total 10.
    expect(pairCounts(Int32Array.from([0, 0, 0, 1, 1]), Int32Array.from([0, 0, 1, 0, 0]))).toEqual([2, 2, 4, 2]);
  });

  it('refuses bad input with typed errors naming the argument', async () => {
    const z = make([
      [1, 0],
      [0, 1],
      [1, 1],
    ]);
    const ok = { labels: [0, 1, 1], biasLabels: [0, 0, 1] };
    await expectArgumentError(() => similarityDistributions(z, { ...ok, labels: [0, 1] }), ShapeMismatchError, 'labels');
    await expectArgumentError(() => similarityDistributions(z, { ...ok, biasLabels: [0, 0.5, 1] }), InvalidArgumentError, 'biasLabels');
    await expectArgumentError(
      () => similarityDistributions(z, { ...ok, biasLabels: tensor([0, 0, 1], [3], { device: cpu }) }),
      DtypeMismatchError,
      'biasLabels',
    );
    await expectArgumentError(() => similarityDistributions(z, { ...ok, bins: 0 }), InvalidArgumentError, 'bins');
    await expectArgumentError(() => similarityDistributions(z, { ...ok, bins: 1025 }), InvalidArgumentError, 'bins');
    await expectArgumentError(() => similarityDistributions(z, { ...ok, bins: 2.5 }), InvalidArgumentError, 'bins');
    await expectArgumentError(
      () =>
        similarityDistributions(
          make([
            [1, 0],
            [NaN, 1],
            [1, 1],
          ]),
          ok,
        ),
      InvalidArgumentError,
      'embeddings',
    );
    await expectArgumentError(() => similarityDistributions(tensor([1, 2], [2], { device: cpu }), ok), ShapeMismatchError, 'embeddings');
    await expectArgumentError(() => similarityDistributions(z, undefined as never), InvalidArgumentError, 'options');
    await expectArgumentError(() => similarityDistributions(z, { biasLabels: ok.biasLabels } as never), InvalidArgumentError, 'labels');
  });
});
