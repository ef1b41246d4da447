import { noGrad } from './autograd/graph.ts';
import { cpuBackend } from './device.ts';
import { InvalidArgumentError } from './errors.ts';
import { tidy } from './scope.ts';
import { sizeOf } from './shape.ts';
import { Tensor } from './tensor.ts';
import { tensor } from './creation.ts';

export interface GradcheckInput {
  data: ArrayLike<number>;
  shape: readonly number[];
}

export interface GradcheckOptions {
  /** Finite-difference step (default 1e-6: float64 central differences). */
  eps?: number;
  rtol?: number;
  atol?: number;
  /** Random seed gradient for non-scalar outputs; default: sum of the output. */
  seed?: number;
}

export interface GradcheckResult {
  ok: boolean;
  maxAbsError: number;
  maxRelError: number;
  /** Autograd gradients, one per input. */
  analytic: Float64Array[];
  /** Central finite differences, one per input. */
  numeric: Float64Array[];
}

/**
 * Checks autograd against central finite differences, in float64 on the CPU reference backend.
 * `fn` must be built from tensor ops (it runs on CPU tensors); a non-scalar output is reduced with
 * a sum. Passes when |analytic − numeric| ≤ atol + rtol·|numeric| everywhere.
 * @example
 * const r = await gradcheck((x) => x.exp().sum(), [{ data: [0.1, 0.2], shape: [2] }]);
 * r.ok; // true
 */
export async function gradcheck(
  fn: (...inputs: Tensor[]) => Tensor,
  inputs: readonly GradcheckInput[],
  options: GradcheckOptions = {},
): Promise<GradcheckResult> {
  const { eps = 1e-6, rtol = 1e-5, atol = 1e-7 } = options;
  const cpu = cpuBackend();
  const scalar = (t: Tensor) => (t.size === 1 ? t : t.sum());
  const tensors = inputs.map((input, i) => {
    if (sizeOf(input.shape) !== input.data.length) {
      throw new InvalidArgumentError('gradcheck', `inputs[${i}]`, `has ${input.data.length} values for shape [${input.shape.join(', ')}]`);
    }
    return tensor(input.data, input.shape, { device: cpu, requiresGrad: true });
  });
  try {
    const out = tidy(() => scalar(fn(...tensors)));
    await out.backward();
    out.dispose();
    const analytic = tensors.map((t) => (t.grad ? Float64Array.from(cpu.values(t.grad.view('gradcheck', 'grad').storage)) : new Float64Array(t.size)));
    const evaluate = (): number => noGrad(() => tidy(() => cpu.values(scalar(fn(...tensors)).view('gradcheck', 'output').storage)[0]));
    const numeric = tensors.map((t) => {
      const values = cpu.values(t.view('gradcheck', 'input').storage);
      const grad = new Float64Array(values.length);
      for (let i = 0; i < values.length; i++) {
        const original = values[i];
        values[i] = original + eps;
        const plus = evaluate();
        values[i] = original - eps;
        const minus = evaluate();
        values[i] = original;
        grad[i] = (plus - minus) / (2 * eps);
      }
      return grad;
    });
    let maxAbsError = 0;
    let maxRelError = 0;
    let ok = true;
    analytic.forEach((a, k) => {
      a.forEach((v, i) => {
        const n = numeric[k][i];
        const err = Math.abs(v - n);
        maxAbsError = Math.max(maxAbsError, err);
        maxRelError = Math.max(maxRelError, err / Math.max(Math.abs(n), 1e-300));
        if (!(err <= atol + rtol * Math.abs(n))) ok = false;
      });
    });
    return { ok, maxAbsError, maxRelError, analytic, numeric };
  } finally {
    for (const t of tensors) t.dispose();
  }
}
