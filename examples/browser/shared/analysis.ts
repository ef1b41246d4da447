/**
 * What the examples compute from embeddings after training, runtime-neutral (the unit test runs it
 * on the float64 CPU backend, the pages on WebGPU):
 *   - project2d: the embeddings' first two principal components (@fairgpu/privacy's pca: the
 *     covariance on the device, the eigensolver on the host) and the scores of every row;
 *   - knnAccuracy: k-nearest-neighbour (cosine) classification of held-out embeddings by the
 *     training embeddings, split into bias-aligned and bias-conflicting images.
 */
import { pca } from '@fairgpu/privacy';
import { scope, tensor, type Device } from '@fairgpu/tensor';

export interface Projection {
  /** [n, 2] row-major: each row's scores on PC1 and PC2. */
  scores: Float64Array;
  /** PC1's and PC2's share of the total variance (scikit-learn's explained_variance_ratio_). */
  ratio: [number, number];
  /** The components [2, d] row-major (scikit-learn's components_, sign convention 'scores'). */
  components: Float64Array;
}

/** PCA of `features` [n, d] (row-major) to two components; `device` as in tensor() (default: the default device). */
export async function project2d(features: Float32Array | Float64Array, n: number, d: number, device?: Device): Promise<Projection> {
  if (!(Number.isInteger(n) && Number.isInteger(d) && n >= 3 && d >= 2) || features.length !== n * d) {
    throw new RangeError(`project2d: features must be [n ≥ 3, d ≥ 2] row-major, got ${features.length} values for n = ${n}, d = ${d}`);
  }
  return scope(async () => {
    const x = tensor(Float32Array.from(features), [n, d], device === undefined ? {} : { device });
    const p = await pca(x, 2, { solver: 'full' });
    try {
      const z = await p.transform(x).toArray();
      return {
        scores: Float64Array.from(z),
        ratio: [p.explainedVarianceRatio[0], p.explainedVarianceRatio[1]],
        components: Float64Array.from(p.componentsArray),
      };
    } finally {
      p.dispose();
    }
  });
}

export interface GroupedAccuracy {
  accuracy: number;
  /** Accuracy on images whose colour matches their digit; null when there are none. */
  aligned: number | null;
  conflicting: number | null;
  counts: { total: number; aligned: number; conflicting: number };
}

/** Accuracy of `predictions` overall and on the bias-aligned / bias-conflicting images. */
export function groupedAccuracy(predictions: ArrayLike<number>, labels: ArrayLike<number>, biasLabels: ArrayLike<number>): GroupedAccuracy {
  let right = 0;
  const aligned = { n: 0, right: 0 };
  const conflicting = { n: 0, right: 0 };
  for (let i = 0; i < labels.length; i++) {
    const ok = predictions[i] === labels[i] ? 1 : 0;
    right += ok;
    const g = labels[i] === biasLabels[i] ? aligned : conflicting;
    g.n++;
    g.right += ok;
  }
  return {
    accuracy: labels.length ? right / labels.length : Number.NaN,
    aligned: aligned.n ? aligned.right / aligned.n : null,
    conflicting: conflicting.n ? conflicting.right / conflicting.n : null,
    counts: { total: labels.length, aligned: aligned.n, conflicting: conflicting.n },
  };
}

/**
 * k-NN predictions of `query` [m, d] from `reference` [n, d] with labels `referenceLabels`: cosine
 * similarity, majority vote of the k most similar (ties: the class whose votes are most similar in
 * sum, then the smaller class). Host float64; m·n·d is a few million here.
 */
export function knnPredict(reference: ArrayLike<number>, referenceLabels: ArrayLike<number>, query: ArrayLike<number>, d: number, k: number): Int32Array {
  const n = referenceLabels.length;
  const m = query.length / d;
  if (!(Number.isInteger(m) && reference.length === n * d && k >= 1 && k <= n)) {
    throw new RangeError(`knnPredict: reference [${n}, ${d}] (${reference.length} values), query ${query.length} values, k = ${k}`);
  }
  const unit = (a: ArrayLike<number>, rows: number) => {
    const out = new Float64Array(rows * d);
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += a[r * d + j] ** 2;
      const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
      for (let j = 0; j < d; j++) out[r * d + j] = a[r * d + j] * inv;
    }
    return out;
  };
  const ref = unit(reference, n);
  const q = unit(query, m);
  const out = new Int32Array(m);
  const sims = new Float64Array(n);
  const order = new Int32Array(n);
  for (let i = 0; i < m; i++) {
    for (let r = 0; r < n; r++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += q[i * d + j] * ref[r * d + j];
      sims[r] = s;
      order[r] = r;
    }
    // Partial order is enough, but n is a few thousand: a full sort keeps it obviously right.
    const top = Array.from(order)
      .sort((a, b) => sims[b] - sims[a] || a - b)
      .slice(0, k);
    const votes = new Map<number, { count: number; sim: number }>();
    for (const r of top) {
      const v = votes.get(referenceLabels[r]) ?? { count: 0, sim: 0 };
      v.count++;
      v.sim += sims[r];
      votes.set(referenceLabels[r], v);
    }
    let best = -1;
    let bestVote = { count: -1, sim: -Infinity };
    for (const [label, v] of [...votes.entries()].sort((a, b) => a[0] - b[0])) {
      if (v.count > bestVote.count || (v.count === bestVote.count && v.sim > bestVote.sim)) {
        best = label;
        bestVote = v;
      }
    }
    out[i] = best;
  }
  return out;
}
