import { NonFiniteError, scope, type Tensor } from '@fairgpu/tensor';
import type { LossBatch } from './batch.ts';
import type { LossFn } from './registry.ts';

/**
 * NaN/Inf checks need a readback, so they are an explicit async step rather than part of the
 * (synchronous, graph-building) loss call. The guarantee of the losses themselves: finite
 * features and valid batches give a finite loss and gradient (every 0/0 and log 0 of the formulas
 * is guarded with `where` and finite sentinels, and `released` batches for which the authors' code
 * returns NaN/+inf are rejected with a typed error when labels are host arrays).
 */

/** Throws NonFiniteError naming `argument` if `x` holds a NaN or ±Inf (one readback). */
export async function checkFinite(x: Tensor, argument = 'x', op = 'checkFinite'): Promise<void> {
  const values = await x.toArray();
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      const row = x.rank === 2 ? ` (row ${Math.floor(i / x.shape[1])})` : '';
      throw new NonFiniteError(op, argument, `contains ${values[i]} at element ${i}${row}`);
    }
  }
}

/** Validates features (and tensor-valued targets) before a loss: NonFiniteError naming the argument. */
export async function validateFeatures(x: Tensor, batch: LossBatch = {}): Promise<void> {
  await checkFinite(x, 'x', 'validateFeatures');
  if (batch.targets && typeof (batch.targets as Tensor).toArray === 'function') await checkFinite(batch.targets as Tensor, 'targets', 'validateFeatures');
}

/**
 * A loss with both checks around it: features validated first, and the loss value read back and
 * checked, so no NaN can pass silently (NonFiniteError naming 'loss'). Costs two readbacks; use it
 * while debugging or once per epoch, not in the hot loop.
 */
export async function checkedLoss(loss: LossFn, x: Tensor, batch: LossBatch, options?: Record<string, unknown>): Promise<Tensor> {
  await validateFeatures(x, batch);
  const out = loss(x, batch, options);
  try {
    await scope(async () => checkFinite(out, 'loss', 'checkedLoss'));
  } catch (e) {
    out.dispose();
    throw e;
  }
  return out;
}
