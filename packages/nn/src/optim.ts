/**
 * Optimizers with PyTorch's update rules. Each step runs on the device and writes in place under
 * `noGrad`, inside `tidy` so memory stays flat; optimizer state (momentum buffers, Adam moments)
 * are tensors. Nothing is read back. By default each parameter's update is one fused kernel
 * (ops/optimizer-step.ts); `fused: false` builds the same arithmetic from tensor ops and writes it
 * with `assign` (the reference the fused kernel is tested against).
 */
import { InvalidArgumentError, keep, noGrad, tidy, zeros, type Tensor } from '@fairgpu/tensor';
import { fusedOptimizerStep } from './ops/optimizer-step.ts';

function check(op: string, argument: string, value: number, ok: (v: number) => boolean, rule: string): number {
  if (typeof value !== 'number' || !ok(value)) throw new InvalidArgumentError(op, argument, `must be ${rule}, got ${value}`);
  return value;
}

function checkParams(op: string, params: readonly Tensor[]): Tensor[] {
  if (!Array.isArray(params) || params.length === 0) throw new InvalidArgumentError(op, 'params', 'must be a non-empty array of tensors');
  params.forEach((p, i) => {
    if (!p || typeof p !== 'object' || !('shape' in p)) throw new InvalidArgumentError(op, `params[${i}]`, 'must be a tensor');
    if (!p.requiresGrad) throw new InvalidArgumentError(op, `params[${i}]`, 'must require grad');
  });
  return [...params];
}

export abstract class Optimizer {
  readonly params: Tensor[];
  /** The learning rate of the next step (schedulers write it). */
  lr: number;
  /** Steps taken so far. */
  stepCount = 0;
  /** Per-parameter state tensors by name (PyTorch's `state[i][name]`). */
  protected readonly state: Map<string, Tensor>[];

  protected constructor(readonly name: string, params: readonly Tensor[], lr: number) {
    this.params = checkParams(name, params);
    this.lr = check(name, 'lr', lr, (v) => v >= 0 && Number.isFinite(v), 'a finite number ≥ 0');
    this.state = this.params.map(() => new Map());
  }

  /** Updates every parameter that has a gradient, in place. */
  step(): void {
    this.stepCount++;
    noGrad(() => tidy(() => {
      this.params.forEach((p, i) => {
        if (p.grad) this.update(p, p.grad, this.state[i]);
      });
    }));
  }

  zeroGrad(): void {
    for (const p of this.params) p.zeroGrad();
  }

  protected abstract update(p: Tensor, g: Tensor, state: Map<string, Tensor>): void;

  /** A state tensor, created with `init` (kept out of any scope) the first time. */
  protected buffer(state: Map<string, Tensor>, key: string, init: () => Tensor): { value: Tensor; fresh: boolean } {
    const existing = state.get(key);
    if (existing) return { value: existing, fresh: false };
    const value = keep(init());
    state.set(key, value);
    return { value, fresh: true };
  }

  /**
   * State tensors keyed `state.<param index>.<name>` (PyTorch's names: `momentum_buffer`,
   * `exp_avg`, `exp_avg_sq`) plus the scalars `lr` and `step`.
   */
  stateDict(): { tensors: Map<string, Tensor>; scalars: { lr: number; step: number } } {
    const tensors = new Map<string, Tensor>();
    this.state.forEach((s, i) => {
      for (const [k, v] of s) tensors.set(`state.${i}.${k}`, v);
    });
    return { tensors, scalars: { lr: this.lr, step: this.stepCount } };
  }

  loadStateDict(dict: { tensors: ReadonlyMap<string, Tensor>; scalars: { lr: number; step: number } }): void {
    const parsed: [number, string, Tensor][] = [];
    for (const [key, t] of dict.tensors) {
      const m = /^state\.(\d+)\.([A-Za-z_]+)$/.exec(key);
      const i = m ? Number(m[1]) : -1;
      if (!m || i >= this.params.length) throw new InvalidArgumentError(`${this.name}.loadStateDict`, key, 'is not a state key of this optimizer');
      if (t.shape.join() !== this.params[i].shape.join()) throw new InvalidArgumentError(`${this.name}.loadStateDict`, key, `has shape [${t.shape.join(', ')}], parameter ${i} is [${this.params[i].shape.join(', ')}]`);
      parsed.push([i, m[2], t]);
    }
    this.disposeState();
    noGrad(() => {
      for (const [i, name, t] of parsed) this.state[i].set(name, keep(t.mul(1)));
    });
    this.lr = check(`${this.name}.loadStateDict`, 'scalars.lr', dict.scalars.lr, (v) => v >= 0 && Number.isFinite(v), 'a finite number ≥ 0');
    this.stepCount = check(`${this.name}.loadStateDict`, 'scalars.step', dict.scalars.step, (v) => Number.isInteger(v) && v >= 0, 'an integer ≥ 0');
  }

  private disposeState(): void {
    for (const s of this.state) {
      for (const t of s.values()) t.dispose();
      s.clear();
    }
  }

  dispose(): void {
    this.disposeState();
  }
}

export interface SgdOptions {
  lr: number;
  /** One fused kernel per parameter (default true); false: composite tensor ops. */
  fused?: boolean;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

/** PyTorch's SGD: g += wd·p; buf = μ·buf + (1−dampening)·g (buf = g on the first step); Nesterov g += μ·buf. */
export class SGD extends Optimizer {
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  readonly fused: boolean;
  constructor(params: readonly Tensor[], options: SgdOptions) {
    super('SGD', params, options?.lr);
    this.momentum = check('SGD', 'momentum', options.momentum ?? 0, (v) => v >= 0 && v < 1, 'in [0, 1)');
    this.dampening = check('SGD', 'dampening', options.dampening ?? 0, (v) => v >= 0 && v <= 1, 'in [0, 1]');
    this.weightDecay = check('SGD', 'weightDecay', options.weightDecay ?? 0, (v) => v >= 0 && Number.isFinite(v), '≥ 0');
    this.nesterov = options.nesterov ?? false;
    if (this.nesterov && (this.momentum === 0 || this.dampening !== 0)) throw new InvalidArgumentError('SGD', 'nesterov', 'needs momentum > 0 and dampening = 0');
    this.fused = options.fused ?? true;
  }
  protected update(p: Tensor, grad: Tensor, state: Map<string, Tensor>): void {
    if (this.fused) {
      const buf = this.momentum ? this.buffer(state, 'momentum_buffer', () => zeros(p.shape, { device: p.backend })) : null;
      fusedOptimizerStep(p, grad, buf ? [buf.value] : [], {
        kind: 'sgd', lr: this.lr, weightDecay: this.weightDecay, momentum: this.momentum, dampeningC: 1 - this.dampening,
        fresh: buf?.fresh ?? false, nesterov: this.nesterov,
      });
      return;
    }
    let g = this.weightDecay ? grad.add(p.mul(this.weightDecay)) : grad;
    if (this.momentum) {
      const { value: buf, fresh } = this.buffer(state, 'momentum_buffer', () => g.mul(1));
      if (!fresh) buf.assign(buf.mul(this.momentum).add(g.mul(1 - this.dampening)));
      g = this.nesterov ? g.add(buf.mul(this.momentum)) : buf;
    }
    p.assign(p.sub(g.mul(this.lr)));
  }
}

export interface AdamOptions {
  lr?: number;
  /** One fused kernel per parameter (default true); false: composite tensor ops. */
  fused?: boolean;
  betas?: readonly [number, number];
  eps?: number;
  weightDecay?: number;
}

/** PyTorch's Adam (L2 weight decay added to the gradient), or AdamW (decoupled decay) with `decoupled`. */
export class Adam extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly fused: boolean;
  constructor(params: readonly Tensor[], options: AdamOptions = {}, protected readonly decoupled = false, name = 'Adam') {
    super(name, params, options.lr ?? 1e-3);
    const [b1, b2] = options.betas ?? [0.9, 0.999];
    this.beta1 = check(name, 'betas[0]', b1, (v) => v >= 0 && v < 1, 'in [0, 1)');
    this.beta2 = check(name, 'betas[1]', b2, (v) => v >= 0 && v < 1, 'in [0, 1)');
    this.eps = check(name, 'eps', options.eps ?? 1e-8, (v) => v > 0, '> 0');
    this.weightDecay = check(name, 'weightDecay', options.weightDecay ?? (decoupled ? 1e-2 : 0), (v) => v >= 0 && Number.isFinite(v), '≥ 0');
    this.fused = options.fused ?? true;
  }
  protected update(p: Tensor, grad: Tensor, state: Map<string, Tensor>): void {
    const t = this.stepCount;
    if (this.fused) {
      const m = this.buffer(state, 'exp_avg', () => zeros(p.shape, { device: p.backend })).value;
      const v = this.buffer(state, 'exp_avg_sq', () => zeros(p.shape, { device: p.backend })).value;
      fusedOptimizerStep(p, grad, [m, v], {
        kind: 'adam', lr: this.lr, weightDecay: this.weightDecay, momentum: this.beta1, dampeningC: 1 - this.beta1,
        beta2: this.beta2, t, eps: this.eps, decoupled: this.decoupled,
      });
      return;
    }
    let g = grad;
    if (this.weightDecay && !this.decoupled) g = g.add(p.mul(this.weightDecay));
    const m = this.buffer(state, 'exp_avg', () => g.mul(0)).value;
    const v = this.buffer(state, 'exp_avg_sq', () => g.mul(0)).value;
    m.assign(m.mul(this.beta1).add(g.mul(1 - this.beta1)));
    v.assign(v.mul(this.beta2).add(g.mul(g).mul(1 - this.beta2)));
    const c1 = 1 - this.beta1 ** t;
    const c2 = 1 - this.beta2 ** t;
    // PyTorch: p −= (lr / c1) · m / (√v / √c2 + eps)
    const denom = v.sqrt().mul(1 / Math.sqrt(c2)).add(this.eps);
    const base = this.decoupled && this.weightDecay ? p.mul(1 - this.lr * this.weightDecay) : p;
    p.assign(base.sub(m.div(denom).mul(this.lr / c1)));
  }
}

/** PyTorch's AdamW: p ← p·(1 − lr·wd) before the Adam update (default wd 0.01). */
export class AdamW extends Adam {
  constructor(params: readonly Tensor[], options: AdamOptions = {}) {
    super(params, options, true, 'AdamW');
  }
}
