/**
 * Learning-rate schedules, stepped once per epoch (or per iteration: the unit is the caller's) as
 * PyTorch's schedulers: `step()` advances and writes `optimizer.lr`. State = the step counter.
 */
import { assertKnownOptions, InvalidArgumentError } from '@fairgpu/tensor';
import type { Optimizer } from './optim.ts';

export abstract class LrScheduler {
  /** Steps taken (PyTorch's `last_epoch`). */
  lastStep = 0;
  readonly baseLr: number;
  constructor(readonly optimizer: Optimizer) {
    if (!optimizer || typeof optimizer.lr !== 'number') throw new InvalidArgumentError(new.target.name, 'optimizer', 'must be an Optimizer');
    this.baseLr = optimizer.lr;
  }
  /** Subclasses call this at the end of their constructor, once their fields are set. */
  protected start(): void {
    this.optimizer.lr = this.checkedLrAt(0);
  }
  /** The learning rate after `step` scheduler steps. */
  abstract lrAt(step: number): number;
  /** lrAt(step), or a typed error (before anything changes) when it is NaN, ±Inf or < 0. */
  private checkedLrAt(step: number): number {
    const lr = this.lrAt(step);
    if (!(typeof lr === 'number' && lr >= 0 && Number.isFinite(lr))) {
      throw new InvalidArgumentError(this.constructor.name, 'lr', `schedule gives ${String(lr)} at step ${step}; must be a finite number ≥ 0`);
    }
    return lr;
  }
  step(): void {
    const lr = this.checkedLrAt(this.lastStep + 1);
    this.lastStep++;
    this.optimizer.lr = lr;
  }
  stateDict(): { lastStep: number } {
    return { lastStep: this.lastStep };
  }
  loadStateDict(state: { lastStep: number }): void {
    const lr = this.checkStateDict(state);
    this.lastStep = state.lastStep;
    this.optimizer.lr = lr;
  }
  /** Validates a state as `loadStateDict` would, changing nothing; returns the restored lr. */
  checkStateDict(state: { lastStep: number }): number {
    const op = `${this.constructor.name}.loadStateDict`;
    if (!state || typeof state !== 'object') throw new InvalidArgumentError(op, 'state', `must be { lastStep }, got ${state === null ? 'null' : typeof state}`);
    assertKnownOptions(op, state, ['lastStep']);
    if (!Number.isInteger(state.lastStep) || state.lastStep < 0)
      throw new InvalidArgumentError(op, 'lastStep', `must be an integer ≥ 0, got ${state.lastStep}`);
    return this.checkedLrAt(state.lastStep);
  }
}

const positiveInt = (op: string, arg: string, v: number) => {
  if (!Number.isInteger(v) || v < 1) throw new InvalidArgumentError(op, arg, `must be a positive integer, got ${v}`);
  return v;
};
const factor = (op: string, arg: string, v: number) => {
  if (!(v > 0 && Number.isFinite(v))) throw new InvalidArgumentError(op, arg, `must be a finite number > 0, got ${v}`);
  return v;
};

/** lr·γ^⌊t/stepSize⌋ (PyTorch's StepLR). */
export class StepLR extends LrScheduler {
  constructor(
    optimizer: Optimizer,
    readonly stepSize: number,
    readonly gamma = 0.1,
  ) {
    positiveInt('StepLR', 'stepSize', stepSize);
    factor('StepLR', 'gamma', gamma);
    super(optimizer);
    this.start();
  }
  lrAt(t: number): number {
    return this.baseLr * this.gamma ** Math.floor(t / this.stepSize);
  }
}

/** lr·γ^(number of milestones ≤ t) (PyTorch's MultiStepLR). */
export class MultiStepLR extends LrScheduler {
  readonly milestones: number[];
  constructor(
    optimizer: Optimizer,
    milestones: readonly number[],
    readonly gamma = 0.1,
  ) {
    if (!Array.isArray(milestones) || milestones.some((m) => !Number.isInteger(m) || m < 0))
      throw new InvalidArgumentError('MultiStepLR', 'milestones', 'must be integers ≥ 0');
    factor('MultiStepLR', 'gamma', gamma);
    super(optimizer);
    this.milestones = [...milestones].sort((a, b) => a - b);
    this.start();
  }
  lrAt(t: number): number {
    const passed = this.milestones.filter((m) => m <= t).length;
    return this.baseLr * this.gamma ** passed;
  }
}

/** η_min + (lr − η_min)(1 + cos(π t / T))/2 (PyTorch's CosineAnnealingLR, closed form). */
export class CosineAnnealingLR extends LrScheduler {
  constructor(
    optimizer: Optimizer,
    readonly tMax: number,
    readonly etaMin = 0,
  ) {
    positiveInt('CosineAnnealingLR', 'tMax', tMax);
    if (!(etaMin >= 0 && Number.isFinite(etaMin))) throw new InvalidArgumentError('CosineAnnealingLR', 'etaMin', `must be a finite number ≥ 0, got ${etaMin}`);
    super(optimizer);
    this.start();
  }
  lrAt(t: number): number {
    return this.etaMin + ((this.baseLr - this.etaMin) * (1 + Math.cos((Math.PI * Math.min(t, this.tMax)) / this.tMax))) / 2;
  }
}

/**
 * Linear warm-up from lr·startFactor to lr over `warmupSteps`, then `after` (any schedule built on
 * the same optimizer; its own step counter is shifted by the warm-up).
 */
export class LinearWarmup extends LrScheduler {
  constructor(
    optimizer: Optimizer,
    readonly warmupSteps: number,
    readonly after: ((t: number) => number) | null = null,
    readonly startFactor = 0.1,
  ) {
    positiveInt('LinearWarmup', 'warmupSteps', warmupSteps);
    if (after !== null && typeof after !== 'function')
      throw new InvalidArgumentError('LinearWarmup', 'after', `must be a function of the step or null, got ${typeof after}`);
    if (!(startFactor > 0 && startFactor <= 1)) throw new InvalidArgumentError('LinearWarmup', 'startFactor', `must be in (0, 1], got ${startFactor}`);
    super(optimizer);
    this.start();
  }
  lrAt(t: number): number {
    if (t < this.warmupSteps) return this.baseLr * (this.startFactor + ((1 - this.startFactor) * t) / this.warmupSteps);
    return this.after ? this.after(t - this.warmupSteps) : this.baseLr;
  }
}
