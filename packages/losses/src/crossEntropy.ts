import { gather, InvalidArgumentError, tidy, type Tensor } from '@fairgpu/tensor';
import { resolveField, resolveShape, type LossBatch } from './batch.ts';
import { checkObject, implOf, variantOf } from './options.ts';
import { reduce } from './reducer.ts';

export interface CrossEntropyOptions {
  /** ε in [0, 1): the target is (1 − ε)·one-hot + ε/C (PyTorch's `label_smoothing`; default 0). */
  labelSmoothing?: number;
  /** Accepted for a uniform API; both variants are PyTorch's `F.cross_entropy`. */
  variant?: 'paper' | 'released';
  /** Accepted for a uniform API (there is one implementation). */
  impl?: 'fused' | 'composite';
}

/**
 * Softmax cross-entropy of logits x [N, C] against `batch.labels` (class ids in [0, C)), mean
 * over rows: (1 − ε)·(−log p_y) + ε·mean_c(−log p_c).
 * @example crossEntropy(logits, { labels: [2, 0, 1] }, { labelSmoothing: 0.1 })
 */
export function crossEntropy(x: Tensor, batch: LossBatch, options?: CrossEntropyOptions): Tensor {
  return tidy(() => {
    const op = 'cross-entropy';
    const o = checkObject(op, options);
    variantOf(op, o.variant);
    implOf(op, o.impl);
    const eps = o.labelSmoothing === undefined ? 0 : o.labelSmoothing;
    if (typeof eps !== 'number' || !(eps >= 0 && eps < 1))
      throw new InvalidArgumentError(op, 'labelSmoothing', `must be a number in [0, 1), got ${String(eps)}`);
    const shape = resolveShape(op, x, batch);
    const labels = resolveField(op, shape, batch.labels, 'labels', true)!;
    const C = shape.d;
    if (labels.host) {
      for (let i = 0; i < labels.host.length; i++) {
        const y = labels.host[i];
        if (y < 0 || y >= C) throw new InvalidArgumentError(op, 'labels', `[${i % shape.B}] is ${y}, expected a class id in [0, ${C})`);
      }
    }
    const logp = x.logSoftmax(1);
    // i32 tensor labels: ids outside [0, C) throw here when their values are known on the host
    // (tensor() data, the CPU backend), else the gather kernel flags them and the next readback
    // (loss.item(), toArray, sync) throws this InvalidArgumentError naming 'labels'.
    const nll = gather(logp, 1, labels.tensor.reshape([shape.M, 1]), { op, argument: 'labels' })
      .reshape([shape.M])
      .neg();
    const terms = eps === 0 ? nll : nll.mul(1 - eps).sub(logp.mean(1).mul(eps));
    return reduce({ kind: 'meanAll', terms });
  });
}
