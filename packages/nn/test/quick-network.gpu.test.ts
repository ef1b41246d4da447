import { afterAll, describe, expect, it } from 'vitest';
import { cpuBackend, crossEntropy, randn, scope, tensor, type Device } from '@fairgpu/tensor';
import { manualSeed, SimpleConvNet } from '../src/index.ts';
import { expectClose, gpuOrSkip } from './helpers.ts';

const gpu = await gpuOrSkip();
afterAll(() => gpu?.destroy());

/**
 * The main job's quick network (tools/cli/job.ts QUICK) at its real shapes: the kernels pick
 * their modes by size (texel inputs past 16,384 floats, texel windows on 7 × 7 planes, split K on
 * the weight gradients, planar products on 14 × 14 and 4 × 4 planes), so small test shapes do not
 * reach the branches a training step takes.
 */
const QUICK_NET = { kernelSize: 3, channels: [8, 16, 16, 32], strides: [2, 2, 2, 1] };
const BATCH = 128;

/** Loss and every parameter gradient of one cross-entropy step, by parameter name. */
async function step(device: Device, images: Float32Array): Promise<Map<string, number[]>> {
  return scope(async () => {
    manualSeed(0);
    const net = new SimpleConvNet({ ...QUICK_NET, device });
    try {
      const x = tensor(images, [BATCH, 3, 28, 28], { device });
      const y = tensor(
        Int32Array.from({ length: BATCH }, (_, i) => (i * 7) % 10),
        [BATCH],
        { dtype: 'i32', device },
      );
      const loss = crossEntropy(net.forward(x), y);
      await loss.backward();
      const out = new Map<string, number[]>([['loss', Array.from(await loss.toArray())]]);
      for (const [name, p] of net.namedParameters()) out.set(name, Array.from(await p.grad!.toArray()));
      return out;
    } finally {
      net.dispose();
    }
  });
}

describe.runIf(gpu)('the quick network at batch 128', () => {
  it('one cross-entropy step: loss and every parameter gradient agree with the float64 reference', { timeout: 120_000 }, async () => {
    const images = Float32Array.from(await randn([BATCH, 3, 28, 28], { seed: 3, device: cpuBackend() }).toArray());
    const ref = await step(cpuBackend(), images);
    const got = await step(gpu!, images);
    expect([...got.keys()]).toEqual([...ref.keys()]);
    for (const [name, r] of ref) {
      // Scaled to the tensor: the conv biases' gradients are 0 in exact arithmetic (a batch norm follows).
      const scale = Math.max(...r.map(Math.abs), 1e-3);
      expectClose(got.get(name)!, r, { rtol: 1e-3, atol: 1e-4 * scale }, name);
    }
  });
});
