/**
 * The fused optimizer update (shaders/nn/optimizer-step.wgsl) as a custom op that writes the
 * parameter and its state tensors in place — the same effect as the composite update's `assign`s,
 * in one dispatch per group of parameters (up to 8 that share the update's settings) instead of
 * ~7 (SGD) to ~15 (Adam) elementwise ops and 1–3 copies per parameter.
 * A custom op returns a tensor, so this one returns a one-element token that the caller disposes;
 * the real outputs are the in-place writes. The float64 path does the same
 * arithmetic on the CPU backend's storage, in place.
 */
import type { Tensor } from '@fairgpu/tensor';
import { type Binding, bufferOf, customOp, elementCount, f32Input, fillMarker, grid1d, ParamWriter, type CustomOpDefinition } from '@fairgpu/tensor/internal';
import { optimizerStepWgsl } from '../generated/wgsl.ts';

export interface FusedStep {
  kind: 'sgd' | 'adam';
  lr: number;
  weightDecay: number;
  /** SGD μ | Adam β1. */
  momentum: number;
  /** SGD 1 − dampening | Adam 1 − β1. */
  dampeningC: number;
  /** SGD: the momentum buffer is new this step (buf = g). */
  fresh?: boolean;
  nesterov?: boolean;
  decoupled?: boolean;
  beta2?: number;
  /** Adam: the step number t (≥ 1), for the bias corrections. */
  t?: number;
  eps?: number;
}

/** One parameter of a group: the parameter, its gradient and the state tensors the update uses (SGD: a momentum buffer if any; Adam: both). */
export interface StepSlot {
  param: Tensor;
  grad: Tensor;
  state: readonly Tensor[];
}

/** Inputs of a group op by name: `param<k>`, `grad<k>`, `state0_<k>`, `state1_<k>` for slot k. */
type GroupInputs = Record<string, Tensor | undefined>;

/** Slot k's inputs back from the group op's named inputs (GPU views or CPU values alike). */
function slotsOf<T>(inputs: { readonly [name: string]: T | undefined }, slots: number): { param: T; grad: T; state0?: T; state1?: T }[] {
  return Array.from({ length: slots }, (_, k) => ({
    param: inputs[`param${k}`]!,
    grad: inputs[`grad${k}`]!,
    state0: inputs[`state0_${k}`],
    state1: inputs[`state1_${k}`],
  }));
}

function constants(s: FusedStep) {
  const t = s.t ?? 1;
  const beta2 = s.beta2 ?? 0;
  return {
    beta2,
    beta2C: 1 - beta2,
    invSqrtC2: 1 / Math.sqrt(1 - beta2 ** t),
    eps: s.eps ?? 0,
    stepSize: s.lr / (1 - s.momentum ** t),
    decayFactor: 1 - s.lr * s.weightDecay,
  };
}

/** The most slots a dispatch may hold: 4 storage bindings each, and `ends` holds 8. */
const MAX_SLOTS = 8;

const SLOT_BLOCK = /\/\/ SLOT begin\n([\s\S]*?)\/\/ SLOT end\n/;
const sources = new Map<string, string>();

/** optimizer-step.wgsl for `slots` parameters, the gradient inputs' WGSL prepended. */
function groupSource(slots: number, gradWgsl: readonly string[]): string {
  const key = `${slots}|${gradWgsl.join('|')}`;
  let source = sources.get(key);
  if (source) return source;
  const block = SLOT_BLOCK.exec(optimizerStepWgsl)![1];
  const blocks = Array.from({ length: slots }, (_, k) =>
    block.replace(/@binding\(4 \* _S \+ (\d)\)/g, (_m, d: string) => `@binding(${4 * k + Number(d)})`).replace(/_S\b|_S_/g, (m) => m.replace('_S', `_${k}`)),
  );
  const calls = Array.from({ length: slots }, (_, k) => `if (i < slot_end(${k}u)) { step_${k}(i${k ? ` - slot_end(${k - 1}u)` : ''}); }`).join(' else ');
  source = gradWgsl.join('') + fillMarker(optimizerStepWgsl.replace(SLOT_BLOCK, blocks.join('')), 'DISPATCH', [calls], '  ');
  sources.set(key, source);
  return source;
}

const optimizerStepOp: CustomOpDefinition<{ step: FusedStep; slots: number }, GroupInputs> = {
  name: 'optimizerStep',
  gpu(rec, inputs, _out, _dst, { step: s, slots }) {
    const c = constants(s);
    const flags = (s.fresh ? 1 : 0) | (s.nesterov ? 2 : 0) | (s.decoupled ? 4 : 0);
    const views = slotsOf(inputs, slots).filter((v) => elementCount(v.param) > 0);
    const hasState = views.some((v) => v.state0 !== undefined);
    // Each slot binds up to 4 storage buffers (parameter, gradient, two states).
    const perDispatch = Math.max(1, Math.min(MAX_SLOTS, Math.floor(rec.limits.maxStorageBuffersPerShaderStage / 4)));
    for (let first = 0; first < views.length; first += perDispatch) {
      const members = views.slice(first, first + perDispatch);
      const w = new ParamWriter()
        .u(8, s.kind === 'sgd' ? 0 : 1)
        .u(9, flags)
        .u(10, hasState ? 1 : 0)
        .f(12, s.lr)
        .f(13, s.weightDecay)
        .f(14, s.momentum)
        .f(15, s.dampeningC)
        .f(16, c.beta2)
        .f(17, c.beta2C)
        .f(18, c.invSqrtC2)
        .f(19, c.eps)
        .f(20, c.stepSize)
        .f(21, c.decayFactor);
      const gradWgsl: string[] = [];
      const buffers: Binding[] = [];
      let end = 0;
      members.forEach(({ param, grad, state0, state1 }, j) => {
        const n = elementCount(param);
        end += n;
        w.u(j, end);
        // The gradient is read-only: f32Input (texels on software adapters when large). The
        // parameter and state are read and written in place through storage. Bindings must be
        // distinct buffers: SGD without momentum binds 4-byte scratch buffers it never reads.
        const g = f32Input(rec, `grad_${j}`, 4 * j + 2, bufferOf(grad), n);
        gradWgsl.push(g.wgsl);
        buffers.push(bufferOf(param), g.resource, state0 ? bufferOf(state0) : rec.scratch(4).buffer, state1 ? bufferOf(state1) : rec.scratch(4).buffer);
      });
      rec.dispatch(`optimizer-step-${s.kind}`, groupSource(members.length, gradWgsl), w.buffer, buffers, grid1d(end));
    }
  },
  cpu(inputs, _out, { step: s, slots }) {
    const c = constants(s);
    for (const slot of slotsOf(inputs, slots)) {
      const [param, grad] = [slot.param.values, slot.grad.values];
      const s0 = slot.state0?.values ?? null;
      const s1 = slot.state1?.values ?? null;
      for (let i = 0; i < param.length; i++) {
        const w = param[i];
        let g = grad[i];
        if (s.weightDecay && !s.decoupled) g = g + w * s.weightDecay;
        if (s.kind === 'sgd') {
          if (s0) {
            const buf = s.fresh ? g : s0[i] * s.momentum + g * s.dampeningC;
            s0[i] = buf;
            g = s.nesterov ? g + buf * s.momentum : buf;
          }
          param[i] = w - g * s.lr;
          continue;
        }
        const m = s0![i] * s.momentum + g * s.dampeningC;
        const v = s1![i] * c.beta2 + g * g * c.beta2C;
        s0![i] = m;
        s1![i] = v;
        const denom = Math.sqrt(v) * c.invSqrtC2 + c.eps;
        const base = s.decoupled && s.weightDecay ? w * c.decayFactor : w;
        param[i] = base - (m / denom) * c.stepSize;
      }
    }
    return new Float64Array(1);
  },
};

/**
 * Updates each slot's parameter (and state: [momentum buffer] for SGD with momentum, [exp_avg,
 * exp_avg_sq] for Adam) in place from its gradient, every slot with the same `step` — in as few
 * dispatches as the adapter's storage-binding limit allows (up to 8 parameters each). Call under
 * `noGrad`.
 */
export function fusedOptimizerStep(slots: readonly StepSlot[], step: FusedStep): void {
  if (!slots.length) return;
  const inputs: GroupInputs = {};
  slots.forEach(({ param, grad, state }, k) => {
    inputs[`param${k}`] = param;
    inputs[`grad${k}`] = grad;
    if (state[0]) inputs[`state0_${k}`] = state[0];
    if (state[1]) inputs[`state1_${k}`] = state[1];
  });
  customOp(optimizerStepOp, inputs, { shape: [1], dtype: 'f32' }, { step, slots: slots.length }).dispose();
}
