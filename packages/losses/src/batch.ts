import { InvalidArgumentError, isTensor, reshape, tensor, type Backend, type Tensor } from '@fairgpu/tensor';

/**
 * What a loss needs besides the features. Per-sample arrays have length B = M / nViews and are
 * tiled over the views (rows are view-major: row v·B + b is view v of sample b). Arrays are
 * validated on the host (length, integers, finiteness); tensors are trusted for their values
 * (checking them needs a readback) and checked for shape, dtype and device; an i32 class id
 * outside [0, C) for cross-entropy is still an error — see ops/gather.ts in @fairgpu/tensor and
 * docs/architecture.md, "Where validation happens".
 */
export interface LossBatch {
  labels?: ArrayLike<number> | Tensor;
  biasLabels?: ArrayLike<number> | Tensor;
  targets?: ArrayLike<number> | Tensor;
  nViews?: number;
}

/** A per-sample field after validation, tiled to the M rows. */
export interface RowField {
  /** [M] on the features' device: i32 for labels, f32 for targets. */
  readonly tensor: Tensor;
  /** The M tiled values on the host, when the caller passed an array (enables host-side checks). */
  readonly host?: Float64Array;
}

export interface ResolvedBatch {
  readonly M: number;
  readonly d: number;
  readonly B: number;
  readonly V: number;
  readonly device: Backend;
}

/** Checks the features `x` (an f32 [M, d] tensor) and the view count. */
export function resolveShape(op: string, x: Tensor, batch: LossBatch, defaultViews = 1): ResolvedBatch {
  if (!isTensor(x)) throw new InvalidArgumentError(op, 'x', 'must be a Tensor of features [M, d]');
  if (x.rank !== 2) throw new InvalidArgumentError(op, 'x', `must have shape [M, d], got [${x.shape.join(', ')}]`);
  if (x.dtype !== 'f32') throw new InvalidArgumentError(op, 'x', `must be f32, got ${x.dtype}`);
  if (batch === null || typeof batch !== 'object') throw new InvalidArgumentError(op, 'batch', 'must be an object { labels?, biasLabels?, targets?, nViews? }');
  const [M, d] = x.shape;
  if (M < 1 || d < 1) throw new InvalidArgumentError(op, 'x', `must have at least one row and one column, got [${M}, ${d}]`);
  const V = batch.nViews ?? defaultViews;
  if (!Number.isInteger(V) || V < 1) throw new InvalidArgumentError(op, 'nViews', `must be a positive integer, got ${String(V)}`);
  if (M % V !== 0) throw new InvalidArgumentError(op, 'nViews', `must divide the number of rows M = ${M}, got ${V}`);
  return { M, d, B: M / V, V, device: x.backend };
}

type FieldName = 'labels' | 'biasLabels' | 'targets' | 'refLabels' | 'refTargets';

/**
 * Validates a per-sample field and tiles it to the M rows. Labels must be integers (i32 tensors
 * or integer-valued arrays), targets finite numbers (f32). `required` names the loss that needs it.
 */
export function resolveField(
  op: string,
  shape: ResolvedBatch,
  value: ArrayLike<number> | Tensor | undefined,
  name: FieldName,
  required: boolean,
): RowField | undefined {
  if (value === undefined || value === null) {
    if (required) {
      // refLabels / refTargets are options (they come with options.refEmbeddings), the others batch fields.
      const hint =
        name === 'refLabels' || name === 'refTargets'
          ? `pass options.${name}, one value per row of options.refEmbeddings`
          : `pass batch.${name}, one value per sample`;
      throw new InvalidArgumentError(op, name, `is required by ${op} (${hint})`);
    }
    return undefined;
  }
  const integer = name !== 'targets' && name !== 'refTargets';
  const { B, V, M, device } = shape;
  if (isTensor(value)) {
    const n = value.size;
    if (value.rank !== 1 || (n !== B && n !== M)) {
      throw new InvalidArgumentError(op, name, `must be a vector of length B = ${B} (or M = ${M} when already tiled), got shape [${value.shape.join(', ')}]`);
    }
    if (value.backend !== device) throw new InvalidArgumentError(op, name, 'must be on the same device as the features x');
    if (integer && value.dtype !== 'i32') throw new InvalidArgumentError(op, name, `must be an i32 tensor (integer class ids), got ${value.dtype}`);
    let t = integer ? value : value.dtype === 'f32' ? value : value.cast('f32');
    if (n === B && V > 1) t = reshape(t.reshape([1, B]).expand([V, B]), [M]);
    return { tensor: t === value ? value.reshape([n]) : t };
  }
  if (typeof value !== 'object' || typeof (value as ArrayLike<number>).length !== 'number') {
    throw new InvalidArgumentError(op, name, 'must be an array of numbers or a Tensor');
  }
  const arr = value as ArrayLike<number>;
  if (arr.length !== B) throw new InvalidArgumentError(op, name, `has length ${arr.length}, expected B = M / nViews = ${B}`);
  const host = new Float64Array(M);
  for (let b = 0; b < B; b++) {
    const v = arr[b];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidArgumentError(op, name, `[${b}] is ${String(v)}, expected a finite number`);
    if (integer && !Number.isInteger(v)) throw new InvalidArgumentError(op, name, `[${b}] is ${v}, expected an integer class id`);
    if (integer && Math.abs(v) > 2 ** 31 - 1) throw new InvalidArgumentError(op, name, `[${b}] is ${v}, outside the i32 range`);
    for (let k = 0; k < V; k++) host[k * B + b] = v;
  }
  return { tensor: tensor(host, [M], { device, dtype: integer ? 'i32' : 'f32' }), host };
}
