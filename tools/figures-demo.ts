/**
 * Writes every figure of @fairgpu/metrics for realistic synthetic inputs (seeded), as PNG + SVG +
 * JSON, to look at them:
 *   npx tsx --conditions=@fairgpu/source tools/figures-demo.ts /tmp/figs
 */
import {
  gaussianDensityFigure,
  gradCamFigure,
  groupAccuracyComparisonFigure,
  groupAccuracyFigure,
  similarityHistogramComparisonFigure,
  similarityHistogramFigure,
} from '@fairgpu/metrics';
import type { Figure, SimilarityDistributionsLike } from '@fairgpu/metrics';
import { writeFigure } from '@fairgpu/metrics/node';

const outDir = process.argv[2] ?? 'figures-demo';

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = rng(7);
const normal = (m: number, s: number) => m + s * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());

function group(n: number, mean: number, std: number, bins = 40) {
  const values = Array.from({ length: n }, () => Math.max(-1, Math.min(1, normal(mean, std))));
  const edges = Array.from({ length: bins + 1 }, (_, i) => -1 + (2 * i) / bins);
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.floor(((v + 1) / 2) * bins))]++;
  const m = values.reduce((s, v) => s + v, 0) / n;
  const sd = Math.sqrt(values.reduce((s, v) => s + (v - m) ** 2, 0) / n);
  return { count: n, mean: m, std: sd, histogram: { edges, counts } };
}
const vanilla: SimilarityDistributionsLike = {
  positiveAligned: group(24_800, 0.86, 0.06),
  positiveConflicting: group(260, 0.31, 0.16),
  negativeAligned: group(2_400, 0.42, 0.14),
  negativeConflicting: group(210_000, -0.05, 0.12),
};
const fairkl: SimilarityDistributionsLike = {
  positiveAligned: group(24_800, 0.71, 0.09),
  positiveConflicting: group(260, 0.66, 0.1),
  negativeAligned: group(2_400, 0.02, 0.13),
  negativeConflicting: group(210_000, -0.01, 0.11),
};

function groupResult(conflicting: number, spread: number) {
  const cells = [];
  for (let label = 0; label < 10; label++) {
    for (let bias = 0; bias < 10; bias++) {
      const aligned = label === bias;
      const accuracy = Math.max(0, Math.min(1, aligned ? 0.995 - 0.01 * random() : normal(conflicting, spread)));
      cells.push({ label, bias, count: 90 + Math.floor(30 * random()), accuracy });
    }
  }
  return { cells, unbiased: cells.reduce((s, c) => s + c.accuracy, 0) / cells.length };
}

// Grad-CAM: digit-like rings on a coloured background; vanilla attends to the background.
const B = 6;
const H = 28;
const W = 28;
const palette = [
  [0.9, 0.1, 0.1],
  [0.1, 0.6, 0.9],
  [0.2, 0.8, 0.2],
  [0.95, 0.8, 0.1],
  [0.6, 0.2, 0.8],
  [0.95, 0.5, 0.1],
];
const images = new Float32Array(B * 3 * H * W);
const digit = new Float32Array(B * H * W);
for (let b = 0; b < B; b++) {
  const cx = 13.5 + normal(0, 1.5);
  const cy = 13.5 + normal(0, 1.5);
  const r = 6 + 2 * random();
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const d = Math.hypot(x - cx, (y - cy) * 0.8);
      const ink = Math.max(0, 1 - Math.abs(d - r) / 1.6);
      digit[b * H * W + y * W + x] = ink;
      for (let c = 0; c < 3; c++) images[((b * 3 + c) * H + y) * W + x] = ink + (1 - ink) * palette[b][c] * 0.8;
    }
  }
}
function camMaps(onDigit: boolean): Float32Array {
  const maps = new Float32Array(B * H * W);
  for (let b = 0; b < B; b++) {
    const bx = 4 + 20 * random();
    const by = 4 + 20 * random();
    let max = 0;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const i = b * H * W + y * W + x;
        maps[i] = onDigit ? blur(digit, b, x, y) : Math.exp(-((x - bx) ** 2 + (y - by) ** 2) / 60) * (1 - 0.7 * digit[i]);
        max = Math.max(max, maps[i]);
      }
    }
    for (let i = b * H * W; i < (b + 1) * H * W; i++) maps[i] /= max;
  }
  return maps;
}
function blur(a: Float32Array, b: number, x: number, y: number): number {
  let s = 0;
  for (let dy = -3; dy <= 3; dy++)
    for (let dx = -3; dx <= 3; dx++) {
      const xx = x + dx;
      const yy = y + dy;
      if (xx >= 0 && xx < W && yy >= 0 && yy < H) s += a[b * H * W + yy * W + xx] * Math.exp(-(dx * dx + dy * dy) / 6);
    }
  return s;
}
const captions = (p: number[]) => p.map((v, i) => `pred ${v} (true ${i})`);

function pcaGroups(separation: number) {
  return Array.from({ length: 10 }, (_, g) => {
    const mean = separation * (g - 4.5) + normal(0, 0.1);
    const std = 0.6 + 0.3 * random();
    const values = Array.from({ length: 400 }, () => normal(mean, std));
    const m = values.reduce((s, v) => s + v, 0) / values.length;
    const sd = Math.sqrt(values.reduce((s, v) => s + (v - m) ** 2, 0) / values.length);
    return { label: `colour ${g}`, mean: m, std: sd, values };
  });
}

const figures: Figure[] = [
  similarityHistogramFigure(vanilla, { name: 'similarity-vanilla', panelTitle: 'vanilla (cross-entropy)' }),
  similarityHistogramComparisonFigure(
    [
      { title: 'vanilla (cross-entropy)', distributions: vanilla },
      { title: 'FairKL (λ = 30)', distributions: fairkl },
    ],
    { name: 'similarity-comparison', title: 'Cosine similarities of test-set bottleneck features: positive/negative × bias-aligned/conflicting pairs' },
  ),
  groupAccuracyFigure(groupResult(0.08, 0.05), { name: 'group-accuracy-vanilla', title: 'Biased-MNIST (ρ = 0.997), vanilla' }),
  groupAccuracyComparisonFigure(
    [
      { name: 'vanilla', result: groupResult(0.08, 0.05) },
      { name: 'FairKL', result: groupResult(0.55, 0.12) },
    ],
    { name: 'group-accuracy-comparison', title: 'Per-cell accuracy on the unbiased test set (ρ = 0.1)' },
  ),
  gradCamFigure({
    name: 'grad-cam',
    title: 'Grad-CAM on bias-conflicting test images (colour ≠ digit), ρ = 0.1 test set',
    height: H,
    width: W,
    rows: [
      { label: 'vanilla', images, maps: camMaps(false), captions: captions([3, 5, 5, 2, 7, 8]) },
      { label: 'FairKL', images, maps: camMaps(true), captions: captions([0, 1, 2, 3, 4, 5]) },
    ],
  }),
  gradCamFigure({
    name: 'grad-cam-narrow',
    title: 'Grad-CAM on bias-conflicting test images (colour ≠ digit), ρ = 0.1 test set',
    height: H,
    width: W,
    colormap: 'inferno',
    alpha: 0.6,
    rows: [{ label: 'ε-SupInfoNCE', images: images.subarray(0, 2 * 3 * H * W), maps: camMaps(true).subarray(0, 2 * H * W) }],
  }),
  gaussianDensityFigure({
    name: 'pca-gaussians',
    title: 'First principal component per colour group',
    panels: [
      { title: 'vanilla', groups: pcaGroups(1.6) },
      { title: 'EnD-regularised', groups: pcaGroups(0.12) },
    ],
  }),
];
for (const f of figures) {
  const written = await writeFigure(f, outDir);
  console.log(`${f.name}: ${f.width}×${f.height}, svg ${(f.svg.length / 1024).toFixed(1)} kB → ${written.png}`);
}
