/**
 * `EGL_PLATFORM=surfaceless npx tsx --conditions=@fairgpu/source tools/bench/step-ab.ts --base <worktree> [--steps 10] [--rounds 16]`
 *
 * The quick CE training step (step-time.ts's: Adam + cross-entropy at batch 128, fixed random
 * inputs) of this checkout against another checkout of the repository (`--base`, e.g. a `git
 * worktree` of an older commit with its own node_modules/@fairgpu links), both loaded in this one
 * process, each on its own device, run in alternating rounds of `--steps` steps. On a shared
 * machine whose speed drifts by ±20 % over minutes, separate runs cannot resolve a few per cent;
 * rounds seconds apart see the same machine, so the median of the per-round ratios can.
 */
import { parseArgs } from 'node:util';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    steps: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '16' },
  },
});
if (!values.base) throw new Error('step-ab: --base <path of the other checkout> is required');
const steps = Number(values.steps);
const rounds = Number(values.rounds);
const here = path.resolve(import.meta.dirname, '../..');

interface Side {
  name: string;
  step(): Promise<void>;
  sync(): Promise<void>;
  destroy(): void;
}

async function load(root: string, name: string): Promise<Side> {
  const url = (p: string) => pathToFileURL(path.join(root, p)).href;
  const T = await import(url('packages/tensor/src/index.ts'));
  const N = await import(url('packages/nn/src/index.ts'));
  const { QUICK } = await import(url('packages/cli/src/experiments/biased-mnist/config.ts'));
  const ctx = await T.initGpu();
  N.manualSeed(0);
  const net = new N.SimpleConvNet({ kernelSize: QUICK.kernelSize, channels: QUICK.channels, strides: QUICK.strides });
  const opt = new N.Adam(net.parameters(), { lr: 1e-3, weightDecay: 1e-4 });
  const x = T.randn([QUICK.batch, 3, 28, 28], { seed: 3 });
  const y = T.tensor(
    Int32Array.from({ length: QUICK.batch }, (_, i) => i % 10),
    [QUICK.batch],
    { dtype: 'i32' },
  );
  return {
    name,
    step: () =>
      T.scope(async () => {
        const loss = T.crossEntropy(net.forward(x), y);
        await loss.backward();
        opt.step();
        opt.zeroGrad();
      }),
    sync: () => ctx.sync(),
    destroy: () => {
      net.dispose();
      opt.dispose();
      x.dispose();
      y.dispose();
      ctx.destroy();
    },
  };
}

const sides = [await load(path.resolve(values.base), 'base'), await load(here, 'this')];
try {
  for (const s of sides) {
    for (let i = 0; i < 3; i++) await s.step();
    await s.sync();
  }
  const ms = async (s: Side) => {
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) await s.step();
    await s.sync();
    return (performance.now() - t0) / steps;
  };
  const ratios: number[] = [];
  const times: Record<string, number[]> = { base: [], this: [] };
  for (let r = 0; r < rounds; r++) {
    // ABBA order within each pair of rounds: neither side always runs first.
    const order = r % 2 ? [sides[1], sides[0]] : sides;
    const t: Record<string, number> = {};
    for (const s of order) t[s.name] = await ms(s);
    times.base.push(t.base);
    times.this.push(t.this);
    ratios.push(t.this / t.base);
    console.log(`round ${r + 1}: base ${t.base.toFixed(1)} ms, this ${t.this.toFixed(1)} ms, ratio ${(t.this / t.base).toFixed(3)}`);
  }
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
  const faster = ratios.filter((q) => q < 1).length;
  console.log(
    `median: base ${median(times.base).toFixed(1)} ms, this ${median(times.this).toFixed(1)} ms per step; ` +
      `ratio this/base ${median(ratios).toFixed(3)} (this faster in ${faster} of ${rounds} rounds)`,
  );
} finally {
  for (const s of sides) s.destroy();
}
