/**
 * The MNIST images shipped with the examples (a seeded subset written as IDX files by
 * tools/examples/build.ts), read with @fairgpu/datasets' validated IDX readers and coloured in the
 * page with colourBiasMnist — Biased-MNIST's protocol at whatever ρ the user picks.
 */
import { colourBiasMnist, MNIST_CLASSES, MNIST_SIDE, readIdxImages, readIdxLabels, type BiasedMnist, type MnistSource } from '@fairgpu/datasets';

/** The asset directory, next to the example directories (docs/public/examples/data). */
const DATA_URL = new URL('../data/', import.meta.url);

async function fetchBytes(name: string): Promise<Uint8Array> {
  const url = new URL(name, DATA_URL);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not load ${url.href}: HTTP ${response.status} (run npm run examples:build)`);
  return new Uint8Array(await response.arrayBuffer());
}

/** The first `count` images of the shipped train or test subset (all of them when count exceeds it). */
export async function loadMnistSubset(split: 'train' | 'test', count: number): Promise<MnistSource> {
  const [imageBytes, labelBytes] = await Promise.all([fetchBytes(`mnist-${split}-images.idx`), fetchBytes(`mnist-${split}-labels.idx`)]);
  const images = readIdxImages(imageBytes, { rows: MNIST_SIDE, cols: MNIST_SIDE });
  const labels = readIdxLabels(labelBytes, MNIST_CLASSES);
  const n = Math.min(count, images.count, labels.length);
  const plane = images.rows * images.cols;
  return { count: n, rows: images.rows, cols: images.cols, pixels: images.pixels.subarray(0, n * plane), labels: labels.subarray(0, n) };
}

/** Colour a subset as Biased-MNIST at `rho` (seeded; the held-out set uses its own stream). */
export function colour(source: MnistSource, rho: number, seed: number, stream = 0): BiasedMnist {
  return colourBiasMnist(source, { rho, seed, stream });
}

export function conflictingCount(set: BiasedMnist): number {
  let n = 0;
  for (let i = 0; i < set.labels.length; i++) if (set.labels[i] !== set.biasLabels[i]) n++;
  return n;
}

/** One image as channel-first RGB in [0, 1] (what overlayHeatmap takes). */
export function imageChw(set: BiasedMnist, index: number): Float32Array {
  const pixels = set.height * set.width;
  const out = new Float32Array(3 * pixels);
  const base = index * pixels * 3;
  for (let p = 0; p < pixels; p++) for (let c = 0; c < 3; c++) out[c * pixels + p] = set.images[base + 3 * p + c] / 255;
  return out;
}
