import {
  arange,
  concat,
  crossEntropy,
  DtypeMismatchError,
  matmulTransposed,
  maximum,
  normalize,
  ShapeMismatchError,
  tidy,
  where,
  zeros,
  type Tensor,
} from '@fairgpu/tensor';
import { checkDevice, checkFeatures, type KernelType } from './options.ts';
import { EMPTY_LSE, hasColumn, type ResolvedStatsOptions, type StatName } from './stats.ts';
import type { ResolvedPairOptions } from './pairs.ts';

/**
 * The materialised path: every statistic built from tensor primitives over the full M×N logits.
 * It runs on every backend (float64 CPU included, so gradcheck covers it), differentiates through
 * the primitives' rules, and is the reference the fused kernels are tested against.
 */

/** x / max(‖x‖₂, 1e-12) per row (PyTorch's F.normalize). */
export function l2Normalize(x: Tensor): Tensor {
  checkFeatures('l2Normalize', 'x', x);
  return normalize(x, -1, 1e-12);
}

/** Cosine similarities of the rows of x with the rows of y (default x): [M, N], diagonal included. */
export function cosineSimilarity(x: Tensor, y?: Tensor): Tensor {
  const a = checkFeatures('cosineSimilarity', 'x', x);
  // y is checked before anything is computed: an error leaves no tensor behind.
  const b = y === undefined ? undefined : checkFeatures('cosineSimilarity', 'y', y, a.shape[1], a.backend, 'x');
  return tidy(() => {
    const zx = normalize(a, -1, 1e-12);
    return matmulTransposed(zx, b === undefined ? zx : normalize(b, -1, 1e-12), false, true);
  });
}

/**
 * log Σ_k mask_rk·e^{a_rk} per row of a 2-D `a` (mask: f32 0/1 of a's shape) → [R]. Stable for
 * logits up to ~1e3 (shifted by the masked row max); an all-masked row gives the finite sentinel
 * −3e38 with no gradient.
 */
export function maskedLogSumExp(a: Tensor, mask: Tensor): Tensor {
  const x = checkFeatures('maskedLogSumExp', 'a', a);
  if (mask?.dtype !== 'f32') throw new DtypeMismatchError('maskedLogSumExp', 'mask', `must be f32 0/1, got ${mask?.dtype}`);
  checkDevice('maskedLogSumExp', 'mask', mask, x.backend, 'a');
  if (mask.rank !== 2 || mask.shape[0] !== x.shape[0] || mask.shape[1] !== x.shape[1]) {
    throw new ShapeMismatchError('maskedLogSumExp', 'mask', `must have a's shape [${x.shape.join(', ')}], got [${mask.shape.join(', ')}]`);
  }
  return maskedLse(x, mask.gt(0)).reshape([x.shape[0]]);
}

/** Mean over rows of −log softmax(logits)[label] (labels i32 [R], each in [0, C)). */
export function softmaxCrossEntropy(logits: Tensor, labels: Tensor): Tensor {
  const x = checkFeatures('softmaxCrossEntropy', 'logits', logits);
  if (labels?.dtype !== 'i32') throw new DtypeMismatchError('softmaxCrossEntropy', 'labels', `must be i32 class indices, got ${labels?.dtype}`);
  if (labels.rank !== 1 || labels.shape[0] !== x.shape[0])
    throw new ShapeMismatchError('softmaxCrossEntropy', 'labels', `must have shape [${x.shape[0]}], got [${labels.shape.join(', ')}]`);
  checkDevice('softmaxCrossEntropy', 'labels', labels, x.backend, 'logits');
  // A class id outside [0, C): a sync error when the ids are known on the host, else at the next readback.
  return crossEntropy(x, labels, { op: 'softmaxCrossEntropy', argument: 'labels' });
}

/**
 * Masked log-sum-exp along axis 1 with keepdim, mask given as f32 0/1 (broadcastable to a).
 * Shifted by the row's max over unmasked entries (detached: the shift's gradient cancels), so a
 * row whose entries all lie far below the global row max (the self-pair at τ = 0.01) does not
 * underflow; empty rows give EMPTY_LSE.
 */
function maskedLse(a: Tensor, keep: Tensor): Tensor {
  // keep has a's shape (callers build full masks).
  const full = keep;
  const mm = where(full, a, EMPTY_LSE).max(1, true).detach();
  const e = where(full, a.sub(mm), 0).exp().mul(full);
  const s = e.sum(1, true);
  const has = full.sum(1, true).gt(0);
  return where(has, mm.add(where(has, s, 1).log()), EMPTY_LSE);
}

/**
 * log(Σ_k e^{a_k}) elementwise over tensors of one shape, with optional constant terms c ≥ 0
 * entering as e^{log c}: stable for any magnitudes (the max is a detached shift), finite when an
 * input is the empty-sum sentinel EMPTY_LSE (−3e38).
 */
export function logAddExp(terms: readonly Tensor[], constants: readonly number[] = []): Tensor {
  const logs = constants.filter((c) => c > 0).map((c) => Math.log(c));
  let mx = terms[0];
  for (const t of terms.slice(1)) mx = maximum(mx, t);
  for (const l of logs) mx = mx.maximum(l);
  const shift = mx.detach();
  let s = terms[0].sub(shift).exp();
  for (const t of terms.slice(1)) s = s.add(t.sub(shift).exp());
  for (const l of logs) s = s.add(shift.neg().add(l).exp());
  return s.log().add(shift);
}

/**
 * Kernel weights w_ij = K(t_i − tr_j) as an [M, N] tensor (t [M], tr [N]): the tensor twin of
 * `kernelWeight` (options.ts), which the WGSL `kweight` mirrors. Differentiable in t and tr as
 * written; contrastiveRowStats passes detached targets (they are data).
 */
export function kernelWeights(t: Tensor, tr: Tensor, type: KernelType, sigma: number): Tensor {
  const delta = t.reshape([-1, 1]).sub(tr.reshape([1, -1]));
  const d2 = delta.mul(delta);
  if (type === 'gaussian')
    return d2
      .mul(-1 / (2 * sigma * sigma))
      .exp()
      .mul(1 / (Math.sqrt(2 * Math.PI) * sigma));
  if (type === 'rbf') return d2.mul(-1 / (2 * sigma * sigma)).exp();
  return d2.mul(sigma).add(1).recip();
}

/** [M, STATS_COLUMNS] from the materialised logits (see docs/contrastive-stats.md). */
export function contrastiveRowStatsComposite(r: ResolvedStatsOptions): Tensor {
  const z = r.anchors;
  const zr = r.reference ?? z;
  const [m] = z.shape;
  const n = zr.shape[0];
  const device = z.backend;
  const s = matmulTransposed(z, zr, false, true); // S_ij [M, N]
  const logits = s.div(r.temperature);
  const rowMax = logits.max(1, true).detach();
  const l = logits.sub(rowMax);
  // J(i): every j but the self-pair (only when the reference is the anchors themselves).
  const notSelf = r.reference
    ? zeros([m, n], { device }).add(1)
    : arange(m, undefined, 1, { device })
        .reshape([m, 1])
        .ne(arange(n, undefined, 1, { device }).reshape([1, n]));
  const zero = zeros([m, 1], { device });
  // Unrequested columns are 0 (no gradient) and are not computed.
  const want = (name: StatName) => hasColumn(r.columns, name);
  const cols: Tensor[] = [rowMax, want('lseAll') ? maskedLse(l, notSelf) : zero];
  if (r.labels && r.refLabels) {
    const same = r.labels.reshape([m, 1]).eq(r.refLabels.reshape([1, n]));
    const pos = same.mul(notSelf);
    const neg = notSelf.sub(pos);
    // Requesting epsOut implies lseNeg (resolveColumns).
    const lseNeg = want('lseNeg') ? maskedLse(l, neg) : zero;
    cols.push(want('lsePos') ? maskedLse(l, pos) : zero, want('lseNeg') ? lseNeg : zero);
    cols.push(want('sumPosLogit') ? l.mul(pos).sum(1, true) : zero, want('countPos') ? pos.sum(1, true) : zero);
    if (want('epsOut')) {
      // log(e^{l_ip − ε} + e^{lseNeg} + c), shifted by max(l_ip − ε, lseNeg, log c) so no term
      // overflows or underflows to log 0.
      const a = l.sub(r.epsilon);
      let shift = a.maximum(lseNeg);
      if (r.logEps > 0) shift = shift.maximum(Math.log(r.logEps));
      shift = shift.detach();
      let inner = a.sub(shift).exp().add(lseNeg.sub(shift).exp());
      if (r.logEps > 0) inner = inner.add(shift.neg().exp().mul(r.logEps));
      cols.push(inner.log().add(shift).mul(pos).sum(1, true));
    } else {
      cols.push(zero);
    }
  } else {
    cols.push(zero, zero, zero, zero, zero);
  }
  if (r.targets && r.refTargets && r.kernel) {
    const w = kernelWeights(r.targets.detach(), r.refTargets.detach(), r.kernel.type, r.kernel.sigma).mul(notSelf);
    cols.push(want('sumW') ? w.sum(1, true) : zero, want('sumWLogit') ? w.mul(l).sum(1, true) : zero);
    if (want('lseExpW')) {
      const oneMinusW = w.neg().add(1);
      cols.push(r.expVariant === 'paper' ? maskedLse(logits.mul(oneMinusW), notSelf).sub(rowMax) : maskedLse(l.mul(oneMinusW), notSelf));
    } else {
      cols.push(zero);
    }
  } else {
    cols.push(zero, zero, zero);
  }
  return concat(cols, 1);
}

/** [4, 3] pooled pair moments from the materialised M×M similarities (see pairs.ts). */
export function pairMomentsComposite(r: ResolvedPairOptions): Tensor {
  const z = r.anchors;
  const [m] = z.shape;
  const device = z.backend;
  const s = matmulTransposed(z, z, false, true).div(r.temperature);
  const idx = arange(m, undefined, 1, { device });
  const pairMask = r.pairs === 'upper' ? idx.reshape([m, 1]).lt(idx.reshape([1, m])) : zeros([m, m], { device }).add(1);
  const sameL = r.labels.reshape([m, 1]).eq(r.labels.reshape([1, m]));
  const sameB = r.biasLabels.reshape([m, 1]).eq(r.biasLabels.reshape([1, m]));
  const otherL = sameL.neg().add(1);
  const otherB = sameB.neg().add(1);
  const s2 = s.mul(s);
  const parts: Tensor[] = [];
  for (const g of [sameL.mul(sameB), sameL.mul(otherB), otherL.mul(sameB), otherL.mul(otherB)]) {
    const mask = g.mul(pairMask);
    parts.push(mask.sum().reshape([1]), mask.mul(s).sum().reshape([1]), mask.mul(s2).sum().reshape([1]));
  }
  return concat(parts, 0).reshape([4, 3]);
}
