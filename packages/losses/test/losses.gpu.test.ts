import { afterAll, describe, expect, it } from 'vitest';
import { cpuBackend, memory, randn, scope, tensor, type Device, type Tensor } from '@fairgpu/tensor';
import { lossRegistry, type Impl, type LossName } from '../src/index.ts';
import { expectClose, gpuOrSkip } from './helpers.ts';
import { edgeCases, edgeInput, edgeOptions, edgeRuns } from './edge.ts';
import { expectLossErrorCase, lossErrorCases } from './errors.ts';
import { fusedAvailable, isBlock, loadVectors, lossTolerance, maxGradError, runVector } from './vectors.ts';

/**
 * On the GPU (f32): every public vector through the registry with both implementations, the edge
 * cases finite, and fused == composite on random batches. Kept small (M ≤ 64): the CI adapter is
 * a software rasteriser.
 */
const gpu = await gpuOrSkip();
afterAll(() => gpu?.destroy());
const impls: Impl[] = gpu && fusedAvailable(gpu) ? ['composite', 'fused'] : ['composite'];

describe.runIf(gpu)('losses on the GPU', () => {
  const vectors = loadVectors();
  describe.each(impls)('public vectors (impl %s)', (impl) => {
    it.each(vectors.map((v) => [v.name, v] as const))('%s', async (_n, v) => {
      const got = await runVector(v, gpu!, impl);
      expect(Math.abs(got.loss - v.expected_loss!), `loss ${got.loss} vs ${v.expected_loss}`).toBeLessThanOrEqual(lossTolerance(v.expected_loss!));
      const { err, tol } = maxGradError(got.grad, v.expected_grad!.flat());
      expect(err, 'max gradient error').toBeLessThanOrEqual(tol);
      if (isBlock(v) && v.expected_output && got.output)
        expectClose(got.output, (v.expected_output as (number | number[])[]).flat() as number[], { rtol: 1e-4, atol: 1e-4 }, 'output');
    });
  });

  describe.each(impls)('edge cases finite in f32 (impl %s)', (impl) => {
    for (const c of edgeCases()) {
      it(c.name, async () => {
        for (const run of edgeRuns(c)) {
          const { x, batch } = edgeInput(c, run.name, gpu!);
          const loss = lossRegistry[run.name](x, batch, { ...edgeOptions(run.name, run.variant, impl, c.temperature), ...run.options });
          const label = `${run.name} ${run.variant} ${JSON.stringify(run.options ?? {})}`;
          expect(Number.isFinite(await loss.item()), label).toBe(true);
          await loss.backward();
          expect((await x.grad!.toArray()).every(Number.isFinite), `${label} gradient`).toBe(true);
          loss.dispose();
          x.dispose();
        }
      });
    }
  });

  it.each(impls)('no tensor or GPU byte leaks: every loss, forward + backward inside a scope (impl %s)', async (impl) => {
    const M = 16;
    const x = randn([M, 8], { device: gpu!, seed: 3, requiresGrad: true });
    const labels = [0, 1, 2, 0, 1, 2, 0, 1];
    const batch = { labels, biasLabels: [0, 0, 1, 1, 0, 1, 1, 0], targets: [1, 2, 3, 4, 5, 6, 7, 8], nViews: 2 };
    const run = async () => {
      for (const name of Object.keys(lossRegistry) as LossName[]) {
        await scope(async () => {
          const loss = lossRegistry[name](x, name === 'cross-entropy' ? { labels: [...labels, ...labels] } : batch, {
            impl,
            ...(name === 'end' || name === 'cross-entropy' ? {} : { temperature: 0.5 }),
          });
          await loss.backward();
          await loss.item();
        });
        x.zeroGrad();
      }
    };
    await run();
    const before = gpu!.memory();
    await run();
    const after = gpu!.memory();
    expect(after.tensors).toBe(before.tensors);
    expect(after.bytesInUse).toBe(before.bytesInUse);
    x.dispose();
  });

  it.runIf(impls.includes('fused'))('eps-supinfonce + fairkl forward + backward: fused peak memory below one M×M matrix, composite above', async () => {
    const M = 256;
    const d = 8;
    const labels = Array.from({ length: M / 2 }, (_, i) => i % 5);
    const batch = { labels, biasLabels: labels.map((l, i) => (l + i) % 2), nViews: 2 };
    const peak = async (impl: Impl) => {
      const x = randn([M, d], { device: gpu!, seed: 5, requiresGrad: true });
      await gpu!.sync();
      gpu!.backend.pool.resetPeak();
      const base = gpu!.memory().bytesInUse;
      await scope(async () => {
        const loss = lossRegistry['eps-supinfonce'](x, batch, { impl, temperature: 0.1 }).add(lossRegistry.fairkl(x, batch, { impl }));
        await loss.backward();
        await loss.item();
      });
      const p = gpu!.memory().peakBytesInUse - base;
      x.dispose();
      return p;
    };
    const matrix = M * M * 4;
    const fused = await peak('fused');
    const composite = await peak('composite');
    expect(fused, `fused peak ${fused} B vs one M×M matrix ${matrix} B`).toBeLessThan(matrix);
    expect(composite).toBeGreaterThanOrEqual(matrix);
  });

  async function valueAndGrad(device: Device, name: LossName, data: Float32Array, shape: [number, number], batch: object, options: object) {
    const x = tensor(data, shape, { device, requiresGrad: true });
    const loss = lossRegistry[name](x, batch, options as Record<string, unknown>);
    const value = await loss.item();
    await loss.backward();
    const grad = (await x.grad!.toArray()) as Float32Array;
    loss.dispose();
    x.dispose();
    return { value, grad };
  }

  it.runIf(impls.includes('fused'))('fused == composite on random batches (every loss, both variants), and both match float64', async () => {
    const M = 48;
    const d = 16;
    const B = M / 2;
    const xs: Tensor = randn([M, d], { device: gpu!, seed: 11 });
    const data = (await xs.toArray()) as Float32Array;
    xs.dispose();
    const labels = Array.from({ length: B }, (_, i) => (i * 7) % 5);
    const batch = { labels, biasLabels: labels.map((l, i) => (l + i) % 3), targets: labels.map((l, i) => l * 3 + (i % 4)), nViews: 2 };
    for (const name of Object.keys(lossRegistry) as LossName[]) {
      if (name === 'cross-entropy') continue;
      for (const variant of ['paper', 'released'] as const) {
        const options = {
          variant,
          ...(name === 'end' ? {} : { temperature: name === 'fairkl' ? 0.5 : 0.1 }),
          ...(name === 'y-aware' || name === 'l-exp' || name === 'l-thr' ? { kernel: 'gaussian', sigma: 2 } : {}),
        };
        const fused = await valueAndGrad(gpu!, name, data, [M, d], batch, { ...options, impl: 'fused' });
        const composite = await valueAndGrad(gpu!, name, data, [M, d], batch, { ...options, impl: 'composite' });
        const exact = await valueAndGrad(cpuBackend(), name, data, [M, d], batch, { ...options, impl: 'composite' });
        const label = `${name} ${variant}`;
        expect(Math.abs(fused.value - composite.value), `${label}: fused ${fused.value} vs composite ${composite.value}`).toBeLessThanOrEqual(
          1e-4 * Math.max(1, Math.abs(composite.value)),
        );
        const g = Math.max(1, ...Array.from(exact.grad, Math.abs));
        expectClose(fused.grad, composite.grad, { rtol: 0, atol: 1e-4 * g }, `${label}: fused vs composite gradient`);
        expectClose(fused.grad, exact.grad, { rtol: 0, atol: 1e-4 * g }, `${label}: fused vs float64 gradient`);
      }
    }
  });

  it.each(lossErrorCases.map((c) => [c.name, c] as const))('bad input: %s (typed error, memory at baseline)', (_n, c) => expectLossErrorCase(c, gpu!));

  it('cross-entropy: i32 labels computed on the device, out of range → the next readback throws naming labels; gradients stay finite', async () => {
    const x = randn([8, 4], { device: gpu!, seed: 2, requiresGrad: true });
    const labels = tensor([0, 1, 2, 3, 7, 0, 1, -3], [8], { device: gpu!, dtype: 'i32' })
      .add(0)
      .add(tensor([0, 0, 0, 0, 2, 0, 0, 2], [8], { device: gpu!, dtype: 'i32' }));
    const loss = lossRegistry['cross-entropy'](x, { labels });
    await loss.backward();
    await expect(loss.item()).rejects.toThrowError(/^cross-entropy: argument 'labels' must hold indices in \[0, 4\)/);
    expect(Array.from(await x.grad!.toArray()).every(Number.isFinite)).toBe(true);
    for (const t of [x, labels, loss]) t.dispose();
  });

  it.each(impls)('a zero row: f32 loss and gradient match float64 for every loss (impl %s)', async (impl) => {
    const c = edgeCases().find((e) => e.name === 'a zero row')!;
    for (const name of Object.keys(lossRegistry) as LossName[]) {
      const options = edgeOptions(name, 'paper', impl, c.temperature);
      const run = async (device: Device) => {
        const { x, batch } = edgeInput(c, name, device);
        const loss = lossRegistry[name](x, batch, options);
        const value = await loss.item();
        await loss.backward();
        const grad = Array.from(await x.grad!.toArray());
        loss.dispose();
        x.dispose();
        return { value, grad };
      };
      const got = await run(gpu!);
      const exact = await run(cpuBackend());
      expect(Math.abs(got.value - exact.value), `${name} loss`).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(exact.value)));
      // The zero row's gradient is g / 1e-12: compare each element relative to its own size.
      got.grad.forEach((g, i) =>
        expect(Math.abs(g - exact.grad[i]), `${name} grad[${i}] ${g} vs ${exact.grad[i]}`).toBeLessThanOrEqual(1e-3 * Math.max(1, Math.abs(exact.grad[i]))),
      );
    }
  });
});
