/**
 * PyTorch's `F.linear` (y = x·Wᵀ + b) with a fused path for small layers: below
 * LINEAR_SMALL_MACS the forward is one kernel (linear.wgsl: the products and the bias) and the
 * backward one more (linear-backward.wgsl: dx, dweight and dbias together, a multi-output op)
 * instead of a matmul and a broadcast add forward and two matmuls and a batch reduction backward.
 * At a classifier head's size each of those dispatches costs its fixed floor (~0.1 ms on
 * llvmpipe) far more than its arithmetic. Larger layers keep the tiled matmul.
 */
import { matmulTransposed, type Tensor } from '@fairgpu/tensor';
import {
  bufferOf,
  customOp,
  customOpOutputs,
  f32Input,
  grid1d,
  packU32,
  type CustomOpDefinition,
  type MultiOutputOpDefinition,
} from '@fairgpu/tensor/internal';
import { linearBackwardWgsl, linearWgsl } from '../generated/wgsl.ts';
import { specialize } from './specialize.ts';

/**
 * N·in·out at or below which the fused kernels run: one invocation per output with a serial dot
 * product (in terms forward; out, or N for dweight, backward) stays below a dispatch floor there.
 */
export const LINEAR_SMALL_MACS = 2 ** 17;

interface LinearDims {
  rows: number;
  inputs: number;
  outputs: number;
}

const linearOp: CustomOpDefinition<LinearDims, { x: Tensor; weight: Tensor; bias?: Tensor }> = {
  name: 'linear',
  gpu(rec, { x, weight, bias }, _out, dst, { rows, inputs, outputs }) {
    if (!(rows * outputs)) return;
    const values = [rows, inputs, outputs, bias ? 1 : 0, inputs % 4 === 0 ? 1 : 0];
    const xs = f32Input(rec, 'x', 1, bufferOf(x), rows * inputs);
    const ws = f32Input(rec, 'weight', 2, bufferOf(weight), outputs * inputs);
    const bs = bias ? f32Input(rec, 'bias', 3, bufferOf(bias), outputs) : null;
    const biasWgsl = bs ? bs.wgsl : 'fn bias_at(i: u32) -> f32 { return 0.0; }\n';
    rec.dispatch(
      'linear',
      xs.wgsl + ws.wgsl + biasWgsl + specialize(linearWgsl, 'Params', values),
      packU32(values),
      [xs.resource, ws.resource, bs ? bs.resource : null, dst],
      grid1d(rows * outputs),
    );
  },
  cpu({ x, weight, bias }, _out, { rows, inputs, outputs }) {
    const y = new Float64Array(rows * outputs);
    for (let n = 0; n < rows; n++)
      for (let o = 0; o < outputs; o++) {
        let acc = bias ? bias.values[o] : 0;
        for (let i = 0; i < inputs; i++) acc += x.values[n * inputs + i] * weight.values[o * inputs + i];
        y[n * outputs + o] = acc;
      }
    return y;
  },
  vjp(g, { inputs: { x, weight, bias }, attrs, needsGrad }) {
    const { rows, inputs, outputs } = attrs;
    const grads = customOpOutputs(
      linearBackwardOp,
      { g, x, weight },
      { dx: { shape: [rows, inputs], dtype: 'f32' }, dweight: { shape: [outputs, inputs], dtype: 'f32' }, dbias: { shape: [outputs], dtype: 'f32' } },
      attrs,
    );
    return {
      x: needsGrad?.x === false ? null : grads.dx,
      weight: needsGrad?.weight === false ? null : grads.dweight,
      bias: bias && needsGrad?.bias !== false ? grads.dbias : null,
    };
  },
};

const linearBackwardOp: MultiOutputOpDefinition<LinearDims, { g: Tensor; x: Tensor; weight: Tensor }, 'dx' | 'dweight' | 'dbias'> = {
  name: 'linearBackward',
  gpu(rec, { g, x, weight }, outs, { rows, inputs, outputs }) {
    const values = [rows, inputs, outputs];
    const total = rows * inputs + outputs * inputs + outputs;
    const read = [
      f32Input(rec, 'g', 1, bufferOf(g), rows * outputs),
      f32Input(rec, 'x', 2, bufferOf(x), rows * inputs),
      f32Input(rec, 'weight', 3, bufferOf(weight), outputs * inputs),
    ];
    rec.dispatch(
      'linear-backward',
      read.map((r) => r.wgsl).join('') + specialize(linearBackwardWgsl, 'Params', values),
      packU32(values),
      [...read.map((r) => r.resource), outs.dx, outs.dweight, outs.dbias],
      grid1d(total),
    );
  },
  cpu({ g, x, weight }, _outs, { rows, inputs, outputs }) {
    const dx = new Float64Array(rows * inputs);
    const dweight = new Float64Array(outputs * inputs);
    const dbias = new Float64Array(outputs);
    for (let n = 0; n < rows; n++)
      for (let o = 0; o < outputs; o++) {
        const go = g.values[n * outputs + o];
        dbias[o] += go;
        for (let i = 0; i < inputs; i++) {
          dx[n * inputs + i] += go * weight.values[o * inputs + i];
          dweight[o * inputs + i] += go * x.values[n * inputs + i];
        }
      }
    return { dx, dweight, dbias };
  },
};

/**
 * y = x·Wᵀ + b (PyTorch's `F.linear`): x [..., in], weight [out, in], bias [out] or null →
 * [..., out]. The fused kernels run for N·in·out ≤ LINEAR_SMALL_MACS (N the product of x's leading
 * axes); above, a matmul and a broadcast add. Shapes are the caller's to check (`Linear` does).
 */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  const [outputs, inputs] = weight.shape;
  const rows = x.size / inputs;
  if (rows * inputs * outputs > LINEAR_SMALL_MACS) {
    const y = matmulTransposed(x, weight, false, true);
    return bias ? y.add(bias) : y;
  }
  const flat = x.rank === 2 ? x : x.reshape([rows, inputs]);
  const y = customOp(linearOp, { x: flat, weight, bias: bias ?? undefined }, { shape: [rows, outputs], dtype: 'f32' }, { rows, inputs, outputs });
  return x.rank === 2 ? y : y.reshape([...x.shape.slice(0, -1), outputs]);
}
