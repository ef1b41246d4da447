import {
  DtypeMismatchError,
  InvalidArgumentError,
  NonFiniteError,
  ShapeMismatchError,
  Rng,
  arange,
  full,
  gather,
  logsumexp,
  normalize,
  rand,
  randn,
  scatterAdd,
  softmax,
  logSoftmax,
  tensor,
  tidy,
  zeros,
  crossEntropy,
  type Device,
  type Tensor,
} from '../src/index.ts';

/**
 * Bad and edge inputs of @fairgpu/tensor (the issue "Bad input and numerical edges"): each must
 * throw a typed error naming the op and the argument (and leave memory() at its baseline), never
 * truncate, wrap or return a silent NaN. Run on the CPU reference (edge.test.ts) and the GPU
 * (edge.gpu.test.ts).
 */
export interface ErrorCase {
  name: string;
  /** The operands, made before memory() is sampled (they are the caller's, disposed after). */
  inputs?: (device: Device) => Tensor[];
  run: (device: Device, ...inputs: Tensor[]) => unknown;
  error: new (...args: never[]) => Error;
  /** The message must match (it names the op and the argument). */
  message: RegExp;
}

const f = (device: Device, data: number[], shape: number[]) => tensor(data, shape, { device });
const i32 = (device: Device, data: number[], shape: number[]) => tensor(data, shape, { device, dtype: 'i32' });

export const errorCases: ErrorCase[] = [
  {
    name: 'i32 data with a fraction is not truncated',
    run: (device) => tensor([1.7, -2.5], [2], { device, dtype: 'i32' }),
    error: InvalidArgumentError,
    message: /^tensor: argument 'data' \[0\] is 1\.7; dtype 'i32' needs integers/,
  },
  {
    name: 'i32 data beyond 2^31 does not wrap',
    run: (device) => tensor([3e9], [1], { device, dtype: 'i32' }),
    error: InvalidArgumentError,
    message: /^tensor: argument 'data' \[0\] is 3000000000; dtype 'i32'/,
  },
  {
    name: 'i32 data NaN even with allowNonFinite',
    run: (device) => tensor([NaN], [1], { device, dtype: 'i32', allowNonFinite: true }),
    error: NonFiniteError,
    message: /^tensor: argument 'data'/,
  },
  {
    name: 'f32 data that overflows to Inf',
    run: (device) => tensor([1e39], [1], { device }),
    error: NonFiniteError,
    message: /^tensor: argument 'data' \[0\] is 1e\+39, which overflows f32/,
  },
  {
    name: 'full i32 with a fraction',
    run: (device) => full([2], 0.5, { device, dtype: 'i32' }),
    error: InvalidArgumentError,
    message: /^full: argument 'value'/,
  },
  {
    name: 'i32 with requiresGrad (no tensor left behind)',
    run: (device) => tensor([1], [1], { device, dtype: 'i32', requiresGrad: true }),
    error: InvalidArgumentError,
    message: /^tensor: argument 'requiresGrad' needs dtype 'f32'/,
  },
  {
    name: 'zeros of 1e12 elements is a typed error, not a RangeError',
    run: (device) => zeros([1e6, 1e6], { device }),
    error: InvalidArgumentError,
    message: /^full: argument 'shape' \[1000000, 1000000\] has 1000000000000 elements/,
  },
  {
    name: 'tensor with a shape of 2^31 elements',
    run: (device) => tensor([0], [2 ** 16, 2 ** 15], { device }),
    error: InvalidArgumentError,
    message: /^tensor: argument 'shape' \[65536, 32768\] has 2147483648 elements; at most/,
  },
  {
    name: 'arange past the element limit',
    run: (device) => arange(0, 2 ** 32, 1, { device }),
    error: InvalidArgumentError,
    message: /^arange: argument 'shape'/,
  },
  {
    name: 'rand seed NaN',
    run: (device) => rand([2], { device, seed: NaN }),
    error: InvalidArgumentError,
    message: /^rand: argument 'seed' must be an integer, got NaN/,
  },
  { name: 'randn seed 1.5', run: (device) => randn([2], { device, seed: 1.5 }), error: InvalidArgumentError, message: /^randn: argument 'seed'/ },
  { name: 'Rng seed Infinity', run: () => new Rng(Infinity), error: InvalidArgumentError, message: /^Rng: argument 'seed'/ },
  {
    name: 'gather index 5 on a length-3 axis',
    inputs: (d) => [f(d, [1, 2, 3], [3]), i32(d, [0, 5], [2])],
    run: (_d, x, i) => gather(x, 0, i),
    error: InvalidArgumentError,
    message: /^gather: argument 'index' must hold indices in \[0, 3\).*got values in \[0, 5\]/,
  },
  {
    name: 'gather index -1',
    inputs: (d) => [f(d, [1, 2, 3], [3]), i32(d, [-1], [1])],
    run: (_d, x, i) => gather(x, 0, i),
    error: InvalidArgumentError,
    message: /^gather: argument 'index' must hold indices in \[0, 3\)/,
  },
  {
    name: 'gather of a reshaped index keeps the host range',
    inputs: (d) => [f(d, [1, 2, 3, 4], [2, 2]), i32(d, [0, 2], [2]).reshape([2, 1])],
    run: (_d, x, i) => gather(x, 1, i),
    error: InvalidArgumentError,
    message: /^gather: argument 'index'/,
  },
  {
    name: 'scatterAdd index out of range',
    inputs: (d) => [f(d, [1, 2], [2]), i32(d, [0, 3], [2])],
    run: (_d, v, i) => scatterAdd(v, 0, i, [3]),
    error: InvalidArgumentError,
    message: /^scatterAdd: argument 'index' must hold indices in \[0, 3\)/,
  },
  {
    name: 'crossEntropy class id 9 of 4',
    inputs: (d) => [f(d, Array(8).fill(0.5), [2, 4]), i32(d, [0, 9], [2])],
    run: (_d, x, t) => crossEntropy(x, t),
    error: InvalidArgumentError,
    message: /^crossEntropy: argument 'targets' must hold indices in \[0, 4\)/,
  },
  {
    name: 'crossEntropy f32 targets',
    inputs: (d) => [f(d, Array(8).fill(0.5), [2, 4]), f(d, [0, 1], [2])],
    run: (_d, x, t) => crossEntropy(x, t),
    error: DtypeMismatchError,
    message: /^crossEntropy: dtype mismatch in 'targets'/,
  },
  {
    name: 'normalize with a negative eps',
    inputs: (d) => [f(d, [1, 2], [1, 2])],
    run: (_d, x) => normalize(x, -1, -1),
    error: InvalidArgumentError,
    message: /^normalize: argument 'eps' must be a finite number > 0, got -1/,
  },
  {
    name: 'normalize with eps NaN names eps, not maximum',
    inputs: (d) => [f(d, [1, 2], [1, 2])],
    run: (_d, x) => normalize(x, -1, NaN),
    error: InvalidArgumentError,
    message: /^normalize: argument 'eps'.*NaN/,
  },
  {
    name: 'normalize with eps 0',
    inputs: (d) => [f(d, [1, 2], [1, 2])],
    run: (_d, x) => normalize(x, -1, 0),
    error: InvalidArgumentError,
    message: /^normalize: argument 'eps'/,
  },
  {
    name: 'normalize axis out of range',
    inputs: (d) => [f(d, [1, 2], [1, 2])],
    run: (_d, x) => normalize(x, 2),
    error: InvalidArgumentError,
    message: /^normalize: argument 'axis'/,
  },
  {
    name: 'softmax axis error names softmax, not max',
    inputs: (d) => [f(d, [1, 2], [1, 2])],
    run: (_d, x) => softmax(x, 5),
    error: InvalidArgumentError,
    message: /^softmax: argument 'axis' 5 is out of range/,
  },
  {
    name: 'logSoftmax axis error names logSoftmax',
    inputs: (d) => [f(d, [1, 2], [1, 2])],
    run: (_d, x) => logSoftmax(x, -3),
    error: InvalidArgumentError,
    message: /^logSoftmax: argument 'axis'/,
  },
  {
    name: 'logsumexp axis error names logsumexp',
    inputs: (d) => [f(d, [1, 2], [1, 2])],
    run: (_d, x) => logsumexp(x, 3),
    error: InvalidArgumentError,
    message: /^logsumexp: argument 'axis' 3 is out of range/,
  },
  {
    name: 'Tensor.softmax axis error',
    inputs: (d) => [f(d, [1, 2], [1, 2])],
    run: (_d, x) => x.softmax(2),
    error: InvalidArgumentError,
    message: /^softmax: argument 'axis'/,
  },
  {
    name: 'tidy(async fn) is a typed error',
    run: () => tidy((async () => 1) as never),
    error: InvalidArgumentError,
    message: /^tidy: argument 'fn' returned a Promise/,
  },
];
