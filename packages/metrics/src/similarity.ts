import { pairMoments, PAIR, MOMENT } from '@fairgpu/kernels';
import {
  bufferOf,
  CpuBackend,
  customOp,
  grid1d,
  InvalidArgumentError,
  noGrad,
  normalize,
  ParamWriter,
  tensor,
  tidy,
  type CpuOperand,
  type CustomOpDefinition,
  type StorageView,
  type Tensor,
} from '@fairgpu/tensor';
import { pairHistogramClearWgsl, pairHistogramWgsl } from './generated/wgsl.ts';
import { checkEmbeddings, checkFiniteRows, checkInteger, checkOptions, denseCodes, labelsOf, type LabelsInput } from './validate.ts';

/**
 * The FairKL diagnostic: distributions of the cosine similarities of the unordered pairs i < j
 * of a batch of embeddings, split by (same label?, same bias label?) — the four groups of
 * @fairgpu/kernels `PAIR`.
 *
 * What runs where: the L2 normalisation, the pair moments (`pairMoments`, temperature 1, pairs
 * 'upper': per-anchor partial sums, tiled, O(n·d) memory) and the histogram (pair-histogram.wgsl:
 * workgroup-memory atomics, row chunks of ≤ 2^27 pairs, one [4, bins] count tensor per chunk)
 * run where the embeddings live (a GPU, or the float64 CPU reference). The host reads back the
 * [4, 3] moments and the [4, bins] counts, computes the exact pair counts from the labels
 * (integer combinatorics, float64), and mean and std in float64. No n×n matrix anywhere.
 */

export interface SimilarityDistributionsOptions {
  /** Class label per row: integers (array / typed array) or an i32 [n] tensor. */
  labels: LabelsInput;
  /** Bias (sensitive attribute) label per row: integers or an i32 [n] tensor. */
  biasLabels: LabelsInput;
  /** Histogram bins over [−1, 1], an integer in [1, 1024]. Default 50. */
  bins?: number;
}

export interface SimilarityHistogram {
  /** bins + 1 edges, equal width over [−1, 1] (edges[k] = −1 + 2k/bins; the last is exactly 1). */
  edges: number[];
  /** Pairs per bin [edges[k], edges[k+1]) — the last bin is closed: s = 1 lands in it. */
  counts: number[];
}

export interface SimilarityGroup {
  /** Number of unordered pairs i < j in the group (exact, from the labels). */
  count: number;
  /** Mean cosine similarity; `null` when the group has no pair. */
  mean: number | null;
  /** Population standard deviation (divide by count); `null` when the group has no pair. */
  std: number | null;
  histogram: SimilarityHistogram;
}

export interface SimilarityDistributions {
  /** Same label, same bias label. */
  positiveAligned: SimilarityGroup;
  /** Same label, other bias label. */
  positiveConflicting: SimilarityGroup;
  /** Other label, same bias label. */
  negativeAligned: SimilarityGroup;
  /** Other label, other bias label. */
  negativeConflicting: SimilarityGroup;
}

/** Largest number of bins: 4·bins u32 counters must fit the 16 KiB of workgroup memory every adapter has. */
export const MAX_BINS = 1024;
/** @internal Pairs per histogram dispatch: keeps every u32 count exact and each dispatch short (tests lower it). */
export const HISTOGRAM_CHUNK = { pairs: 2 ** 27 };

interface HistAttrs {
  bins: number;
  r0: number;
  r1: number;
}

function histParams(n: number, d4: number, a: HistAttrs): ArrayBuffer {
  return new ParamWriter().u(0, n).u(1, d4).u(2, a.bins).u(3, a.r0).u(4, a.r1).buffer;
}

const histSources = new Map<number, string>();
/** The kernel with its workgroup-histogram size: 4 × bins rounded up to a power of two ≥ 64 (few specialisations). */
function histSource(bins: number): string {
  let cap = 64;
  while (cap < bins) cap *= 2;
  const hb = 4 * cap;
  let src = histSources.get(hb);
  if (!src) histSources.set(hb, (src = `const HB: u32 = ${hb}u;\n${pairHistogramWgsl}`));
  return src;
}

/** numpy.histogram's bin of x for `bins` equal bins over [−1, 1], edges as numpy.linspace (x clamped). */
export function numpyBin(x: number, bins: number, edges: readonly number[]): number {
  const v = Math.min(1, Math.max(-1, x));
  let k = Math.floor((v + 1) * (bins / 2));
  if (k >= bins) k = bins - 1;
  if (k > 0 && v < edges[k]) k--;
  if (k < bins - 1 && v >= edges[k + 1]) k++;
  return k;
}

/** numpy.linspace(−1, 1, bins + 1). */
export function histogramEdges(bins: number): number[] {
  const step = 2 / bins;
  const edges = Array.from({ length: bins + 1 }, (_, k) => k * step - 1);
  edges[bins] = 1;
  return edges;
}

/** Pair histogram of the rows [r0, r1) against every later row: [4, bins] counts (u32 on the GPU). */
const pairHistogramOp: CustomOpDefinition = {
  name: 'pairHistogram',
  gpu(rec, [z, labels, bias], _out, dst, attrs) {
    const a = attrs as unknown as HistAttrs;
    const zv = z as StorageView;
    const n = zv.shape[0];
    const d4 = zv.shape[1] / 4;
    const p = histParams(n, d4, a);
    rec.dispatch('pair-histogram-clear', pairHistogramClearWgsl, p, [dst], grid1d(4 * a.bins));
    rec.dispatch(
      'pair-histogram',
      histSource(a.bins),
      p,
      [bufferOf(zv), bufferOf(labels as StorageView), bufferOf(bias as StorageView), dst],
      grid1d(a.r1 - a.r0),
    );
  },
  cpu([z, labels, bias], _out, attrs) {
    const a = attrs as unknown as HistAttrs;
    const zv = z as Exclude<CpuOperand, number>;
    const [n, d] = zv.shape;
    const lv = (labels as Exclude<CpuOperand, number>).values;
    const bv = (bias as Exclude<CpuOperand, number>).values;
    const edges = histogramEdges(a.bins);
    const out = new Float64Array(4 * a.bins);
    for (let i = a.r0; i < a.r1; i++) {
      for (let j = i + 1; j < n; j++) {
        let s = 0;
        for (let k = 0; k < d; k++) s += zv.values[i * d + k] * zv.values[j * d + k];
        const g = (lv[i] === lv[j] ? 0 : 2) + (bv[i] === bv[j] ? 0 : 1);
        out[g * a.bins + numpyBin(s, a.bins, edges)]++;
      }
    }
    return out;
  },
};

/** Exact pair counts of the four groups (unordered pairs i < j) from dense label codes. */
export function pairCounts(labels: Int32Array, bias: Int32Array): [number, number, number, number] {
  const choose2 = (c: number) => (c * (c - 1)) / 2;
  const byLabel = new Map<number, number>();
  const byBias = new Map<number, number>();
  const byCell = new Map<number, number>();
  let nb = 1;
  for (let i = 0; i < bias.length; i++) nb = Math.max(nb, bias[i] + 1);
  for (let i = 0; i < labels.length; i++) {
    byLabel.set(labels[i], (byLabel.get(labels[i]) ?? 0) + 1);
    byBias.set(bias[i], (byBias.get(bias[i]) ?? 0) + 1);
    const cell = labels[i] * nb + bias[i];
    byCell.set(cell, (byCell.get(cell) ?? 0) + 1);
  }
  const sum = (m: Map<number, number>) => [...m.values()].reduce((acc, c) => acc + choose2(c), 0);
  const pa = sum(byCell);
  const sameLabel = sum(byLabel);
  const sameBias = sum(byBias);
  const total = choose2(labels.length);
  return [pa, sameLabel - pa, sameBias - pa, total - sameLabel - sameBias + pa];
}

/** A tensor's values as float64: exact for the CPU reference (toArray() would round to f32). */
async function readF64(t: Tensor): Promise<Float64Array> {
  if (t.backend instanceof CpuBackend) return Float64Array.from(t.backend.values(t.view('read', 'tensor').storage));
  return Float64Array.from(await t.toArray());
}

/**
 * Count, mean, population std and histogram of the cosine similarities of the unordered pairs
 * i < j, in the four (label, bias) pair groups.
 *
 * Zero rows: normalised as F.normalize does (x / max(‖x‖, 1e-12)), so their cosine with every
 * row is 0. Precision: the sums come from f32 kernels (per-row partials, Kahan-compensated total);
 * the variance Σs²/c − mean² is clamped at 0. On a GPU a similarity within ~1e-7 of a bin edge
 * can land in the neighbouring bin of the float64 reference.
 * @example
 * const d = await similarityDistributions(z, { labels, biasLabels, bins: 40 });
 * d.positiveConflicting.mean; // s⁺ᵇ' in FairKL's ordering s⁻ + ε ≤ s⁺ᵇ' < s⁺ᵇ
 */
export async function similarityDistributions(embeddings: Tensor, options: SimilarityDistributionsOptions): Promise<SimilarityDistributions> {
  const op = 'similarityDistributions';
  const z = checkEmbeddings(op, 'embeddings', embeddings);
  const opts = checkOptions(op, options);
  if (options === undefined) throw new InvalidArgumentError(op, 'options', 'must be an object { labels, biasLabels, bins? }');
  const [n, d] = z.shape;
  const bins = opts.bins === undefined ? 50 : checkInteger(op, 'bins', opts.bins, 1, MAX_BINS);
  const labels = denseCodes(await labelsOf(op, 'labels', opts.labels, n, 'embeddings')).codes;
  const bias = denseCodes(await labelsOf(op, 'biasLabels', opts.biasLabels, n, 'embeddings')).codes;
  await checkFiniteRows(op, 'embeddings', z);
  const counts = pairCounts(labels, bias);

  const device = z.backend;
  const owned: Tensor[] = [];
  try {
    // Everything is encoded here (no readback); tidy frees the intermediates (normalisation,
    // padding, label tensors, pairMoments' packed metadata) and keeps the returned outputs.
    const { moments, chunks } = tidy(() =>
      noGrad(() => {
        const lt = tensor(labels, [n], { device, dtype: 'i32' });
        const bt = tensor(bias, [n], { device, dtype: 'i32' });
        const zn = normalize(z, 1);
        const m = pairMoments(zn, { temperature: 1, labels: lt, biasLabels: bt, pairs: 'upper' });
        const d4 = Math.ceil(d / 4);
        const zp =
          d4 * 4 === d
            ? zn
            : zn.pad([
                [0, 0],
                [0, d4 * 4 - d],
              ]);
        const parts: Tensor[] = [];
        for (let r0 = 0; r0 < n - 1; ) {
          const r1 = Math.min(n - 1, r0 + Math.max(1, Math.floor(HISTOGRAM_CHUNK.pairs / (n - 1 - r0))));
          parts.push(customOp(pairHistogramOp, [zp, lt, bt], { shape: [4, bins], dtype: 'i32' }, { bins, r0, r1 }, ['embeddings', 'labels', 'biasLabels']));
          r0 = r1;
        }
        return { moments: m, chunks: parts };
      }),
    );
    owned.push(moments, ...chunks);
    const mv = await readF64(moments);
    const hist = new Float64Array(4 * bins);
    for (const h of chunks) {
      const v = await h.toArray();
      for (let k = 0; k < v.length; k++) hist[k] += v[k] >>> 0;
    }
    const edges = histogramEdges(bins);
    const group = (g: number): SimilarityGroup => {
      const count = counts[g];
      const sum = mv[g * 3 + MOMENT.sum];
      const sumSq = mv[g * 3 + MOMENT.sumSq];
      const mean = count > 0 ? sum / count : null;
      const std = count > 0 ? Math.sqrt(Math.max(0, sumSq / count - mean! * mean!)) : null;
      return { count, mean, std, histogram: { edges: [...edges], counts: Array.from(hist.subarray(g * bins, (g + 1) * bins)) } };
    };
    return {
      positiveAligned: group(PAIR.PA),
      positiveConflicting: group(PAIR.PC),
      negativeAligned: group(PAIR.NA),
      negativeConflicting: group(PAIR.NC),
    };
  } finally {
    for (const t of owned) t.dispose();
  }
}
