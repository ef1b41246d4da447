import { afterAll, describe, expect, it } from 'vitest';
import { normalizeComposite } from '../src/composites.ts';
import { cpuBackend, gradcheck, normalize, scope, tensor, type Device } from '../src/index.ts';
import { expectClose, gpuOrSkip, randomData, recordDispatches } from './helpers.ts';

/**
 * The fused row normalisation (one dispatch each way) against its definition, the composite
 * x / √max(Σx², eps²), on the float64 CPU backend and the GPU; its gradient also against finite
 * differences. Rows include a zero row (the eps branch, gradient g / eps) and, for the large case,
 * enough floats to be read as texels on software adapters.
 */
const gpu = await gpuOrSkip();
afterAll(() => gpu?.destroy());

function run(device: Device, shape: number[], fused: boolean, zeroRow: boolean) {
  return scope(async () => {
    const size = shape.reduce((a, d) => a * d, 1);
    const width = shape.at(-1)!;
    const data = randomData(size, size).map((v, i) => (zeroRow && i < width ? 0 : v));
    const x = tensor(data, shape, { device, requiresGrad: true });
    const floor = Math.max(1e-24, device === cpuBackend() ? 2 ** -1022 : 2 ** -126);
    const y = fused ? normalize(x, -1, 1e-12) : normalizeComposite(x, shape.length - 1, floor);
    await y
      .mul(tensor(randomData(size, 7), shape, { device }))
      .sum()
      .backward();
    return { y: Array.from(await y.toArray()), grad: Array.from(await x.grad!.toArray()) };
  });
}

const cases: [number[], boolean][] = [
  [[1, 1], false],
  [[5, 3], true],
  [[128, 32], false], // the main job's features
  [[2, 3, 7], true], // rank 3: rows are the leading axes
  [[130, 128], false], // 16,640 floats: texel inputs on software adapters
];

describe('fused normalize', () => {
  for (const [shape, zeroRow] of cases) {
    const name = `${shape.join('×')}${zeroRow ? ', first row zero' : ''}`;
    it(`matches the composite on the float64 CPU backend: ${name}`, async () => {
      const ref = await run(cpuBackend(), shape, false, zeroRow);
      const got = await run(cpuBackend(), shape, true, zeroRow);
      expectClose(got.y, ref.y, { rtol: 1e-12, atol: 1e-12 }, 'y');
      expectClose(got.grad, ref.grad, { rtol: 1e-10, atol: 1e-10 }, 'grad');
    });
    it.runIf(gpu)(`matches the composite's float64 values on the GPU: ${name}`, async () => {
      const ref = await run(cpuBackend(), shape, false, zeroRow);
      const recorded = recordDispatches(gpu!.backend);
      let got: Awaited<ReturnType<typeof run>>;
      try {
        got = await run(gpu!, shape, true, zeroRow);
      } finally {
        recorded.restore();
      }
      // The zero row's gradient is g / eps = g · 1e12: compare relative to that scale.
      expectClose(got.y, ref.y, { rtol: 1e-5, atol: 1e-6 }, 'y');
      expectClose(got.grad, ref.grad, { rtol: 1e-4, atol: 1e-5 }, 'grad');
      expect(recorded.labels.filter((l) => l.startsWith('normalize'))).toEqual(['normalize', 'normalize-grad']);
    });
  }
  it('gradient against finite differences (float64)', async () => {
    const r = await gradcheck((x) => normalize(x).mul(x.sin()), [{ data: randomData(12, 3), shape: [3, 4] }], { rtol: 1e-6, atol: 1e-8 });
    expect(r.ok, `max abs error ${r.maxAbsError}`).toBe(true);
  });
  it('another axis keeps the composite', async () => {
    const x = tensor(randomData(12, 4), [3, 4], { device: 'cpu' });
    const ref = normalizeComposite(x, 0, 1e-24);
    expectClose(Array.from(await normalize(x, 0).toArray()), Array.from(await ref.toArray()), { rtol: 1e-12, atol: 1e-12 }, 'axis 0');
  });
});
