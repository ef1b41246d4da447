import { InvalidArgumentError, type Tensor } from '@fairgpu/tensor';
import { l2Normalize } from '@fairgpu/kernels';
import { resolveField, type LossBatch, type ResolvedBatch, type RowField } from './batch.ts';
import type { ReferenceOptions } from './options.ts';

/** Column `c` of a [M, C] statistics tensor, as [M]. */
export function column(stats: Tensor, c: number): Tensor {
  const [m] = stats.shape;
  return stats.slice([0, c], [m, c + 1]).reshape([m]);
}

/** The reference set of a supervised contrastive loss: normalised rows and their tiled labels. */
export interface Reference {
  readonly z: Tensor;
  readonly labels?: RowField;
  readonly targets?: RowField;
}

/**
 * `refEmbeddings` / `refLabels` (anchors against a larger reference set, e.g. a memory queue):
 * the reference rows are normalised like the anchors and their labels validated like `labels`
 * (one per reference row, no view tiling).
 */
export function resolveReference(
  op: string,
  shape: ResolvedBatch,
  options: ReferenceOptions & { refTargets?: ArrayLike<number> | Tensor },
  needs: 'labels' | 'targets',
): Reference | undefined {
  const ref = options.refEmbeddings;
  if (ref === undefined) {
    if (options.refLabels !== undefined) throw new InvalidArgumentError(op, 'refLabels', 'is given without refEmbeddings');
    if (options.refTargets !== undefined) throw new InvalidArgumentError(op, 'refTargets', 'is given without refEmbeddings');
    return undefined;
  }
  if (typeof ref !== 'object' || typeof (ref as Tensor).rank !== 'number') throw new InvalidArgumentError(op, 'refEmbeddings', 'must be a Tensor [N, d]');
  if (ref.rank !== 2 || ref.shape[1] !== shape.d)
    throw new InvalidArgumentError(op, 'refEmbeddings', `must have shape [N, ${shape.d}], got [${ref.shape.join(', ')}]`);
  if (ref.dtype !== 'f32') throw new InvalidArgumentError(op, 'refEmbeddings', `must be f32, got ${ref.dtype}`);
  if (ref.backend !== shape.device) throw new InvalidArgumentError(op, 'refEmbeddings', 'must be on the same device as the features x');
  const [n] = ref.shape;
  const refShape: ResolvedBatch = { M: n, d: shape.d, B: n, V: 1, device: shape.device };
  if (needs === 'labels') return { z: l2Normalize(ref), labels: resolveField(op, refShape, options.refLabels, 'refLabels', true) };
  return { z: l2Normalize(ref), targets: resolveField(op, refShape, options.refTargets, 'refTargets', true) };
}

/** Throws when an anchor has no positive (host labels only); `released` reproduces NaN/+inf there. */
export function rejectLonelyAnchors(op: string, labels: RowField, reference: Reference | undefined, what: string): void {
  const own = labels.host;
  if (!own) return;
  const ref = reference ? reference.labels?.host : own;
  if (!ref) return;
  const counts = new Map<number, number>();
  for (const v of ref) counts.set(v, (counts.get(v) ?? 0) + 1);
  for (let i = 0; i < own.length; i++) {
    const c = (counts.get(own[i]) ?? 0) - (reference ? 0 : 1);
    if (c <= 0) {
      throw new InvalidArgumentError(
        op,
        'labels',
        `gives anchor ${i} (label ${own[i]}) no positive: the released code returns ${what} here; use variant 'paper' (anchors without positives are left out of the mean)`,
      );
    }
  }
}

export type { LossBatch };
