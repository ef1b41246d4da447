import { InvalidArgumentError } from '@fairgpu/tensor';
import { hostVector, type NumericArray } from './validate.ts';

/**
 * Debiasing accuracies by (label, bias label) group — host-only, exact (counts are integers,
 * fractions are float64 divisions).
 */

/**
 * The predicted class of each row of `values` ([rows, cols] logits or scores, row-major): the
 * first maximum, as numpy's argmax — what `groupAccuracy` takes as `predictions`.
 */
export function argmaxRows(values: ArrayLike<number>, rows: number, cols: number): Int32Array {
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (values[r * cols + c] > values[r * cols + best]) best = c;
    out[r] = best;
  }
  return out;
}

export interface GroupAccuracyInput {
  /** Predicted class per sample (integers). */
  predictions: NumericArray;
  /** True class per sample (integers). */
  labels: NumericArray;
  /** Bias (sensitive attribute) label per sample, in the same code space as `labels` (integers). */
  biasLabels: NumericArray;
}

export interface CellAccuracy {
  label: number;
  bias: number;
  count: number;
  accuracy: number;
}

export interface GroupAccuracy {
  /** Plain accuracy over every sample. */
  accuracy: number;
  /** Accuracy on the bias-aligned samples (bias label = label); `null` when there are none. */
  aligned: number | null;
  /** Accuracy on the bias-conflicting samples (bias label ≠ label); `null` when there are none. */
  conflicting: number | null;
  /** Mean over the (label, bias) cells present of each cell's accuracy (LfF / ReBias "unbiased"). */
  unbiased: number;
  /** Min over the (label, bias) cells present of each cell's accuracy. */
  worstGroup: number;
  /** One row per (label, bias) cell present, sorted by label then bias. */
  cells: CellAccuracy[];
  /** Accuracy per true label (fairlearn MetricFrame `by_group` on `labels`), sorted. */
  byLabel: { label: number; count: number; accuracy: number }[];
  /** Accuracy per bias label, sorted. */
  byBias: { bias: number; count: number; accuracy: number }[];
  /** Sample counts: all, aligned, conflicting. */
  counts: { total: number; aligned: number; conflicting: number };
}

/**
 * Accuracy overall, on bias-aligned and bias-conflicting samples, per (label, bias) cell, and
 * their unbiased (mean over cells present) and worst-group (min over cells) summaries.
 *
 * Empty subsets: `aligned` / `conflicting` are `null` (not NaN) when no sample falls in them; the
 * cells are only the ones present, so `unbiased` and `worstGroup` are always defined.
 * @example
 * const r = groupAccuracy({ predictions: [0, 1, 1], labels: [0, 1, 0], biasLabels: [0, 0, 0] });
 * // accuracy 2/3; aligned 1/2 (samples 0 and 2: label = bias); conflicting 1 (sample 1)
 * // cells (0,0): 1/2, (1,0): 1 → unbiased 0.75, worstGroup 0.5
 */
export function groupAccuracy(input: GroupAccuracyInput): GroupAccuracy {
  const op = 'groupAccuracy';
  if (!input || typeof input !== 'object') throw new InvalidArgumentError(op, 'input', 'must be an object { predictions, labels, biasLabels }');
  const predictions = hostVector(op, 'predictions', input.predictions, { integer: true });
  const n = predictions.length;
  const labels = hostVector(op, 'labels', input.labels, { integer: true, length: n, lengthOf: 'predictions' });
  const bias = hostVector(op, 'biasLabels', input.biasLabels, { integer: true, length: n, lengthOf: 'predictions' });

  let correct = 0;
  const agg = { aligned: [0, 0], conflicting: [0, 0] };
  const cellMap = new Map<string, { label: number; bias: number; count: number; correct: number }>();
  const labelMap = new Map<number, [number, number]>();
  const biasMap = new Map<number, [number, number]>();
  for (let i = 0; i < n; i++) {
    const ok = predictions[i] === labels[i] ? 1 : 0;
    correct += ok;
    const side = labels[i] === bias[i] ? agg.aligned : agg.conflicting;
    side[0]++;
    side[1] += ok;
    const key = `${labels[i]},${bias[i]}`;
    let cell = cellMap.get(key);
    if (!cell) cellMap.set(key, (cell = { label: labels[i], bias: bias[i], count: 0, correct: 0 }));
    cell.count++;
    cell.correct += ok;
    const l = labelMap.get(labels[i]) ?? [0, 0];
    labelMap.set(labels[i], [l[0] + 1, l[1] + ok]);
    const b = biasMap.get(bias[i]) ?? [0, 0];
    biasMap.set(bias[i], [b[0] + 1, b[1] + ok]);
  }
  const cells = [...cellMap.values()]
    .sort((a, b) => a.label - b.label || a.bias - b.bias)
    .map((c) => ({ label: c.label, bias: c.bias, count: c.count, accuracy: c.correct / c.count }));
  let sum = 0;
  let worst = Infinity;
  for (const c of cells) {
    sum += c.accuracy;
    worst = Math.min(worst, c.accuracy);
  }
  return {
    accuracy: correct / n,
    aligned: agg.aligned[0] ? agg.aligned[1] / agg.aligned[0] : null,
    conflicting: agg.conflicting[0] ? agg.conflicting[1] / agg.conflicting[0] : null,
    unbiased: sum / cells.length,
    worstGroup: worst,
    cells,
    byLabel: [...labelMap].sort((a, b) => a[0] - b[0]).map(([label, [count, ok]]) => ({ label, count, accuracy: ok / count })),
    byBias: [...biasMap].sort((a, b) => a[0] - b[0]).map(([b, [count, ok]]) => ({ bias: b, count, accuracy: ok / count })),
    counts: { total: n, aligned: agg.aligned[0], conflicting: agg.conflicting[0] },
  };
}
