import { describe, expect, it } from 'vitest';
import { cpuBackend, Rng, tensor, type Tensor } from '@fairgpu/tensor';
import { end, epsSupCon, epsSupInfoNCE, fairKL, lExp, lThr, supcon, yAware, type Impl, type LossBatch } from '../src/index.ts';
import { expectClose } from './helpers.ts';
import { numericGrad, refContrastive, refEnd, refFairKL, refKernel, type RefBatch } from './reference.ts';
import { fusedAvailable } from './vectors.ts';

/**
 * The `paper` variants against the independent float64 loops of reference.ts, on random batches
 * (lonely anchors, ties in the targets, two views), value and gradient (central differences of
 * the loop), on the float64 CPU backend with every implementation available.
 */
const cpu = cpuBackend();
const impls: Impl[] = fusedAvailable(cpu) ? ['composite', 'fused'] : ['composite'];

function randomBatch(seed: number, B: number, d: number, V: number, classes: number, biases = 2, integerTargets = true): RefBatch {
  const rng = new Rng(seed);
  const M = B * V;
  const x = Array.from({ length: M }, () => Array.from({ length: d }, () => rng.normal()));
  const labels = Array.from({ length: B }, () => Math.floor(rng.uniform() * classes));
  labels[B - 1] = 99; // a sample alone in its class
  const bias = Array.from({ length: B }, () => Math.floor(rng.uniform() * biases));
  const targets = Array.from({ length: B }, () => (integerTargets ? Math.floor(rng.uniform() * 5) : 10 * rng.uniform()));
  return { x, labels, bias, targets, nViews: V };
}

function toBatch(b: RefBatch): LossBatch {
  return { labels: b.labels, biasLabels: b.bias, targets: b.targets, nViews: b.nViews };
}

async function ours(fn: (x: Tensor) => Tensor, b: RefBatch): Promise<{ loss: number; grad: Float64Array }> {
  const x = tensor(b.x.flat(), [b.x.length, b.x[0].length], { device: cpu, requiresGrad: true });
  const loss = fn(x);
  const value = cpu.values(loss.view('test', 'loss').storage)[0];
  await loss.backward();
  const grad = Float64Array.from(cpu.values(x.grad!.view('test', 'grad').storage));
  x.dispose();
  loss.dispose();
  return { loss: value, grad };
}

async function check(fn: (x: Tensor) => Tensor, ref: (b: RefBatch) => number, b: RefBatch): Promise<void> {
  const got = await ours(fn, b);
  const expected = ref(b);
  expect(Number.isFinite(got.loss)).toBe(true);
  expect(Math.abs(got.loss - expected)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(expected)));
  const numeric = numericGrad((x) => ref({ ...b, x }), b.x);
  const scale = Math.max(1, ...numeric.map(Math.abs));
  expectClose(got.grad, numeric, { rtol: 0, atol: 1e-6 * scale }, 'gradient vs finite differences of the float64 loop');
}

describe.each(impls)('paper variants vs float64 loops (impl %s)', (impl) => {
  const common = { variant: 'paper' as const, impl };
  for (const [seed, V] of [
    [1, 1],
    [2, 2],
  ] as const) {
    const b = randomBatch(seed, 9, 5, V, 3);
    const batch = toBatch(b);
    it(`supcon, nViews ${V}`, () =>
      check(
        (x) => supcon(x, batch, { ...common, temperature: 0.2, baseTemperature: 0.07 }),
        (r) => refContrastive('supcon', r, { temperature: 0.2, baseTemperature: 0.07 }),
        b,
      ));
    it(`eps-supinfonce out (ε 0.3, logEps 1e-3), nViews ${V}`, () =>
      check(
        (x) => epsSupInfoNCE(x, batch, { ...common, temperature: 0.1, epsilon: 0.3, logEps: 1e-3 }),
        (r) => refContrastive('eps-out', r, { temperature: 0.1, epsilon: 0.3, logEps: 1e-3 }),
        b,
      ));
    it(`eps-supinfonce in (ε 0.5), nViews ${V}`, () =>
      check(
        (x) => epsSupInfoNCE(x, batch, { ...common, temperature: 0.1, epsilon: 0.5, form: 'in' }),
        (r) => refContrastive('eps-in', r, { temperature: 0.1, epsilon: 0.5 }),
        b,
      ));
    it(`eps-supcon (ε 0.2), nViews ${V}`, () =>
      check(
        (x) => epsSupCon(x, batch, { ...common, temperature: 0.5, epsilon: 0.2, baseTemperature: 1 }),
        (r) => refContrastive('eps-supcon', r, { temperature: 0.5, epsilon: 0.2, baseTemperature: 1 }),
        b,
      ));
    it(`fairkl (symmetric ${V === 2}), nViews ${V}`, () =>
      check(
        (x) => fairKL(x, batch, { ...common, temperature: 0.5, symmetric: V === 2 }),
        (r) => refFairKL(r, { temperature: 0.5, symmetric: V === 2 }),
        b,
      ));
    it(`end, nViews ${V}`, () =>
      check(
        (x) => end(x, batch, { ...common, alpha: 0.7, beta: 1.3 }),
        (r) => refEnd(r, { alpha: 0.7, beta: 1.3 }),
        b,
      ));
  }
  for (const kernel of ['gaussian', 'rbf', 'cauchy'] as const) {
    for (const integer of [true, false]) {
      const b = randomBatch(kernel.length + (integer ? 10 : 20), 7, 4, 2, 3, 2, integer);
      const batch = toBatch(b);
      const o = { temperature: 0.2, baseTemperature: 0.1, kernel, sigma: kernel === 'cauchy' ? 0.5 : 1.5 };
      const what = `${kernel}, ${integer ? 'integer targets (ties)' : 'real targets'}`;
      it(`y-aware, ${what}`, () =>
        check(
          (x) => yAware(x, batch, { ...common, ...o }),
          (r) => refKernel('y-aware', r, o),
          b,
        ));
      it(`l-exp, ${what}`, () =>
        check(
          (x) => lExp(x, batch, { ...common, ...o }),
          (r) => refKernel('exp', r, o),
          b,
        ));
      it(`l-thr, ${what}`, () =>
        check(
          (x) => lThr(x, batch, { ...common, ...o }),
          (r) => refKernel('thr', r, o),
          b,
        ));
    }
  }
});
