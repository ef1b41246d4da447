import { InvalidArgumentError, matmulTransposed, noGrad, normalize, tidy, type Tensor } from '@fairgpu/tensor';
import { checkBoolean, checkEmbeddings, checkFiniteRows, checkInteger, checkOptions, denseCodes, labelsOf, type LabelsInput } from './validate.ts';

/**
 * Retrieval metrics with pytorch-metric-learning's AccuracyCalculator definitions
 * (precision_at_1, r_precision, mean_average_precision_at_r), query set = reference set.
 *
 * What runs where: the L2 normalisation and, tile by tile, the similarity rows S[q0:q1, :] =
 * ẑ[q0:q1] ẑᵀ (one matmul, [Q, n] f32) run where the embeddings live (a GPU or the CPU
 * reference). Each tile is read back and ranked on the host while the GPU computes the next one
 * (two tiles in flight, each ≤ 32 MiB by default): per query, a threshold estimated from a
 * sample of the row drops most of it with one comparison each, a Floyd–Rivest selection finds the
 * R best of the remaining packed (similarity, index) keys, and only those R are sorted — O(n) per
 * query, O(Q·n) memory, never an n×n matrix.
 */

export interface RetrievalOptions {
  /**
   * Query rows per similarity tile (more than n means one tile). Default: as many as fit 32 MiB
   * of f32 ([Q, n]), at least 1; refused above the adapter's largest storage binding.
   */
  tileRows?: number;
  /** Leave each query out of its own reference set (PML's embeddings_come_from_same_source). Default true. */
  excludeSelf?: boolean;
  /** PML's avg_of_avgs: average per class first (over the classes of the counted queries), then over classes. Default false. */
  avgOfAvgs?: boolean;
}

export interface RetrievalMetrics {
  /** Share of counted queries whose nearest neighbour has their label. */
  precisionAt1: number;
  /** Mean over counted queries of (same-label items among the R nearest) / R. */
  rPrecision: number;
  /** Mean over counted queries of (1/R) Σ_{k≤R} P(k)·rel(k). */
  mapAtR: number;
  /**
   * Queries counted: those with R > 0 other samples of their label. When it is 0 every metric is
   * 0, as in PML (which logs "None of the query labels are in the reference set").
   */
  queries: number;
}

/** Packing of (similarity, index) in one float64 key: index < 2^21 (n ≤ 2,097,152). */
const INDEX_SPAN = 2 ** 21;
/** Default tile budget in bytes ([Q, n] f32 similarities; two tiles are in flight). */
const TILE_BYTES = 32 * 2 ** 20;

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}

/**
 * Floyd–Rivest selection: rearranges a[left..right] so that a[k] is the value it would have if
 * sorted ascending, with every smaller value before it. Keys are distinct here.
 */
export function floydRivestSelect(a: Float64Array, k: number, left: number, right: number): void {
  while (right > left) {
    if (right - left > 600) {
      const n = right - left + 1;
      const m = k - left + 1;
      const z = Math.log(n);
      const s = 0.5 * Math.exp((2 * z) / 3);
      const sd = 0.5 * Math.sqrt((z * s * (n - s)) / n) * (m - n / 2 < 0 ? -1 : 1);
      floydRivestSelect(a, k, Math.max(left, Math.floor(k - (m * s) / n + sd)), Math.min(right, Math.floor(k + ((n - m) * s) / n + sd)));
    }
    const t = a[k];
    let i = left;
    let j = right;
    swap(a, left, k);
    if (a[right] > t) swap(a, left, right);
    while (i < j) {
      swap(a, i, j);
      i++;
      j--;
      while (a[i] < t) i++;
      while (a[j] > t) j--;
    }
    if (a[left] === t) swap(a, left, j);
    else {
      j++;
      swap(a, j, right);
    }
    if (j <= k) left = j + 1;
    if (k <= j) right = j - 1;
  }
}

/** Key order = rank order: higher similarity first, then lower index (a stable argsort of −s). */
function keyOf(bits: number, j: number): number {
  const b = bits === 0x80000000 ? 0 : bits; // −0 ties with +0
  const ascending = b & 0x80000000 ? ~b >>> 0 : (b | 0x80000000) >>> 0;
  return (0xffffffff - ascending) * INDEX_SPAN + j;
}

/**
 * A similarity that about 1.3·R + 3√R of the n values of row[off, off + n) reach, estimated from
 * an evenly spaced sample (its rank in the sorted sample); −Infinity when that is most of the row.
 */
function sampleThreshold(row: Float32Array | Int32Array, off: number, n: number, r: number, sample: Float32Array): number {
  const size = sample.length;
  const expected = (size * r) / n;
  const rank = Math.ceil(1.3 * expected + 3 * Math.sqrt(expected) + 2);
  if (rank >= size / 2) return -Infinity;
  const stride = n / size;
  for (let k = 0; k < size; k++) sample[k] = row[off + Math.floor(k * stride)];
  sample.sort();
  return sample[size - 1 - rank];
}

/**
 * precision@1, R-precision and MAP@R of cosine-similarity retrieval, query set = reference set,
 * each query's R = the number of other samples with its label; queries with R = 0 are left out
 * (PML's "lone" queries). Ties in similarity rank the lower index first.
 *
 * MAP@R per query = (1/R) Σ_{k ≤ R} P(k)·rel(k) with P(k) the precision of the first k; the three
 * metrics are means over the counted queries (or, with `avgOfAvgs`, means of per-class means).
 * Unlike PML versions that cap k at 1023 (faiss), R is never truncated.
 * @example
 * const { precisionAt1, rPrecision, mapAtR } = await retrievalMetrics(z, labels);
 */
export async function retrievalMetrics(embeddings: Tensor, labels: LabelsInput, options?: RetrievalOptions): Promise<RetrievalMetrics> {
  const op = 'retrievalMetrics';
  const z = checkEmbeddings(op, 'embeddings', embeddings);
  const [n, d] = z.shape;
  if (n > INDEX_SPAN) throw new InvalidArgumentError(op, 'embeddings', `has ${n} rows; at most ${INDEX_SPAN} are supported`);
  const opts = checkOptions(op, options);
  const excludeSelf = checkBoolean(op, 'excludeSelf', opts.excludeSelf, true);
  const avgOfAvgs = checkBoolean(op, 'avgOfAvgs', opts.avgOfAvgs, false);
  const maxBinding = (z.backend as { limits?: GPUSupportedLimits }).limits?.maxStorageBufferBindingSize ?? Infinity;
  const bindingRows = Math.max(1, Math.floor(maxBinding / (4 * n)));
  const tileRows =
    opts.tileRows === undefined
      ? Math.min(n, bindingRows, Math.max(1, Math.floor(TILE_BYTES / (4 * n))))
      : Math.min(n, checkInteger(op, 'tileRows', opts.tileRows, 1, bindingRows === Infinity ? Number.MAX_SAFE_INTEGER : bindingRows));
  const { codes, classes } = denseCodes(await labelsOf(op, 'labels', labels, n, 'embeddings'));
  await checkFiniteRows(op, 'embeddings', z);

  const classCount = new Int32Array(classes.length);
  for (let i = 0; i < n; i++) classCount[codes[i]]++;
  const self = excludeSelf ? 1 : 0;

  // Per-class sums of the per-query values (for avgOfAvgs) and the plain sums.
  const perClass = {
    p1: new Float64Array(classes.length),
    rp: new Float64Array(classes.length),
    ap: new Float64Array(classes.length),
    q: new Int32Array(classes.length),
  };
  const keys = new Float64Array(n);
  const sample = new Float32Array(Math.min(n, Math.max(64, Math.ceil(4 * Math.sqrt(n)))));

  const zn = tidy(() => noGrad(() => normalize(z, 1)));
  const launch = (q0: number) => {
    const q1 = Math.min(n, q0 + tileRows);
    const sims = tidy(() => noGrad(() => matmulTransposed(zn.slice([q0, 0], [q1, d]), zn, false, true)));
    // toArray() encodes the copy and submits synchronously: the GPU starts on this tile now.
    const values = sims.toArray().finally(() => sims.dispose());
    // A tile still in flight when an earlier one fails must not become an unhandled rejection.
    values.catch(() => undefined);
    return { q0, q1, values };
  };
  try {
    let pending = launch(0);
    for (;;) {
      const next = pending.q1 < n ? launch(pending.q1) : null;
      const tile = (await pending.values) as Float32Array;
      const bits = new Uint32Array(tile.buffer, tile.byteOffset, tile.length);
      for (let q = pending.q0; q < pending.q1; q++) {
        const c = codes[q];
        const r = classCount[c] - self;
        if (r <= 0) continue;
        const off = (q - pending.q0) * n;
        // Keys only for the rows at or above a threshold estimated from a sample (every row below
        // it ranks after every row kept); all rows when the estimate keeps fewer than R.
        const t0 = sampleThreshold(tile, off, n, r, sample);
        let m = 0;
        for (let j = 0; j < n; j++) if (tile[off + j] >= t0 && (j !== q || !excludeSelf)) keys[m++] = keyOf(bits[off + j], j);
        if (m < r) {
          m = 0;
          for (let j = 0; j < n; j++) if (j !== q || !excludeSelf) keys[m++] = keyOf(bits[off + j], j);
        }
        floydRivestSelect(keys, r - 1, 0, m - 1);
        const top = keys.subarray(0, r).sort();
        let hits = 0;
        let ap = 0;
        for (let k = 0; k < r; k++) {
          if (codes[top[k] % INDEX_SPAN] === c) {
            hits++;
            ap += hits / (k + 1);
          }
        }
        perClass.p1[c] += codes[top[0] % INDEX_SPAN] === c ? 1 : 0;
        perClass.rp[c] += hits / r;
        perClass.ap[c] += ap / r;
        perClass.q[c]++;
      }
      if (!next) break;
      pending = next;
    }
  } finally {
    zn.dispose();
  }

  let queries = 0;
  for (let c = 0; c < classes.length; c++) queries += perClass.q[c];
  if (queries === 0) return { precisionAt1: 0, rPrecision: 0, mapAtR: 0, queries: 0 };
  const average = (values: Float64Array): number => {
    let sum = 0;
    if (!avgOfAvgs) {
      for (let c = 0; c < classes.length; c++) sum += values[c];
      return sum / queries;
    }
    let present = 0;
    for (let c = 0; c < classes.length; c++) {
      if (perClass.q[c] === 0) continue;
      sum += values[c] / perClass.q[c];
      present++;
    }
    return sum / present;
  };
  return { precisionAt1: average(perClass.p1), rPrecision: average(perClass.rp), mapAtR: average(perClass.ap), queries };
}
