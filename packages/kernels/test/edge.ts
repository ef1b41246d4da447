import { CpuBackend, DeviceMismatchError, InvalidArgumentError, ShapeMismatchError, tensor, type Device, type Tensor } from '@fairgpu/tensor';
import { contrastiveRowStats, cosineSimilarity, maskedLogSumExp, pairMoments, softmaxCrossEntropy } from '../src/index.ts';

/**
 * Bad inputs of @fairgpu/kernels: a typed error naming the argument, and memory() at its baseline
 * (the operands are made by `inputs` before the baseline is taken). `other` is a second device.
 */
export interface KernelErrorCase {
  name: string;
  inputs: (device: Device, other: Device) => Tensor[];
  run: (...inputs: Tensor[]) => unknown;
  error: new (...args: never[]) => Error;
  message: RegExp;
}

const rows = (device: Device, m: number, d: number) =>
  tensor(
    Array.from({ length: m * d }, (_, i) => Math.sin(i + 1)),
    [m, d],
    { device },
  );
const ids = (device: Device, v: number[]) => tensor(v, [v.length], { device, dtype: 'i32' });

export const kernelErrorCases: KernelErrorCase[] = [
  {
    name: 'cosineSimilarity with mismatched widths leaves no tensor',
    inputs: (d) => [rows(d, 2, 3), rows(d, 2, 4)],
    run: (a, b) => cosineSimilarity(a, b),
    error: ShapeMismatchError,
    message: /^cosineSimilarity: shape mismatch in 'y': has d = 4, expected 3/,
  },
  {
    name: 'cosineSimilarity with y on another device',
    inputs: (d, o) => [rows(d, 2, 3), rows(o, 2, 3)],
    run: (a, b) => cosineSimilarity(a, b),
    error: DeviceMismatchError,
    message: /^cosineSimilarity: device mismatch in 'y'/,
  },
  {
    name: 'contrastiveRowStats with a reference on another device',
    inputs: (d, o) => [rows(d, 4, 3), rows(o, 5, 3), ids(d, [0, 1, 0, 1]), ids(o, [0, 1, 0, 1, 2])],
    run: (z, r, l, rl) => contrastiveRowStats(z, { temperature: 0.5, reference: r, labels: l, refLabels: rl }),
    error: DeviceMismatchError,
    message: /^contrastiveRowStats: device mismatch in 'reference'/,
  },
  {
    name: 'contrastiveRowStats with labels on another device',
    inputs: (d, o) => [rows(d, 4, 3), ids(o, [0, 1, 0, 1])],
    run: (z, l) => contrastiveRowStats(z, { temperature: 0.5, labels: l }),
    error: DeviceMismatchError,
    message: /^contrastiveRowStats: device mismatch in 'labels'/,
  },
  {
    name: 'contrastiveRowStats misspelt option',
    inputs: (d) => [rows(d, 4, 3)],
    run: (z) => contrastiveRowStats(z, { temprature: 0.5 } as never),
    error: InvalidArgumentError,
    message: /^contrastiveRowStats: argument 'options' unknown option 'temprature' \(did you mean 'temperature'\?\); known options: temperature, reference/,
  },
  {
    name: 'contrastiveRowStats unknown option with an undefined value',
    inputs: (d) => [rows(d, 4, 3)],
    run: (z) => contrastiveRowStats(z, { temperature: 0.5, colums: undefined } as never),
    error: InvalidArgumentError,
    message: /unknown option 'colums' \(did you mean 'columns'\?\)/,
  },
  {
    name: 'contrastiveRowStats unknown kernel key',
    inputs: (d) => [rows(d, 4, 3), tensor([1, 2, 3, 4], [4], { device: d })],
    run: (z, t) => contrastiveRowStats(z, { temperature: 0.5, targets: t, kernel: { type: 'rbf', sigma: 1, sigmma: 2 } as never }),
    error: InvalidArgumentError,
    message: /^contrastiveRowStats: argument 'kernel' has unknown key 'sigmma'/,
  },
  {
    name: 'pairMoments misspelt option',
    inputs: (d) => [rows(d, 4, 3), ids(d, [0, 1, 0, 1])],
    run: (z, l) => pairMoments(z, { temperature: 0.5, labels: l, biasLabels: l, pairs: 'all', imp: 'fused' } as never),
    error: InvalidArgumentError,
    message: /^pairMoments: argument 'options' unknown option 'imp' \(did you mean 'impl'\?\)/,
  },
  {
    name: 'pairMoments biasLabels on another device',
    inputs: (d, o) => [rows(d, 4, 3), ids(d, [0, 1, 0, 1]), ids(o, [0, 1, 0, 1])],
    run: (z, l, b) => pairMoments(z, { temperature: 0.5, labels: l, biasLabels: b, pairs: 'all' }),
    error: DeviceMismatchError,
    message: /^pairMoments: device mismatch in 'biasLabels'/,
  },
  {
    name: 'maskedLogSumExp mask on another device',
    inputs: (d, o) => [rows(d, 2, 3), tensor([1, 0, 1, 1, 1, 0], [2, 3], { device: o })],
    run: (a, m) => maskedLogSumExp(a, m),
    error: DeviceMismatchError,
    message: /^maskedLogSumExp: device mismatch in 'mask'/,
  },
  {
    name: 'softmaxCrossEntropy label 9 of 4 classes (i32 tensor)',
    inputs: (d) => [rows(d, 8, 4), ids(d, [0, 1, 2, 3, 9, 0, 1, -1])],
    run: (x, l) => softmaxCrossEntropy(x, l),
    error: InvalidArgumentError,
    message: /^softmaxCrossEntropy: argument 'labels' must hold indices in \[0, 4\).*got values in \[-1, 9\]/,
  },
];

/** A second device for the device-mismatch cases (a distinct CPU reference backend). */
export const otherDevice = (): Device => new CpuBackend();
