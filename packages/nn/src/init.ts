/**
 * PyTorch's default initialisations, seeded: every module draws from one generator (like
 * `torch.manual_seed`), so a seed gives the same weights on every backend. Values are drawn on the
 * host in float64 and uploaded once.
 */
import { assertKnownOptions, InvalidArgumentError, Rng, tensor, type Device, type Tensor } from '@fairgpu/tensor';

let generator = new Rng(0);

/** Reseeds the initialisation generator (PyTorch's `torch.manual_seed`). */
export function manualSeed(seed: number): void {
  if (!Number.isInteger(seed)) throw new InvalidArgumentError('manualSeed', 'seed', `must be an integer, got ${seed}`);
  generator = new Rng(seed);
}

export interface InitOptions {
  device?: Device;
  /** A generator of your own; default: the one `manualSeed` sets. */
  rng?: Rng;
}

const INIT_KEYS = ['device', 'rng'] as const;

/** uniform(−bound, bound) of the given shape. */
export function uniformInit(shape: readonly number[], bound: number, options: InitOptions = {}): Tensor {
  assertKnownOptions('uniformInit', options, INIT_KEYS);
  if (!(bound >= 0 && Number.isFinite(bound))) throw new InvalidArgumentError('uniformInit', 'bound', `must be a finite number ≥ 0, got ${bound}`);
  const rng = options.rng ?? generator;
  const n = shape.reduce((p, d) => p * d, 1);
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = (2 * rng.uniform() - 1) * bound;
  return tensor(values, shape, { device: options.device });
}

/** fan_in of a Linear ([out, in]) or Conv weight ([out, in, kh, kw]). */
export function fanIn(shape: readonly number[]): number {
  return shape.slice(1).reduce((p, d) => p * d, 1);
}

/**
 * `kaiming_uniform_(w, a=√5)`, PyTorch's default for Linear and Conv weights:
 * bound = gain·√(3/fan_in) with gain = √(2/(1+a²)) = √(1/3), i.e. bound = 1/√fan_in.
 */
export function kaimingUniformDefault(shape: readonly number[], options: InitOptions = {}): Tensor {
  assertKnownOptions('kaimingUniformDefault', options, INIT_KEYS);
  return uniformInit(shape, 1 / Math.sqrt(fanIn(shape)), options);
}

/** `kaiming_normal_(w, mode='fan_out', nonlinearity='relu')` (torchvision ResNet convs). */
export function kaimingNormalFanOut(shape: readonly number[], options: InitOptions = {}): Tensor {
  assertKnownOptions('kaimingNormalFanOut', options, INIT_KEYS);
  const rng = options.rng ?? generator;
  const fanOut = shape[0] * shape.slice(2).reduce((p, d) => p * d, 1);
  const std = Math.sqrt(2 / fanOut);
  const n = shape.reduce((p, d) => p * d, 1);
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = rng.normal() * std;
  return tensor(values, shape, { device: options.device });
}
