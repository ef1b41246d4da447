import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createRng, permutation } from '../src/prng.ts';
import { floorTimesFraction } from '../src/exact-fraction.ts';
import { DatasetArgumentError } from '../src/errors.ts';

describe('createRng (xoshiro128**)', () => {
  it('is deterministic per (seed, stream) and differs across seeds and streams', () => {
    const draw = (seed: number, stream = 0) => {
      const rng = createRng(seed, stream);
      return Array.from({ length: 8 }, () => rng.nextUint32());
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    expect(draw(42, 0)).not.toEqual(draw(42, 1));
  });

  it('nextInt stays in range and is roughly uniform', () => {
    const rng = createRng(7);
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 60_000; i++) counts[rng.nextInt(6)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
  });

  it('nextNormal has mean ≈ 0 and variance ≈ 1', () => {
    const rng = createRng(3);
    let sum = 0;
    let sq = 0;
    const n = 50_000;
    for (let i = 0; i < n; i++) {
      const v = rng.nextNormal();
      sum += v;
      sq += v * v;
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.02);
    expect(Math.abs(sq / n - 1)).toBeLessThan(0.03);
  });

  it('permutation is a permutation', () => {
    const p = permutation(1000, createRng(1));
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });
});

describe('floorTimesFraction (⌊n·ρ⌋ without float error)', () => {
  it('handles products that land just below an integer in floating point', () => {
    expect(0.29 * 100).toBeLessThan(29); // the trap this function exists for
    expect(floorTimesFraction(100, 0.29)).toBe(29);
    expect(floorTimesFraction(100, 0.57)).toBe(57);
    expect(floorTimesFraction(1000, 0.997)).toBe(997);
    expect(floorTimesFraction(5842, 0.995)).toBe(5812);
    expect(floorTimesFraction(6742, 0.999)).toBe(6735);
    expect(floorTimesFraction(10, 1)).toBe(10);
    expect(floorTimesFraction(10, 0)).toBe(0);
    expect(floorTimesFraction(3, 1e-7)).toBe(0);
    expect(floorTimesFraction(10_000_000, 1e-7)).toBe(1);
  });

  it('equals the exact integer result for any decimal ρ with up to 6 digits', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 0, max: 1_000_000 }), (n, millionths) => {
        const rho = millionths / 1_000_000;
        // Integer reference: (n·k − (n·k mod 10^6)) / 10^6, all exact in doubles below 2^53.
        const product = n * millionths;
        return floorTimesFraction(n, rho) === (product - (product % 1_000_000)) / 1_000_000;
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects ρ outside [0, 1] with a typed error naming rho', () => {
    expect(() => floorTimesFraction(10, 1.5)).toThrow(DatasetArgumentError);
    expect(() => floorTimesFraction(10, Number.NaN)).toThrow(/rho/);
  });
});
