import { afterAll, describe, expect, it } from 'vitest';
import { crossEntropyComposite } from '../src/composites.ts';
import { cpuBackend, crossEntropy, gradcheck, InvalidArgumentError, scope, tensor, type Device } from '../src/index.ts';
import { expectClose, gpuOrSkip, randomData, recordDispatches } from './helpers.ts';

/**
 * The fused cross-entropy (one dispatch forward, one backward) against its definition, the
 * composite logSoftmax → gather → mean, on the float64 CPU backend; its gradient also against
 * finite differences.
 */
const gpu = await gpuOrSkip();
afterAll(() => gpu?.destroy());

const names = { op: 'crossEntropy', argument: 'targets' };

/** Loss and logits gradient (upstream 2.5) of `loss` on a device. */
function run(device: Device, rows: number, classes: number, scale: number, fused: boolean) {
  return scope(async () => {
    const logits = tensor(
      randomData(rows * classes, rows + classes).map((v) => v * scale),
      [rows, classes],
      { device, requiresGrad: true },
    );
    const targets = tensor(
      Array.from({ length: rows }, (_, i) => (i * 7 + 3) % classes),
      [rows],
      { device, dtype: 'i32' },
    );
    const loss = fused ? crossEntropy(logits, targets) : crossEntropyComposite(logits, targets, names);
    await loss.mul(2.5).backward();
    return { loss: Array.from(await loss.toArray()), grad: Array.from(await logits.grad!.toArray()) };
  });
}

const cases: [number, number, number][] = [
  [1, 1, 1], // one row of one class: loss 0, gradient 0
  [5, 3, 1],
  [128, 10, 3], // the main job's batch
  [300, 37, 1], // more rows than the forward's 64 lanes
  [16, 10, 40], // logits far apart: the max shift keeps exp finite
];

describe('fused crossEntropy', () => {
  for (const [rows, classes, scale] of cases) {
    it(`matches the composite on the float64 CPU backend: ${rows}×${classes}, logits ×${scale}`, async () => {
      const ref = await run(cpuBackend(), rows, classes, scale, false);
      const got = await run(cpuBackend(), rows, classes, scale, true);
      expectClose(got.loss, ref.loss, { rtol: 1e-12, atol: 1e-12 }, 'loss');
      expectClose(got.grad, ref.grad, { rtol: 1e-12, atol: 1e-12 }, 'grad');
    });
  }
  it('gradient against finite differences (float64)', async () => {
    const targets = tensor([2, 0, 1, 2], [4], { device: 'cpu', dtype: 'i32' });
    const r = await gradcheck((x) => crossEntropy(x, targets).mul(x.sum()), [{ data: randomData(12, 5), shape: [4, 3] }], { rtol: 1e-6, atol: 1e-8 });
    expect(r.ok, `max abs error ${r.maxAbsError}`).toBe(true);
  });
  it('a bad class id on the CPU throws at once, naming the argument', () => {
    const logits = tensor(randomData(6, 1), [2, 3], { device: 'cpu' });
    expect(() => crossEntropy(logits, tensor([0, 3], [2], { device: 'cpu', dtype: 'i32' }), { argument: 'labels' })).toThrowError(InvalidArgumentError);
    expect(() => crossEntropy(logits, tensor([0, 3], [2], { device: 'cpu', dtype: 'i32' }), { argument: 'labels' })).toThrowError(
      /^crossEntropy: argument 'labels' must hold indices in \[0, 3\)/,
    );
  });
});

describe.runIf(gpu)('fused crossEntropy on the GPU', () => {
  for (const [rows, classes, scale] of cases) {
    it(`matches the composite's float64 values: ${rows}×${classes}, logits ×${scale}`, async () => {
      const ref = await run(cpuBackend(), rows, classes, scale, false);
      const recorded = recordDispatches(gpu!.backend);
      let got: Awaited<ReturnType<typeof run>>;
      try {
        got = await run(gpu!, rows, classes, scale, true);
      } finally {
        recorded.restore();
      }
      expectClose(got.loss, ref.loss, { rtol: 1e-5, atol: 1e-5 }, 'loss');
      expectClose(got.grad, ref.grad, { rtol: 1e-5, atol: 1e-6 }, 'grad');
      // One kernel forward, one backward (plus the upstream ×2.5 and its gradient).
      expect(recorded.labels.filter((l) => l.startsWith('cross-entropy'))).toEqual(['cross-entropy', 'cross-entropy-grad']);
      expect(recorded.labels.length).toBeLessThanOrEqual(4);
    });
  }
});
