import { afterAll, describe, expect, it } from 'vitest';
import { tensor, type Tensor } from '@fairgpu/tensor';
import { Adam, AdamW, SGD, type Optimizer } from '../src/index.ts';
import { expectClose, gpuOrSkip, randomData } from './helpers.ts';

const gpu = await gpuOrSkip();
afterAll(() => gpu?.destroy());

/**
 * The fused optimizer kernel (in place, a dispatch per group of parameters) against the composite
 * tensor-op update on the GPU, over several steps with changing gradients, for ten parameters of
 * a few sizes (one not a multiple of the 64-wide workgroup, one whose gradient is read as texels on
 * software adapters), more than one dispatch holds, and against the float64 CPU backend running
 * the same fused update. Parameter 1 has no gradient on the first step, so its SGD momentum buffer
 * starts a step later than the others' (a group of its own that step).
 */
async function run(device: 'cpu' | typeof gpu, make: (ps: Tensor[], fused: boolean) => Optimizer, fused: boolean): Promise<number[][]> {
  const shapes = [[5, 3, 3, 3], [7], [130], [1], [4, 4], [130, 130], [3], [9, 2], [64], [2, 2, 2]];
  const ps = shapes.map((s, i) =>
    tensor(
      randomData(
        s.reduce((a, d) => a * d, 1),
        10 + i,
      ),
      s,
      { device: device!, requiresGrad: true },
    ),
  );
  const opt = make(ps, fused);
  for (let step = 0; step < 5; step++) {
    for (const [i, p] of ps.entries()) {
      if (step === 0 && i === 1) continue;
      await p
        .mul(tensor(randomData(p.size, 100 * step + i), p.shape, { device: device! }))
        .sum()
        .backward();
    }
    const before = device === 'cpu' ? 0 : gpu!.backend.stats.dispatches;
    opt.step();
    // At most 8 parameters per dispatch (4 with 16 storage bindings): 10 in 3 dispatches; on step 1
    // parameter 1's fresh SGD momentum buffer makes a group of its own.
    if (device !== 'cpu' && fused) expect(gpu!.backend.stats.dispatches - before).toBeLessThanOrEqual(step === 1 ? 4 : 3);
    opt.zeroGrad();
  }
  const out = await Promise.all(ps.map(async (p) => Array.from(await p.toArray())));
  opt.dispose();
  ps.forEach((p) => p.dispose());
  return out;
}

describe.runIf(gpu)('fused optimizer step on the GPU', () => {
  const cases: [string, (ps: Tensor[], fused: boolean) => Optimizer][] = [
    ['SGD', (ps, fused) => new SGD(ps, { lr: 0.1, fused })],
    ['SGD momentum + weight decay', (ps, fused) => new SGD(ps, { lr: 0.05, momentum: 0.9, weightDecay: 1e-2, fused })],
    ['SGD Nesterov', (ps, fused) => new SGD(ps, { lr: 0.05, momentum: 0.9, nesterov: true, fused })],
    ['SGD dampening', (ps, fused) => new SGD(ps, { lr: 0.05, momentum: 0.5, dampening: 0.3, fused })],
    ['Adam + L2', (ps, fused) => new Adam(ps, { lr: 0.01, weightDecay: 0.1, betas: [0.8, 0.99], fused })],
    ['AdamW', (ps, fused) => new AdamW(ps, { lr: 0.01, fused })],
  ];
  for (const [name, make] of cases) {
    it(`${name}: fused = composite, GPU = float64`, async () => {
      const fused = await run(gpu, make, true);
      const composite = await run(gpu, make, false);
      const reference = await run('cpu', make, true);
      fused.forEach((f, i) => {
        expectClose(f, composite[i], { rtol: 1e-5, atol: 1e-6 }, `param ${i} fused vs composite`);
        expectClose(f, reference[i], { rtol: 1e-5, atol: 1e-6 }, `param ${i} GPU vs float64`);
      });
    });
  }
});
