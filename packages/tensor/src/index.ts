/**
 * @fairgpu/tensor — WebGPU tensors with reverse-mode autograd.
 *
 * Read top-down:
 *   initGpu        gpu/context.ts     find an adapter (navigator.gpu or dawn.node), make a device
 *   Tensor         tensor.ts          the array type; ops as methods
 *   creation       creation.ts        tensor, zeros, ones, full, arange, rand, randn
 *   primitives     primitives.ts      the closed primitive set; ops/ has one file per family
 *   composites     composites.ts      logsumexp, softmax, normalize, mean, variance, …
 *   autograd       autograd/          typed VJP table, backward engine, noGrad
 *   memory         scope.ts           tidy / scope / keep, dispose, memory()
 *   reference      cpu/backend.ts     the float64 CPU backend; gradcheck.ts
 */
export { initGpu } from './gpu/context.ts';
export type { GpuContext, InitGpuOptions, AdapterDescription, GpuBackendChoice } from './gpu/context.ts';
export { GpuBackend } from './gpu/backend.ts';
export { Tensor, isTensor } from './tensor.ts';
export type { TensorLike } from './tensor.ts';
export { tensor, zeros, ones, full, zerosLike, onesLike, arange, rand, randn } from './creation.ts';
export type { CreateOptions, TensorOptions, RandomOptions, NestedArray } from './creation.ts';
export * from './ops/index.ts';
export {
  square,
  min,
  mean,
  variance,
  logsumexp,
  logSoftmax,
  softmax,
  normalize,
  clamp,
  transpose,
  flatten,
  crossEntropy,
} from './composites-tidy.ts';
export type { VarianceOptions } from './composites.ts';
export { noGrad, isGradEnabled } from './autograd/graph.ts';
export { vjpRules, NONDIFFERENTIABLE } from './autograd/vjp.ts';
export type { VjpRule, VjpContext } from './autograd/vjp.ts';
export { dispatch, resolveBackend } from './dispatch.ts';
// Kernel authoring: fused ops defined in other packages (see docs/architecture.md).
export { customOp, customOpOutputs } from './custom.ts';
export type {
  CustomOpDefinition,
  MultiOutputOpDefinition,
  CustomVjpContext,
  CpuOperand,
  CpuTensor,
  CpuInputs,
  GpuInputs,
  VjpInputs,
  InputGradients,
  NamedInputs,
  PositionalInputs,
} from './custom.ts';
export { ParamWriter, bufferOf, grid1d, WORKGROUP } from './gpu/kernels/index.ts';
export type { Recorder } from './gpu/kernels/index.ts';
export { tidy, scope, keep, Scope } from './scope.ts';
export { cpuBackend, setDefaultDevice, getDefaultDevice, resolveDevice } from './device.ts';
export type { Device } from './device.ts';
export { memory } from './memory.ts';
export type { Backend, BackendCapabilities, BackendChoices, MemoryInfo, Operand, OutputSpec, StorageView } from './backend.ts';
export { Storage, pickForBackend } from './backend.ts';
export { CpuBackend } from './cpu/backend.ts';
export { gradcheck } from './gradcheck.ts';
export type { GradcheckInput, GradcheckOptions, GradcheckResult } from './gradcheck.ts';
export { Rng } from './random.ts';
export type { DType } from './dtype.ts';
export type { Shape } from './shape.ts';
export { broadcastShapes, sizeOf } from './shape.ts';
export type { Primitive, Params, UnaryOp, BinaryOp } from './primitives.ts';
export { UNARY_OPS, BINARY_OPS } from './primitives.ts';
export * from './errors.ts';
