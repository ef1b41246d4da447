import { afterAll, describe, expect, it } from 'vitest';
import { memory } from '@fairgpu/tensor';
import { errorCases } from './edge.ts';
import { gpuOrSkip } from './helpers.ts';

const gpu = await gpuOrSkip();
afterAll(() => gpu?.destroy());

/** The edge-case table of edge.ts on the GPU (where "another device" is the CPU reference). */
describe.skipIf(!gpu)('bad input on the GPU: typed errors, memory() at its baseline, state unchanged', () => {
  for (const c of errorCases()) {
    it(c.name, async () => {
      const device = gpu!.backend;
      const fixture = c.setup?.(device) ?? { act: () => undefined };
      const before = memory(device);
      let error: unknown = null;
      try {
        await fixture.act();
      } catch (e) {
        error = e;
      }
      expect(error, 'no error was thrown').toBeInstanceOf(c.error);
      expect((error as Error).message).toMatch(c.message);
      const after = memory(device);
      expect({ tensors: after.tensors, bytesInUse: after.bytesInUse }).toEqual({ tensors: before.tensors, bytesInUse: before.bytesInUse });
      await fixture.unchanged?.();
      fixture.dispose?.();
    });
  }
});
