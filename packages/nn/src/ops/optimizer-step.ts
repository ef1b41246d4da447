/**
 * The fused optimizer update (shaders/nn/optimizer-step.wgsl) as a custom op that writes the
 * parameter and its state tensors in place — the same effect as the composite update's `assign`s,
 * in one dispatch per parameter instead of ~7 (SGD) to ~15 (Adam) elementwise ops and 1–3 copies.
 * A custom op returns a tensor, so this one returns a one-element token that the caller disposes;
 * the real outputs are the in-place writes. The float64 path does the same
 * arithmetic on the CPU backend's storage, in place.
 */
import type { Tensor } from '@fairgpu/tensor';
import { bufferOf, customOp, elementCount, f32Input, grid1d, ParamWriter, type CustomOpDefinition } from '@fairgpu/tensor/internal';
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

/** The parameter, its gradient, and the state tensors the update uses (SGD: state0 = momentum buffer if any; Adam: both). */
interface StepInputs {
  param: Tensor;
  grad: Tensor;
  state0?: Tensor;
  state1?: Tensor;
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

const optimizerStepOp: CustomOpDefinition<{ step: FusedStep }, StepInputs> = {
  name: 'optimizerStep',
  gpu(rec, inputs, _out, _dst, { step: s }) {
    const [param, grad] = [bufferOf(inputs.param), bufferOf(inputs.grad)];
    const s0 = inputs.state0 && bufferOf(inputs.state0);
    const s1 = inputs.state1 && bufferOf(inputs.state1);
    const n = elementCount(inputs.param);
    if (!n) return;
    const c = constants(s);
    const flags = (s.fresh ? 1 : 0) | (s.nesterov ? 2 : 0) | (s.decoupled ? 4 : 0);
    const w = new ParamWriter()
      .u(0, n)
      .u(1, s.kind === 'sgd' ? 0 : 1)
      .u(2, flags)
      .u(3, s0 ? 1 : 0)
      .f(4, s.lr)
      .f(5, s.weightDecay)
      .f(6, s.momentum)
      .f(7, s.dampeningC)
      .f(8, c.beta2)
      .f(9, c.beta2C)
      .f(10, c.invSqrtC2)
      .f(11, c.eps)
      .f(12, c.stepSize)
      .f(13, c.decayFactor);
    // The gradient is read-only: f32Input (texels on software adapters when large). The parameter
    // and state are read and written in place through storage. Bindings must be distinct buffers:
    // SGD without momentum binds 4-byte scratch buffers it never reads.
    const g = f32Input(rec, 'grad', 2, grad, n);
    rec.dispatch(
      `optimizer-step-${s.kind}`,
      g.wgsl + optimizerStepWgsl,
      w.buffer,
      [param, g.resource, s0 ?? rec.scratch(4).buffer, s1 ?? rec.scratch(4).buffer],
      grid1d(n),
    );
  },
  cpu(inputs, _out, { step: s }) {
    const [param, grad] = [inputs.param.values, inputs.grad.values];
    const s0 = inputs.state0?.values ?? null;
    const s1 = inputs.state1?.values ?? null;
    const c = constants(s);
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
    return new Float64Array(1);
  },
};

/**
 * Updates `param` (and `state`: [momentum buffer] for SGD with momentum, [exp_avg, exp_avg_sq]
 * for Adam) in place from `grad`. Call under `noGrad`.
 */
export function fusedOptimizerStep(param: Tensor, grad: Tensor, state: readonly Tensor[], step: FusedStep): void {
  customOp(optimizerStepOp, { param, grad, state0: state[0], state1: state[1] }, { shape: [1], dtype: 'f32' }, { step }).dispose();
}
