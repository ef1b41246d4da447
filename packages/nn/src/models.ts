/**
 * Models of the experiments: SimpleConvNet (Biased-MNIST, the EnD/FairKL reference code's layout and
 * names), an MLP, ResNet-18 with the CIFAR stem (torchvision names), and a projection head.
 */
import { assertKnownOptions, InvalidArgumentError, tidy, type Tensor } from '@fairgpu/tensor';
import { Module } from './module.ts';
import { BatchNorm1d, BatchNorm2d, Conv2d, GlobalAvgPool2d, Linear, ReLU, Sequential, Tanh, type LayerOptions } from './layers.ts';
import type { ConvAlgorithm } from './ops/conv.ts';
import type { InitOptions } from './init.ts';

/** A model that exposes its penultimate features (for contrastive losses and linear probes). */
export interface FeatureModel {
  features(x: Tensor): Tensor;
  readonly featureDim: number;
}

export interface SimpleConvNetOptions extends InitOptions {
  /** Square kernel size, odd; padding is kernelSize // 2. Default 7 (the published protocol). */
  kernelSize?: number;
  /** Channels of the four conv layers; default [16, 32, 64, 128]. */
  channels?: readonly number[];
  /** Strides of the conv layers; default all 1 (the published protocol keeps 28×28 throughout). */
  strides?: readonly number[];
  /** Tanh instead of ReLU after the last block (used with similarity regularizers). */
  tanhLast?: boolean;
  /** Classifier outputs; default 10. 0 leaves out the classifier (`fc`). */
  numClasses?: number;
  algorithm?: ConvAlgorithm;
}

/**
 * Four blocks conv(k×k, padding k//2) → BatchNorm → ReLU (Tanh on the last with `tanhLast`),
 * global average pooling to a `channels[3]`-d feature, linear classifier. State-dict keys as the
 * reference code: `extracter.0.weight`, `extracter.1.running_mean`, …, `fc.weight`.
 */
export class SimpleConvNet extends Module implements FeatureModel {
  readonly extracter: Sequential;
  readonly fc: Linear | null;
  readonly featureDim: number;
  private readonly pool = new GlobalAvgPool2d();
  constructor(options: SimpleConvNetOptions = {}) {
    super();
    assertKnownOptions('SimpleConvNet', options, ['device', 'rng', 'kernelSize', 'channels', 'strides', 'tanhLast', 'numClasses', 'algorithm']);
    const k = options.kernelSize ?? 7;
    if (!Number.isInteger(k) || k < 1 || k % 2 === 0)
      throw new InvalidArgumentError('SimpleConvNet', 'options.kernelSize', `must be an odd positive integer, got ${k}`);
    const channels = options.channels ?? [16, 32, 64, 128];
    if (!Array.isArray(channels))
      throw new InvalidArgumentError('SimpleConvNet', 'options.channels', `must be an array of positive integers, got ${String(channels)}`);
    if (channels.length < 1 || !channels.every((c) => Number.isInteger(c) && c > 0)) {
      throw new InvalidArgumentError('SimpleConvNet', 'options.channels', `must be positive integers, got [${channels.join(', ')}]`);
    }
    const strides = options.strides ?? channels.map(() => 1);
    if (!Array.isArray(strides)) throw new InvalidArgumentError('SimpleConvNet', 'options.strides', `must be an array, got ${String(strides)}`);
    if (strides.length !== channels.length)
      throw new InvalidArgumentError('SimpleConvNet', 'options.strides', `needs ${channels.length} entries, got ${strides.length}`);
    // Everything is checked before the first layer allocates its parameters: a constructor that
    // throws leaves nothing behind.
    strides.forEach((st, i) => positiveInt('SimpleConvNet', `options.strides[${i}]`, st));
    const classes = numClasses('SimpleConvNet', options.numClasses);
    checkAlgorithm('SimpleConvNet', options.algorithm);
    const layers: Module[] = [];
    let cin = 3;
    channels.forEach((c, i) => {
      layers.push(
        new Conv2d(cin, c, k, { device: options.device, rng: options.rng, padding: Math.floor(k / 2), stride: strides[i], algorithm: options.algorithm }),
      );
      layers.push(new BatchNorm2d(c, { device: options.device }));
      layers.push(i === channels.length - 1 && options.tanhLast ? new Tanh() : new ReLU());
      cin = c;
    });
    this.extracter = this.registerModule('extracter', new Sequential(...layers));
    this.featureDim = cin;
    this.fc = classes > 0 ? this.registerModule('fc', new Linear(cin, classes, { device: options.device, rng: options.rng })) : null;
  }
  features(x: Tensor): Tensor {
    return tidy(() => this.pool.forward(this.extracter.forward(x)));
  }
  forward(x: Tensor): Tensor {
    if (!this.fc) return this.features(x);
    return tidy(() => this.fc!.forward(this.features(x)));
  }
}

/** Linear → ReLU → … → Linear; children "0", "1", … of `layers`. */
export class MLP extends Module {
  readonly layers: Sequential;
  constructor(inFeatures: number, hidden: readonly number[], outFeatures: number, options: LayerOptions & { batchNorm?: boolean } = {}) {
    super();
    assertKnownOptions('MLP', options, ['device', 'rng', 'bias', 'batchNorm']);
    if (!Array.isArray(hidden)) throw new InvalidArgumentError('MLP', 'hidden', `must be an array of layer widths, got ${String(hidden)}`);
    positiveInt('MLP', 'inFeatures', inFeatures);
    hidden.forEach((h, i) => positiveInt('MLP', `hidden[${i}]`, h));
    positiveInt('MLP', 'outFeatures', outFeatures);
    const linear = { device: options.device, rng: options.rng, bias: options.bias };
    const mods: Module[] = [];
    let d = inFeatures;
    for (const h of hidden) {
      mods.push(new Linear(d, h, linear));
      if (options.batchNorm) mods.push(new BatchNorm1d(h, { device: options.device }));
      mods.push(new ReLU());
      d = h;
    }
    mods.push(new Linear(d, outFeatures, linear));
    this.layers = this.registerModule('layers', new Sequential(...mods));
  }
  forward(x: Tensor): Tensor {
    return this.layers.forward(x);
  }
}

/** SimCLR/SupCon projection head: Linear(d, d) → ReLU → Linear(d, out) (keys `0.*`, `2.*`). */
export class ProjectionHead extends Sequential {
  constructor(inFeatures: number, outFeatures = 128, options: LayerOptions = {}) {
    assertKnownOptions('ProjectionHead', options, ['device', 'rng', 'bias']);
    positiveInt('ProjectionHead', 'inFeatures', inFeatures);
    positiveInt('ProjectionHead', 'outFeatures', outFeatures);
    super(new Linear(inFeatures, inFeatures, options), new ReLU(), new Linear(inFeatures, outFeatures, options));
  }
}

/** torchvision's BasicBlock: conv3×3-BN-ReLU-conv3×3-BN + shortcut (1×1 conv + BN when shape changes). */
export class BasicBlock extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly downsample: Sequential | null;
  constructor(inPlanes: number, planes: number, stride: number, options: InitOptions & { algorithm?: ConvAlgorithm } = {}) {
    super();
    assertKnownOptions('BasicBlock', options, ['device', 'rng', 'algorithm']);
    positiveInt('BasicBlock', 'inPlanes', inPlanes);
    positiveInt('BasicBlock', 'planes', planes);
    positiveInt('BasicBlock', 'stride', stride);
    checkAlgorithm('BasicBlock', options.algorithm);
    const conv = { bias: false, device: options.device, rng: options.rng, algorithm: options.algorithm };
    this.conv1 = this.registerModule('conv1', new Conv2d(inPlanes, planes, 3, { stride, padding: 1, ...conv }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(planes, { device: options.device }));
    this.conv2 = this.registerModule('conv2', new Conv2d(planes, planes, 3, { padding: 1, ...conv }));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(planes, { device: options.device }));
    this.downsample =
      stride !== 1 || inPlanes !== planes
        ? this.registerModule(
            'downsample',
            new Sequential(new Conv2d(inPlanes, planes, 1, { stride, ...conv }), new BatchNorm2d(planes, { device: options.device })),
          )
        : null;
  }
  forward(x: Tensor): Tensor {
    return tidy(() => {
      const out = this.bn2.forward(this.conv2.forward(this.bn1.forward(this.conv1.forward(x)).relu()));
      const identity = this.downsample ? this.downsample.forward(x) : x;
      return out.add(identity).relu();
    });
  }
}

export interface ResNet18Options extends InitOptions {
  numClasses?: number;
  /** Input channels; default 3. */
  inChannels?: number;
  /** Width of layer1; default 64. */
  width?: number;
  algorithm?: ConvAlgorithm;
}

/**
 * ResNet-18 with the CIFAR stem (3×3 conv, stride 1, no max pool), torchvision's names
 * (`conv1`, `bn1`, `layer1.0.conv1.weight`, `layer2.0.downsample.0.weight`, `fc`).
 */
export class ResNet18 extends Module implements FeatureModel {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly layers: Sequential[];
  readonly fc: Linear | null;
  readonly featureDim: number;
  constructor(options: ResNet18Options = {}) {
    super();
    assertKnownOptions('ResNet18', options, ['device', 'rng', 'numClasses', 'inChannels', 'width', 'algorithm']);
    const w = options.width ?? 64;
    positiveInt('ResNet18', 'options.width', w);
    positiveInt('ResNet18', 'options.inChannels', options.inChannels ?? 3);
    const classes = numClasses('ResNet18', options.numClasses);
    checkAlgorithm('ResNet18', options.algorithm);
    const block = { device: options.device, rng: options.rng, algorithm: options.algorithm };
    const conv = { bias: false, ...block };
    this.conv1 = this.registerModule('conv1', new Conv2d(options.inChannels ?? 3, w, 3, { padding: 1, ...conv }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(w, { device: options.device }));
    let inPlanes = w;
    this.layers = [1, 2, 4, 8].map((m, i) => {
      const planes = w * m;
      const stride = i === 0 ? 1 : 2;
      const layer = new Sequential(new BasicBlock(inPlanes, planes, stride, block), new BasicBlock(planes, planes, 1, block));
      inPlanes = planes;
      return this.registerModule(`layer${i + 1}`, layer);
    });
    this.featureDim = inPlanes;
    this.fc = classes > 0 ? this.registerModule('fc', new Linear(inPlanes, classes, { device: options.device, rng: options.rng })) : null;
  }
  features(x: Tensor): Tensor {
    return tidy(() => this.layers.reduce((t, l) => l.forward(t), this.bn1.forward(this.conv1.forward(x)).relu()).mean([2, 3]));
  }
  forward(x: Tensor): Tensor {
    return this.fc ? tidy(() => this.fc!.forward(this.features(x))) : this.features(x);
  }
}

function numClasses(op: string, value: number | undefined): number {
  const classes = value ?? 10;
  if (!Number.isInteger(classes) || classes < 0)
    throw new InvalidArgumentError(op, 'options.numClasses', `must be an integer ≥ 0 (0 leaves out the classifier), got ${classes}`);
  return classes;
}

function positiveInt(op: string, argument: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new InvalidArgumentError(op, argument, `must be a positive integer, got ${value}`);
}

function checkAlgorithm(op: string, algorithm: unknown): void {
  if (algorithm !== undefined && algorithm !== 'direct' && algorithm !== 'im2col') {
    throw new InvalidArgumentError(op, 'options.algorithm', `must be 'direct' or 'im2col', got ${String(algorithm)}`);
  }
}
