import { cpuBackend, InvalidArgumentError, randn, scope, tensor } from '@fairgpu/tensor';
import { describe, expect, it } from 'vitest';
import { contrastiveRowStats, STAT, STATS_COLUMNS, type StatName } from '../src/index.ts';
import { expectClose, f64 } from './helpers.ts';
import { CASES } from './problems.ts';
import { runPairs, runStats } from './run.ts';

// On the CPU backend the fused ops run their float64 loops (forward and the backward custom op):
// they must agree with the materialised composite to float64 rounding.
const cpu = cpuBackend();
const read = async (t: import('@fairgpu/tensor').Tensor) => f64(t);

describe('fused ops on the CPU reference backend equal the composite', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const a = await runStats(c, cpu, 'composite', read);
      const b = await runStats(c, cpu, 'fused', read);
      expectClose(b.out, a.out, { rtol: 1e-9, atol: 1e-9 }, 'stats');
      expectClose(b.dz, a.dz, { rtol: 1e-8, atol: 1e-9 }, 'dz');
      if (a.dzr) expectClose(b.dzr!, a.dzr, { rtol: 1e-8, atol: 1e-9 }, 'dzr');
    });
  }
  // The 'lanes' variant's CPU side (transposed operands, transposed gradient) on the cases whose d
  // it takes (d % 4 == 0); other d fall back to 'register'.
  for (const c of CASES.filter((x) => x.d % 4 === 0)) {
    it(`lanes layout: ${c.name}`, async () => {
      const a = await runStats(c, cpu, 'composite', read);
      const b = await runStats(c, cpu, 'lanes', read);
      expectClose(b.out, a.out, { rtol: 1e-9, atol: 1e-9 }, 'stats');
      expectClose(b.dz, a.dz, { rtol: 1e-8, atol: 1e-9 }, 'dz');
      if (a.dzr) expectClose(b.dzr!, a.dzr, { rtol: 1e-8, atol: 1e-9 }, 'dzr');
    });
  }
  for (const pairs of ['upper', 'all'] as const) {
    it(`pairMoments (${pairs})`, async () => {
      const c = { m: 9, d: 5, temperature: 0.3, pairs, seed: 4 };
      const a = await runPairs(c, cpu, 'composite', read);
      const b = await runPairs(c, cpu, 'fused', read);
      expectClose(b.out, a.out, { rtol: 1e-9, atol: 1e-9 }, 'moments');
      expectClose(b.dz, a.dz, { rtol: 1e-8, atol: 1e-9 }, 'dz');
    });
  }
});

describe('columns option', () => {
  const labels = () => tensor([0, 1, 0, 2, 1, 0], [6], { device: cpu, dtype: 'i32' });
  for (const impl of ['fused', 'composite'] as const) {
    it(`${impl}: unrequested columns are 0 and pass no gradient`, async () => {
      await scope(async () => {
        const z = randn([6, 4], { device: cpu, seed: 3 }).normalize(-1).detach().requiresGrad_();
        const columns: StatName[] = ['lseAll', 'sumPosLogit', 'countPos'];
        const st = contrastiveRowStats(z, { temperature: 0.2, labels: labels(), columns, impl });
        const values = f64(st);
        const kept = new Set<number>([STAT.rowMax, ...columns.map((c) => STAT[c])]);
        for (let k = 0; k < STATS_COLUMNS; k++) {
          if (kept.has(k)) continue;
          for (let i = 0; i < 6; i++) expect(values[i * STATS_COLUMNS + k], `row ${i} column ${k}`).toBe(0);
        }
        // A weight on an unrequested column changes nothing in the gradient.
        const w = Array.from({ length: 6 * STATS_COLUMNS }, (_, i) => (kept.has(i % STATS_COLUMNS) ? 1 : 0));
        await st
          .mul(tensor(w, [6, STATS_COLUMNS], { device: cpu }))
          .sum()
          .backward();
        const g1 = f64(z.grad!);
        z.zeroGrad();
        const st2 = contrastiveRowStats(z, { temperature: 0.2, labels: labels(), columns, impl });
        await st2
          .mul(
            tensor(
              w.map((v) => v + (v ? 0 : 5)),
              [6, STATS_COLUMNS],
              { device: cpu },
            ),
          )
          .sum()
          .backward();
        expectClose(f64(z.grad!), g1, { rtol: 1e-12, atol: 1e-12 }, 'dz');
      });
    });
  }
  it('rejects unknown columns and columns whose inputs are missing, naming columns', () => {
    const z = randn([4, 3], { device: cpu, seed: 1 });
    expect(() => contrastiveRowStats(z, { temperature: 0.1, columns: ['lseAl' as StatName] })).toThrow(InvalidArgumentError);
    expect(() => contrastiveRowStats(z, { temperature: 0.1, columns: ['lseAl' as StatName] })).toThrow(/columns/);
    expect(() => contrastiveRowStats(z, { temperature: 0.1, columns: ['lsePos'] })).toThrow(/columns.*needs labels/);
    expect(() => contrastiveRowStats(z, { temperature: 0.1, columns: ['sumW'] })).toThrow(/targets and a kernel/);
    expect(() => contrastiveRowStats(z, { temperature: 0.1, columns: 'lseAll' as unknown as StatName[] })).toThrow(/columns/);
  });
});
