import { describe, expect, it } from 'vitest';
import { memory, Rng, tensor } from '@fairgpu/tensor';
import { bhattacharyyaCoefficient, gaussianLeakage, klDivergenceNormal, pca } from '../src/index.ts';
import { expectClose } from './helpers.ts';

const logPdf = (x: number, m: number, s: number) => -0.5 * ((x - m) / s) ** 2 - Math.log(s * Math.sqrt(2 * Math.PI));
const pdf = (x: number, m: number, s: number) => Math.exp(logPdf(x, m, s));

/** Composite Simpson on [lo, hi] with `steps` (even) intervals. */
function simpson(f: (x: number) => number, lo: number, hi: number, steps = 20000): number {
  const h = (hi - lo) / steps;
  let s = f(lo) + f(hi);
  for (let i = 1; i < steps; i++) s += (i % 2 ? 4 : 2) * f(lo + i * h);
  return (s * h) / 3;
}

describe('closed forms vs numeric integration', () => {
  const cases: [number, number, number, number][] = [
    [0, 1, 0, 1],
    [0, 1, 1, 1],
    [0, 1, 0.3, 2.5],
    [-2, 0.5, 3, 1.7],
    [10, 0.05, 10.02, 0.07],
  ];
  for (const [m1, s1, m2, s2] of cases) {
    it(`N(${m1}, ${s1}²) vs N(${m2}, ${s2}²)`, () => {
      const lo = Math.min(m1 - 12 * s1, m2 - 12 * s2);
      const hi = Math.max(m1 + 12 * s1, m2 + 12 * s2);
      const bc = simpson((x) => Math.sqrt(pdf(x, m1, s1) * pdf(x, m2, s2)), lo, hi);
      // ∫ p (log p − log q), with the log densities taken in log space (the tails underflow).
      const kl12 = simpson((x) => pdf(x, m1, s1) * (logPdf(x, m1, s1) - logPdf(x, m2, s2)), lo, hi);
      const kl21 = simpson((x) => pdf(x, m2, s2) * (logPdf(x, m2, s2) - logPdf(x, m1, s1)), lo, hi);
      expectClose([bhattacharyyaCoefficient(m1, s1, m2, s2)], [bc], { rtol: 1e-8, atol: 1e-10 }, 'BC');
      expectClose([klDivergenceNormal(m1, s1, m2, s2)], [kl12], { rtol: 1e-7, atol: 1e-9 }, 'KL(1‖2)');
      expectClose([klDivergenceNormal(m2, s2, m1, s1)], [kl21], { rtol: 1e-7, atol: 1e-9 }, 'KL(2‖1)');
    });
  }
  it('identical normals: BC = 1, KL = 0', () => {
    expect(bhattacharyyaCoefficient(1.5, 0.3, 1.5, 0.3)).toBeCloseTo(1, 15);
    expect(klDivergenceNormal(1.5, 0.3, 1.5, 0.3)).toBeCloseTo(0, 15);
  });
});

/** Two groups separated along a direction u (plus isotropic noise) in d dimensions. */
function groupsAlong(n: number, d: number, shift: number, seed: number) {
  const rng = new Rng(seed);
  const x = new Float32Array(n * d);
  const g = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    g[i] = i % 3;
    for (let j = 0; j < d; j++) x[i * d + j] = 0.5 * rng.normal();
    x[i * d] += 3 * rng.normal() + shift * g[i];
  }
  return { x, g };
}

describe('gaussianLeakage (float64 CPU backend)', () => {
  it('per-group fits on PC1 equal a direct float64 computation; pairs use the closed forms', async () => {
    const n = 300;
    const d = 5;
    const { x, g } = groupsAlong(n, d, 2, 1);
    const before = memory('cpu').tensors;
    const t = tensor(x, [n, d], { device: 'cpu' });
    const r = await gaussianLeakage(t, g);
    const p = await pca(t, 1);
    const zt = p.transform(t);
    const z = await zt.toArray();
    zt.dispose();
    for (const fit of r.groups) {
      const vals = Array.from(z).filter((_, i) => g[i] === fit.group);
      const m = vals.reduce((a, v) => a + v, 0) / vals.length;
      const s = Math.sqrt(vals.reduce((a, v) => a + (v - m) ** 2, 0) / vals.length);
      expectClose([fit.mean, fit.std], [m, s], { rtol: 1e-6, atol: 1e-6 }, `group ${fit.group}`);
      expect(fit.count).toBe(100);
      expect(fit.values.length).toBe(100);
      expect(fit.stdFloored).toBe(false);
    }
    expect(r.pairs.map((q) => [q.a, q.b])).toEqual([
      [0, 1],
      [0, 2],
      [1, 2],
    ]);
    for (const q of r.pairs) {
      const [a, b] = [r.groups[q.a], r.groups[q.b]];
      expect(q.bhattacharyya).toBe(bhattacharyyaCoefficient(a.mean, a.std, b.mean, b.std));
      expect(q.klBA).toBe(klDivergenceNormal(b.mean, b.std, a.mean, a.std));
      expect(q.bhattacharyyaDistance).toBeCloseTo(-Math.log(q.bhattacharyya), 14);
    }
    expect(r.summary.meanBhattacharyya).toBeCloseTo(r.pairs.reduce((s, q) => s + q.bhattacharyya, 0) / 3, 14);
    expect(r.summary.minBhattacharyya).toBe(r.pairs[1].bhattacharyya); // groups 0 and 2 are furthest apart
    expect(r.explainedVarianceRatio).toBeCloseTo(p.explainedVarianceRatio[0], 6);
    expect(r.figure?.name).toBe('gaussian-leakage');
    expect(r.figure?.svg).toContain('<svg');
    p.dispose();
    t.dispose();
    expect(memory('cpu').tensors).toBe(before);
  });

  it('groups that do not differ have BC near 1; a fitted PCA can be passed; component 1', async () => {
    const { x } = groupsAlong(600, 4, 0, 2);
    const t = tensor(x, [600, 4], { device: 'cpu' });
    const g = Int32Array.from({ length: 600 }, (_, i) => i % 2);
    const r = await gaussianLeakage(t, g, { figure: false });
    expect(r.summary.meanBhattacharyya).toBeGreaterThan(0.99);
    expect(r.figure).toBeNull();
    const p = await pca(t, 2);
    const r1 = await gaussianLeakage(t, g, { pca: p, component: 1, figure: false });
    expect(r1.component).toBe(1);
    expect(p.components.isDisposed).toBe(false);
    await expect(gaussianLeakage(t, g, { pca: p, component: 2 })).rejects.toMatchObject({ argument: 'options.pca' });
    await expect(gaussianLeakage(t, g, { component: 4 })).rejects.toMatchObject({ argument: 'options.component' });
    const p1 = await pca(t, 1);
    await expect(gaussianLeakage(t, g, { pca: p1, component: 1 })).rejects.toMatchObject({ argument: 'options.pca' });
    p.dispose();
    p1.dispose();
    t.dispose();
  });

  it('a constant group gets the std floor (flagged), no NaN; one-sample groups throw', async () => {
    const n = 40;
    const x = new Float32Array(n * 2);
    const g = new Int32Array(n);
    const rng = new Rng(5);
    for (let i = 0; i < n; i++) {
      g[i] = i < 10 ? 7 : 3;
      x[i * 2] = i < 10 ? 4 : rng.normal();
      x[i * 2 + 1] = i < 10 ? 0 : 0.1 * rng.normal();
    }
    const t = tensor(x, [n, 2], { device: 'cpu' });
    const r = await gaussianLeakage(t, g, { figure: false });
    const constant = r.groups.find((f) => f.group === 7)!;
    expect(constant.stdFloored).toBe(true);
    expect(constant.std).toBeGreaterThan(0);
    for (const v of [r.pairs[0].bhattacharyya, r.pairs[0].klAB, r.pairs[0].klBA, r.summary.meanSymmetricKL]) expect(Number.isFinite(v)).toBe(true);
    expect(r.pairs[0].bhattacharyya).toBeLessThan(1e-2);
    const single = Int32Array.from(g);
    single[0] = 99;
    await expect(gaussianLeakage(t, single)).rejects.toMatchObject({
      name: 'InvalidArgumentError',
      argument: 'groups',
      message: expect.stringMatching(/99 \(1 sample\)/),
    });
    await expect(gaussianLeakage(t, [1, 2])).rejects.toMatchObject({ argument: 'groups' });
    await expect(gaussianLeakage(t, g, { component: -1 })).rejects.toMatchObject({ argument: 'options.component' });
    await expect(gaussianLeakage(t, g, { minStd: 0 })).rejects.toMatchObject({ argument: 'options.minStd' });
    await expect(gaussianLeakage(tensor([1, 2], [2], { device: 'cpu' }), [0, 1])).rejects.toMatchObject({ argument: 'embeddings' });
    t.dispose();
  });
});
