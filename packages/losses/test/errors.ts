import { expect } from 'vitest';
import { CpuBackend, InvalidArgumentError, isFairgpuError, memory, Rng, tensor, type Device, type Tensor } from '@fairgpu/tensor';
import { lossRegistry, softmaxCrossEntropy, type LossBatch, type LossName } from '../src/index.ts';
import { LOSS_OPTIONS } from '../src/options.ts';

/**
 * Bad inputs of @fairgpu/losses (the issue "Bad input and numerical edges"): each is a typed
 * error naming the argument, leaves memory() at its baseline (operands are made by `inputs`
 * before it is taken), and failed before the fix. Run on the CPU (errors.test.ts) and the GPU
 * (losses.gpu.test.ts).
 */
export interface LossErrorCase {
  name: string;
  inputs: (device: Device) => Tensor[];
  run: (...inputs: Tensor[]) => unknown;
  message: RegExp;
}

/** Runs one case on `device`: a typed InvalidArgumentError matching `c.message`, memory() back at its baseline. */
export function expectLossErrorCase(c: LossErrorCase, device: Device): void {
  const inputs = c.inputs(device);
  const before = memory(device);
  let error: unknown;
  try {
    c.run(...inputs);
  } catch (e) {
    error = e;
  }
  expect(error, 'it must throw').toBeInstanceOf(InvalidArgumentError);
  expect(isFairgpuError(error)).toBe(true);
  expect((error as Error).message).toMatch(c.message);
  const after = memory(device);
  expect({ tensors: after.tensors, bytes: after.bytesInUse }).toEqual({ tensors: before.tensors, bytes: before.bytesInUse });
  for (const t of inputs) t.dispose();
}

const feats = (device: Device, M: number, d: number, seed = 1) => {
  const rng = new Rng(seed);
  return tensor(
    Array.from({ length: M * d }, () => rng.normal()),
    [M, d],
    { device, requiresGrad: true },
  );
};
const ids = (device: Device, v: number[]) => tensor(v, [v.length], { device, dtype: 'i32' });

/** A batch every loss accepts for 8 rows (nt-xent: two views of 4). */
export function goodBatch(name: LossName): LossBatch {
  if (name === 'nt-xent') return { nViews: 2 };
  return {
    labels: name === 'cross-entropy' ? [0, 1, 2, 3, 0, 1, 2, 3] : [0, 1, 0, 1, 2, 2, 3, 3],
    biasLabels: [0, 1, 1, 0, 0, 1, 0, 1],
    targets: [1, 2, 3, 4, 5, 6, 7, 8],
  };
}

const names = Object.keys(lossRegistry) as LossName[];

export const lossErrorCases: LossErrorCase[] = [
  // A misspelt option is an error in every loss, naming 'options' and listing the known keys.
  ...names.map(
    (name): LossErrorCase => ({
      name: `${name}: misspelt option 'temprature'`,
      inputs: (d) => [feats(d, 8, 4)],
      run: (x) => lossRegistry[name](x, goodBatch(name), { temprature: 0.5 }),
      message: new RegExp(
        `^${name}: argument 'options' unknown option 'temprature'${(LOSS_OPTIONS[name] as readonly string[]).includes('temperature') ? " \\(did you mean 'temperature'\\?\\)" : ''}; known options: ${LOSS_OPTIONS[name].join(', ')}$`,
      ),
    }),
  ),
  ...names.map(
    (name): LossErrorCase => ({
      name: `${name}: unknown option whose value is undefined`,
      inputs: (d) => [feats(d, 8, 4)],
      run: (x) => lossRegistry[name](x, goodBatch(name), { implementation: undefined }),
      message: new RegExp(`^${name}: argument 'options' unknown option 'implementation'`),
    }),
  ),
  {
    name: "supcon: temprature (the issue's example)",
    inputs: (d) => [feats(d, 8, 4)],
    run: (x) => lossRegistry.supcon(x, goodBatch('supcon'), { temprature: 0.5 }),
    message: /did you mean 'temperature'/,
  },
  {
    name: 'end: temperature is not an option of end',
    inputs: (d) => [feats(d, 8, 4)],
    run: (x) => lossRegistry.end(x, goodBatch('end'), { temperature: 0.5 }),
    message: /^end: argument 'options' unknown option 'temperature'; known options: alpha, beta, variant, impl$/,
  },
  {
    name: 'cross-entropy: i32 tensor labels 9 and -1 of 4 classes',
    inputs: (d) => [feats(d, 8, 4), ids(d, [0, 1, 2, 3, 9, 0, 1, -1])],
    run: (x, l) => lossRegistry['cross-entropy'](x, { labels: l }),
    message: /^cross-entropy: argument 'labels' must hold indices in \[0, 4\).*got values in \[-1, 9\]/,
  },
  {
    name: 'cross-entropy: host labels out of range',
    inputs: (d) => [feats(d, 8, 4)],
    run: (x) => lossRegistry['cross-entropy'](x, { labels: [0, 1, 2, 3, 4, 0, 1, 2] }),
    message: /^cross-entropy: argument 'labels' \[4\] is 4, expected a class id in \[0, 4\)/,
  },
  {
    name: 'softmaxCrossEntropy: i32 labels out of range',
    inputs: (d) => [feats(d, 8, 4), ids(d, [0, 1, 2, 3, 9, 0, 1, -1])],
    run: (x, l) => softmaxCrossEntropy(x, l),
    message: /^softmaxCrossEntropy: argument 'labels' must hold indices in \[0, 4\)/,
  },
  {
    name: 'supcon: refEmbeddings without refLabels says options.refLabels, not batch.refLabels',
    inputs: (d) => [feats(d, 8, 4), feats(d, 5, 4, 2)],
    run: (x, r) => lossRegistry.supcon(x, goodBatch('supcon'), { refEmbeddings: r }),
    message: /^supcon: argument 'refLabels' is required by supcon \(pass options\.refLabels, one value per row of options\.refEmbeddings\)/,
  },
  {
    name: 'supcon: refEmbeddings on another device',
    inputs: (d) => [feats(d, 8, 4), feats(new CpuBackend(), 5, 4, 2)],
    run: (x, r) => lossRegistry.supcon(x, goodBatch('supcon'), { refEmbeddings: r, refLabels: [0, 1, 2, 3, 0] }),
    message: /^supcon: argument 'refEmbeddings' must be on the same device/,
  },
  {
    name: 'l-thr: refEmbeddings keeps its specific message',
    inputs: (d) => [feats(d, 8, 4), feats(d, 5, 4, 2)],
    run: (x, r) => lossRegistry['l-thr'](x, goodBatch('l-thr'), { refEmbeddings: r }),
    message: /^l-thr: argument 'refEmbeddings' is not supported by l-thr/,
  },
];

export { InvalidArgumentError };
