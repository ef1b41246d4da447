/**
 * Layers with PyTorch's constructor argument order, parameter names and default initialisations.
 * Inputs are NCHW for the 2-D layers.
 */
import {
  assertKnownOptions,
  DeviceMismatchError,
  DisposedTensorError,
  DtypeMismatchError,
  InvalidArgumentError,
  isGradEnabled,
  isTensor,
  ones,
  rand,
  ShapeMismatchError,
  tensor,
  tidy,
  zeros,
  type Device,
  type Tensor,
} from '@fairgpu/tensor';
import { Module } from './module.ts';
import { fanIn, kaimingUniformDefault, uniformInit, type InitOptions } from './init.ts';
import { conv2d, conv2dOfBatchNorm, convAlgorithmFor, type ConvAlgorithm, type NormalizedInput } from './ops/conv.ts';
import { avgPool2d, globalAvgPool2d, maxPool2d, type PoolOptions } from './ops/pool.ts';
import { linear } from './ops/linear.ts';
import { batchNormTrain, batchNormTrainStats, channelLinear, type RunningStats } from './ops/batchnorm.ts';
import { pair, type Pair } from './ops/geometry.ts';

function positiveInt(op: string, argument: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new InvalidArgumentError(op, argument, `must be a positive integer, got ${value}`);
  return value;
}

/**
 * The input of a layer's forward: a live f32 tensor, on the device of `like` (the layer's first
 * parameter) when the layer has parameters. Checked before anything is allocated, so a rejected
 * input leaves memory() unchanged.
 */
export function checkInput(op: string, x: unknown, like: Tensor | null = null): asserts x is Tensor {
  if (!isTensor(x)) throw new InvalidArgumentError(op, 'x', `must be a Tensor, got ${x === null ? 'null' : typeof x}`);
  if (x.isDisposed) throw new DisposedTensorError(op, 'x');
  if (x.dtype !== 'f32') throw new DtypeMismatchError(op, 'x', `must be f32, got ${x.dtype}`);
  if (like && x.backend !== like.backend) {
    throw new DeviceMismatchError(op, 'x', `is on ${x.backend.name} but the layer's parameters are on ${like.backend.name}`);
  }
}

function optionalBoolean(op: string, argument: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'boolean') throw new InvalidArgumentError(op, argument, `must be a boolean, got ${String(value)}`);
}

const INIT_KEYS = ['device', 'rng'] as const;
const LAYER_KEYS = [...INIT_KEYS, 'bias'] as const;
const CONV_KEYS = [...LAYER_KEYS, 'stride', 'padding', 'algorithm'] as const;

function checkAlgorithm(op: string, algorithm: unknown): void {
  if (algorithm !== undefined && algorithm !== 'direct' && algorithm !== 'im2col') {
    throw new InvalidArgumentError(op, 'options.algorithm', `must be 'direct' or 'im2col', got ${String(algorithm)}`);
  }
}

export interface LayerOptions extends InitOptions {
  /** Default true. */
  bias?: boolean;
}

/** y = x Wᵀ + b, weight [out, in] (PyTorch's `nn.Linear(in, out)`). */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LayerOptions = {},
  ) {
    super();
    assertKnownOptions('Linear', options, LAYER_KEYS);
    positiveInt('Linear', 'inFeatures', inFeatures);
    positiveInt('Linear', 'outFeatures', outFeatures);
    optionalBoolean('Linear', 'options.bias', options.bias);
    const init = { device: options.device, rng: options.rng };
    this.weight = this.registerParameter('weight', kaimingUniformDefault([outFeatures, inFeatures], init));
    this.bias = options.bias === false ? null : this.registerParameter('bias', uniformInit([outFeatures], 1 / Math.sqrt(inFeatures), init));
  }
  forward(x: Tensor): Tensor {
    checkInput('Linear', x, this.weight);
    if (x.rank < 2) {
      throw new ShapeMismatchError(
        'Linear',
        'x',
        `must have rank ≥ 2 ([batch, ${this.inFeatures}]), got shape [${x.shape.join(', ')}] (reshape one sample to [1, ${this.inFeatures}])`,
      );
    }
    if (x.shape[x.rank - 1] !== this.inFeatures)
      throw new ShapeMismatchError('Linear', 'x', `last axis must be ${this.inFeatures}, got shape [${x.shape.join(', ')}]`);
    // tidy: the product is an intermediate when there is a bias (memory rule 3).
    return tidy(() => linear(x, this.weight, this.bias));
  }
}

export interface Conv2dLayerOptions extends LayerOptions {
  stride?: Pair;
  padding?: Pair;
  /** Force an algorithm; default: the measured choice for the adapter class. */
  algorithm?: ConvAlgorithm;
}

/** PyTorch's `nn.Conv2d(inChannels, outChannels, kernelSize, stride, padding, bias)`. */
export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly kernelSize: [number, number];
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    readonly options: Conv2dLayerOptions = {},
  ) {
    super();
    assertKnownOptions('Conv2d', options, CONV_KEYS);
    positiveInt('Conv2d', 'inChannels', inChannels);
    positiveInt('Conv2d', 'outChannels', outChannels);
    this.kernelSize = pair('Conv2d', 'kernelSize', kernelSize, 1);
    pair('Conv2d', 'stride', options.stride ?? 1, 1);
    pair('Conv2d', 'padding', options.padding ?? 0, 0);
    optionalBoolean('Conv2d', 'options.bias', options.bias);
    checkAlgorithm('Conv2d', options.algorithm);
    const shape = [outChannels, inChannels, ...this.kernelSize];
    const init = { device: options.device, rng: options.rng };
    this.weight = this.registerParameter('weight', kaimingUniformDefault(shape, init));
    this.bias = options.bias === false ? null : this.registerParameter('bias', uniformInit([outChannels], 1 / Math.sqrt(fanIn(shape)), init));
  }
  forward(x: Tensor): Tensor {
    checkInput('Conv2d', x, this.weight);
    return conv2d(x, this.weight, this.bias, { stride: this.options.stride, padding: this.options.padding, algorithm: this.options.algorithm });
  }
  /** The algorithm this layer's convolution of x takes (its option, else the adapter's default). */
  algorithmFor(x: Tensor): ConvAlgorithm {
    return this.options.algorithm ?? convAlgorithmFor(x);
  }
  /**
   * this.forward(relu?(batchNorm(x))) with the normalisation applied by the im2col gather (the
   * BatchNorm2d → ReLU → Conv2d fusion of Sequential; im2col only).
   */
  forwardOfBatchNorm(x: Tensor, input: NormalizedInput): Tensor {
    checkInput('Conv2d', x, this.weight);
    return conv2dOfBatchNorm(x, input, this.weight, this.bias, {
      stride: this.options.stride,
      padding: this.options.padding,
      algorithm: this.options.algorithm,
    });
  }
}

export interface BatchNormOptions {
  eps?: number;
  momentum?: number;
  affine?: boolean;
  device?: Device;
}

/**
 * Batch normalisation over every axis but 1 (channels). Training: batch statistics (biased variance
 * to normalise), running statistics updated with momentum 0.1 and the unbiased variance, as
 * PyTorch. Eval: running statistics.
 */
class BatchNorm extends Module {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  readonly numBatchesTracked: Tensor;
  readonly eps: number;
  readonly momentum: number;
  constructor(
    private readonly layer: string,
    private readonly rank: number,
    readonly numFeatures: number,
    options: BatchNormOptions = {},
  ) {
    super();
    assertKnownOptions(layer, options, ['eps', 'momentum', 'affine', 'device']);
    positiveInt(layer, 'numFeatures', numFeatures);
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum ?? 0.1;
    optionalBoolean(layer, 'options.affine', options.affine);
    if (!(this.eps > 0 && Number.isFinite(this.eps))) throw new InvalidArgumentError(layer, 'eps', `must be > 0, got ${this.eps}`);
    if (!(this.momentum >= 0 && this.momentum <= 1)) throw new InvalidArgumentError(layer, 'momentum', `must be in [0, 1], got ${this.momentum}`);
    const device = options.device;
    const affine = options.affine ?? true;
    this.weight = affine ? this.registerParameter('weight', ones([numFeatures], { device })) : null;
    this.bias = affine ? this.registerParameter('bias', zeros([numFeatures], { device })) : null;
    this.runningMean = this.registerBuffer('running_mean', zeros([numFeatures], { device }));
    this.runningVar = this.registerBuffer('running_var', ones([numFeatures], { device }));
    this.numBatchesTracked = this.registerBuffer('num_batches_tracked', tensor([0], [], { device, dtype: 'i32' }));
  }
  forward(x: Tensor): Tensor {
    return this.normalize(x, false);
  }
  /**
   * relu(this.forward(x)) in one pass: the ReLU is fused into the normalisation's kernels, forward
   * and backward (in eval mode without gradients too). Sequential calls it for a BatchNorm followed
   * by a ReLU; the values are the unfused pair's.
   */
  forwardRelu(x: Tensor): Tensor {
    return this.normalize(x, true);
  }
  /**
   * Training mode with affine parameters: the batch statistics of x (running statistics updated),
   * for a consumer that applies the normalisation itself (Sequential's BatchNorm2d → ReLU → Conv2d
   * fusion, `Conv2d.forwardOfBatchNorm`). The caller owns the returned statistics.
   */
  statisticsFor(x: Tensor, relu: boolean): NormalizedInput {
    this.validate(x);
    if (!this.training || !this.weight || !this.bias)
      throw new InvalidArgumentError(this.layer, 'x', 'statisticsFor needs training mode and affine parameters');
    return { stats: batchNormTrainStats(x, this.weight, this.bias, this.eps, this.running()), weight: this.weight, bias: this.bias, relu };
  }
  /** The running statistics the training kernels update in place. */
  private running(): RunningStats {
    return { mean: this.runningMean, variance: this.runningVar, batchesTracked: this.numBatchesTracked, momentum: this.momentum };
  }
  private validate(x: Tensor): void {
    checkInput(this.layer, x, this.runningMean);
    if (this.rank === 4 ? x.rank !== 4 : x.rank !== 2 && x.rank !== 3) {
      throw new ShapeMismatchError(this.layer, 'x', `must have rank ${this.rank === 4 ? 4 : '2 or 3'}, got shape [${x.shape.join(', ')}]`);
    }
    if (x.shape[1] !== this.numFeatures) throw new ShapeMismatchError(this.layer, 'x', `axis 1 must be ${this.numFeatures}, got shape [${x.shape.join(', ')}]`);
    if (this.training && x.size / x.shape[1] < 2) throw new InvalidArgumentError(this.layer, 'x', 'needs more than one value per channel in training mode');
  }
  private normalize(x: Tensor, relu: boolean): Tensor {
    this.validate(x);
    if (this.training) {
      const one = this.weight ? null : ones([this.numFeatures], { device: x.backend });
      const zero = this.bias ? null : zeros([this.numFeatures], { device: x.backend });
      try {
        const out = batchNormTrain(x, this.weight ?? one!, this.bias ?? zero!, this.eps, this.running(), { relu });
        out.stats.dispose();
        return out.y;
      } finally {
        // The graph keeps its own handles on what backward needs (memory rule 3).
        one?.dispose();
        zero?.dispose();
      }
    }
    // Eval: a fixed per-channel affine map from the running statistics. The fast kernel has no
    // VJP, so with gradients enabled the broadcasting composite is used instead.
    // tidy: the per-channel intermediates go when the output is made (the graph keeps what backward needs).
    return tidy(() => {
      const invstd = this.runningVar.add(this.eps).sqrt().recip();
      const a = this.weight ? this.weight.mul(invstd) : invstd;
      const shift = this.runningMean.mul(a).neg();
      const d = this.bias ? shift.add(this.bias) : shift;
      if (!isGradEnabled()) return channelLinear(x, null, a, a.mul(0), d, { relu });
      const bshape = x.shape.map((n, i) => (i === 1 ? n : 1));
      const y = x.mul(a.reshape(bshape)).add(d.reshape(bshape));
      return relu ? y.relu() : y;
    });
  }
}

/** PyTorch's `nn.BatchNorm1d(numFeatures)`: input [N, C] or [N, C, L]. */
export class BatchNorm1d extends BatchNorm {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super('BatchNorm1d', 2, numFeatures, options);
  }
}

/** PyTorch's `nn.BatchNorm2d(numFeatures)`: input [N, C, H, W]. */
export class BatchNorm2d extends BatchNorm {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super('BatchNorm2d', 4, numFeatures, options);
  }
}

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    checkInput('ReLU', x);
    return x.relu();
  }
}

export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    checkInput('Tanh', x);
    return x.tanh();
  }
}

/** max(x, 0) + slope·min(x, 0). */
export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
    if (!Number.isFinite(negativeSlope)) throw new InvalidArgumentError('LeakyReLU', 'negativeSlope', `must be finite, got ${negativeSlope}`);
  }
  forward(x: Tensor): Tensor {
    checkInput('LeakyReLU', x);
    return tidy(() => x.maximum(0).add(x.minimum(0).mul(this.negativeSlope)));
  }
}

const POOL_KEYS = ['stride', 'padding'] as const;

export class MaxPool2d extends Module {
  constructor(
    readonly kernelSize: Pair,
    readonly options: PoolOptions = {},
  ) {
    super();
    assertKnownOptions('MaxPool2d', options, POOL_KEYS);
    pair('MaxPool2d', 'kernelSize', kernelSize, 1);
    if (options.stride !== undefined) pair('MaxPool2d', 'stride', options.stride, 1);
    if (options.padding !== undefined) pair('MaxPool2d', 'padding', options.padding, 0);
  }
  forward(x: Tensor): Tensor {
    checkInput('MaxPool2d', x);
    return maxPool2d(x, this.kernelSize, this.options);
  }
}

export class AvgPool2d extends Module {
  constructor(
    readonly kernelSize: Pair,
    readonly options: PoolOptions = {},
  ) {
    super();
    assertKnownOptions('AvgPool2d', options, POOL_KEYS);
    pair('AvgPool2d', 'kernelSize', kernelSize, 1);
    if (options.stride !== undefined) pair('AvgPool2d', 'stride', options.stride, 1);
    if (options.padding !== undefined) pair('AvgPool2d', 'padding', options.padding, 0);
  }
  forward(x: Tensor): Tensor {
    checkInput('AvgPool2d', x);
    return avgPool2d(x, this.kernelSize, this.options);
  }
}

/** [B, C, H, W] → [B, C]. */
export class GlobalAvgPool2d extends Module {
  forward(x: Tensor): Tensor {
    checkInput('GlobalAvgPool2d', x);
    return globalAvgPool2d(x);
  }
}

export class Flatten extends Module {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
    if (!Number.isInteger(startDim)) throw new InvalidArgumentError('Flatten', 'startDim', `must be an integer, got ${startDim}`);
    if (!Number.isInteger(endDim)) throw new InvalidArgumentError('Flatten', 'endDim', `must be an integer, got ${endDim}`);
  }
  forward(x: Tensor): Tensor {
    checkInput('Flatten', x);
    return x.flatten(this.startDim, this.endDim);
  }
}

export class Identity extends Module {
  forward(x: Tensor): Tensor {
    if (!isTensor(x)) throw new InvalidArgumentError('Identity', 'x', `must be a Tensor, got ${x === null ? 'null' : typeof x}`);
    return x.reshape(x.shape);
  }
}

/**
 * Inverted dropout: zeroes with probability p in training and scales the rest by 1/(1−p). The mask
 * of call k comes from (seed, k), so a run is reproducible; `calls` is saved by checkpoints that
 * need bit-exact resumes.
 */
export class Dropout extends Module {
  calls = 0;
  constructor(
    readonly p = 0.5,
    readonly options: { seed?: number } = {},
  ) {
    super();
    if (!(p >= 0 && p < 1)) throw new InvalidArgumentError('Dropout', 'p', `must be in [0, 1), got ${p}`);
    assertKnownOptions('Dropout', options, ['seed']);
    const seed = options?.seed;
    if (seed !== undefined && !Number.isSafeInteger(seed)) throw new InvalidArgumentError('Dropout', 'options.seed', `must be an integer, got ${seed}`);
  }
  forward(x: Tensor): Tensor {
    checkInput('Dropout', x);
    if (!this.training || this.p === 0) return x.reshape(x.shape);
    const seed = ((this.options.seed ?? 0) * 1000003 + this.calls++) >>> 0;
    return tidy(() => x.mul(rand(x.shape, { device: x.backend, seed }).ge(this.p)).mul(1 / (1 - this.p)));
  }
}

/** Children named "0", "1", … as PyTorch's `nn.Sequential`. */
export class Sequential extends Module {
  readonly layers: Module[];
  constructor(...layers: Module[]) {
    super();
    layers.forEach((l, i) => {
      if (!(l instanceof Module)) throw new InvalidArgumentError('Sequential', `layers[${i}]`, 'must be a Module');
      this.registerModule(String(i), l);
    });
    this.layers = layers;
  }
  forward(x: Tensor): Tensor {
    // Each child's output but the last is an intermediate: tidy frees them (the graph keeps what
    // backward needs), so disposing the result frees the pass. A forward hook that keeps an
    // activation past the call must keep() it.
    return tidy(() => {
      let h = x;
      for (let i = 0; i < this.layers.length; i++) {
        const layer = this.layers[i];
        const next = this.layers[i + 1];
        const after = this.layers[i + 2];
        if (fusesBatchNormReluConv(layer, next, after, h)) {
          // The statistics and the convolution; the normalised activation is never written.
          const input = (layer as BatchNorm2d).statisticsFor(h, true);
          h = (after as Conv2d).forwardOfBatchNorm(h, input);
          input.stats.dispose();
          i += 2;
        } else if (fusesBatchNormRelu(layer, next)) {
          h = layer.forwardRelu(h);
          i++;
        } else {
          h = layer.forward(h);
        }
      }
      return h;
    });
  }
}

/**
 * Whether Sequential runs `layer` and `next` as one BatchNorm.forwardRelu: a BatchNorm and a ReLU
 * whose forward is the library's own (no subclass override, and no hook, since a hook must see its
 * module's own output).
 */
function fusesBatchNormRelu(layer: Module, next: Module | undefined): layer is BatchNorm {
  return (
    layer instanceof BatchNorm &&
    layer.forward === BatchNorm.prototype.forward &&
    next !== undefined &&
    Object.getPrototypeOf(next) === ReLU.prototype &&
    !layer.hasForwardHooks() &&
    !next.hasForwardHooks()
  );
}

/**
 * Whether Sequential runs `layer`, `next`, `after` as BatchNorm statistics plus one
 * Conv2d.forwardOfBatchNorm: a fusable BatchNorm2d → ReLU (above) in training mode with affine
 * parameters, then a Conv2d with its own forward and no hook, whose convolution of x takes im2col.
 */
function fusesBatchNormReluConv(layer: Module, next: Module | undefined, after: Module | undefined, x: Tensor): boolean {
  return (
    fusesBatchNormRelu(layer, next) &&
    layer instanceof BatchNorm2d &&
    layer.training &&
    layer.weight !== null &&
    layer.bias !== null &&
    after instanceof Conv2d &&
    after.forward === Conv2d.prototype.forward &&
    !after.hasForwardHooks() &&
    x.rank === 4 &&
    after.algorithmFor(x) === 'im2col'
  );
}

/** A module wrapping a function (no parameters). */
export class Lambda extends Module {
  constructor(private readonly fn: (x: Tensor) => Tensor) {
    super();
    if (typeof fn !== 'function') throw new InvalidArgumentError('Lambda', 'fn', `must be a function, got ${typeof fn}`);
  }
  forward(x: Tensor): Tensor {
    return this.fn(x);
  }
}
