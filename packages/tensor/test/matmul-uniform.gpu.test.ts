import { afterAll, describe, expect, it } from 'vitest';
import { cpuBackend, type Device } from '../src/index.ts';
import * as T from '../src/index.ts';
import { setSoftwareMatmul, uniformPlan } from '../src/gpu/kernels/index.ts';
import { expectClose, gpuOrSkip, make, randomData, recordDispatches } from './helpers.ts';

/**
 * matmul-uniform (software adapters: A packed into 64 KiB uniform windows, one dispatch per window,
 * later K chunks added onto C) against the float64 reference, on shapes that take each branch of
 * its plan: one window, several row blocks per window, several windows per K chunk, K split into
 * chunks, ragged edges (M not a multiple of the row block, N not of 8), transposed operands.
 */
const gpu = await gpuOrSkip();
afterAll(() => gpu?.destroy());

describe('uniformPlan', () => {
  it('covers the product with windows of at most 16,384 floats', () => {
    for (const [m, n, k] of [
      [5, 1100, 7],
      [16, 6272, 72],
      [128, 25088, 3136],
      [3136, 6272, 128],
      [33, 2049, 600],
    ]) {
      const p = uniformPlan(m, n, k)!;
      expect(p, `${m}x${n}x${k}`).not.toBeNull();
      expect(p.kc * p.rows * p.tiles).toBeLessThanOrEqual(16384);
      expect(p.chunks * p.kc).toBeGreaterThanOrEqual(k);
      expect(p.mgroups * p.tiles * p.rows).toBeGreaterThanOrEqual(m);
    }
    // Narrow products stay on matmul-blocked.
    expect(uniformPlan(128, 10, 32)).toBeNull();
    expect(uniformPlan(8, 27, 25088)).toBeNull();
  });
});

describe.runIf(gpu?.adapterInfo.isSoftware)('matmul-uniform agrees with the float64 reference', () => {
  it('one window, several tiles, several windows, split K, ragged, transposed', async () => {
    const ctx = await T.initGpu({ matmulKernel: 'blocked', setDefault: false });
    const recorded = recordDispatches(ctx.backend);
    const labels = recorded.labels;
    // The default software variant is 'texture' (matmul-texture.gpu.test.ts); this file pins 'uniform'.
    const pinned = setSoftwareMatmul('uniform');
    try {
      for (const [a, b, ta, tb, plan] of [
        [[5, 7], [7, 1100], false, false, 'one window, rows padded (R = 8)'],
        [[16, 72], [1024, 72], false, true, 'one window, B transposed'],
        [[600, 33], [600, 2049], true, false, 'split K (kc 512 at R = 32), A transposed, ragged M and N'],
        [[70, 1030], [1500, 1030], false, true, 'split K, three row blocks'],
        [[600, 40], [40, 1031], false, false, 'two windows of 12 tiles (19 row blocks)'],
        [[1, 3000], [3000, 1024], false, false, 'M = 1 (R = 4), split K'],
      ] as const) {
        labels.length = 0;
        const run = (device: Device) =>
          T.tidy(() => {
            const size = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);
            const x = make(randomData(size(a), 3), a, device);
            const y = make(randomData(size(b), 4), b, device);
            return T.matmulTransposed(x, y, ta, tb);
          });
        const ref = await run(cpuBackend()).toArray();
        const got = await run(ctx).toArray();
        expect(
          labels.some((l) => l.startsWith('matmul-uniform')),
          `${plan}: ran ${labels.join(', ')}`,
        ).toBe(true);
        // K up to 3,000 in f32: the rounding error grows with √K·max|term|.
        expectClose(got, ref, { rtol: 1e-4, atol: 2e-4 }, plan);
      }
      // The same products with the uniform path switched off agree too (and take matmul-blocked).
      const previous = setSoftwareMatmul('blocked');
      try {
        labels.length = 0;
        const x = T.randn([40, 300], { device: ctx, seed: 5 });
        const y = T.randn([300, 1031], { device: ctx, seed: 6 });
        const blocked = await x.matmul(y).toArray();
        expect(labels.some((l) => l.startsWith('matmul-uniform'))).toBe(false);
        setSoftwareMatmul('uniform');
        const uniform = await x.matmul(y).toArray();
        expectClose(uniform, blocked, { rtol: 1e-4, atol: 1e-4 }, 'uniform vs blocked');
        x.dispose();
        y.dispose();
      } finally {
        setSoftwareMatmul(previous);
      }
      expect(() => setSoftwareMatmul('fast' as 'uniform')).toThrow(/variant/);
    } finally {
      setSoftwareMatmul(pinned);
      recorded.restore();
      ctx.destroy();
    }
  });
});
