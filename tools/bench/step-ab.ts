/**
 * `EGL_PLATFORM=surfaceless npx tsx --conditions=@fairgpu/source tools/bench/step-ab.ts --base <worktree> [--model ce|fairkl] [--steps 10] [--rounds 16]`
 *
 * A quick training step of this checkout against another checkout of the repository (`--base`,
 * e.g. a `git worktree` of an older commit), both loaded in this one process, each on its own
 * device, run in alternating rounds of `--steps` steps. `ce` is step-time.ts's step (Adam +
 * cross-entropy at batch 128, fixed random inputs); `fairkl` is the main job's ε-SupInfoNCE +
 * FairKL step (profile-step.ts's: SGD on the encoder, Adam on the classifier of its detached,
 * normalised features). On a shared machine whose speed drifts by ±20 % over minutes, separate
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
  const shape = { kernelSize: QUICK.kernelSize, channels: QUICK.channels, strides: QUICK.strides };
  const x = T.randn([batch, 3, 28, 28], { seed: 3 });
  const labels = Int32Array.from({ length: batch }, (_, i) => i % 10);
  // Colours that agree with the digit for most images, as in Biased-MNIST at a high ρ.
  const biasLabels = Int32Array.from({ length: batch }, (_, i) => (i % 7 === 0 ? (i + 3) % 10 : i % 10));
  const y = T.tensor(labels, [batch], { dtype: 'i32' });
  const owned: { dispose(): void }[] = [x, y];
  let step: () => Promise<void>;
  if (model === 'ce') {
    N.manualSeed(0);
    const net = new N.SimpleConvNet(shape);
    const opt = new N.Adam(net.parameters(), { lr: 1e-3, weightDecay: 1e-4 });
    owned.push(net, opt);
    step = () =>
      T.scope(async () => {
        await T.crossEntropy(net.forward(x), y).backward();
        opt.step();
        opt.zeroGrad();
      });
  } else {
    const f = QUICK.fairkl;
    N.manualSeed(1);
    const encoder = new N.SimpleConvNet({ ...shape, tanhLast: true, numClasses: 0 });
    const classifier = new N.Linear(encoder.featureDim, 10);
    const opt = new N.SGD(encoder.parameters(), { lr: f.lr, momentum: f.momentum, weightDecay: f.weightDecay });
    const clfOpt = new N.Adam(classifier.parameters(), { lr: f.classifierLr });
    owned.push(encoder, classifier, opt, clfOpt);
    const lossBatch = { labels, biasLabels };
    step = () =>
      T.scope(async () => {
        const features = encoder.features(x);
        const contrastive = L.epsSupInfoNCE(features, lossBatch, { temperature: f.temperature, epsilon: f.epsilon, variant: 'released' });
        const fair = L.fairKL(features, lossBatch, { temperature: f.fairklTemperature, variant: 'released' });
        const ce = T.crossEntropy(classifier.forward(features.detach().normalize(-1)), y);
        await contrastive.mul(f.alpha).add(fair.mul(f.lambda)).add(ce).backward();
        opt.step();
        clfOpt.step();
        opt.zeroGrad();
        clfOpt.zeroGrad();
      });
  }
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
