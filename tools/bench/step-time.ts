/**
 * `EGL_PLATFORM=surfaceless npx tsx --conditions=@fairgpu/source tools/bench/step-time.ts [--steps 15] [--rounds 1] [--host-only]`
 *
 * Milliseconds per training step of the main job's quick network (Adam + cross-entropy at batch
 * 128, fixed random inputs: the step `npm run bench -- train --vs-torch` times), after three
 * warm-up steps. One line per round, so that runs of two commits can be interleaved on a noisy
 * machine (a worktree of the older commit, this file copied in): on a shared 2-core machine the
 * same code varies by ±20 % from one minute to the next, so a before/after takes the medians of
 * several alternating runs.
 *
 * `--host-only` also times each round with `queue.submit` dropped: what remains is the host's
 * share of a step (autograd, kernel choice, encoding). On a software adapter the GPU work runs
 * inside submit, so the difference is the adapter's time. The results of those steps are garbage
 * (nothing ran), and the step reads nothing back, so its control flow is the same.
 */
import { parseArgs } from 'node:util';
import { Adam, manualSeed, SimpleConvNet } from '@fairgpu/nn';
import { crossEntropy, initGpu, randn, scope, tensor } from '@fairgpu/tensor';
import { QUICK } from '../../packages/cli/src/experiments/biased-mnist/config.ts';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '15' },
    rounds: { type: 'string', default: '1' },
    'host-only': { type: 'boolean', default: false },
  },
});
const steps = Number(values.steps);
const rounds = Number(values.rounds);

const ctx = await initGpu();
try {
  manualSeed(0);
  const net = new SimpleConvNet({ kernelSize: QUICK.kernelSize, channels: QUICK.channels, strides: QUICK.strides });
  const opt = new Adam(net.parameters(), { lr: 1e-3, weightDecay: 1e-4 });
  const batch = QUICK.batch;
  const x = randn([batch, 3, 28, 28], { seed: 3 });
  const y = tensor(
    Int32Array.from({ length: batch }, (_, i) => i % 10),
    [batch],
    { dtype: 'i32' },
  );
  const step = () =>
    scope(async () => {
      const loss = crossEntropy(net.forward(x), y);
      await loss.backward();
      opt.step();
      opt.zeroGrad();
    });
  const msPerStep = async () => {
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) await step();
    await ctx.sync();
    return (performance.now() - t0) / steps;
  };
  for (let i = 0; i < 3; i++) await step();
  await ctx.sync();
  const queue = ctx.device.queue;
  const submit = queue.submit.bind(queue);
  console.log(`adapter: ${ctx.adapterInfo.description || ctx.adapterInfo.device}; quick CE step, batch ${batch}, ${steps} steps per round`);
  for (let r = 0; r < rounds; r++) {
    const ms = await msPerStep();
    let line = `step ${ms.toFixed(1)} ms = ${((batch / ms) * 1000).toFixed(0)} images/s`;
    if (values['host-only']) {
      queue.submit = () => {};
      try {
        line += `; host only (submit dropped) ${(await msPerStep()).toFixed(1)} ms`;
      } finally {
        queue.submit = submit;
      }
    }
    console.log(line);
  }
  net.dispose();
  opt.dispose();
  x.dispose();
  y.dispose();
} finally {
  ctx.destroy();
}
