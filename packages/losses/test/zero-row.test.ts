import { describe, expect, it } from 'vitest';
import { cpuBackend, Rng, tensor, type Tensor } from '@fairgpu/tensor';
import { crossEntropy, end, epsSupCon, epsSupInfoNCE, fairKL, lExp, lThr, ntXent, supcon, yAware, type Impl, type LossBatch } from '../src/index.ts';
import { refContrastive, refEnd, refFairKL, refKernel, type RefBatch } from './reference.ts';
import { fusedAvailable } from './vectors.ts';

/**
 * Zero feature rows (dead-ReLU features) through every loss family: the README promises finite
 * features → finite loss and gradient. l2Normalize divides by max(‖x‖, 1e-12) with PyTorch's
 * gradient (x / eps at ‖x‖ ≤ eps), so a zero row has the finite gradient g / 1e-12. Checked on the
 * float64 CPU backend against the independent loops of reference.ts (value) and their central
 * finite differences (gradient): the step is 1e-16 on a zero row (inside the linear regime
 * ‖x‖ < eps; a larger step would jump onto the unit sphere) and 1e-6 elsewhere.
 */
const cpu = cpuBackend();
const impls: Impl[] = fusedAvailable(cpu) ? ['composite', 'fused'] : ['composite'];

function batchWithZeroRows(seed: number, zeroRows: readonly number[] | 'all'): RefBatch {
  const rng = new Rng(seed);
  const B = 8;
  const x = Array.from({ length: B }, (_, i) => Array.from({ length: 4 }, () => (zeroRows === 'all' || zeroRows.includes(i) ? 0 : rng.normal())));
  return { x, labels: [0, 1, 0, 1, 2, 2, 3, 3], bias: [0, 1, 1, 0, 0, 1, 0, 1], targets: [20, 21, 21, 35, 50, 50, 64, 70], nViews: 1 };
}

const toBatch = (b: RefBatch): LossBatch => ({ labels: b.labels, biasLabels: b.bias, targets: b.targets, nViews: b.nViews });

function fd(f: (x: number[][]) => number, x: number[][], zeroStep: number): number[] {
  const out: number[] = [];
  x.forEach((row, i) => {
    const zero = row.every((v) => v === 0);
    row.forEach((_, k) => {
      const h = zero ? zeroStep : 1e-6;
      const plus = x.map((r) => [...r]);
      const minus = x.map((r) => [...r]);
      plus[i][k] += h;
      minus[i][k] -= h;
      out.push((f(plus) - f(minus)) / (2 * h));
    });
  });
  return out;
}

async function ours(fn: (x: Tensor) => Tensor, b: RefBatch): Promise<{ loss: number; grad: number[] }> {
  const x = tensor(b.x.flat(), [b.x.length, b.x[0].length], { device: cpu, requiresGrad: true });
  const loss = fn(x);
  const value = cpu.values(loss.view('test', 'loss').storage)[0];
  await loss.backward();
  const grad = Array.from(cpu.values(x.grad!.view('test', 'grad').storage));
  x.dispose();
  loss.dispose();
  return { loss: value, grad };
}

/** Ours vs the float64 loop (value) and its finite differences (gradient); `ref` omitted: our own float64 loss. */
async function check(fn: (x: Tensor) => Tensor, b: RefBatch, ref?: (b: RefBatch) => number, zeroStep = 1e-16): Promise<void> {
  const got = await ours(fn, b);
  expect(Number.isFinite(got.loss), 'finite loss').toBe(true);
  expect(got.grad.every(Number.isFinite), `finite gradient ${got.grad}`).toBe(true);
  const own = (x: number[][]): number => {
    const t = tensor(x.flat(), [x.length, x[0].length], { device: cpu });
    const l = fn(t);
    const v = cpu.values(l.view('test', 'loss').storage)[0];
    l.dispose();
    t.dispose();
    return v;
  };
  if (ref) expect(Math.abs(got.loss - ref(b)), `loss ${got.loss} vs ${ref(b)}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(ref(b))));
  const numeric = fd(ref ? (x) => ref({ ...b, x }) : own, b.x, zeroStep);
  got.grad.forEach((g, i) =>
    expect(Math.abs(g - numeric[i]), `element ${i}: ${g} vs ${numeric[i]}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(numeric[i]))),
  );
}

describe.each(impls)('zero feature rows: finite, float64 reference and finite differences (impl %s)', (impl) => {
  const common = { variant: 'paper' as const, impl };
  const cases = [
    ['one zero row among random rows', batchWithZeroRows(1, [2])],
    ['two zero rows of one class', batchWithZeroRows(2, [4, 5])],
    ['every row zero (the issue: zeros([8, 4]) gave NaN gradients)', batchWithZeroRows(3, 'all')],
  ] as const;
  for (const [name, b] of cases) {
    const batch = toBatch(b);
    describe(name, () => {
      it('supcon', () =>
        check(
          (x) => supcon(x, batch, { ...common, temperature: 0.2 }),
          b,
          (r) => refContrastive('supcon', r, { temperature: 0.2 }),
        ));
      it('eps-supinfonce out', () =>
        check(
          (x) => epsSupInfoNCE(x, batch, { ...common, temperature: 0.1, epsilon: 0.3 }),
          b,
          (r) => refContrastive('eps-out', r, { temperature: 0.1, epsilon: 0.3 }),
        ));
      it('eps-supinfonce in', () =>
        check(
          (x) => epsSupInfoNCE(x, batch, { ...common, temperature: 0.1, epsilon: 0.5, form: 'in' }),
          b,
          (r) => refContrastive('eps-in', r, { temperature: 0.1, epsilon: 0.5 }),
        ));
      it('eps-supcon', () =>
        check(
          (x) => epsSupCon(x, batch, { ...common, temperature: 0.5, epsilon: 0.2 }),
          b,
          (r) => refContrastive('eps-supcon', r, { temperature: 0.5, epsilon: 0.2 }),
        ));
      it('fairkl', () =>
        check(
          (x) => fairKL(x, batch, { ...common, temperature: 0.5 }),
          b,
          (r) => refFairKL(r, { temperature: 0.5 }),
        ));
      it('end', () =>
        check(
          (x) => end(x, batch, { ...common, alpha: 0.7, beta: 1.3 }),
          b,
          (r) => refEnd(r, { alpha: 0.7, beta: 1.3 }),
        ));
      const k = { temperature: 0.2, kernel: 'rbf' as const, sigma: 5 };
      it('y-aware', () =>
        check(
          (x) => yAware(x, batch, { ...common, ...k }),
          b,
          (r) => refKernel('y-aware', r, k),
        ));
      it('l-exp', () =>
        check(
          (x) => lExp(x, batch, { ...common, ...k }),
          b,
          (r) => refKernel('exp', r, k),
        ));
      it('l-thr', () =>
        check(
          (x) => lThr(x, batch, { ...common, ...k }),
          b,
          (r) => refKernel('thr', r, k),
        ));
      it('nt-xent (float64 loss itself)', () => check((x) => ntXent(x, { nViews: 2 }, { impl, temperature: 0.5 }), b));
      it('cross-entropy with a zero logit row (float64 loss itself)', () =>
        check((x) => crossEntropy(x, { labels: [0, 1, 2, 3, 0, 1, 2, 3] }), b, undefined, 1e-6)); // no normalisation: an ordinary step
      it('released variants stay finite', async () => {
        for (const fn of [
          (x: Tensor) => supcon(x, batch, { variant: 'released', impl }),
          (x: Tensor) => epsSupInfoNCE(x, batch, { variant: 'released', impl, epsilon: 0.1 }),
          (x: Tensor) => fairKL(x, batch, { variant: 'released', impl }),
          (x: Tensor) => end(x, batch, { variant: 'released', impl }),
        ]) {
          const got = await ours(fn, b);
          expect(Number.isFinite(got.loss) && got.grad.every(Number.isFinite)).toBe(true);
        }
      });
    });
  }
});
