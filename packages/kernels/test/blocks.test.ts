import { cpuBackend } from '@fairgpu/tensor';
import { describe, expect, it } from 'vitest';
import { BLOCKS, checkBlock } from './blocks.ts';

describe('building blocks match the shared block vectors (CPU reference)', () => {
  it('has the nine block fixtures', () => expect(BLOCKS.length).toBe(9));
  for (const v of BLOCKS) it(v.name, () => checkBlock(v, cpuBackend()));
});
