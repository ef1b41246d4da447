import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, tensor, type Tensor } from '@fairgpu/tensor';
import { Adam, AdamW, CosineAnnealingLR, LinearWarmup, MultiStepLR, SGD, StepLR, type Optimizer } from '../src/index.ts';
import { expectClose } from './helpers.ts';

/**
 * Optimizers against scalar float64 transcriptions of PyTorch's documented update rules
 * (torch.optim.SGD / Adam / AdamW pseudo-code), on the CPU reference backend, with a gradient
 * sequence that changes sign and magnitude. (toArray returns f32, hence the 1e-6 tolerance.)
 */
const grads = [
  [0.5, -1, 2],
  [0.1, 0.3, -0.2],
  [-0.7, 0.05, 1.5],
  [0.2, -0.4, 0.0],
];
const p0 = [1, -2, 0.5];

async function runOnce(make: (p: Tensor) => Optimizer): Promise<number[]> {
  const p = tensor(p0, [3], { device: 'cpu', requiresGrad: true });
  const opt = make(p);
  for (const g of grads) {
    // loss = Σ g·p has gradient g
    await p
      .mul(tensor(g, [3], { device: 'cpu' }))
      .sum()
      .backward();
    opt.step();
    opt.zeroGrad();
  }
  return Array.from(await p.toArray());
}

/**
 * The fused update (the default) and the composite one (`fused: false`) must give the same
 * result; `make` receives the flag to pass through. Returns the fused result.
 */
async function run(make: (p: Tensor, fused: boolean) => Optimizer): Promise<number[]> {
  const fused = await runOnce((p) => make(p, true));
  const composite = await runOnce((p) => make(p, false));
  expectClose(fused, composite, { rtol: 1e-12, atol: 1e-12 });
  return fused;
}

function sgdRef(lr: number, mu: number, wd: number, nesterov: boolean, dampening = 0): number[] {
  return p0.map((p, i) => {
    let buf = 0;
    grads.forEach((gs, t) => {
      let g = gs[i] + wd * p;
      if (mu) {
        buf = t === 0 ? g : mu * buf + (1 - dampening) * g;
        g = nesterov ? g + mu * buf : buf;
      }
      p -= lr * g;
    });
    return p;
  });
}

function adamRef(lr: number, b1: number, b2: number, eps: number, wd: number, decoupled: boolean): number[] {
  return p0.map((p, i) => {
    let m = 0;
    let v = 0;
    grads.forEach((gs, k) => {
      const t = k + 1;
      let g = gs[i];
      if (decoupled) p *= 1 - lr * wd;
      else g += wd * p;
      m = b1 * m + (1 - b1) * g;
      v = b2 * v + (1 - b2) * g * g;
      const mh = m / (1 - b1 ** t);
      const vh = v / (1 - b2 ** t);
      p -= (lr * mh) / (Math.sqrt(vh) + eps);
    });
    return p;
  });
}

describe('optimizers (PyTorch update rules)', () => {
  it('SGD plain, momentum, Nesterov, weight decay, dampening', async () => {
    expectClose(await run((p, fused) => new SGD([p], { lr: 0.1, fused })), sgdRef(0.1, 0, 0, false), { rtol: 1e-6, atol: 1e-7 });
    expectClose(await run((p, fused) => new SGD([p], { fused, lr: 0.1, momentum: 0.9 })), sgdRef(0.1, 0.9, 0, false), { rtol: 1e-6, atol: 1e-7 });
    expectClose(await run((p, fused) => new SGD([p], { fused, lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 })), sgdRef(0.05, 0.9, 0.01, true), {
      rtol: 1e-6,
      atol: 1e-7,
    });
    expectClose(await run((p, fused) => new SGD([p], { fused, lr: 0.05, momentum: 0.5, dampening: 0.3 })), sgdRef(0.05, 0.5, 0, false, 0.3), {
      rtol: 1e-6,
      atol: 1e-7,
    });
  });
  it('Adam with L2 weight decay and AdamW with decoupled decay', async () => {
    expectClose(await run((p, fused) => new Adam([p], { fused, lr: 0.01 })), adamRef(0.01, 0.9, 0.999, 1e-8, 0, false), { rtol: 1e-6, atol: 1e-7 });
    expectClose(await run((p, fused) => new Adam([p], { fused, lr: 0.01, weightDecay: 0.1, betas: [0.8, 0.99] })), adamRef(0.01, 0.8, 0.99, 1e-8, 0.1, false), {
      rtol: 1e-6,
      atol: 1e-7,
    });
    expectClose(await run((p, fused) => new AdamW([p], { fused, lr: 0.01 })), adamRef(0.01, 0.9, 0.999, 1e-8, 0.01, true), { rtol: 1e-6, atol: 1e-7 });
  });
  it('state dicts restore the trajectory exactly', async () => {
    const p = tensor(p0, [3], { device: 'cpu', requiresGrad: true });
    const opt = new Adam([p], { lr: 0.01 });
    await p
      .mul(tensor(grads[0], [3], { device: 'cpu' }))
      .sum()
      .backward();
    opt.step();
    const sd = opt.stateDict();
    expect([...sd.tensors.keys()]).toEqual(['state.0.exp_avg', 'state.0.exp_avg_sq']);
    const q = tensor(Array.from(await p.toArray()), [3], { device: 'cpu', requiresGrad: true });
    const opt2 = new Adam([q], { lr: 0.5 });
    opt2.loadStateDict(sd);
    expect(opt2.lr).toBe(0.01);
    expect(opt2.stepCount).toBe(1);
  });
  it('validates arguments with typed errors naming them', () => {
    const p = tensor([1], [1], { device: 'cpu', requiresGrad: true });
    expect(() => new SGD([p], { lr: -1 })).toThrow(InvalidArgumentError);
    expect(() => new SGD([p], { lr: 0.1, nesterov: true })).toThrow(/nesterov/);
    expect(() => new Adam([p], { betas: [1, 0.9] })).toThrow(/betas\[0\]/);
    expect(() => new SGD([], { lr: 0.1 })).toThrow(/params/);
    expect(() => new SGD([tensor([1], [1], { device: 'cpu' })], { lr: 0.1 })).toThrow(/require grad/);
  });
});

describe('learning-rate schedules', () => {
  const opt = () => new SGD([tensor([1], [1], { device: 'cpu', requiresGrad: true })], { lr: 1 });
  const trace = (s: { step(): void; optimizer: Optimizer }, n: number) =>
    Array.from({ length: n }, () => {
      const lr = s.optimizer.lr;
      s.step();
      return lr;
    });
  it('step, multistep, cosine, linear warm-up as PyTorch', () => {
    expectClose(trace(new StepLR(opt(), 2, 0.5), 5), [1, 1, 0.5, 0.5, 0.25]);
    expectClose(trace(new MultiStepLR(opt(), [3, 1], 0.1), 5), [1, 0.1, 0.1, 0.01, 0.01]);
    expectClose(trace(new CosineAnnealingLR(opt(), 4, 0.1), 6), [
      1,
      0.1 + (0.9 * (1 + Math.cos(Math.PI / 4))) / 2,
      0.55,
      0.1 + (0.9 * (1 + Math.cos((3 * Math.PI) / 4))) / 2,
      0.1,
      0.1,
    ]);
    expectClose(trace(new LinearWarmup(opt(), 4, (t) => 0.5 ** t, 0.2), 6), [0.2, 0.4, 0.6, 0.8, 1, 0.5]);
  });
  it('scheduler state resumes', () => {
    const s = new StepLR(opt(), 2, 0.5);
    s.step();
    s.step();
    s.step();
    const t = new StepLR(opt(), 2, 0.5);
    t.loadStateDict(s.stateDict());
    expect(t.optimizer.lr).toBe(0.5);
    expect(() => t.loadStateDict({ lastStep: -1 })).toThrow(InvalidArgumentError);
  });
});
