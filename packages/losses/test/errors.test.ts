import { describe, it } from 'vitest';
import { cpuBackend } from '@fairgpu/tensor';
import { expectLossErrorCase, lossErrorCases } from './errors.ts';

const cpu = cpuBackend();

describe('losses: bad inputs are typed errors and leak nothing (CPU)', () => {
  it.each(lossErrorCases.map((c) => [c.name, c] as const))('%s', (_n, c) => expectLossErrorCase(c, cpu));
});
