import { InvalidArgumentError, ShapeMismatchError } from '@fairgpu/tensor';
import { describe, expect, it } from 'vitest';
import { groupAccuracy } from '../src/index.ts';
import { expectNumber, FIXTURES } from './fixtures/reference.ts';

interface GroupCase {
  name: string;
  predictions: number[];
  labels: number[];
  biasLabels: number[];
  expected: ReturnType<typeof groupAccuracy>;
}

describe('groupAccuracy vs scikit-learn accuracy_score per subset (fixtures)', () => {
  for (const c of FIXTURES.group as GroupCase[]) {
    it(c.name, () => {
      const r = groupAccuracy({ predictions: c.predictions, labels: c.labels, biasLabels: c.biasLabels });
      const e = c.expected;
      for (const k of ['accuracy', 'aligned', 'conflicting', 'unbiased', 'worstGroup'] as const) expectNumber(r[k], e[k], k);
      expect(r.cells.map((x) => [x.label, x.bias, x.count])).toEqual(e.cells.map((x) => [x.label, x.bias, x.count]));
      r.cells.forEach((x, i) => expectNumber(x.accuracy, e.cells[i].accuracy, `cell ${i}`));
      expect(r.byLabel.map((x) => [x.label, x.count])).toEqual(e.byLabel.map((x) => [x.label, x.count]));
      r.byLabel.forEach((x, i) => expectNumber(x.accuracy, e.byLabel[i].accuracy, `label ${x.label}`));
      expect(r.byBias.map((x) => [x.bias, x.count])).toEqual(e.byBias.map((x) => [x.bias, x.count]));
      r.byBias.forEach((x, i) => expectNumber(x.accuracy, e.byBias[i].accuracy, `bias ${x.bias}`));
      expect(r.counts).toEqual(e.counts);
    });
  }

  it('empty subsets are null, not NaN; typed arrays are accepted', () => {
    const r = groupAccuracy({ predictions: new Int32Array([0, 1]), labels: new Float64Array([0, 1]), biasLabels: [0, 1] });
    expect(r.conflicting).toBeNull();
    expect(r.aligned).toBe(1);
    expect(r.unbiased).toBe(1);
    expect(r.worstGroup).toBe(1);
  });

  it('refuses bad input with typed errors naming the argument', () => {
    const ok = { predictions: [0, 1, 1], labels: [0, 1, 0], biasLabels: [0, 0, 1] };
    const err = (input: unknown, type: typeof InvalidArgumentError | typeof ShapeMismatchError, argument: string) => {
      try {
        groupAccuracy(input as never);
      } catch (e) {
        expect(e).toBeInstanceOf(type);
        expect((e as InvalidArgumentError).argument).toBe(argument);
        return;
      }
      throw new Error(`no error for ${argument}`);
    };
    err({ ...ok, labels: [0, 1] }, ShapeMismatchError, 'labels');
    err({ ...ok, biasLabels: [0, 1, 2, 3] }, ShapeMismatchError, 'biasLabels');
    err({ ...ok, predictions: [0, NaN, 1] }, InvalidArgumentError, 'predictions');
    err({ ...ok, labels: [0, 1.5, 1] }, InvalidArgumentError, 'labels');
    err({ ...ok, biasLabels: [0, Infinity, 1] }, InvalidArgumentError, 'biasLabels');
    err({ predictions: [], labels: [], biasLabels: [] }, InvalidArgumentError, 'predictions');
    err({ ...ok, labels: 'abc' }, InvalidArgumentError, 'labels');
    err(null, InvalidArgumentError, 'input');
  });
});
