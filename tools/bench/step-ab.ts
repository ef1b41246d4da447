/**
 * `EGL_PLATFORM=surfaceless npx tsx --conditions=@fairgpu/source tools/bench/step-ab.ts --base <worktree> [--model ce|fairkl] [--steps 10] [--rounds 16]`
 *
 * A quick training step of this checkout against another checkout of the repository (`--base`,
 * e.g. a `git worktree` of an older commit), both loaded in this one process, each on its own
 * device, run in alternating rounds of `--steps` steps on fixed random inputs: the steps of
 * quick-steps.ts (`ce`: Adam + cross-entropy at batch 128, step-time.ts's; `fairkl`: the main
 * job's ε-SupInfoNCE + FairKL step), each built from its own checkout's packages. On a shared machine whose speed drifts by ±20 % over minutes, separate
 * runs cannot resolve a few per cent; rounds seconds apart see the same machine, so the median of
 * the per-round ratios can (HEAD against a copy of itself: 0.99 over 40 rounds of 5 steps).
 *
 * The other checkout needs its own node_modules/@fairgpu links (the workspace links are relative:
 * a node_modules symlinked from this checkout would load this checkout's packages on both sides),
 * e.g. a real node_modules directory linking each entry of this one, with @fairgpu/<name> →
 * ../../packages/<name> and fairgpu → ../packages/cli.
 */
import { parseArgs } from 'node:util';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { quickModel } from './quick-steps.ts';

const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    model: { type: 'string', default: 'ce' },
    steps: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '16' },
  },
});
if (!values.base) throw new Error('step-ab: --base <path of the other checkout> is required');
if (values.model !== 'ce' && values.model !== 'fairkl') throw new Error(`step-ab: --model must be ce or fairkl, got ${values.model}`);
const model = values.model;
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
  const L = await import(url('packages/losses/src/index.ts'));
  const { QUICK } = await import(url('packages/cli/src/experiments/biased-mnist/config.ts'));
  const ctx = await T.initGpu();
  const batch = QUICK.batch;
  const x = T.randn([batch, 3, 28, 28], { seed: 3 });
  const labels = Int32Array.from({ length: batch }, (_, i) => i % 10);
  // Colours that agree with the digit for most images, as in Biased-MNIST at a high ρ.
  const biasLabels = Int32Array.from({ length: batch }, (_, i) => (i % 7 === 0 ? (i + 3) % 10 : i % 10));
  const y = T.tensor(labels, [batch], { dtype: 'i32' });
  const net = quickModel(model, { T, N, L, quick: QUICK }, { kernelSize: QUICK.kernelSize, channels: QUICK.channels, strides: QUICK.strides });
  const owned: { dispose(): void }[] = [x, y, net];
  const step = () =>
    T.scope(async () => {
      await net.step(x, { labels, biasLabels }, undefined, y);
    });
  return {
    name,
    step,
    sync: () => ctx.sync(),
    destroy: () => {
      for (const o of owned) o.dispose();
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
