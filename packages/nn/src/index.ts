/**
 * @fairgpu/nn — modules, initialisation, optimizers, schedules, safetensors state dicts and a
 * training loop on @fairgpu/tensor.
 *
 * Read top-down:
 *   ops/conv.ts     conv2d as custom ops (im2col + matmul, or direct kernels), chosen per adapter
 *   ops/pool.ts     max / average / global average pooling
 *   ops/linear.ts   F.linear, one kernel each way for small layers
 *   module.ts       Module: named parameters, buffers, children; stateDict / loadStateDict
 *   init.ts         PyTorch's default initialisations, seeded (manualSeed)
 *   layers.ts       Linear, Conv2d, BatchNorm1d/2d, activations, pooling, Flatten, Dropout, Sequential
 *   models.ts       SimpleConvNet, MLP, ResNet-18 (CIFAR stem), ProjectionHead
 *   optim.ts        SGD, Adam, AdamW (in-place device updates)
 *   schedule.ts     StepLR, MultiStepLR, CosineAnnealingLR, LinearWarmup
 *   safetensors.ts  validated safetensors bytes; state.ts moves state dicts to and from them
 *   train.ts        training loop with typed progress events, GPU metrics, checkpoint state
 * Files: `@fairgpu/nn/node` adds atomic checkpoint files (checkpoint.ts).
 */
export { conv2d, im2col, col2im, setConvAlgorithm, convAlgorithmFor } from './ops/conv.ts';
export type { ConvAlgorithm, Conv2dOptions, ColumnLayout } from './ops/conv.ts';
export { maxPool2d, avgPool2d, globalAvgPool2d } from './ops/pool.ts';
export { linear, LINEAR_SMALL_MACS } from './ops/linear.ts';
export type { PoolOptions } from './ops/pool.ts';
export type { Pair, Geometry } from './ops/geometry.ts';
export { Module } from './module.ts';
export type { StateValue, StateDictInput } from './module.ts';
export type { ForwardHook, HookHandle } from './module.ts';
export { manualSeed, uniformInit, kaimingUniformDefault, kaimingNormalFanOut, fanIn } from './init.ts';
export type { InitOptions } from './init.ts';
export {
  Linear,
  Conv2d,
  BatchNorm1d,
  BatchNorm2d,
  ReLU,
  Tanh,
  LeakyReLU,
  MaxPool2d,
  AvgPool2d,
  GlobalAvgPool2d,
  Flatten,
  Identity,
  Dropout,
  Sequential,
  Lambda,
} from './layers.ts';
export type { LayerOptions, Conv2dLayerOptions, BatchNormOptions } from './layers.ts';
export { SimpleConvNet, MLP, ProjectionHead, BasicBlock, ResNet18 } from './models.ts';
export type { FeatureModel, SimpleConvNetOptions, ResNet18Options } from './models.ts';
export { Optimizer, SGD, Adam, AdamW } from './optim.ts';
export type { SgdOptions, AdamOptions } from './optim.ts';
export { LrScheduler, StepLR, MultiStepLR, CosineAnnealingLR, LinearWarmup } from './schedule.ts';
export { encodeSafetensors, decodeSafetensors, SafetensorsError } from './safetensors.ts';
export type { HostArray, DecodedSafetensors, SafetensorsDtype } from './safetensors.ts';
export { stateDictToSafetensors, safetensorsToStateDict } from './state.ts';
export { trainLoop, AccuracyMeter } from './train.ts';
export type { LoopPosition, LoopOptions, ProgressEvent } from './train.ts';
