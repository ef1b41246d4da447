import { createHash } from 'node:crypto';
import { createRng } from '../src/prng.ts';
import type { MnistSource } from '../src/biased-mnist.ts';

/** Random 28×28 "digits" (about a third of the pixels non-zero) with balanced-ish labels. */
export function syntheticMnist(count: number, seed = 1): MnistSource {
  const rng = createRng(seed, 99);
  const pixels = new Uint8Array(count * 784);
  for (let i = 0; i < pixels.length; i++) pixels[i] = rng.nextFloat() < 0.33 ? 1 + rng.nextInt(255) : 0;
  const labels = Uint8Array.from({ length: count }, (_, i) => (i * 7 + rng.nextInt(3)) % 10);
  return { count, rows: 28, cols: 28, pixels, labels };
}

export function sha256(bytes: ArrayBufferView): string {
  return createHash('sha256')
    .update(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength))
    .digest('hex');
}
