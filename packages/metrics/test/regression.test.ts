import { InvalidArgumentError, ShapeMismatchError } from '@fairgpu/tensor';
import { describe, expect, it } from 'vitest';
import { regressionMetrics } from '../src/index.ts';
import { expectNumber, FIXTURES } from './fixtures/reference.ts';

interface RegressionCase {
  name: string;
  truth: number[];
  prediction: number[];
  expected: { mae: number; rmse: number; pearson: number | null; r2: number | null; sklearnR2: number | null };
}

describe('regressionMetrics vs scikit-learn / numpy (fixtures)', () => {
  for (const c of FIXTURES.regression as RegressionCase[]) {
    it(c.name, () => {
      const r = regressionMetrics(c.truth, c.prediction);
      for (const k of ['mae', 'rmse', 'pearson', 'r2'] as const) expectNumber(r[k], c.expected[k], k);
      // Where truth is not constant the expected r2 is sklearn's own value.
      if (c.expected.sklearnR2 !== null && new Set(c.truth).size > 1) expectNumber(r.r2, c.expected.sklearnR2, 'sklearn r2');
    });
  }

  it('constant truth follows r2_score: 1 if perfect, else 0; pearson of a constant vector is null', () => {
    expect(regressionMetrics([4, 4], [4, 4])).toMatchObject({ r2: 1, pearson: null, mae: 0, rmse: 0 });
    expect(regressionMetrics([4, 4], [3, 5]).r2).toBe(0);
    expect(regressionMetrics([1, 2, 3], [7, 7, 7]).pearson).toBeNull();
    expect(regressionMetrics(new Float32Array([1, 2, 3]), [1, 2, 3])).toMatchObject({ r2: 1, pearson: 1, mae: 0 });
  });

  it('refuses bad input with typed errors naming the argument', () => {
    const throwsFor = (f: () => unknown, type: typeof InvalidArgumentError | typeof ShapeMismatchError, argument: string) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(type);
        expect((e as InvalidArgumentError).argument).toBe(argument);
        return;
      }
      throw new Error(`no error for ${argument}`);
    };
    throwsFor(() => regressionMetrics([1, 2], [1]), ShapeMismatchError, 'prediction');
    throwsFor(() => regressionMetrics([1, NaN], [1, 2]), InvalidArgumentError, 'truth');
    throwsFor(() => regressionMetrics([1, 2], [1, -Infinity]), InvalidArgumentError, 'prediction');
    throwsFor(() => regressionMetrics([], []), InvalidArgumentError, 'truth');
    throwsFor(() => regressionMetrics(undefined as never, [1]), InvalidArgumentError, 'truth');
  });
});
