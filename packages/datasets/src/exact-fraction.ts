/**
 * ⌊n·ρ⌋ without floating-point surprises. In binary floating point 0.29 * 100 is
 * 28.999999999999996 and 0.57 * 100 is 56.99999999999999, so `Math.floor(n * rho)` would give
 * one image too few. A JavaScript number's shortest decimal representation (`String(rho)`) is
 * exactly the decimal the user wrote, so we read ρ as that decimal fraction and floor the product
 * with exact BigInt arithmetic.
 */
import { DatasetArgumentError } from './errors.ts';

export function floorTimesFraction(n: number, rho: number, argument = 'rho'): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new DatasetArgumentError('n', `expected a non-negative integer, got ${n}`);
  if (typeof rho !== 'number' || !Number.isFinite(rho) || rho < 0 || rho > 1) {
    throw new DatasetArgumentError(argument, `expected a number in [0, 1], got ${String(rho)}`);
  }
  const { numerator, denominator } = decimalFraction(rho);
  return Number((BigInt(n) * numerator) / denominator);
}

/** The shortest decimal that round-trips to `value`, as an exact fraction. */
function decimalFraction(value: number): { numerator: bigint; denominator: bigint } {
  const [mantissa, exponentText] = String(value).split('e');
  const exponent = exponentText === undefined ? 0 : Number(exponentText);
  const [whole, fraction = ''] = mantissa.split('.');
  let numerator = BigInt(whole + fraction);
  let scale = fraction.length - exponent; // value = numerator / 10^scale
  if (scale < 0) {
    numerator *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { numerator, denominator: 10n ** BigInt(scale) };
}
