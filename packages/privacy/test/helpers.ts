import { readFileSync } from 'node:fs';
import { symmetricEigen } from '../src/linalg.ts';

export { gpuOrSkip, expectClose, randomData, type Tolerance } from '@fairgpu/tensor/testing';

export interface PcaCase {
  name: string;
  note: string;
  n: number;
  d: number;
  k: number;
  x: number[];
  components: number[];
  components_loadings: number[];
  explained_variance: number[];
  explained_variance_ratio: number[];
  mean: number[];
  transform: number[];
  direction?: number[];
}
export interface LogisticCase {
  name: string;
  note: string;
  d: number;
  x_train: number[];
  y_train: number[];
  x_test: number[];
  y_test: number[];
  classes: number[];
  scaler_mean: number[];
  scaler_scale: number[];
  coef: number[];
  coef_shape: [number, number];
  intercept: number[];
  n_iter: number;
  train_accuracy: number;
  test_accuracy: number;
  test_balanced_accuracy: number;
  test_predictions: number[];
}
export interface Fixture {
  sklearn: string;
  pca: PcaCase[];
  logistic: LogisticCase[];
}

export const fixture: Fixture = JSON.parse(readFileSync(new URL('./fixtures/privacy_reference.json', import.meta.url), 'utf8'));

/** Largest principal angle (radians) between the row spaces of two orthonormal [k, d] matrices. */
export function subspaceAngle(a: ArrayLike<number>, b: ArrayLike<number>, k: number, d: number): number {
  // M = A·Bᵀ (k × k); cos θ_i are the singular values of M; sin² θ_max = λ_max(I − MᵀM).
  const m = new Float64Array(k * k);
  for (let i = 0; i < k; i++)
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let r = 0; r < d; r++) s += a[i * d + r] * b[j * d + r];
      m[i * k + j] = s;
    }
  const g = new Float64Array(k * k);
  for (let i = 0; i < k; i++)
    for (let j = 0; j < k; j++) {
      let s = i === j ? 1 : 0;
      for (let r = 0; r < k; r++) s -= m[r * k + i] * m[r * k + j];
      g[i * k + j] = s;
    }
  const top = symmetricEigen(g, k).values[0];
  return Math.asin(Math.min(1, Math.sqrt(Math.max(0, top))));
}

export function f32(values: ArrayLike<number>): Float32Array {
  return Float32Array.from(values as ArrayLike<number>);
}
