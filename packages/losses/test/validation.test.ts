import { describe, expect, it } from 'vitest';
import { cpuBackend, InvalidArgumentError, NonFiniteError, Rng, tensor, type Tensor } from '@fairgpu/tensor';
import { checkedLoss, checkFinite, crossEntropy, lossRegistry, softmaxCrossEntropy, supcon, validateFeatures, type LossName } from '../src/index.ts';
import { fusedAvailable, loadVectors, lossOf, runVector } from './vectors.ts';

const cpu = cpuBackend();
/** The default impl ('fused') once @fairgpu/kernels has it; the composite path until then. */
const impl = fusedAvailable(cpu) ? 'fused' : 'composite';
const impls = fusedAvailable(cpu) ? (['composite', 'fused'] as const) : (['composite'] as const);

function features(M: number, d: number, seed = 1): Tensor {
  const rng = new Rng(seed);
  return tensor(
    Array.from({ length: M * d }, () => rng.normal()),
    [M, d],
    { device: cpu, requiresGrad: true },
  );
}

function expectArgError(fn: () => unknown, argument: string, type: new (...a: never[]) => Error = InvalidArgumentError): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected a ${type.name} naming '${argument}'`).toBeInstanceOf(type);
  expect((caught as { argument: string }).argument).toBe(argument);
}

const full = { labels: [0, 1, 0, 1, 2, 2], biasLabels: [0, 0, 1, 1, 0, 1], targets: [1, 2, 3, 4, 5, 6] };
const names = Object.keys(lossRegistry) as LossName[];

describe('validation: typed errors naming the argument', () => {
  const x = features(6, 4);
  it.each(names.filter((n) => n !== 'nt-xent'))('%s: labels length ≠ B, non-integer labels, nViews not dividing M', (name) => {
    const needsLabels = !['y-aware', 'l-exp', 'l-thr'].includes(name);
    const field = needsLabels ? 'labels' : 'targets';
    if (needsLabels) {
      expectArgError(() => lossRegistry[name](x, { ...full, labels: [0, 1, 0] }), 'labels');
      expectArgError(() => lossRegistry[name](x, { ...full, labels: [0, 1, 0.5, 1, 2, 2] }), 'labels');
      expectArgError(() => lossRegistry[name](x, { ...full, labels: undefined }), 'labels');
    } else {
      expectArgError(() => lossRegistry[name](x, { ...full, targets: [1, 2] }), 'targets');
      expectArgError(() => lossRegistry[name](x, { ...full, targets: [1, 2, 3, NaN, 5, 6] }), 'targets');
      expectArgError(() => lossRegistry[name](x, { ...full, targets: undefined }), 'targets');
    }
    expectArgError(() => lossRegistry[name](x, { ...full, nViews: 4 }), 'nViews');
    expect(field).toBeTruthy();
  });
  it.each(['supcon', 'nt-xent', 'eps-supinfonce', 'eps-supcon', 'fairkl', 'y-aware', 'l-exp', 'l-thr'] as const)('%s: temperature ≤ 0 or NaN', (name) => {
    const batch = name === 'nt-xent' ? { nViews: 2 } : full;
    expectArgError(() => lossRegistry[name](x, batch, { temperature: 0 }), 'temperature');
    expectArgError(() => lossRegistry[name](x, batch, { temperature: -0.1 }), 'temperature');
    expectArgError(() => lossRegistry[name](x, batch, { temperature: NaN }), 'temperature');
  });
  it('losses that need biasLabels or targets name the missing one', () => {
    expectArgError(() => lossRegistry.fairkl(x, { labels: full.labels }), 'biasLabels');
    expectArgError(() => lossRegistry.end(x, { labels: full.labels }), 'biasLabels');
    for (const n of ['y-aware', 'l-exp', 'l-thr'] as const) expectArgError(() => lossRegistry[n](x, {}), 'targets');
  });
  it('options: variant, impl, form, kernel, deltaReduction, epsilon, labelSmoothing, nt-xent views, reference', () => {
    expectArgError(() => supcon(x, full, { variant: 'published' as never }), 'variant');
    expectArgError(() => supcon(x, full, { impl: 'gpu' as never }), 'impl');
    expectArgError(() => supcon(x, full, { baseTemperature: 0 }), 'baseTemperature');
    expectArgError(() => lossRegistry['eps-supinfonce'](x, full, { form: 'both' }), 'form');
    expectArgError(() => lossRegistry['eps-supinfonce'](x, full, { epsilon: -1 }), 'epsilon');
    expectArgError(() => lossRegistry['y-aware'](x, full, { kernel: 'laplace' }), 'kernel');
    expectArgError(() => lossRegistry['y-aware'](x, full, { sigma: 0 }), 'sigma');
    expectArgError(() => lossRegistry['l-thr'](x, full, { deltaReduction: 'max' }), 'deltaReduction');
    expectArgError(() => lossRegistry['nt-xent'](x, { nViews: 3 }), 'nViews');
    expectArgError(() => crossEntropy(x, { labels: [0, 1, 2, 3, 4, 5] }), 'labels');
    expectArgError(() => crossEntropy(x, { labels: [0, 1, 2, 3, 0, 0] }, { labelSmoothing: 1 }), 'labelSmoothing');
    expectArgError(() => supcon(x, full, { refLabels: [0] }), 'refLabels');
    expectArgError(() => supcon(x, full, { refEmbeddings: features(3, 4) }), 'refLabels');
    expectArgError(() => supcon(x, full, { refEmbeddings: features(3, 5), refLabels: [0, 1, 2] }), 'refEmbeddings');
    expectArgError(() => supcon(features(3, 4).reshape([12]), full), 'x');
    expectArgError(() => lossRegistry['l-thr'](x, { targets: tensor([1, 2, 3, 4, 5, 6], [6], { device: cpu }) }), 'targets');
  });
  it('tensor labels: i32 required, length B or M', () => {
    expectArgError(() => supcon(x, { labels: tensor([0, 1, 0, 1, 2, 2], [6], { device: cpu }) }), 'labels');
    expectArgError(() => supcon(x, { labels: tensor([0, 1], [2], { device: cpu, dtype: 'i32' }) }), 'labels');
  });
  it('NaN/Inf features: validateFeatures / checkedLoss throw NonFiniteError naming x; checkFinite names the loss', async () => {
    const bad = tensor([1, 2, NaN, 4, 5, 6, 7, 8], [4, 2], { device: cpu, allowNonFinite: true });
    await expect(validateFeatures(bad)).rejects.toSatisfy((e: unknown) => e instanceof NonFiniteError && (e as NonFiniteError).argument === 'x');
    await expect(checkedLoss(lossRegistry.supcon, bad, { labels: [0, 0, 1, 1] }, { impl })).rejects.toBeInstanceOf(NonFiniteError);
    await expect(checkFinite(tensor([Infinity], [1], { device: cpu, allowNonFinite: true }), 'loss')).rejects.toSatisfy(
      (e: unknown) => (e as NonFiniteError).argument === 'loss',
    );
    const ok = await checkedLoss(lossRegistry.supcon, features(4, 2), { labels: [0, 0, 1, 1] }, { impl });
    expect(Number.isFinite(await ok.item())).toBe(true);
  });
});

describe("special vectors (the authors' code returns NaN / +inf)", () => {
  const special = loadVectors('manifest.special.json');
  it.each(special.map((v) => [v.name, v] as const))('%s: released rejects the batch with a typed error naming labels; paper is finite', async (_n, v) => {
    const x = tensor(v.features.flat(), [v.features.length, v.features[0].length], { device: cpu, requiresGrad: true });
    expectArgError(() => lossOf(v, 'composite')(x), 'labels');
    const paper = await runVector({ ...v, params: { ...v.params, variant: 'paper' } }, cpu, 'composite');
    expect(Number.isFinite(paper.loss)).toBe(true);
    expect(paper.grad.every(Number.isFinite)).toBe(true);
    // With tensor labels the host cannot see the lonely anchor: released stays finite (the anchor contributes 0).
    const labels = tensor(v.labels!, [v.labels!.length], { device: cpu, dtype: 'i32' });
    const opts = {
      impl,
      variant: 'released',
      temperature: v.params.temperature,
      baseTemperature: v.params.base_temperature,
      ...(v.loss === 'eps_supinfonce_in' ? { form: 'in', epsilon: v.params.epsilon } : {}),
    };
    const fn = v.loss === 'supcon' ? lossRegistry.supcon : lossRegistry['eps-supinfonce'];
    expect(Number.isFinite(await fn(x, { labels }, opts).item())).toBe(true);
  });
});

describe('cross-entropy', () => {
  it('equals softmaxCrossEntropy without smoothing and the smoothed formula with it', async () => {
    const logits = features(5, 4, 3);
    const labels = [0, 3, 1, 1, 2];
    const plain = await crossEntropy(logits, { labels }).item();
    expect(plain).toBeCloseTo(await softmaxCrossEntropy(logits, tensor(labels, [5], { device: cpu, dtype: 'i32' })).item(), 6);
    const v = cpu.values(logits.view('t', 'x').storage);
    let expected = 0;
    for (let i = 0; i < 5; i++) {
      const row = Array.from(v.slice(i * 4, i * 4 + 4));
      const m = Math.max(...row);
      const lse = m + Math.log(row.reduce((s, a) => s + Math.exp(a - m), 0));
      const logp = row.map((a) => a - lse);
      expected += (0.9 * -logp[labels[i]] + (0.1 * -logp.reduce((s, a) => s + a, 0)) / 4) / 5;
    }
    expect(await crossEntropy(logits, { labels }, { labelSmoothing: 0.1 }).item()).toBeCloseTo(expected, 5);
  });
});

describe('refEmbeddings / refLabels (anchors against a memory queue)', () => {
  const rowsOf = (t: Tensor) => {
    const v = Array.from(cpu.values(t.view('t', 'x').storage));
    const d = t.shape[1];
    return Array.from({ length: t.shape[0] }, (_, i) => {
      const r = v.slice(i * d, i * d + d);
      const n = Math.hypot(...r);
      return r.map((a) => a / n);
    });
  };
  it.each(impls)('y-aware / l-exp against a reference set with refTargets equal the float64 loop (impl %s)', async (impl) => {
    const x = features(5, 3, 7);
    const ref = features(7, 3, 8);
    const targets = [1, 2, 2, 5, 3];
    const refTargets = [1, 4, 2, 2, 6, 3, 0];
    const tau = 0.3;
    const w = (a: number, b: number) => Math.exp(-((a - b) ** 2) / 2);
    const za = rowsOf(x);
    const zr = rowsOf(ref);
    const expected = (method: 'y-aware' | 'exp') => {
      let total = 0;
      for (let i = 0; i < 5; i++) {
        const s = zr.map((r) => r.reduce((acc, a, k) => acc + a * za[i][k], 0) / tau);
        const m = Math.max(...s);
        const l = s.map((v) => v - m);
        const ws = refTargets.map((t) => w(targets[i], t));
        const u =
          method === 'y-aware'
            ? Math.log(l.reduce((acc, v) => acc + Math.exp(v), 0))
            : Math.log(s.reduce((acc, v, j) => acc + Math.exp(v * (1 - ws[j])), 0)) - m;
        total += -ws.reduce((acc, wj, j) => acc + wj * (l[j] - u), 0) / ws.reduce((a, b) => a + b, 0);
      }
      return total / 5;
    };
    const o = { refEmbeddings: ref, refTargets, temperature: tau, kernel: 'rbf' as const, sigma: 1, impl };
    expect(await lossRegistry['y-aware'](x, { targets }, o).item()).toBeCloseTo(expected('y-aware'), 5);
    expect(await lossRegistry['l-exp'](x, { targets }, o).item()).toBeCloseTo(expected('exp'), 5);
    expectArgError(() => lossRegistry['y-aware'](x, { targets }, { refEmbeddings: ref }), 'refTargets');
    expectArgError(() => lossRegistry['l-thr'](x, { targets }, { refEmbeddings: ref, refTargets }), 'refEmbeddings');
  });

  it('supcon against a reference set equals the float64 loop (no pair excluded), every impl', async () => {
    const x = features(4, 3, 5);
    const ref = features(6, 3, 6);
    const labels = [0, 1, 0, 2];
    const refLabels = [0, 0, 1, 2, 1, 0];
    const za = rowsOf(x);
    const zr = rowsOf(ref);
    let total = 0;
    let n = 0;
    for (let i = 0; i < 4; i++) {
      const l = zr.map((r) => r.reduce((s, a, k) => s + a * za[i][k], 0) / 0.5);
      const lse = Math.log(l.reduce((s, a) => s + Math.exp(a), 0));
      const pos = l.filter((_, j) => refLabels[j] === labels[i]);
      if (!pos.length) continue;
      total += -pos.reduce((s, a) => s + a - lse, 0) / pos.length;
      n++;
    }
    for (const i of impls) expect(await supcon(x, { labels }, { refEmbeddings: ref, refLabels, temperature: 0.5, impl: i }).item()).toBeCloseTo(total / n, 5);
  });
});
