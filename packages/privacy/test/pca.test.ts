import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, memory, NonFiniteError, Rng, tensor } from '@fairgpu/tensor';
import { pca } from '../src/index.ts';
import { orthonormalizeColumns, symmetricEigen } from '../src/linalg.ts';
import { expectClose, fixture, subspaceAngle } from './helpers.ts';

/**
 * Unit tests on the float64 CPU backend: the same code as on the GPU. Readbacks (`toArray`) round
 * to float32, so the mean and the covariance reach the host with ~6e-8 relative error: that is the
 * floor of these tolerances, not the eigensolver (tested alone above at 1e-12).
 */
describe('symmetricEigen (tred2 + tql2, float64)', () => {
  for (const n of [1, 2, 7, 64, 150]) {
    it(`n = ${n}: A·v = λ·v, orthonormal, descending`, () => {
      const rng = new Rng(n);
      const a = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = rng.normal();
      const { values, vectors } = symmetricEigen(a, n);
      let worst = 0;
      for (let e = 0; e < n; e++) {
        for (let i = 0; i < n; i++) {
          let av = 0;
          for (let j = 0; j < n; j++) av += a[i * n + j] * vectors[e * n + j];
          worst = Math.max(worst, Math.abs(av - values[e] * vectors[e * n + i]));
        }
        for (let f = 0; f <= e; f++) {
          let dot = 0;
          for (let j = 0; j < n; j++) dot += vectors[e * n + j] * vectors[f * n + j];
          expect(Math.abs(dot - (e === f ? 1 : 0))).toBeLessThan(1e-12);
        }
        if (e > 0) expect(values[e]).toBeLessThanOrEqual(values[e - 1]);
      }
      expect(worst).toBeLessThan(1e-12 * n);
    });
  }
  it('repeated eigenvalues and a zero matrix', () => {
    const { values } = symmetricEigen(Float64Array.from([2, 0, 0, 0, 2, 0, 0, 0, 1]), 3);
    expectClose(values, [2, 2, 1], { rtol: 0, atol: 1e-15 });
    const zero = symmetricEigen(new Float64Array(16), 4);
    expectClose(zero.values, [0, 0, 0, 0], { rtol: 0, atol: 0 });
  });
  it('orthonormalizeColumns handles a rank-deficient block', () => {
    const y = Float64Array.from([1, 2, 1, 2, 4, 2, 0, 0, 0, 3, 6, 3]); // 4 × 3, rank 1
    orthonormalizeColumns(y, 4, 3);
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) {
        let dot = 0;
        for (let r = 0; r < 4; r++) dot += y[r * 3 + i] * y[r * 3 + j];
        expect(Math.abs(dot - (i === j ? 1 : 0))).toBeLessThan(1e-12);
      }
  });
});

describe(`pca on the float64 CPU backend vs scikit-learn ${fixture.sklearn}`, () => {
  for (const c of fixture.pca) {
    for (const solver of ['full', 'randomized'] as const) {
      it(`${c.name} (${c.note}), ${solver}`, async () => {
        const before = memory('cpu').tensors;
        const x = tensor(c.x, [c.n, c.d], { device: 'cpu' });
        const p = await pca(x, c.k, { solver, tol: 1e-12 });
        expect(subspaceAngle(p.componentsArray, c.components, c.k, c.d)).toBeLessThan(1e-5);
        expectClose(p.componentsArray, c.components, { rtol: 1e-5, atol: 1e-6 }, 'components (signed as sklearn)');
        expectClose(await p.components.toArray(), c.components, { rtol: 1e-5, atol: 1e-6 }, 'components tensor');
        expectClose(p.explainedVariance, c.explained_variance, { rtol: 1e-6, atol: 1e-9 }, 'explained variance');
        expectClose(p.explainedVarianceRatio, c.explained_variance_ratio, { rtol: 1e-6, atol: 1e-9 }, 'ratio');
        expectClose(p.meanArray, c.mean, { rtol: 1e-7, atol: 1e-7 }, 'mean');
        const z = p.transform(x);
        expect(z.shape).toEqual([c.n, c.k]);
        expectClose(await z.toArray(), c.transform, { rtol: 1e-5, atol: 1e-5 }, 'transform');
        const q = await pca(x, c.k, { solver, tol: 1e-12, sign: 'loadings' });
        expectClose(q.componentsArray, c.components_loadings, { rtol: 1e-5, atol: 1e-6 }, 'components (loadings sign)');
        if (c.direction) expect(Math.abs(p.componentsArray.reduce((s, v, i) => s + v * c.direction![i], 0))).toBeGreaterThan(0.995);
        z.dispose();
        p.dispose();
        q.dispose();
        x.dispose();
        expect(memory('cpu').tensors).toBe(before);
      });
    }
  }
});

describe('pca argument checks', () => {
  const x = tensor(
    Array.from({ length: 12 }, (_, i) => i % 5),
    [4, 3],
    { device: 'cpu' },
  );
  it('k out of range / not an integer', async () => {
    for (const k of [0, 4, 1.5, Number.NaN]) {
      await expect(pca(x, k)).rejects.toMatchObject({ name: 'InvalidArgumentError', argument: 'k' });
    }
  });
  it('rank, rows, dtype, options', async () => {
    await expect(pca(tensor([1, 2, 3], [3], { device: 'cpu' }), 1)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(pca(tensor([1, 2, 3], [1, 3], { device: 'cpu' }), 1)).rejects.toMatchObject({ argument: 'x' });
    await expect(pca(tensor([1, 2, 3, 4], [2, 2], { device: 'cpu', dtype: 'i32' }), 1)).rejects.toMatchObject({ name: 'DtypeMismatchError', argument: 'x' });
    await expect(pca(x, 1, { solver: 'qr' as never })).rejects.toMatchObject({ argument: 'options.solver' });
    await expect(pca(x, 1, { sign: 'up' as never })).rejects.toMatchObject({ argument: 'options.sign' });
    await expect(pca('x' as never, 1)).rejects.toMatchObject({ argument: 'x' });
  });
  it('NaN / Inf in x', async () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
      const y = tensor([1, 2, 3, bad, 5, 6], [3, 2], { device: 'cpu', allowNonFinite: true });
      const before = memory('cpu').tensors;
      await expect(pca(y, 1)).rejects.toBeInstanceOf(NonFiniteError);
      await expect(pca(y, 1, { solver: 'randomized' })).rejects.toMatchObject({ argument: 'x' });
      expect(memory('cpu').tensors).toBe(before);
    }
  });
  it('transform checks columns', async () => {
    const p = await pca(x, 2);
    expect(() => p.transform(tensor([1, 2], [1, 2], { device: 'cpu' }))).toThrow(/3 columns/);
    p.dispose();
  });
});
