import { cpuBackend } from '@fairgpu/tensor';
import { describe, it } from 'vitest';
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
