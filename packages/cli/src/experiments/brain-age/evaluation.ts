/**
 * The OpenBHB challenge's evaluation of a frozen representation: a ridge probe for age fitted on the
 * training embeddings (MAE on the internal and the external test sets), a logistic probe for the
 * site fitted on the training embeddings (balanced accuracy on the internal test set, whose sites
 * the probe has seen) and the challenge score Lc = BAcc^0.3 · MAE_ext.
 */
import { challengeScore } from '@fairgpu/datasets';
import { regressionMetrics } from '@fairgpu/metrics';
import { attributeProbe } from '@fairgpu/privacy';
import { tensor } from '@fairgpu/tensor';
import type { Split } from './data.ts';

export interface RidgeFit {
  /** Coefficients on the standardised features. */
  coef: Float64Array;
  intercept: number;
  mean: Float64Array;
  scale: Float64Array;
  predict(x: ArrayLike<number>, n: number): Float64Array;
}

/**
 * scikit-learn's `make_pipeline(StandardScaler(), Ridge(alpha))` in float64 on the host:
 * minimises ‖y − ȳ − Zw‖² + α‖w‖² over the standardised features Z (ddof 0; a constant column keeps
 * scale 1), intercept ȳ. Solved by Cholesky on the d × d normal equations (jitter-free: α > 0 or a
 * full-rank Z; α = 0 with a rank-deficient Z falls back to a 1e-10·trace ridge).
 */
export function fitRidge(x: ArrayLike<number>, y: ArrayLike<number>, n: number, d: number, alpha: number): RidgeFit {
  if (x.length !== n * d) throw new Error(`fitRidge: x has ${x.length} values, expected n·d = ${n * d}`);
  if (y.length !== n) throw new Error(`fitRidge: y has ${y.length} values, expected ${n}`);
  const mean = new Float64Array(d);
  const scale = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) scale[j] += (x[i * d + j] - mean[j]) ** 2;
  for (let j = 0; j < d; j++) scale[j] = scale[j] > 1e-24 * n ? Math.sqrt(scale[j] / n) : 1;
  let yMean = 0;
  for (let i = 0; i < n; i++) yMean += y[i];
  yMean /= n;
  const a = new Float64Array(d * d);
  const b = new Float64Array(d);
  const z = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) z[j] = (x[i * d + j] - mean[j]) / scale[j];
    const r = y[i] - yMean;
    for (let j = 0; j < d; j++) {
      b[j] += z[j] * r;
      for (let k = 0; k <= j; k++) a[j * d + k] += z[j] * z[k];
    }
  }
  let trace = 0;
  for (let j = 0; j < d; j++) trace += a[j * d + j];
  let coef = choleskySolve(a, b, d, alpha);
  if (!coef) coef = choleskySolve(a, b, d, alpha + 1e-10 * Math.max(trace, 1))!;
  const w = coef;
  return {
    coef: w,
    intercept: yMean,
    mean,
    scale,
    predict(q, m) {
      const out = new Float64Array(m);
      for (let i = 0; i < m; i++) {
        let s = yMean;
        for (let j = 0; j < d; j++) s += ((q[i * d + j] - mean[j]) / scale[j]) * w[j];
        out[i] = s;
      }
      return out;
    },
  };
}

/** Solves (A + λI) w = b for the lower triangle of a symmetric A; null when not positive definite. */
function choleskySolve(a: Float64Array, b: Float64Array, d: number, lambda: number): Float64Array | null {
  const l = new Float64Array(d * d);
  for (let j = 0; j < d; j++) {
    let s = a[j * d + j] + lambda;
    for (let k = 0; k < j; k++) s -= l[j * d + k] ** 2;
    if (!(s > 0)) return null;
    const diag = Math.sqrt(s);
    l[j * d + j] = diag;
    for (let i = j + 1; i < d; i++) {
      let t = a[i * d + j];
      for (let k = 0; k < j; k++) t -= l[i * d + k] * l[j * d + k];
      l[i * d + j] = t / diag;
    }
  }
  const v = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[i * d + k] * v[k];
    v[i] = s / l[i * d + i];
  }
  const w = new Float64Array(d);
  for (let i = d - 1; i >= 0; i--) {
    let s = v[i];
    for (let k = i + 1; k < d; k++) s -= l[k * d + i] * w[k];
    w[i] = s / l[i * d + i];
  }
  return w;
}

export interface Embeddings {
  d: number;
  train: Float32Array;
  internalTest: Float32Array;
  externalTest: Float32Array;
}

export interface Evaluation {
  internalMae: number;
  externalMae: number;
  trainMae: number;
  internalRmse: number;
  externalRmse: number;
  internalPearson: number | null;
  externalPearson: number | null;
  /** Balanced accuracy of the logistic site probe on the internal test set. */
  siteBAcc: number;
  siteAccuracy: number;
  /** 1 / number of site classes the probe chooses from (balanced accuracy of a constant guess). */
  siteChance: number;
  siteTrainAccuracy: number;
  siteProbeConverged: boolean;
  siteProbeIterations: number;
  /** Internal-test subjects scored by the site probe (those of sites present in training). */
  siteTestCount: number;
  /** Lc = siteBAcc^0.3 · externalMae. */
  score: number;
}

/** Ridge age probe + logistic site probe on frozen embeddings, and the challenge score. */
export async function evaluateEmbeddings(
  e: Embeddings,
  splits: { train: Split; internalTest: Split; externalTest: Split },
  options: {
    ridgeAlpha: number;
    logisticC: number;
    logisticMaxIterations: number;
  },
): Promise<Evaluation> {
  const { d } = e;
  const { train, internalTest, externalTest } = splits;
  const ridge = fitRidge(e.train, train.age, train.n, d, options.ridgeAlpha);
  const trainFit = regressionMetrics(train.age, ridge.predict(e.train, train.n));
  const internal = regressionMetrics(internalTest.age, ridge.predict(e.internalTest, internalTest.n));
  const external = regressionMetrics(externalTest.age, ridge.predict(e.externalTest, externalTest.n));

  // The site probe scores internal-test subjects of sites the training split contains.
  const trainSites = new Set(train.site);
  const keep: number[] = [];
  for (let i = 0; i < internalTest.n; i++) if (trainSites.has(internalTest.site[i])) keep.push(i);
  const testX = new Float32Array(keep.length * d);
  keep.forEach((i, r) => testX.set(e.internalTest.subarray(i * d, (i + 1) * d), r * d));
  const trainT = tensor(e.train, [train.n, d]);
  const testT = tensor(testX, [keep.length, d]);
  try {
    const probe = await attributeProbe({
      trainEmbeddings: trainT,
      trainAttribute: train.site,
      testEmbeddings: testT,
      testAttribute: Int32Array.from(keep, (i) => internalTest.site[i]),
      probe: 'linear',
      C: options.logisticC,
      maxIterations: options.logisticMaxIterations,
    });
    return {
      internalMae: internal.mae,
      externalMae: external.mae,
      trainMae: trainFit.mae,
      internalRmse: internal.rmse,
      externalRmse: external.rmse,
      internalPearson: internal.pearson,
      externalPearson: external.pearson,
      siteBAcc: probe.balancedAccuracy,
      siteAccuracy: probe.accuracy,
      siteChance: 1 / probe.classes.length,
      siteTrainAccuracy: probe.trainAccuracy,
      siteProbeConverged: probe.linear?.converged ?? false,
      siteProbeIterations: probe.linear?.iterations ?? 0,
      siteTestCount: keep.length,
      score: challengeScore(probe.balancedAccuracy, external.mae),
    };
  } finally {
    trainT.dispose();
    testT.dispose();
  }
}

/** Rows scaled to unit L2 norm (what a contrastive loss reads), as a copy. */
export function normalizeRows(x: Float32Array, d: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length / d; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += x[i * d + j] ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < d; j++) out[i * d + j] = x[i * d + j] * inv;
  }
  return out;
}
