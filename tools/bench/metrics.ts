/**
 * Retrieval and similarity-diagnostic timings (not a test):
 *   npx tsx --conditions=@fairgpu/source tools/bench/metrics.ts [--n 16384] [--d 128] [--classes 10] [--baseline-queries 512]
 *
 * Rows: retrievalMetrics on the adapter (GPU similarity tiles + host ranking) and
 * similarityDistributions (pairMoments + pair histogram), and, in the same run, a float64 host
 * baseline of retrieval (the same selection algorithm on float64 similarities computed on the host)
 * timed on the first `--baseline-queries` queries and scaled linearly to n (its cost per query is
 * constant), with the ratio.
 */
import { parseArgs } from 'node:util';
import { initGpu, Rng, tensor } from '@fairgpu/tensor';
import { retrievalMetrics, similarityDistributions } from '@fairgpu/metrics';
import { floydRivestSelect } from '../../packages/metrics/src/retrieval.ts';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '16384' },
    d: { type: 'string', default: '128' },
    classes: { type: 'string', default: '10' },
    'baseline-queries': { type: 'string', default: '512' },
    'skip-similarity': { type: 'boolean', default: false },
  },
});
const n = Number(values.n);
const d = Number(values.d);
const classes = Number(values.classes);
const baselineQueries = Math.min(n, Number(values['baseline-queries']));

const rng = new Rng(3);
const centres = Float64Array.from({ length: classes * d }, () => rng.normal());
const labels = Int32Array.from({ length: n }, () => Math.floor(rng.uniform() * classes));
const bias = Int32Array.from(labels, (l) => (rng.uniform() < 0.9 ? l : Math.floor(rng.uniform() * classes)));
const data = new Float32Array(n * d);
for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) data[i * d + k] = centres[labels[i] * d + k] + 1.5 * rng.normal();

/** Float64 host retrieval for queries [0, q): normalise, one similarity row at a time, select the R best, sort them. */
function hostRetrieval(q: number): { mapAtR: number; ms: number } {
  const t0 = performance.now();
  const zn = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += data[i * d + k] ** 2;
    const inv = 1 / Math.max(Math.sqrt(s), 1e-12);
    for (let k = 0; k < d; k++) zn[i * d + k] = data[i * d + k] * inv;
  }
  const count = new Int32Array(classes);
  for (const l of labels) count[l]++;
  const row = new Float64Array(n);
  const idx = new Float64Array(n);
  let apSum = 0;
  for (let i = 0; i < q; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += zn[i * d + k] * zn[j * d + k];
      row[j] = s;
    }
    const r = count[labels[i]] - 1;
    // Rank keys: position in a descending order; selection on −s, then a sort of the R best by (−s, index).
    let m = 0;
    for (let j = 0; j < n; j++) if (j !== i) idx[m++] = -row[j];
    floydRivestSelect(idx, r - 1, 0, m - 1);
    const threshold = idx[r - 1];
    const top: number[] = [];
    for (let j = 0; j < n && top.length < r; j++) if (j !== i && -row[j] < threshold) top.push(j);
    for (let j = 0; j < n && top.length < r; j++) if (j !== i && -row[j] === threshold) top.push(j);
    top.sort((a, b) => row[b] - row[a] || a - b);
    let hits = 0;
    let ap = 0;
    for (let k = 0; k < r; k++) if (labels[top[k]] === labels[i]) ap += ++hits / (k + 1);
    apSum += ap / r;
  }
  return { mapAtR: apSum / q, ms: performance.now() - t0 };
}

const ctx = await initGpu({ setDefault: false });
const adapter = `${ctx.adapterInfo.description || ctx.adapterInfo.device} [${ctx.adapterInfo.path}]`;
console.log(`fairgpu metrics benchmarks — adapter: ${adapter}; n = ${n}, d = ${d}, ${classes} classes`);
const z = tensor(data, [n, d], { device: ctx });
await retrievalMetrics(tensor(data.subarray(0, 64 * d), [64, d], { device: ctx }), labels.subarray(0, 64)); // compile the kernels
let t0 = performance.now();
const r = await retrievalMetrics(z, labels);
const gpuMs = performance.now() - t0;
console.log(
  `retrievalMetrics (GPU tiles + host ranking): ${(gpuMs / 1000).toFixed(2)} s  p@1 ${r.precisionAt1.toFixed(4)}  R-prec ${r.rPrecision.toFixed(4)}  MAP@R ${r.mapAtR.toFixed(4)}  peak ${(ctx.backend.memory().peakBytesInUse / 2 ** 20).toFixed(0)} MiB`,
);
const base = hostRetrieval(baselineQueries);
const baseMs = (base.ms * n) / baselineQueries;
console.log(
  `float64 host baseline: ${(base.ms / 1000).toFixed(2)} s for ${baselineQueries} queries → ${(baseMs / 1000).toFixed(1)} s for ${n} (scaled); ratio ${(baseMs / gpuMs).toFixed(2)}× (baseline / fairgpu)`,
);
if (!values['skip-similarity']) {
  await similarityDistributions(tensor(data.subarray(0, 64 * d), [64, d], { device: ctx }), {
    labels: labels.subarray(0, 64),
    biasLabels: bias.subarray(0, 64),
  });
  t0 = performance.now();
  const s = await similarityDistributions(z, { labels, biasLabels: bias });
  console.log(
    `similarityDistributions (pairMoments + histogram): ${((performance.now() - t0) / 1000).toFixed(2)} s  PA ${s.positiveAligned.mean?.toFixed(4)} PC ${s.positiveConflicting.mean?.toFixed(4)} NA ${s.negativeAligned.mean?.toFixed(4)} NC ${s.negativeConflicting.mean?.toFixed(4)}`,
  );
}
process.exit(0);
