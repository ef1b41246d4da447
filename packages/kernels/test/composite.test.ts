import { cpuBackend, gradcheck, InvalidArgumentError, ShapeMismatchError, DtypeMismatchError, Rng, scope, tensor, type Tensor } from '@fairgpu/tensor';
import { describe, expect, it } from 'vitest';
import { contrastiveRowStats, pairMoments, STAT, STATS_COLUMNS } from '../src/index.ts';
import { FUSED_COLUMNS, pairBackward, pairForward, statsBackward, statsForward, type StatsProblem } from '../src/reference.ts';
import { expectClose, f64 } from './helpers.ts';
import { CASES, makeData, statsInputs, type Case, type Data } from './problems.ts';

const cpu = cpuBackend();

const options = (c: Case, data: Data) => statsInputs(c, data, cpu);

export function problemOf(c: Case, data: Data): StatsProblem {
  return {
    m: c.m,
    n: c.n ?? c.m,
    d: c.d,
    z: data.z,
    zr: data.zr ?? data.z,
    self: !data.zr,
    temperature: c.temperature,
    labels: data.labels,
    refLabels: data.refLabels ?? data.labels,
    targets: data.targets,
    refTargets: data.refTargets ?? data.targets,
    kernel: c.kernel,
    epsilon: c.epsilon ?? 0,
    logEps: c.logEps ?? 0,
    expVariant: c.expVariant ?? 'paper',
  };
}

function keptColumns(c: Case): (k: number) => boolean {
  if (!c.columns) return () => true;
  const names = new Set<string>(['rowMax', ...c.columns, ...(c.columns.includes('epsOut') ? ['lseNeg'] : [])]);
  const kept = new Set<number>([...names].map((n) => STAT[n as keyof typeof STAT]));
  return (k) => kept.has(k);
}

function upstream(m: number, seed: number): number[] {
  const rng = new Rng(seed);
  // No gradient flows through rowMax, countPos or sumW: give them weights anyway (they must be ignored).
  return Array.from({ length: m * STATS_COLUMNS }, () => rng.normal());
}

describe('contrastiveRowStats composite vs the float64 loop', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const data = makeData(c);
      const p = problemOf(c, data);
      const ref = statsForward(p);
      // With `columns`, the others are 0 and carry no gradient: mask the loop's values and weights.
      const kept = keptColumns(c);
      const expected = Array.from({ length: c.m * STATS_COLUMNS }, (_, k) =>
        kept(k % STATS_COLUMNS) ? ref[Math.floor(k / STATS_COLUMNS) * FUSED_COLUMNS + (k % STATS_COLUMNS)] : 0,
      );
      const w = upstream(c.m, c.seed + 100);
      const got = await scope(async () => {
        const { opts, z, zr } = options(c, data);
        const out = contrastiveRowStats(z, { ...opts, impl: 'composite' });
        expect(out.shape).toEqual([c.m, STATS_COLUMNS]);
        await out
          .mul(tensor(w, [c.m, STATS_COLUMNS], { device: cpu }))
          .sum()
          .backward();
        return { out: f64(out), dz: f64(z.grad!), dzr: zr ? f64(zr.grad!) : undefined };
      });
      expectClose(got.out, expected, { rtol: 1e-9, atol: 1e-9 }, 'stats');
      const { dz, dzr } = statsBackward(
        p,
        w.map((v, k) => (kept(k % STATS_COLUMNS) ? v : 0)),
        STATS_COLUMNS,
        ref,
      );
      if (p.self) {
        expectClose(
          got.dz,
          dz.map((v, k) => v + dzr[k]),
          { rtol: 1e-8, atol: 1e-9 },
          'dz',
        );
      } else {
        expectClose(got.dz, dz, { rtol: 1e-8, atol: 1e-9 }, 'dz');
        expectClose(got.dzr!, dzr, { rtol: 1e-8, atol: 1e-9 }, 'dzr');
      }
    });
  }

  it('marks empty sets with the finite sentinel and zeroes absent columns', async () => {
    const c = CASES.find((x) => x.lonely)!;
    const data = makeData(c);
    const out = await scope(async () => {
      const { opts, z } = options(c, data);
      return f64(contrastiveRowStats(z, { ...opts, impl: 'composite' }));
    });
    expect(out[STAT.lsePos]).toBe(-3e38);
    expect(out[STAT.countPos]).toBe(0);
    expect(out[STAT.sumPosLogit]).toBe(0);
    expect(out[STAT.epsOut]).toBe(0);
    expect(out.every(Number.isFinite)).toBe(true);
    for (let i = 0; i < c.m; i++) {
      expect(out[i * STATS_COLUMNS + STAT.sumW]).toBe(0);
      expect(out[i * STATS_COLUMNS + STAT.lseExpW]).toBe(0);
    }
  });

  /**
   * m_i is a detached shift (as in the released PyTorch code), so a finite-difference check needs
   * functions of S that do not depend on it: each log-sum-exp plus m, sums of logits plus count·m
   * (sumW·m). epsOut with logEps > 0 and the released L^exp column do depend on the shift; the
   * float64 loop above checks them instead.
   */
  function shiftFree(st: Tensor, w: Tensor): Tensor {
    const col = (k: number) => st.slice([0, k], [st.shape[0], k + 1]);
    const m = col(STAT.rowMax);
    const parts = [
      col(STAT.lseAll).add(m),
      col(STAT.lsePos).add(m),
      col(STAT.lseNeg).add(m),
      col(STAT.sumPosLogit).add(col(STAT.countPos).mul(m)),
      col(STAT.epsOut).add(col(STAT.countPos).mul(m)),
      col(STAT.sumWLogit).add(col(STAT.sumW).mul(m)),
      col(STAT.lseExpW).add(m),
    ];
    return parts.reduce((acc, t, k) => acc.add(t.mul(w.slice([0, k], [st.shape[0], k + 1])).sum()), tensor(0, [], { device: cpu }));
  }

  it('passes gradcheck (float64 finite differences) with labels, ε and a kernel', async () => {
    const c: Case = { name: 'gc', m: 6, d: 3, temperature: 0.3, classes: 2, epsilon: 0.2, kernel: { type: 'gaussian', sigma: 8 }, seed: 21 };
    const data = makeData(c);
    const w = upstream(c.m, 5).slice(0, c.m * 7);
    const r = await gradcheck(
      (z) => {
        const { opts } = options(c, data);
        return shiftFree(contrastiveRowStats(z, { ...opts, impl: 'composite' }), tensor(w, [c.m, 7], { device: cpu }));
      },
      [{ data: data.z, shape: [c.m, c.d] }],
    );
    expect(r.ok, `max abs error ${r.maxAbsError}`).toBe(true);
  });

  it('passes gradcheck with a reference (both inputs)', async () => {
    const c = CASES.find((x) => x.reference && x.kernel)!;
    const data = makeData(c);
    const w = upstream(c.m, 6).slice(0, c.m * 7);
    const r = await gradcheck(
      (z, zr) => {
        const { opts } = options(c, data);
        return shiftFree(contrastiveRowStats(z, { ...opts, reference: zr, impl: 'composite' }), tensor(w, [c.m, 7], { device: cpu }));
      },
      [
        { data: data.z, shape: [c.m, c.d] },
        { data: data.zr!, shape: [c.n!, c.d] },
      ],
    );
    expect(r.ok, `max abs error ${r.maxAbsError}`).toBe(true);
  });
});

describe('pairMoments composite', () => {
  for (const pairs of ['upper', 'all'] as const) {
    it(`matches the float64 loop and gradcheck (${pairs})`, async () => {
      const m = 11;
      const d = 4;
      const rng = new Rng(31);
      const z = Array.from({ length: m * d }, () => Math.fround(rng.normal() * 0.5));
      const labels = Array.from({ length: m }, () => Math.floor(rng.uniform() * 2));
      const bias = Array.from({ length: m }, () => Math.floor(rng.uniform() * 2));
      const g = Array.from({ length: 12 }, () => rng.normal());
      const problem = { m, d, z, temperature: 0.5, labels, biasLabels: bias, pairs };
      const make = (zt: Tensor) =>
        pairMoments(zt, {
          temperature: 0.5,
          labels: tensor(labels, [m], { device: cpu, dtype: 'i32' }),
          biasLabels: tensor(bias, [m], { device: cpu, dtype: 'i32' }),
          pairs,
          impl: 'composite',
        });
      const got = await scope(async () => {
        const zt = tensor(z, [m, d], { device: cpu, requiresGrad: true });
        const out = make(zt);
        expect(out.shape).toEqual([4, 3]);
        await out
          .mul(tensor(g, [4, 3], { device: cpu }))
          .sum()
          .backward();
        return { out: f64(out), dz: f64(zt.grad!) };
      });
      expectClose(got.out, pairForward(problem), { rtol: 1e-10, atol: 1e-10 }, 'moments');
      const counts = [0, 3, 6, 9].reduce((s, k) => s + got.out[k], 0);
      expect(counts).toBe(pairs === 'upper' ? (m * (m - 1)) / 2 : m * m);
      expectClose(got.dz, pairBackward(problem, g), { rtol: 1e-9, atol: 1e-10 }, 'dz');
      const r = await gradcheck((zt) => make(zt).mul(tensor(g, [4, 3], { device: cpu })), [{ data: z, shape: [m, d] }]);
      expect(r.ok, `max abs error ${r.maxAbsError}`).toBe(true);
    });
  }
});

describe('argument validation', () => {
  const z = tensor([1, 0, 0, 1], [2, 2], { device: cpu });
  const labels = tensor([0, 1], [2], { device: cpu, dtype: 'i32' });
  it('names the argument', () => {
    expect(() => contrastiveRowStats(z, { temperature: 0 })).toThrow(InvalidArgumentError);
    expect(() => contrastiveRowStats(z, { temperature: 0 })).toThrow(/temperature/);
    expect(() => contrastiveRowStats(z, { temperature: 1, labels: tensor([0, 1], [2], { device: cpu }) })).toThrow(DtypeMismatchError);
    expect(() => contrastiveRowStats(z, { temperature: 1, labels: tensor([0, 1, 2], [3], { device: cpu, dtype: 'i32' }) })).toThrow(ShapeMismatchError);
    expect(() => contrastiveRowStats(z, { temperature: 1, reference: tensor([1, 2, 3], [1, 3], { device: cpu }) })).toThrow(/reference/);
    expect(() => contrastiveRowStats(z, { temperature: 1, reference: z, labels })).toThrow(/refLabels/);
    expect(() => contrastiveRowStats(z, { temperature: 1, targets: tensor([0, 1], [2], { device: cpu }) })).toThrow(/kernel/);
    expect(() => contrastiveRowStats(z, { temperature: 1, epsilon: -1 })).toThrow(/epsilon/);
    expect(() => contrastiveRowStats(z, { temperature: 1, impl: 'fast' as never })).toThrow(/impl/);
    expect(() => pairMoments(z, { temperature: 1, labels, biasLabels: labels, pairs: 'some' as never })).toThrow(/pairs/);
    expect(() => pairMoments(z, { temperature: 1, labels, biasLabels: tensor([0], [1], { device: cpu, dtype: 'i32' }), pairs: 'all' })).toThrow(/biasLabels/);
  });
});
