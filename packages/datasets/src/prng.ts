/**
 * Seeded randomness. The generator is xoshiro128** (Blackman & Vigna), a small, fast, 32-bit
 * generator with a 2^128 − 1 period, seeded by expanding the user's seed with SplitMix32. It is
 * deterministic across platforms because it only uses 32-bit integer arithmetic (`Math.imul`,
 * `>>>`). It does NOT reproduce NumPy's Mersenne Twister streams: results are reproducible for a
 * seed within this package, not bit-identical to the Python reference code.
 */

export interface Rng {
  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number;
  /** Uniform float in [0, 1) with 32 bits of randomness. */
  nextFloat(): number;
  /** Uniform integer in [0, bound), unbiased (rejection sampling); bound in [1, 2^32]. */
  nextInt(bound: number): number;
  /** Standard normal deviate (Box–Muller). */
  nextNormal(): number;
}

/** SplitMix32 step, used to spread a (possibly small or similar) seed over the 128-bit state. */
function splitMix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

function normaliseSeed(seed: number): number {
  if (!Number.isFinite(seed)) return 0;
  // Keep seeds above 2^32 distinct from their low bits by folding the high part in.
  const integer = Math.trunc(seed);
  const high = Math.floor(integer / 0x100000000);
  return (integer ^ Math.imul(high, 0x27d4eb2d)) >>> 0;
}

/**
 * Creates an independent generator. `stream` derives a separate, reproducible sequence from the
 * same seed, so that e.g. the colour assignment and the final shuffle do not depend on each
 * other's number of draws.
 */
export function createRng(seed: number, stream = 0): Rng {
  const init = { s: normaliseSeed(seed) ^ Math.imul(normaliseSeed(stream) + 1, 0x632be5ab) };
  let s0 = splitMix32(init);
  let s1 = splitMix32(init);
  let s2 = splitMix32(init);
  let s3 = splitMix32(init);
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1; // the all-zero state is a fixed point

  const nextUint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return result;
  };

  let spareNormal: number | undefined;

  return {
    nextUint32,
    nextFloat: () => nextUint32() / 0x100000000,
    nextInt(bound: number): number {
      if (bound <= 1) return 0;
      // Reject the top sliver of the 32-bit range that would bias small residues.
      const limit = 0x100000000 - (0x100000000 % bound);
      let value = nextUint32();
      while (value >= limit) value = nextUint32();
      return value % bound;
    },
    nextNormal(): number {
      if (spareNormal !== undefined) {
        const value = spareNormal;
        spareNormal = undefined;
        return value;
      }
      // 1 − u keeps the logarithm's argument in (0, 1].
      const u = 1 - nextUint32() / 0x100000000;
      const v = nextUint32() / 0x100000000;
      const radius = Math.sqrt(-2 * Math.log(u));
      spareNormal = radius * Math.sin(2 * Math.PI * v);
      return radius * Math.cos(2 * Math.PI * v);
    },
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** In-place Fisher–Yates shuffle. */
export function shuffleInPlace<T extends { length: number; [i: number]: unknown }>(array: T, rng: Rng): T {
  for (let i = array.length - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    const tmp = array[i];
    array[i] = array[j];
    array[j] = tmp;
  }
  return array;
}

/** A seeded random permutation of 0..n−1. */
export function permutation(n: number, rng: Rng): Int32Array {
  const result = new Int32Array(n);
  for (let i = 0; i < n; i++) result[i] = i;
  return shuffleInPlace(result, rng);
}
