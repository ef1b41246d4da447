import { afterAll, describe, it } from 'vitest';
import { errorCases, expectErrorCase } from './edge.ts';
import { gpuOrSkip } from './helpers.ts';

const gpu = await gpuOrSkip();
afterAll(() => gpu?.destroy());

/** The edge-case table of edge.ts on the GPU (where "another device" is the CPU reference). */
describe.skipIf(!gpu)('bad input on the GPU: typed errors, memory() at its baseline, state unchanged', () => {
  for (const c of errorCases()) it(c.name, () => expectErrorCase(c, gpu!.backend));
});
