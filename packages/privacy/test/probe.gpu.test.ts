import { afterAll, describe, expect, it } from 'vitest';
import { Rng, tensor } from '@fairgpu/tensor';
import { attributeProbe } from '../src/index.ts';
import { expectClose, fixture, gpuOrSkip } from './helpers.ts';

const gpu = await gpuOrSkip();
afterAll(() => gpu?.destroy());

/** XOR of two signs in the first two of d dimensions: no linear probe beats chance, an MLP does. */
function xorData(n: number, d: number, seed: number): { x: Float32Array; y: Int32Array } {
  const rng = new Rng(seed);
  const x = new Float32Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) x[i * d + j] = rng.normal();
    y[i] = x[i * d] > 0 !== x[i * d + 1] > 0 ? 1 : 0;
  }
  return { x, y };
}

describe.runIf(gpu)('attributeProbe on the GPU', () => {
  for (const c of fixture.logistic) {
    it(`linear, ${c.name}: predictions and accuracy = scikit-learn's; coef within 1e-2 of max |coef|`, async () => {
      const before = gpu!.memory().tensors;
      const tr = tensor(c.x_train, [c.y_train.length, c.d], { device: gpu });
      const te = tensor(c.x_test, [c.y_test.length, c.d], { device: gpu });
      const r = await attributeProbe({ trainEmbeddings: tr, trainAttribute: c.y_train, testEmbeddings: te, testAttribute: c.y_test });
      expect(r.linear!.converged).toBe(true);
      expect(r.accuracy).toBe(c.test_accuracy);
      expect(Array.from(r.predictions)).toEqual(c.test_predictions);
      expect(r.balancedAccuracy).toBeCloseTo(c.test_balanced_accuracy, 12);
      const coef = c.classes.length === 2 ? Array.from(r.linear!.coef.subarray(c.d, 2 * c.d)) : Array.from(r.linear!.coef);
      const scale = Math.max(...c.coef.map(Math.abs));
      expectClose(coef, c.coef, { rtol: 1e-2, atol: 1e-2 * scale }, 'coef');
      tr.dispose();
      te.dispose();
      expect(gpu!.memory().tensors).toBe(before);
    });
  }

  it('mlp: learns XOR that the linear probe cannot; same seed = same result; chance and per-group', async () => {
    const d = 8;
    const train = xorData(600, d, 1);
    const test = xorData(300, d, 2);
    const before = gpu!.memory().tensors;
    const tr = tensor(train.x, [600, d], { device: gpu });
    const te = tensor(test.x, [300, d], { device: gpu });
    const input = { trainEmbeddings: tr, trainAttribute: train.y, testEmbeddings: te, testAttribute: tensor(test.y, [300], { device: gpu, dtype: 'i32' }) };
    const linear = await attributeProbe({ ...input, probe: 'linear' });
    const options = { ...input, probe: 'mlp' as const, hidden: 32, epochs: 30, batchSize: 64, lr: 1e-2, seed: 3 };
    const a = await attributeProbe(options);
    const b = await attributeProbe(options);
    expect(linear.accuracy).toBeLessThan(0.65);
    expect(a.accuracy).toBeGreaterThan(0.85);
    expect(Array.from(b.predictions)).toEqual(Array.from(a.predictions));
    expect(b.mlp!.lastEpochLoss).toBe(a.mlp!.lastEpochLoss);
    const ones = test.y.reduce((s, v) => s + v, 0);
    expect(a.chance).toBe(Math.max(ones, 300 - ones) / 300);
    expect(a.perGroup.map((g) => g.count)).toEqual([300 - ones, ones]);
    expect(a.mlp!.steps).toBe(30 * Math.ceil(600 / 64));
    tr.dispose();
    te.dispose();
    input.testAttribute.dispose();
    expect(gpu!.memory().tensors).toBe(before);
  });
});
