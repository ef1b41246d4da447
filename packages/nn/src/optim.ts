/**
 * Optimizers with PyTorch's update rules. Each step runs on the device and writes in place under
 * `noGrad`, inside `tidy` so memory stays flat; optimizer state (momentum buffers, Adam moments)
 * are tensors. Nothing is read back. By default each parameter's update is one fused kernel
 * (ops/optimizer-step.ts); `fused: false` builds the same arithmetic from tensor ops and writes it
 * with `assign` (the reference the fused kernel is tested against).
 */
import {
  assertKnownOptions,
  DeviceMismatchError,
  DisposedTensorError,
  DtypeMismatchError,
  InvalidArgumentError,
  isTensor,
  keep,
  noGrad,
  ShapeMismatchError,
  tidy,
  zeros,
  type Tensor,
} from '@fairgpu/tensor';
import { type FusedStep, fusedOptimizerStep, type StepSlot } from './ops/optimizer-step.ts';

function check(op: string, argument: string, value: number, ok: (v: number) => boolean, rule: string): number {
  if (typeof value !== 'number' || !ok(value)) throw new InvalidArgumentError(op, argument, `must be ${rule}, got ${value}`);
  return value;
}

function flag(op: string, argument: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new InvalidArgumentError(op, argument, `must be a boolean, got ${String(value)}`);
  return value;
}

function checkParams(op: string, params: readonly Tensor[]): Tensor[] {
  if (!Array.isArray(params) || params.length === 0) throw new InvalidArgumentError(op, 'params', 'must be a non-empty array of tensors');
  params.forEach((p, i) => {
    if (!isTensor(p)) throw new InvalidArgumentError(op, `params[${i}]`, 'must be a tensor');
    if (p.isDisposed) throw new DisposedTensorError(op, `params[${i}]`);
    if (!p.requiresGrad) throw new InvalidArgumentError(op, `params[${i}]`, 'must require grad');
    if (p.dtype !== 'f32') throw new DtypeMismatchError(op, `params[${i}]`, `must be f32, got ${p.dtype}`);
    if (params.indexOf(p) !== i) throw new InvalidArgumentError(op, `params[${i}]`, `is the same tensor as params[${params.indexOf(p)}]`);
  });
  return [...params];
}

const finiteLr = (v: number) => v >= 0 && Number.isFinite(v);

export abstract class Optimizer {
  readonly params: Tensor[];
  /** Steps taken so far. */
  stepCount = 0;
  /** Per-parameter state tensors by name (PyTorch's `state[i][name]`). */
  protected readonly state: Map<string, Tensor>[];
  /** The names `loadStateDict` accepts in `state.<i>.<name>` keys. */
  protected abstract readonly stateNames: readonly string[];
  private currentLr: number;

  protected constructor(
    readonly name: string,
    params: readonly Tensor[],
    lr: number,
  ) {
    this.params = checkParams(name, params);
    this.currentLr = check(name, 'lr', lr, finiteLr, 'a finite number ≥ 0');
    this.state = this.params.map(() => new Map());
  }

  /** The learning rate of the next step (schedulers write it); setting NaN, ±Inf or < 0 throws. */
  get lr(): number {
    return this.currentLr;
  }
  set lr(value: number) {
    this.currentLr = check(this.name, 'lr', value, finiteLr, 'a finite number ≥ 0');
  }

  /**
   * Updates every parameter that has a gradient, in place. Every parameter and gradient is checked
   * first (live, same shape, dtype and device), so a bad one is a typed error before any update.
   */
  step(): void {
    const op = `${this.name}.step`;
    check(op, 'lr', this.currentLr, finiteLr, 'a finite number ≥ 0');
    this.params.forEach((p, i) => {
      if (p.isDisposed) throw new DisposedTensorError(op, `params[${i}]`);
      const g = p.grad;
      if (!g) return;
      if (g.isDisposed) throw new DisposedTensorError(op, `params[${i}].grad`);
      if (g.backend !== p.backend) throw new DeviceMismatchError(op, `params[${i}].grad`, `is on ${g.backend.name} but the parameter is on ${p.backend.name}`);
      if (g.shape.join() !== p.shape.join())
        throw new ShapeMismatchError(op, `params[${i}].grad`, `[${g.shape.join(', ')}] differs from the parameter's [${p.shape.join(', ')}]`);
      if (g.dtype !== p.dtype) throw new DtypeMismatchError(op, `params[${i}].grad`, `is ${g.dtype} but the parameter is ${p.dtype}`);
    });
    this.stepCount++;
    noGrad(() =>
      tidy(() => {
        try {
          this.params.forEach((p, i) => {
            if (p.grad) this.update(p, p.grad, this.state[i]);
          });
          this.flushFused();
        } finally {
          // A step that throws part-way leaves nothing queued for the next one.
          this.fusedGroups.clear();
        }
      }),
    );
  }

  zeroGrad(): void {
    for (const p of this.params) p.zeroGrad();
  }

  protected abstract update(p: Tensor, g: Tensor, state: Map<string, Tensor>): void;

  /** Fused updates queued by `update` during a step, grouped by backend, then by settings. */
  private readonly fusedGroups = new Map<object, Map<string, { step: FusedStep; slots: StepSlot[] }>>();

  /**
   * Queues a fused update; `step()` runs each group of parameters that share a backend and the
   * update's settings as one fused op (a dispatch per up to 8 parameters, not one per parameter).
   */
  protected queueFused(slot: StepSlot, step: FusedStep): void {
    let byBackend = this.fusedGroups.get(slot.param.backend);
    if (!byBackend) this.fusedGroups.set(slot.param.backend, (byBackend = new Map()));
    const key = `${slot.state.length}|${JSON.stringify(step)}`;
    let group = byBackend.get(key);
    if (!group) byBackend.set(key, (group = { step, slots: [] }));
    group.slots.push(slot);
  }

  private flushFused(): void {
    for (const groups of this.fusedGroups.values()) for (const { step, slots } of groups.values()) fusedOptimizerStep(slots, step);
  }

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

  /**
   * Restores `stateDict()` output. Atomic: keys, shapes, dtypes, devices and the scalars are all
   * checked before the current state is replaced.
   */
  loadStateDict(dict: { tensors: ReadonlyMap<string, Tensor>; scalars: { lr: number; step: number } }): void {
    const { parsed, lr, step } = this.parseState(`${this.name}.loadStateDict`, dict);
    const copies = noGrad(() => tidy(() => parsed.map(([, , t]) => t.mul(1))));
    this.disposeState();
    parsed.forEach(([i, name], k) => this.state[i].set(name, keep(copies[k])));
    this.currentLr = lr;
    this.stepCount = step;
  }

  /** Validates a state dict as `loadStateDict` would, changing nothing. */
  checkStateDict(dict: { tensors: ReadonlyMap<string, Tensor>; scalars: { lr: number; step: number } }): void {
    this.parseState(`${this.name}.checkStateDict`, dict);
  }

  private parseState(
    op: string,
    dict: { tensors: ReadonlyMap<string, Tensor>; scalars: { lr: number; step: number } },
  ): { parsed: [number, string, Tensor][]; lr: number; step: number } {
    if (!dict || typeof dict !== 'object')
      throw new InvalidArgumentError(op, 'dict', `must be { tensors, scalars } as stateDict() returns, got ${dict === null ? 'null' : typeof dict}`);
    assertKnownOptions(op, dict, ['tensors', 'scalars']);
    if (!(dict.tensors instanceof Map)) throw new InvalidArgumentError(op, 'dict.tensors', 'must be a Map of state tensors');
    if (!dict.scalars || typeof dict.scalars !== 'object') throw new InvalidArgumentError(op, 'dict.scalars', 'must be { lr, step }');
    assertKnownOptions(op, dict.scalars, ['lr', 'step']);
    const lr = check(op, 'scalars.lr', dict.scalars.lr, finiteLr, 'a finite number ≥ 0');
    const step = check(op, 'scalars.step', dict.scalars.step, (v) => Number.isInteger(v) && v >= 0, 'an integer ≥ 0');
    const parsed: [number, string, Tensor][] = [];
    for (const [key, t] of dict.tensors) {
      const m = /^state\.(\d+)\.([A-Za-z_]+)$/.exec(key);
      const i = m ? Number(m[1]) : -1;
      if (!m || i >= this.params.length || !this.stateNames.includes(m[2])) {
        throw new InvalidArgumentError(op, key, `is not a state key of this optimizer (state.<0..${this.params.length - 1}>.<${this.stateNames.join(' | ')}>)`);
      }
      const p = this.params[i];
      if (!isTensor(t)) throw new InvalidArgumentError(op, key, 'must be a tensor');
      if (t.isDisposed) throw new DisposedTensorError(op, key);
      if (t.shape.join() !== p.shape.join())
        throw new ShapeMismatchError(op, key, `has shape [${t.shape.join(', ')}], parameter ${i} is [${p.shape.join(', ')}]`);
      if (t.dtype !== p.dtype) throw new DtypeMismatchError(op, key, `is ${t.dtype}, parameter ${i} is ${p.dtype}`);
      if (t.backend !== p.backend) throw new DeviceMismatchError(op, key, `is on ${t.backend.name} but parameter ${i} is on ${p.backend.name}`);
      parsed.push([i, m[2], t]);
    }
    return { parsed, lr, step };
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
  /** Fused update kernels, up to 8 parameters per dispatch (default true); false: composite tensor ops. */
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
  protected readonly stateNames = ['momentum_buffer'] as const;
  constructor(params: readonly Tensor[], options: SgdOptions) {
    if (!options || typeof options !== 'object')
      throw new InvalidArgumentError('SGD', 'options', `must be an object with at least lr, got ${options === null ? 'null' : typeof options}`);
    assertKnownOptions('SGD', options, ['lr', 'fused', 'momentum', 'dampening', 'weightDecay', 'nesterov']);
    super('SGD', params, options.lr);
    this.momentum = check('SGD', 'momentum', options.momentum ?? 0, (v) => v >= 0 && v < 1, 'in [0, 1)');
    this.dampening = check('SGD', 'dampening', options.dampening ?? 0, (v) => v >= 0 && v <= 1, 'in [0, 1]');
    this.weightDecay = check('SGD', 'weightDecay', options.weightDecay ?? 0, (v) => v >= 0 && Number.isFinite(v), '≥ 0');
    this.nesterov = flag('SGD', 'nesterov', options.nesterov, false);
    if (this.nesterov && (this.momentum === 0 || this.dampening !== 0))
      throw new InvalidArgumentError('SGD', 'nesterov', 'needs momentum > 0 and dampening = 0');
    this.fused = flag('SGD', 'fused', options.fused, true);
  }
  protected update(p: Tensor, grad: Tensor, state: Map<string, Tensor>): void {
    if (this.fused) {
      const buf = this.momentum ? this.buffer(state, 'momentum_buffer', () => zeros(p.shape, { device: p.backend })) : null;
      this.queueFused(
        { param: p, grad, state: buf ? [buf.value] : [] },
        {
          kind: 'sgd',
          lr: this.lr,
          weightDecay: this.weightDecay,
          momentum: this.momentum,
          dampeningC: 1 - this.dampening,
          fresh: buf?.fresh ?? false,
          nesterov: this.nesterov,
        },
      );
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
  /** Fused update kernels, up to 8 parameters per dispatch (default true); false: composite tensor ops. */
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
  protected readonly stateNames = ['exp_avg', 'exp_avg_sq'] as const;
  constructor(
    params: readonly Tensor[],
    options: AdamOptions = {},
    protected readonly decoupled = false,
    name = 'Adam',
  ) {
    assertKnownOptions(name, options, ['lr', 'fused', 'betas', 'eps', 'weightDecay']);
    super(name, params, options?.lr ?? 1e-3);
    options ??= {};
    const betas = options.betas ?? [0.9, 0.999];
    if (!Array.isArray(betas) || betas.length !== 2) throw new InvalidArgumentError(name, 'betas', `must be a pair [β1, β2], got ${JSON.stringify(betas)}`);
    const [b1, b2] = betas;
    this.beta1 = check(name, 'betas[0]', b1, (v) => v >= 0 && v < 1, 'in [0, 1)');
    this.beta2 = check(name, 'betas[1]', b2, (v) => v >= 0 && v < 1, 'in [0, 1)');
    this.eps = check(name, 'eps', options.eps ?? 1e-8, (v) => v > 0 && Number.isFinite(v), 'a finite number > 0');
    this.weightDecay = check(name, 'weightDecay', options.weightDecay ?? (decoupled ? 1e-2 : 0), (v) => v >= 0 && Number.isFinite(v), '≥ 0');
    this.fused = flag(name, 'fused', options.fused, true);
  }
  protected update(p: Tensor, grad: Tensor, state: Map<string, Tensor>): void {
    const t = this.stepCount;
    if (this.fused) {
      const m = this.buffer(state, 'exp_avg', () => zeros(p.shape, { device: p.backend })).value;
      const v = this.buffer(state, 'exp_avg_sq', () => zeros(p.shape, { device: p.backend })).value;
      this.queueFused(
        { param: p, grad, state: [m, v] },
        {
          kind: 'adam',
          lr: this.lr,
          weightDecay: this.weightDecay,
          momentum: this.beta1,
          dampeningC: 1 - this.beta1,
          beta2: this.beta2,
          t,
          eps: this.eps,
          decoupled: this.decoupled,
        },
      );
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
    const denom = v
      .sqrt()
      .mul(1 / Math.sqrt(c2))
      .add(this.eps);
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
