import { describe, expect, it } from 'vitest';
import { assertKnownOptions, InvalidArgumentError, isFairgpuError } from '../src/index.ts';

describe('assertKnownOptions', () => {
  const known = ['temperature', 'reduction', 'impl'] as const;

  it('accepts known keys, undefined and null', () => {
    expect(() => assertKnownOptions('supcon', { temperature: 0.5, impl: 'fused' }, known)).not.toThrow();
    expect(() => assertKnownOptions('supcon', {}, known)).not.toThrow();
    expect(() => assertKnownOptions('supcon', undefined, known)).not.toThrow();
    expect(() => assertKnownOptions('supcon', null, known)).not.toThrow();
  });

  it('rejects a misspelt key with a suggestion and the known list', () => {
    let error: unknown;
    try {
      assertKnownOptions('supcon', { temprature: 0.5 }, known);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(isFairgpuError(error)).toBe(true);
    const e = error as InvalidArgumentError;
    expect(e.op).toBe('supcon');
    expect(e.argument).toBe('options');
    expect(e.message).toBe("supcon: argument 'options' unknown option 'temprature' (did you mean 'temperature'?); known options: temperature, reduction, impl");
  });

  it('suggests only within 2 edits (transposition counts as one)', () => {
    expect(() => assertKnownOptions('f', { reductoin: 'sum' }, known)).toThrowError(/did you mean 'reduction'/);
    expect(() => assertKnownOptions('f', { imp: 1 }, known)).toThrowError(/did you mean 'impl'/);
    expect(() => assertKnownOptions('f', { banana: 1 }, known)).toThrowError(
      /^f: argument 'options' unknown option 'banana'; known options: temperature, reduction, impl$/,
    );
  });

  it('checks keys whose value is undefined', () => {
    expect(() => assertKnownOptions('f', { temprature: undefined }, known)).toThrowError(InvalidArgumentError);
  });

  it('an empty known list says so', () => {
    expect(() => assertKnownOptions('f', { a: 1 }, [])).toThrowError(/known options: none/);
  });
});
