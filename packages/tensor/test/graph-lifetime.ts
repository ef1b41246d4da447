import { memory, randn, tensor, type Device } from '../src/index.ts';

/**
 * The loop: a leaf W that requires grad, a batch X, Y = X·W, L = mean(Y), every handle
 * disposed by hand (no scope). Returns memory().tensors after each iteration.
 */
export async function graphLeakLoop(device: Device, { backward, iterations }: { backward: boolean; iterations: number }): Promise<number[]> {
  const W = randn([32, 16], { device, seed: 7, requiresGrad: true });
  const counts: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const x = Array.from({ length: 64 * 32 }, (_, k) => Math.sin(k + i));
    const X = tensor(x, [64, 32], { device });
    const Y = X.matmul(W);
    const L = Y.mean();
    if (backward) {
      await L.backward();
      W.zeroGrad();
    }
    X.dispose();
    Y.dispose();
    L.dispose();
    counts.push(memory(device).tensors);
  }
  W.dispose();
  return counts;
}
