import { describe, expect, it } from 'vitest';
import { DatasetArgumentError, isFairgpuError } from '../src/errors.ts';
import { createLoader } from '../src/loader.ts';
import { colourBiasMnist } from '../src/biased-mnist.ts';
import { datasetErrorCases } from './edge.ts';
import { syntheticMnist } from './helpers.ts';

describe('bad options are a DatasetArgumentError naming the argument and the rule', () => {
  for (const c of datasetErrorCases()) {
    it(c.name, () => {
      let error: unknown = null;
      try {
        c.act();
      } catch (e) {
        error = e;
      }
      expect(error, 'no error was thrown').toBeInstanceOf(DatasetArgumentError);
      expect(isFairgpuError(error)).toBe(true);
      expect((error as DatasetArgumentError).argument).toBe(c.argument);
      expect((error as Error).message).toMatch(c.message);
    });
  }
});

describe('the valid forms around those edges still work', () => {
  const set = colourBiasMnist(syntheticMnist(100), { rho: 0.9, seed: 1 });
  it('integer seeds (negative and large included), explicit undefined options, augment: false', () => {
    expect(createLoader(set, { batchSize: 10, seed: -3 }).batch(0, 0).size).toBe(10);
    expect(
      createLoader(set, { batchSize: 10, seed: 2 ** 40, augment: false, normalization: undefined, sampler: { kind: 'm-per-class', m: 2 } }).batch(0, 0).size,
    ).toBe(10);
    expect(createLoader(set, { batchSize: 10, augment: { colourJitter: false } }).batch(0, 0).size).toBe(10);
  });
});
