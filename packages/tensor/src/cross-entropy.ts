/**
 * Softmax cross-entropy as one fused custom op (shaders/tensor/cross-entropy.wgsl): a single
 * dispatch forward and a single one backward, where the composite (logSoftmax, gather, mean) took
 * about 28 small dispatches per training step, each ~0.1 ms on software adapters. The composite
 * stays the definition: `crossEntropyComposite` (composites.ts) is what the tests hold this to.
 */
import { customOp, type CustomOpDefinition } from './custom.ts';
import { InvalidArgumentError } from './errors.ts';
import { crossEntropyWgsl } from './generated/wgsl.ts';
import { bufferOf, fillMarker, grid1d, ParamWriter, workgroupSumWgsl } from './gpu/kernels/index.ts';
import type { IndexCheck } from './primitives.ts';
import type { Tensor } from './tensor.ts';

interface CrossEntropyAttrs {
  /** The op and argument a bad class id is reported under, and the rule it broke. */
  check: IndexCheck;
}

const sum = workgroupSumWgsl('workgroup_sum', 'f32');
const forwardSource = fillMarker(crossEntropyWgsl, 'GRAD_BINDING', ['const GRAD = false;', 'fn upstream_gradient() -> f32 { return 0.0; }', sum]);
const gradSource = fillMarker(crossEntropyWgsl, 'GRAD_BINDING', [
  'const GRAD = true;',
  '@group(0) @binding(5) var<storage, read> upstream: array<f32>;',
  'fn upstream_gradient() -> f32 { return upstream[0]; }',
  sum,
]);

function params(rows: number, classes: number, code: number): ArrayBuffer {
  return new ParamWriter().u(0, rows).u(1, classes).u(2, code).buffer;
}

/** Each row's log-sum-exp in float64 (max-shifted, as the kernel). */
function rowLse(x: Float64Array, r: number, classes: number): number {
  let m = -Infinity;
  for (let j = 0; j < classes; j++) m = Math.max(m, x[r * classes + j]);
  let s = 0;
  for (let j = 0; j < classes; j++) s += Math.exp(x[r * classes + j] - m);
  return m + Math.log(s);
}

function checkTarget(t: number, classes: number, check: IndexCheck): void {
  if (!(t >= 0 && t < classes)) throw new InvalidArgumentError(check.op, check.argument, `${check.rule}; got ${t}`);
}

const crossEntropyGradOp: CustomOpDefinition<CrossEntropyAttrs, { logits: Tensor; targets: Tensor; g: Tensor }> = {
  name: 'crossEntropyGrad',
  gpu(rec, { logits, targets, g }, _out, dst, { check }) {
    const [rows, classes] = logits.shape;
    const flag = rec.checkFlag(check);
    rec.dispatch(
      'cross-entropy-grad',
      gradSource,
      params(rows, classes, flag.code),
      [bufferOf(logits), bufferOf(targets), dst, flag.buffer, bufferOf(g)],
      grid1d(rows),
    );
  },
  cpu({ logits, targets, g }, _out, { check }) {
    const [rows, classes] = logits.shape;
    const dx = new Float64Array(rows * classes);
    for (let r = 0; r < rows; r++) {
      const t = targets.values[r];
      checkTarget(t, classes, check);
      const lse = rowLse(logits.values, r, classes);
      for (let j = 0; j < classes; j++) dx[r * classes + j] = ((Math.exp(logits.values[r * classes + j] - lse) - (j === t ? 1 : 0)) * g.values[0]) / rows;
    }
    return dx;
  },
};

const crossEntropyOp: CustomOpDefinition<CrossEntropyAttrs, { logits: Tensor; targets: Tensor }> = {
  name: 'crossEntropy',
  gpu(rec, { logits, targets }, _out, dst, { check }) {
    const [rows, classes] = logits.shape;
    const flag = rec.checkFlag(check);
    rec.dispatch('cross-entropy', forwardSource, params(rows, classes, flag.code), [bufferOf(logits), bufferOf(targets), dst, flag.buffer], [1, 1, 1]);
  },
  cpu({ logits, targets }, _out, { check }) {
    const [rows, classes] = logits.shape;
    let total = 0;
    for (let r = 0; r < rows; r++) {
      const t = targets.values[r];
      checkTarget(t, classes, check);
      total += rowLse(logits.values, r, classes) - logits.values[r * classes + t];
    }
    return Float64Array.of(total / rows);
  },
  vjp(g, { inputs: { logits, targets }, attrs }) {
    return { logits: customOp(crossEntropyGradOp, { logits, targets, g }, { shape: logits.shape, dtype: 'f32' }, attrs), targets: null };
  },
};

/**
 * The fused mean cross-entropy of logits [N, C] (N, C ≥ 1, checked by the caller) against i32 class
 * ids [N]; `check` names the op and argument a bad id is reported under.
 */
export function fusedCrossEntropy(logits: Tensor, targets: Tensor, check: IndexCheck): Tensor {
  return customOp(crossEntropyOp, { logits, targets: targets.reshape([-1]) }, { shape: [], dtype: 'f32' }, { check });
}
