import { afterAll, describe, expect, it } from 'vitest';
import { Rng, tensor } from '@fairgpu/tensor';
import { pca } from '../src/index.ts';
import { expectClose, fixture, gpuOrSkip, subspaceAngle } from './helpers.ts';

const gpu = await gpuOrSkip();
afterAll(() => gpu?.destroy());

/** Data with a known spectrum: x = z·diag(s)·Rᵀ + offset, R a random rotation (host, float64). */
function spectrumData(n: number, d: number, s: (i: number) => number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const r = Array.from({ length: d }, () => Float64Array.from({ length: d }, () => rng.normal()));
  for (let j = 0; j < d; j++) {
    // Gram–Schmidt rows
    for (let i = 0; i < j; i++) {
      const dot = r[j].reduce((a, v, t) => a + v * r[i][t], 0);
      for (let t = 0; t < d; t++) r[j][t] -= dot * r[i][t];
    }
    const norm = Math.hypot(...r[j]);
    for (let t = 0; t < d; t++) r[j][t] /= norm;
  }
  const x = new Float32Array(n * d);
  const z = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) z[j] = rng.normal() * s(j);
    for (let t = 0; t < d; t++) {
      let v = 0.5;
      for (let j = 0; j < d; j++) v += z[j] * r[j][t];
      x[i * d + t] = v;
    }
  }
  return x;
}

describe.runIf(gpu)('pca on the GPU vs scikit-learn (float64 fixture)', () => {
  for (const c of fixture.pca) {
    for (const solver of ['full', 'randomized'] as const) {
      it(`${c.name}, ${solver}: subspace angle < 1e-3, explained variance rel 1e-4, transform`, async () => {
        const before = gpu!.memory().tensors;
        const x = tensor(c.x, [c.n, c.d], { device: gpu });
        const p = await pca(x, c.k, { solver });
        expect(p.components.backend).toBe(gpu!.backend);
        expect(subspaceAngle(p.componentsArray, c.components, c.k, c.d)).toBeLessThan(1e-3);
        expectClose(p.componentsArray, c.components, { rtol: 1e-3, atol: 1e-3 }, 'components, sklearn sign');
        expectClose(p.explainedVariance, c.explained_variance, { rtol: 1e-4, atol: 1e-6 }, 'explained variance');
        expectClose(p.explainedVarianceRatio, c.explained_variance_ratio, { rtol: 1e-4, atol: 1e-6 }, 'ratio');
        expectClose(p.meanArray, c.mean, { rtol: 1e-5, atol: 1e-5 }, 'mean');
        const z = p.transform(x);
        expectClose(await z.toArray(), c.transform, { rtol: 1e-3, atol: 1e-3 }, 'transform');
        if (c.direction) {
          const cos = p.componentsArray.reduce((s, v, i) => s + v * c.direction![i], 0);
          expect(Math.abs(cos)).toBeGreaterThan(0.995);
        }
        z.dispose();
        p.dispose();
        x.dispose();
        expect(gpu!.memory().tensors).toBe(before);
      });
    }
  }

  it('randomized = full (float64 CPU backend) on d = 200 with a decaying spectrum; deterministic', async () => {
    const n = 1500;
    const d = 200;
    const k = 6;
    const data = spectrumData(n, d, (j) => (j < k ? 10 - j : 1.5 * Math.exp(-j / 50)), 7);
    const before = gpu!.memory().tensors;
    const x = tensor(data, [n, d], { device: gpu });
    const xCpu = tensor(data, [n, d], { device: 'cpu' });
    const ref = await pca(xCpu, k, { solver: 'full' });
    const a = await pca(x, k, { solver: 'randomized' });
    const b = await pca(x, k, { solver: 'randomized' });
    const full = await pca(x, k, { solver: 'full' });
    for (const [name, p] of [
      ['randomized', a],
      ['full', full],
    ] as const) {
      expect(subspaceAngle(p.componentsArray, ref.componentsArray, k, d), name).toBeLessThan(1e-3);
      expectClose(p.componentsArray, ref.componentsArray, { rtol: 1e-3, atol: 1e-3 }, `${name} components`);
      expectClose(p.explainedVariance, ref.explainedVariance, { rtol: 1e-4, atol: 1e-6 }, `${name} variance`);
    }
    expect(a.iterations).toBeGreaterThan(0);
    expect(Array.from(b.componentsArray)).toEqual(Array.from(a.componentsArray));
    expect(Array.from(b.explainedVariance)).toEqual(Array.from(a.explainedVariance));
    [a, b, full, ref].forEach((p) => p.dispose());
    x.dispose();
    xCpu.dispose();
    expect(gpu!.memory().tensors).toBe(before);
  });
});
