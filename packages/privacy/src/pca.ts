/**
 * PCA of a [n, d] tensor: centring, the covariance products on the device (GPU), the small
 * symmetric eigenproblem on the host in float64.
 */
import {
  DeviceMismatchError,
  InvalidArgumentError,
  matmul,
  matmulTransposed,
  NonFiniteError,
  Rng,
  scope,
  ShapeMismatchError,
  tensor,
  tidy,
  type Tensor,
} from '@fairgpu/tensor';
import { orthonormalizeColumns, symmetricEigen } from './linalg.ts';
import { checkEmbeddings, checkFinite, positiveInteger, positiveNumber } from './validate.ts';

export interface PcaOptions {
  /**
   * 'full': the d × d covariance Xcᵀ·Xc / (n − 1) by one matmul on the device, read back, every
   * eigenpair on the host in float64 (tred2 + tql2). 'randomized': subspace iteration, each step
   * two matmuls on the device (Xcᵀ·(Xc·Q)), never forming the covariance; the host orthonormalises
   * the d × (k + oversample) block. 'auto' (default): 'full' for d ≤ 1024, else 'randomized'.
   */
  solver?: 'auto' | 'full' | 'randomized';
  /**
   * Sign of each component. 'scores' (default, scikit-learn ≤ 1.4, including Debian 12's 1.2.1:
   * `svd_flip(U, Vt)` with `u_based_decision=True`): the sample with the largest |score| on the
   * component scores positive. 'loadings' (scikit-learn ≥ 1.5): the largest-|·| entry of the
   * component is positive. Ties go to the first index, as numpy's argmax.
   */
  sign?: 'scores' | 'loadings';
  /** Randomized solver: extra columns of the iterated block (default 10). */
  oversample?: number;
  /** Randomized solver: iteration cap (default 200). */
  maxIterations?: number;
  /** Randomized solver: stop when max_j ‖C·u_j − θ_j·u_j‖ ≤ tol·θ₁ (default 1e-5; float32 products floor it near 1e-6). */
  tol?: number;
  /** Randomized solver: seed of the starting block (default 0). */
  seed?: number;
}

export interface Pca {
  /** [k, d] unit rows on the input's device, ordered by decreasing variance. */
  readonly components: Tensor;
  /** [d] column means of the fitted data, on the input's device. */
  readonly mean: Tensor;
  /** Variance along each component (eigenvalues of the covariance, divisor n − 1), float64 [k]. */
  readonly explainedVariance: Float64Array;
  /** explainedVariance / total variance (the covariance's trace). */
  readonly explainedVarianceRatio: Float64Array;
  /** Trace of the covariance (sum of the per-feature variances, divisor n − 1). */
  readonly totalVariance: number;
  /** The components as float64 on the host ([k·d], row-major; rounded to float32 in `components`). */
  readonly componentsArray: Float64Array;
  readonly meanArray: Float64Array;
  readonly nSamples: number;
  readonly nFeatures: number;
  readonly k: number;
  readonly solver: 'full' | 'randomized';
  /** Randomized solver: iterations run and the final relative residual (0 and 0 for 'full'). */
  readonly iterations: number;
  readonly residual: number;
  /** (x − mean)·componentsᵀ → [m, k] on the device (differentiable in x). */
  transform(x: Tensor): Tensor;
  /** Frees `components` and `mean`. */
  dispose(): void;
}

/**
 * Principal component analysis of `x` [n, d] (f32), k components, like
 * `sklearn.decomposition.PCA(n_components=k)`: centred, components up to scikit-learn's sign
 * convention (see `sign`), explained variance with divisor n − 1.
 *
 * @example
 * const p = await pca(embeddings, 2);
 * const z = p.transform(embeddings); // [n, 2]
 * p.explainedVarianceRatio;          // Float64Array [2]
 * p.dispose();
 */
export async function pca(x: Tensor, k: number, options: PcaOptions = {}): Promise<Pca> {
  const op = 'pca';
  checkEmbeddings(op, 'x', x);
  const [n, d] = x.shape;
  if (n < 2) throw new InvalidArgumentError(op, 'x', `needs at least 2 rows (samples) for a covariance, got shape [${x.shape.join(', ')}]`);
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > Math.min(n, d)) {
    throw new InvalidArgumentError(op, 'k', `must be an integer in [1, min(n, d)] = [1, ${Math.min(n, d)}], got ${String(k)}`);
  }
  const solverOption = options.solver ?? 'auto';
  if (!['auto', 'full', 'randomized'].includes(solverOption))
    throw new InvalidArgumentError(op, 'options.solver', `must be 'auto', 'full' or 'randomized', got ${String(solverOption)}`);
  const sign = options.sign ?? 'scores';
  if (sign !== 'scores' && sign !== 'loadings') throw new InvalidArgumentError(op, 'options.sign', `must be 'scores' or 'loadings', got ${String(sign)}`);
  const oversample = positiveInteger(op, 'options.oversample', options.oversample ?? 10, 0);
  const maxIterations = positiveInteger(op, 'options.maxIterations', options.maxIterations ?? 200);
  const tol = positiveNumber(op, 'options.tol', options.tol ?? 1e-5);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new InvalidArgumentError(op, 'options.seed', `must be an integer, got ${String(seed)}`);
  const solver = solverOption === 'auto' ? (d <= 1024 ? 'full' : 'randomized') : solverOption;
  const device = x.backend;

  return scope(async () => {
    const xd = x.detach();
    const meanT = xd.mean(0);
    const meanArray = Float64Array.from(await meanT.toArray());
    checkFinite(op, 'x', meanArray, 'the mean of column');
    const xc = xd.sub(meanT);
    let values: Float64Array;
    let vectors: Float64Array; // [k, d]
    let totalVariance: number;
    let iterations = 0;
    let residual = 0;
    if (solver === 'full') {
      const cov = matmulTransposed(xc, xc, true, false).div(n - 1);
      const c = Float64Array.from(await cov.toArray());
      checkFinite(op, 'x', c, 'covariance entry');
      totalVariance = 0;
      for (let i = 0; i < d; i++) totalVariance += c[i * d + i];
      const eig = symmetricEigen(c, d);
      values = eig.values.slice(0, k);
      vectors = eig.vectors.slice(0, k * d);
    } else {
      const total = await xc.square().sum().item();
      if (!Number.isFinite(total)) throw new NonFiniteError(op, 'x');
      totalVariance = total / (n - 1);
      ({ values, vectors, iterations, residual } = await subspaceIteration(xc, n, d, k, Math.min(d, k + oversample), maxIterations, tol, seed));
    }
    for (let j = 0; j < k; j++) values[j] = Math.max(values[j], 0);

    // Sign convention.
    if (sign === 'loadings') {
      for (let j = 0; j < k; j++) {
        let best = 0;
        for (let i = 1; i < d; i++) if (Math.abs(vectors[j * d + i]) > Math.abs(vectors[j * d + best])) best = i;
        if (vectors[j * d + best] < 0) for (let i = 0; i < d; i++) vectors[j * d + i] = -vectors[j * d + i];
      }
    } else {
      const unsigned = tensor(Float32Array.from(vectors), [k, d], { device });
      const scores = await matmulTransposed(xc, unsigned, false, true).toArray();
      for (let j = 0; j < k; j++) {
        let best = 0;
        for (let i = 1; i < n; i++) if (Math.abs(scores[i * k + j]) > Math.abs(scores[best * k + j])) best = i;
        if (scores[best * k + j] < 0) for (let i = 0; i < d; i++) vectors[j * d + i] = -vectors[j * d + i];
      }
    }
    const components = tensor(Float32Array.from(vectors), [k, d], { device });
    const explainedVarianceRatio = values.map((v) => (totalVariance > 0 ? v / totalVariance : 0));
    const mean = meanT;
    const result: Pca = {
      components,
      mean,
      explainedVariance: values,
      explainedVarianceRatio,
      totalVariance,
      componentsArray: vectors,
      meanArray,
      nSamples: n,
      nFeatures: d,
      k,
      solver,
      iterations,
      residual,
      transform(y: Tensor): Tensor {
        checkEmbeddings('pca.transform', 'x', y);
        if (y.shape[1] !== d)
          throw new ShapeMismatchError('pca.transform', 'x', `must have ${d} columns (the fitted data's), got shape [${y.shape.join(', ')}]`);
        if (y.backend !== components.backend)
          throw new DeviceMismatchError('pca.transform', 'x', `is on ${y.backend.name}, the PCA on ${components.backend.name}`);
        if (components.isDisposed) throw new InvalidArgumentError('pca.transform', 'pca', 'was disposed');
        return tidy(() => matmulTransposed(y.sub(mean), components, false, true));
      },
      dispose(): void {
        components.dispose();
        mean.dispose();
      },
    };
    return result;
  });
}

/**
 * Top-k eigenpairs of C = Xcᵀ·Xc / (n − 1) by block subspace iteration with Rayleigh–Ritz
 * (Halko, Martinsson & Tropp 2011, §4.5): each step Y = C·Q on the device, Ritz pairs of Qᵀ·Y on the
 * host, Q ← orth(Y).
 */
async function subspaceIteration(
  xc: Tensor,
  n: number,
  d: number,
  k: number,
  l: number,
  maxIterations: number,
  tol: number,
  seed: number,
): Promise<{ values: Float64Array; vectors: Float64Array; iterations: number; residual: number }> {
  const rng = new Rng(seed);
  const q = new Float64Array(d * l);
  for (let i = 0; i < q.length; i++) q[i] = rng.normal();
  orthonormalizeColumns(q, d, l);
  const device = xc.backend;
  let values = new Float64Array(k);
  let vectors = new Float64Array(k * d);
  let residual = Infinity;
  let it = 0;
  while (it < maxIterations) {
    it++;
    const qt = tensor(Float32Array.from(q), [d, l], { device });
    const t = matmul(xc, qt);
    const yT = matmulTransposed(xc, t, true, false).div(n - 1);
    const y = Float64Array.from(await yT.toArray());
    qt.dispose();
    t.dispose();
    yT.dispose();
    checkFinite('pca', 'x', y, 'covariance product entry');
    // B = Qᵀ·Y (l × l), symmetrised.
    const b = new Float64Array(l * l);
    for (let i = 0; i < l; i++) {
      for (let j = 0; j <= i; j++) {
        let s = 0;
        for (let r = 0; r < d; r++) s += q[r * l + i] * y[r * l + j] + q[r * l + j] * y[r * l + i];
        b[i * l + j] = b[j * l + i] = s / 2;
      }
    }
    const eig = symmetricEigen(b, l);
    values = eig.values.slice(0, k);
    vectors = new Float64Array(k * d);
    residual = 0;
    const theta1 = Math.max(Math.abs(eig.values[0]), 1e-300);
    for (let j = 0; j < k; j++) {
      let r2 = 0;
      for (let r = 0; r < d; r++) {
        let u = 0;
        let cu = 0;
        for (let c = 0; c < l; c++) {
          const s = eig.vectors[j * l + c];
          u += q[r * l + c] * s;
          cu += y[r * l + c] * s;
        }
        vectors[j * d + r] = u;
        r2 += (cu - values[j] * u) ** 2;
      }
      residual = Math.max(residual, Math.sqrt(r2) / theta1);
    }
    if (residual <= tol) break;
    q.set(y);
    orthonormalizeColumns(q, d, l);
  }
  // Unit rows (Q orthonormal and S orthogonal already; renormalise against rounding).
  for (let j = 0; j < k; j++) {
    let s = 0;
    for (let r = 0; r < d; r++) s += vectors[j * d + r] ** 2;
    s = Math.sqrt(s);
    for (let r = 0; r < d; r++) vectors[j * d + r] /= s;
  }
  return { values, vectors, iterations: it, residual };
}
