import { describe, expect, it } from 'vitest';
import { cpuBackend, InvalidArgumentError, isFairgpuError, memory } from '@fairgpu/tensor';
import { lossErrorCases } from './errors.ts';

const cpu = cpuBackend();

describe('losses: bad inputs are typed errors and leak nothing (CPU)', () => {
  it.each(lossErrorCases.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    const inputs = c.inputs(cpu);
    const before = memory(cpu);
    let error: unknown;
    try {
      c.run(...inputs);
    } catch (e) {
      error = e;
    }
    expect(error, 'it must throw').toBeInstanceOf(InvalidArgumentError);
    expect(isFairgpuError(error)).toBe(true);
    expect((error as Error).message).toMatch(c.message);
    const after = memory(cpu);
    expect({ tensors: after.tensors, bytes: after.bytesInUse }).toEqual({ tensors: before.tensors, bytes: before.bytesInUse });
    for (const t of inputs) t.dispose();
  });
});
