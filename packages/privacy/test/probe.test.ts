import { describe, expect, it } from 'vitest';
import { memory, tensor } from '@fairgpu/tensor';
import { attributeProbe, groupScores } from '../src/index.ts';
import { expectClose, fixture, type LogisticCase } from './helpers.ts';

/** sklearn's coef_ layout: [K, d], or only row 1 for two classes. */
function sklearnRows(c: LogisticCase, coef: Float64Array, d: number): number[] {
  return c.classes.length === 2 ? Array.from(coef.subarray(d, 2 * d)) : Array.from(coef);
}

export function probeInputs(c: LogisticCase, device: 'cpu' | { backend: never } | undefined) {
  const nTrain = c.y_train.length;
  const nTest = c.y_test.length;
  return {
    trainEmbeddings: tensor(c.x_train, [nTrain, c.d], { device }),
    testEmbeddings: tensor(c.x_test, [nTest, c.d], { device }),
    trainAttribute: c.y_train,
    testAttribute: Int32Array.from(c.y_test),
  };
}

describe(`linear probe on the float64 CPU backend vs LogisticRegression(C=1, multinomial), scikit-learn ${fixture.sklearn}`, () => {
  for (const c of fixture.logistic) {
    it(`${c.name} (${c.note}): same predictions and accuracy; coefficients rel 1e-4`, async () => {
      const before = memory('cpu').tensors;
      const input = probeInputs(c, 'cpu');
      const r = await attributeProbe({ ...input, probe: 'linear' });
      expect(r.classes).toEqual(c.classes);
      expect(r.linear!.converged).toBe(true);
      expect(Array.from(r.predictions)).toEqual(c.test_predictions);
      expect(r.accuracy).toBe(c.test_accuracy);
      expect(r.balancedAccuracy).toBeCloseTo(c.test_balanced_accuracy, 12);
      expect(r.trainAccuracy).toBe(c.train_accuracy);
      const coef = sklearnRows(c, r.linear!.coef, c.d);
      const scale = Math.max(...c.coef.map(Math.abs));
      expectClose(coef, c.coef, { rtol: 1e-4, atol: 1e-4 * scale }, 'coef');
      const intercept = c.classes.length === 2 ? [r.linear!.intercept[1]] : Array.from(r.linear!.intercept);
      // The unpenalised intercept sits on a flat valley on separable data: looser.
      expectClose(intercept, c.intercept, { rtol: 1e-3, atol: 1e-3 * scale }, 'intercept');
      input.trainEmbeddings.dispose();
      input.testEmbeddings.dispose();
      expect(memory('cpu').tensors).toBe(before);
    });
  }
});

describe('groupScores', () => {
  it('accuracy, balanced accuracy, chance, per group', () => {
    const s = groupScores([1, 1, 1, 2, 2, 3], [1, 1, 2, 2, 2, 1]);
    expect(s.accuracy).toBeCloseTo(4 / 6, 15);
    expect(s.perGroup).toEqual([
      { group: 1, count: 3, accuracy: 2 / 3 },
      { group: 2, count: 3, accuracy: 2 / 3 },
    ]);
    expect(s.balancedAccuracy).toBeCloseTo(2 / 3, 15);
    expect(s.chance).toBe(0.5);
  });
});

describe('attributeProbe argument checks', () => {
  const x = tensor([0, 1, 1, 0, 2, 2, 3, 1], [4, 2], { device: 'cpu' });
  const base = { trainEmbeddings: x, testEmbeddings: x, trainAttribute: [0, 1, 0, 1], testAttribute: [0, 1, 0, 1] };
  it.each([
    ['trainAttribute', { trainAttribute: [0, 1, 0] }, /3 values/],
    ['testAttribute', { testAttribute: [0, 1, 2, 1] }, /group\(s\) 2/],
    ['trainAttribute', { trainAttribute: [0, 0, 0, 0] }, /at least 2 groups/],
    ['trainAttribute', { trainAttribute: [0, 1.5, 0, 1] }, /integers/],
    ['testAttribute', { testAttribute: [0, Number.NaN, 0, 1] }, /NaN/],
    ['testAttribute', { testAttribute: tensor([0, 1, 0, 1], [4], { device: 'cpu' }) }, /i32/],
    [
      'testEmbeddings',
      {
        testEmbeddings: tensor([1, 2, 3, 4], [2, 2], { device: 'cpu' }),
        testAttribute: [0, 1],
        trainAttribute: [0, 1, 0, 1],
        trainEmbeddings: tensor([1, 2, 3], [1, 3], { device: 'cpu' }),
      },
      /features|rows/,
    ],
    ['trainEmbeddings', { trainEmbeddings: tensor([1, 2, 3, 4], [4], { device: 'cpu' }) }, /rank 2/],
    ['probe', { probe: 'svm' }, /'linear' or 'mlp'/],
    ['C', { C: 0 }, /> 0/],
    ['hidden', { hidden: 0 }, /integer/],
  ])('%s: %s', async (argument, override, message) => {
    await expect(attributeProbe({ ...base, ...(override as object) })).rejects.toMatchObject({
      argument: expect.stringMatching(/Embeddings|Attribute|probe|C|hidden/),
      message: expect.stringMatching(message),
    });
    await expect(attributeProbe({ ...base, ...(override as object) })).rejects.toHaveProperty(
      'argument',
      expect.stringContaining(argument === 'testEmbeddings' ? 'Embeddings' : argument),
    );
  });
  it('NaN in embeddings names the tensor', async () => {
    const bad = tensor([0, 1, Number.NaN, 0, 2, 2, 3, 1], [4, 2], { device: 'cpu', allowNonFinite: true });
    await expect(attributeProbe({ ...base, trainEmbeddings: bad })).rejects.toMatchObject({ name: 'NonFiniteError', argument: 'trainEmbeddings' });
    await expect(attributeProbe({ ...base, testEmbeddings: bad })).rejects.toMatchObject({ name: 'NonFiniteError', argument: 'testEmbeddings' });
  });
});
