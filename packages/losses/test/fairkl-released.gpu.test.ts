import { afterAll, describe, expect, it } from 'vitest';
import { cpuBackend, gradcheck, scope, tensor, type Device } from '@fairgpu/tensor';
import { fairKLReleasedComposite } from '../src/debias.ts';
import { fairKLReleased } from '../src/fairkl-released.ts';
import { expectClose, gpuOrSkip } from './helpers.ts';

/**
 * The fused released-FairKL op (one dispatch each way) against its definition, the composite of
 * scalar tensor ops, on pair-moment tables that exercise every branch: all sets populated, empty
 * sets (n = 0: μ and sd are 0), a set whose variance is ≤ 0 (sd 0, no gradient through √), one
 * masked entry (T = 1), and a table with a column past s2.
 */
const gpu = await gpuOrSkip();
afterAll(() => gpu?.destroy());

// Rows PA, PC, NA, NC; columns count, sum, sum of squares.
const tables: [string, number[][], number, number][] = [
  [
    'all sets populated',
    [
      [40, 12.5, 9.1],
      [25, -3.2, 4.4],
      [30, 5.5, 6.2],
      [29, -1.1, 3.3],
    ],
    128 * 128,
    1,
  ],
  [
    'empty PC and NA',
    [
      [40, 12.5, 9.1],
      [0, 0, 0],
      [0, 0, 0],
      [29, -1.1, 3.3],
    ],
    64 * 64,
    0.5,
  ],
  [
    'a set with variance ≤ 0',
    [
      [4, 2, 0.1],
      [3, 0.5, 1.2],
      [5, 1, 0.9],
      [6, -0.5, 0.0001],
    ],
    16,
    2,
  ],
  [
    'one masked entry (T = 1)',
    [
      [1, 0.5, 0.25],
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ],
    1,
    1,
  ],
  [
    'a fourth column',
    [
      [40, 12.5, 9.1, 7],
      [25, -3.2, 4.4, 7],
      [30, 5.5, 6.2, 7],
      [29, -1.1, 3.3, 7],
    ],
    128 * 128,
    1,
  ],
];

function run(device: Device, rows: number[][], total: number, kld: number, fused: boolean) {
  return scope(async () => {
    const mom = tensor(rows.flat(), [rows.length, rows[0].length], { device, requiresGrad: true });
    const r = fused ? fairKLReleased(mom, total, kld) : fairKLReleasedComposite(mom, total, kld);
    await r.mul(1.5).backward();
    return { value: Array.from(await r.toArray()), grad: Array.from(await mom.grad!.toArray()) };
  });
}

describe('fused released FairKL', () => {
  for (const [name, rows, total, kld] of tables) {
    it(`matches the composite on the float64 CPU backend: ${name}`, async () => {
      const ref = await run(cpuBackend(), rows, total, kld, false);
      const got = await run(cpuBackend(), rows, total, kld, true);
      expectClose(got.value, ref.value, { rtol: 1e-12, atol: 1e-12 }, 'value');
      expectClose(got.grad, ref.grad, { rtol: 1e-12, atol: 1e-12 }, 'grad');
    });
    it.runIf(gpu)(`matches the composite's float64 values on the GPU: ${name}`, async () => {
      const ref = await run(cpuBackend(), rows, total, kld, false);
      const got = await run(gpu!, rows, total, kld, true);
      expectClose(got.value, ref.value, { rtol: 1e-5, atol: 1e-6 }, 'value');
      expectClose(got.grad, ref.grad, { rtol: 1e-4, atol: 1e-6 }, 'grad');
    });
  }
  it('gradient against finite differences (float64)', async () => {
    const r = await gradcheck((m) => fairKLReleased(m, 256, 0.7), [{ data: tables[0][1].flat(), shape: [4, 3] }], { rtol: 1e-6, atol: 1e-8 });
    expect(r.ok, `max abs error ${r.maxAbsError}`).toBe(true);
  });
});
