import { cpuBackend, DtypeMismatchError, InvalidArgumentError, Rng, ShapeMismatchError, tensor } from '@fairgpu/tensor';
import { describe, expect, it } from 'vitest';
import { retrievalMetrics } from '../src/index.ts';
import { floydRivestSelect } from '../src/retrieval.ts';
import { expectArgumentError, expectNumber, RETRIEVAL_CASES, retrievalReference } from './fixtures/reference.ts';

const cpu = cpuBackend();
const make = (rows: number[][]) => tensor(rows.flat(), [rows.length, rows[0].length], { device: cpu, allowNonFinite: true });

describe('retrievalMetrics on the CPU reference vs the numpy PML definitions (fixtures)', () => {
  for (const c of RETRIEVAL_CASES) {
    const label = `${c.name} ${JSON.stringify(c.options)}`;
    it(label, async () => {
      const z = make(c.embeddings);
      // tileRows 7: several tiles, the last one partial (n is never a multiple of 7 here).
      for (const tileRows of [undefined, 7]) {
        const r = await retrievalMetrics(z, c.labels, { ...c.options, tileRows });
        for (const k of ['precisionAt1', 'rPrecision', 'mapAtR'] as const) expectNumber(r[k], c.expected[k], `${k} (tileRows ${tileRows})`);
        expect(r.queries).toBe(c.expected.queries);
      }
      // The TypeScript float64 reference used by the GPU suite agrees with the fixture.
      const ref = retrievalReference(c.embeddings, c.labels, c.options.excludeSelf ?? true, c.options.avgOfAvgs ?? false);
      for (const k of ['precisionAt1', 'rPrecision', 'mapAtR'] as const) expectNumber(ref[k], c.expected[k], `reference ${k}`);
      z.dispose();
    });
  }

  it('labels as an i32 tensor or a typed array give the same result', async () => {
    const c = RETRIEVAL_CASES[0];
    const z = make(c.embeddings);
    const a = await retrievalMetrics(z, tensor(c.labels, [c.labels.length], { device: cpu, dtype: 'i32' }));
    const b = await retrievalMetrics(z, Int32Array.from(c.labels));
    expect(a).toEqual(b);
    expectNumber(a.mapAtR, c.expected.mapAtR, 'mapAtR');
  });

  it('the sampled-threshold prefilter and its fallback agree with the float64 reference (n = 400)', async () => {
    // Every 5th row (the rows the threshold sample reads) is close to row 1's direction, the others
    // are random: for row 1 the estimate keeps fewer than R rows and the full pass runs instead.
    const rng = new Rng(5);
    const d = 8;
    const base = Array.from({ length: d }, () => rng.normal());
    const rows = Array.from({ length: 400 }, (_, j) =>
      Array.from({ length: d }, (_, k) => Math.fround(j % 5 === 0 || j === 1 ? base[k] + 0.1 * rng.normal() : rng.normal())),
    );
    const labels = rows.map((_, j) => (j === 1 || (j % 5 !== 0 && rng.uniform() < 0.15) ? 0 : 1 + Math.floor(rng.uniform() * 6)));
    const z = make(rows);
    for (const avgOfAvgs of [false, true]) {
      const r = await retrievalMetrics(z, labels, { avgOfAvgs, tileRows: 64 });
      const ref = retrievalReference(rows, labels, true, avgOfAvgs);
      for (const k of ['precisionAt1', 'rPrecision', 'mapAtR'] as const) expectNumber(r[k], ref[k], `${k} avgOfAvgs ${avgOfAvgs}`, { rtol: 0, atol: 5e-3 });
      expect(r.queries).toBe(ref.queries);
    }
    z.dispose();
  });

  it('Floyd–Rivest selection puts the k smallest first (large arrays take the sampling branch)', () => {
    for (const n of [1, 2, 10, 5000]) {
      const a = Float64Array.from({ length: n }, (_, i) => ((i * 7919) % n) + 0.5 * (i % 3));
      for (const k of [0, Math.floor(n / 3), n - 1]) {
        const b = Float64Array.from(a);
        floydRivestSelect(b, k, 0, n - 1);
        const sorted = Float64Array.from(a).sort();
        expect(b[k]).toBe(sorted[k]);
        expect(Float64Array.from(b.subarray(0, k + 1)).sort()).toEqual(sorted.subarray(0, k + 1));
      }
    }
  });

  it('refuses bad input with typed errors naming the argument', async () => {
    const z = make([
      [1, 0],
      [0, 1],
      [1, 1],
    ]);
    await expectArgumentError(() => retrievalMetrics(z, [0, 1]), ShapeMismatchError, 'labels');
    await expectArgumentError(() => retrievalMetrics(z, [0, 1.5, 1]), InvalidArgumentError, 'labels');
    await expectArgumentError(() => retrievalMetrics(z, tensor([0, 1, 1], [3], { device: cpu })), DtypeMismatchError, 'labels');
    await expectArgumentError(
      () =>
        retrievalMetrics(
          make([
            [1, NaN],
            [0, 1],
            [1, 1],
          ]),
          [0, 0, 1],
        ),
      InvalidArgumentError,
      'embeddings',
    );
    await expectArgumentError(
      () =>
        retrievalMetrics(
          make([
            [1, 0],
            [0, Infinity],
            [1, 1],
          ]),
          [0, 0, 1],
        ),
      InvalidArgumentError,
      'embeddings',
    );
    await expectArgumentError(() => retrievalMetrics(tensor([1, 2, 3], [3], { device: cpu }), [0, 0, 1]), ShapeMismatchError, 'embeddings');
    await expectArgumentError(() => retrievalMetrics(tensor([1, 2], [1, 2], { device: cpu, dtype: 'i32' }), [0]), DtypeMismatchError, 'embeddings');
    await expectArgumentError(() => retrievalMetrics(tensor([], [0, 2], { device: cpu }), []), InvalidArgumentError, 'embeddings');
    await expectArgumentError(() => retrievalMetrics(z, [0, 0, 1], { tileRows: 0 }), InvalidArgumentError, 'tileRows');
    await expectArgumentError(() => retrievalMetrics(z, [0, 0, 1], { excludeSelf: 'yes' as never }), InvalidArgumentError, 'excludeSelf');
    await expectArgumentError(() => retrievalMetrics([[1]] as never, [0]), InvalidArgumentError, 'embeddings');
  });
});
