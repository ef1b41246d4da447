import { DtypeMismatchError, ShapeMismatchError } from '../errors.ts';
import { resolveBackend } from '../dispatch.ts';
import { formatShape, shapesEqual } from '../shape.ts';
import type { Tensor } from '../tensor.ts';

/** Checks that `source` can overwrite `target`: one backend, same shape and dtype. */
export function validateSame(op: string, target: Tensor, source: Tensor): void {
  resolveBackend(op, [target, source], ['target', 'source']);
  if (!shapesEqual(target.shape, source.shape)) {
    throw new ShapeMismatchError(op, 'source', `${formatShape(source.shape)} differs from the target's ${formatShape(target.shape)}`);
  }
  if (target.dtype !== source.dtype) throw new DtypeMismatchError(op, 'source', `is ${source.dtype} but the target is ${target.dtype}`);
}
