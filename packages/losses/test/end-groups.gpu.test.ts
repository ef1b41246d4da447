import { afterAll, describe, expect, it } from 'vitest';
import { cpuBackend, gradcheck, normalize, scope, tensor, type Device } from '@fairgpu/tensor';
import { endGroupedComposite } from '../src/debias.ts';
import { endGroupedFused } from '../src/end-groups.ts';
import { expectClose, gpuOrSkip, randomData } from './helpers.ts';

/**
 * The fused EnD `paper` regularizer (two dispatches each way) against its definition, the
 * one-hot matmul composite, on batches that exercise every branch: many groups, a batch where
 * every class has one bias (no pair for R∥: n_Q = 0), one where every bias group is a single row
 * (no pair for R⊥), and more features than the group-sum kernel's 64 lanes.
 */
const gpu = await gpuOrSkip();
afterAll(() => gpu?.destroy());

const batches: [string, number, number, (i: number) => number, (i: number) => number][] = [
  ['128 rows, 10 classes × 10 colours', 128, 32, (i) => i % 10, (i) => (i * 7) % 10],
  ['every class one colour (n_Q = 0)', 12, 8, (i) => i % 3, (i) => i % 3],
  ['every colour one row (no R⊥ pair)', 6, 5, (i) => i % 2, (i) => i],
  ['100 features', 20, 100, (i) => i % 4, (i) => (i * 3) % 5],
];

function run(device: Device, rows: number, dim: number, label: (i: number) => number, colour: (i: number) => number, fused: boolean) {
  return scope(async () => {
    const x = tensor(randomData(rows * dim, rows + dim), [rows, dim], { device, requiresGrad: true });
    const z = normalize(x);
    const labels = Float64Array.from({ length: rows }, (_, i) => label(i));
    const bias = Float64Array.from({ length: rows }, (_, i) => colour(i));
    const r = fused ? endGroupedFused(z, labels, bias, 5, 30) : endGroupedComposite(z, labels, bias, 5, 30);
    await r.mul(0.5).backward();
    return { value: Array.from(await r.toArray()), grad: Array.from(await x.grad!.toArray()) };
  });
}

describe('fused EnD (paper, grouped)', () => {
  for (const [name, rows, dim, label, colour] of batches) {
    it(`matches the composite on the float64 CPU backend: ${name}`, async () => {
      const ref = await run(cpuBackend(), rows, dim, label, colour, false);
      const got = await run(cpuBackend(), rows, dim, label, colour, true);
      expectClose(got.value, ref.value, { rtol: 1e-11, atol: 1e-12 }, 'value');
      expectClose(got.grad, ref.grad, { rtol: 1e-10, atol: 1e-12 }, 'grad');
    });
    it.runIf(gpu)(`matches the composite's float64 values on the GPU: ${name}`, async () => {
      const ref = await run(cpuBackend(), rows, dim, label, colour, false);
      const got = await run(gpu!, rows, dim, label, colour, true);
      expectClose(got.value, ref.value, { rtol: 1e-5, atol: 1e-5 }, 'value');
      expectClose(got.grad, ref.grad, { rtol: 1e-4, atol: 1e-5 }, 'grad');
    });
  }
  it('gradient against finite differences (float64)', async () => {
    const labels = Float64Array.from([0, 1, 0, 1, 2, 2, 0]);
    const bias = Float64Array.from([0, 0, 1, 1, 0, 1, 0]);
    const r = await gradcheck((z) => endGroupedFused(z, labels, bias, 0.7, 1.3), [{ data: randomData(7 * 4, 9), shape: [7, 4] }], { rtol: 1e-6, atol: 1e-8 });
    expect(r.ok, `max abs error ${r.maxAbsError}`).toBe(true);
  });
});
