import { hostVector, type NumericArray } from './validate.ts';

/** Regression metrics — host-only, float64, two passes (means first, then centred sums). */

export interface RegressionMetrics {
  /** Mean absolute error. */
  mae: number;
  /** Root mean squared error. */
  rmse: number;
  /**
   * Pearson correlation of truth and prediction, in [−1, 1]; `null` when it is undefined: either
   * vector constant, or fewer than 2 samples (scipy.stats.pearsonr returns NaN with a warning there).
   */
  pearson: number | null;
  /**
   * Coefficient of determination, scikit-learn's `r2_score` (force_finite=True): 1 − SS_res/SS_tot;
   * when `truth` is constant (SS_tot = 0) it is 1.0 for a perfect prediction and 0.0 otherwise.
   * `null` with fewer than 2 samples (scikit-learn returns NaN with an UndefinedMetricWarning).
   */
  r2: number | null;
}

/**
 * MAE, RMSE, Pearson r and R² of `prediction` against `truth` (same length, finite numbers).
 * @example
 * regressionMetrics([3, -0.5, 2, 7], [2.5, 0, 2, 8]); // { mae: 0.5, rmse: 0.612…, pearson: 0.985…, r2: 0.948… }
 */
export function regressionMetrics(truth: NumericArray, prediction: NumericArray): RegressionMetrics {
  const op = 'regressionMetrics';
  const y = hostVector(op, 'truth', truth);
  const n = y.length;
  const p = hostVector(op, 'prediction', prediction, { length: n, lengthOf: 'truth' });
  let absSum = 0;
  let sqSum = 0;
  let ySum = 0;
  let pSum = 0;
  for (let i = 0; i < n; i++) {
    const e = y[i] - p[i];
    absSum += Math.abs(e);
    sqSum += e * e;
    ySum += y[i];
    pSum += p[i];
  }
  const yMean = ySum / n;
  const pMean = pSum / n;
  let syy = 0;
  let spp = 0;
  let syp = 0;
  let yConstant = true;
  let pConstant = true;
  for (let i = 0; i < n; i++) {
    const dy = y[i] - yMean;
    const dp = p[i] - pMean;
    syy += dy * dy;
    spp += dp * dp;
    syp += dy * dp;
    if (y[i] !== y[0]) yConstant = false;
    if (p[i] !== p[0]) pConstant = false;
  }
  let r2: number | null = null;
  let pearson: number | null = null;
  if (n >= 2) {
    // Constant truth is detected exactly (all values equal): its float64 mean can round so that
    // SS_tot comes out as a tiny positive number instead of 0.
    if (yConstant || syy === 0) r2 = sqSum === 0 ? 1 : 0;
    else r2 = 1 - sqSum / syy;
    if (!yConstant && !pConstant && syy > 0 && spp > 0) pearson = Math.max(-1, Math.min(1, syp / Math.sqrt(syy * spp)));
  }
  return { mae: absSum / n, rmse: Math.sqrt(sqSum / n), pearson, r2 };
}
