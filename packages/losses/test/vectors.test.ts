import { describe, expect, it } from 'vitest';
import { cpuBackend } from '@fairgpu/tensor';
import { fusedAvailable } from './vectors.ts';
import type { Impl } from '../src/index.ts';
import { expectClose } from './helpers.ts';
import { isBlock, loadVectors, lossTolerance, maxGradError, runVector } from './vectors.ts';

/**
 * Every public vector (the authors' released code in float64 PyTorch, plus `variant: 'paper'`
 * cases) through `lossRegistry` on the float64 CPU backend, both implementations: the composite
 * path runs the kernels' composite statistics, the fused path their custom ops' float64 references.
 */
const vectors = loadVectors();
const cpu = cpuBackend();
const impls: Impl[] = fusedAvailable(cpu) ? ['composite', 'fused'] : ['composite'];
if (impls.length === 1) console.warn("@fairgpu/kernels has no fused path in this build: the impl 'fused' vector runs are skipped");

describe.each<Impl>(impls)('public vectors on the float64 CPU backend (impl %s)', (impl) => {
  it.each(vectors.map((v) => [v.name, v] as const))('%s', async (_name, v) => {
    const got = await runVector(v, cpu, impl);
    expect(Math.abs(got.loss - v.expected_loss!), `loss ${got.loss} vs ${v.expected_loss}`).toBeLessThanOrEqual(lossTolerance(v.expected_loss!));
    const { err, tol } = maxGradError(got.grad, v.expected_grad!.flat());
    expect(err, 'max gradient error').toBeLessThanOrEqual(tol);
    if (isBlock(v) && v.expected_output && got.output)
      expectClose(got.output, (v.expected_output as (number | number[])[]).flat() as number[], { rtol: 1e-4, atol: 1e-4 }, 'output');
  });
});
