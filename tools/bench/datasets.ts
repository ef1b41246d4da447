/**
 * Loader throughput on Biased-MNIST (ρ = 0.99 training set, 60,000 images, batch 256, normalised
 * float32 NCHW output). Run from the repository root:
 *
 *   npx tsx --conditions=@fairgpu/source tools/bench/datasets.ts [--epochs N]
 *
 * Each configuration runs one warm-up epoch, then N timed epochs (default 2) through the async,
 * prefetching iterator, i.e. the path a training loop uses.
 */
import { biasedMnist, createLoader } from '@fairgpu/datasets/node';
import type { BiasedMnist, HostBatch, LoaderOptions } from '@fairgpu/datasets/node';

const epochsArg = process.argv.indexOf('--epochs');
const timedEpochs = epochsArg >= 0 ? Number(process.argv[epochsArg + 1]) : 2;
const batchSize = 256;

let start = performance.now();
const dataset = biasedMnist({ split: 'train', rho: 0.99, seed: 0 });
console.log(`generate Biased-MNIST train (ρ = 0.99, ${dataset.length} images): ${(performance.now() - start).toFixed(0)} ms`);

async function measure(name: string, data: BiasedMnist, options: Omit<LoaderOptions<HostBatch>, 'batchSize' | 'upload'>): Promise<void> {
  const loader = createLoader(data, { batchSize, seed: 1, ...options });
  let checksum = 0;
  const run = async (epoch: number): Promise<number> => {
    let samples = 0;
    for await (const batch of loader.epoch(epoch)) {
      samples += batch.size;
      checksum += batch.images[0]; // keep the work observable
    }
    return samples;
  };
  await run(0);
  start = performance.now();
  let samples = 0;
  let batches = 0;
  for (let e = 1; e <= timedEpochs; e++) {
    samples += await run(e);
    batches += loader.batchesPerEpoch;
  }
  const seconds = (performance.now() - start) / 1000;
  const views = options.twoViews ? 2 : 1;
  // images/s counts dataset images (samples); a two-view batch writes views × that many image tensors.
  console.log(
    `${name.padEnd(32)} ${(batches / seconds).toFixed(1).padStart(7)} batches/s ${(samples / seconds).toFixed(0).padStart(7)} images/s` +
      `${views > 1 ? ` (${((samples * views) / seconds).toFixed(0)} augmented views/s)` : ''}  [${batches} batches of ${batchSize}; checksum ${checksum.toFixed(2)}]`,
  );
}

await measure('plain (shuffled)', dataset, {});
await measure('two-view augmented (crop+flip)', dataset, { twoViews: true, augment: true });
await measure('two-view + colour jitter', dataset, {
  twoViews: true,
  augment: { colourJitter: { brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1 } },
});
await measure('M-per-class (m = 4)', dataset, { sampler: { kind: 'm-per-class', m: 4 } });
