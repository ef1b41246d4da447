import { describe, expect, it } from 'vitest';
import { cpuBackend } from '@fairgpu/tensor';
import { lossRegistry, type Impl } from '../src/index.ts';
import { edgeCases, edgeInput, edgeOptions, edgeRuns } from './edge.ts';
import { fusedAvailable } from './vectors.ts';

const cpu = cpuBackend();
const impls: Impl[] = fusedAvailable(cpu) ? ['composite', 'fused'] : ['composite'];

describe.each(impls)('edge cases give a finite loss and gradient (float64 CPU, impl %s)', (impl) => {
  for (const c of edgeCases()) {
    it(c.name, async () => {
      for (const run of edgeRuns(c)) {
        const { x, batch } = edgeInput(c, run.name, cpu);
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
