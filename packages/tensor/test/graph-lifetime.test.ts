import { describe, expect, it } from 'vitest';
import { cpuBackend, logSoftmax, mean, memory, randn, tensor, type Device } from '../src/index.ts';
import { graphLeakLoop } from './graph-lifetime.ts';

/**
 * Memory rule 3 (docs/architecture.md): disposing the last handle of a graph's output frees the
 * graph, with or without backward(), and with no scope open — PyTorch's behaviour. Counted with
 * memory().tensors on the float64 CPU backend (the GPU variant is in lifetime.gpu.test.ts).
 */
const device: Device = 'cpu';

describe('graph lifetime without scopes (CPU)', () => {
  it('dispose() without backward() frees the recorded graph', async () => {
    const counts = await graphLeakLoop(device, { backward: false, iterations: 5 });
    expect(new Set(counts).size, `memory().tensors per iteration: ${counts.join(' → ')}`).toBe(1);
  });

  it('backward() then dispose() of every handle and of W.grad leaks nothing', async () => {
    const counts = await graphLeakLoop(device, { backward: true, iterations: 5 });
    expect(new Set(counts).size, `memory().tensors per iteration: ${counts.join(' → ')}`).toBe(1);
  });

  it('composites called as functions free their intermediates too', () => {
    const W = randn([4, 3], { device, seed: 1, requiresGrad: true });
    const before = memory(device).tensors;
    for (let i = 0; i < 3; i++) {
      const X = tensor(
        Array.from({ length: 8 }, (_, k) => k / 8 - i),
        [2, 4],
        { device },
      );
      const Y = X.matmul(W);
      const P = logSoftmax(Y, 1);
      const L = mean(P);
      for (const t of [X, Y, P, L]) t.dispose();
    }
    expect(memory(device).tensors).toBe(before);
    W.dispose();
  });

  it('an intermediate the user still holds keeps its own part of the graph, and backward works', async () => {
    const W = randn([4, 3], { device, seed: 2, requiresGrad: true });
    const before = memory(device).tensors;
    const X = randn([5, 4], { device, seed: 3 });
    const Y = X.matmul(W);
    const L = Y.mean();
    L.dispose();
    // Y's node is still alive: back-propagating from Y's sum reaches W.
    const L2 = Y.sum();
    await L2.backward();
    expect(W.grad).not.toBeNull();
    expect(Array.from(await W.grad!.toArray()).every(Number.isFinite)).toBe(true);
    for (const t of [X, Y, L2]) t.dispose();
    W.zeroGrad();
    expect(memory(device).tensors).toBe(before);
    W.dispose();
    expect(cpuBackend().memory().tensors).toBeGreaterThanOrEqual(0);
  });
});
