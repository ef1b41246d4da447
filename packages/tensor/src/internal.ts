/**
 * @fairgpu/tensor/internal — helpers for the custom ops of the other fairgpu packages (kernels,
 * nn): buffer access, uniform packing and the per-backend variant picker, in one place instead of
 * re-declared per package. Not a stable API: it changes with the packages that use it.
 */
import type { Backend, StorageView } from './backend.ts';
import type { CpuTensor } from './custom.ts';
import { bufferOf, ParamWriter } from './gpu/kernels/index.ts';

export {
  bufferOf,
  f32Input,
  fillMarker,
  grid1d,
  matmulBuffers,
  matmulPlanar,
  matmulSplitWithRowSums,
  type PlanarProduct,
  ParamWriter,
  setSoftwareMatmul,
  type SoftwareMatmul,
  WORKGROUP,
  workgroupSumWgsl,
} from './gpu/kernels/index.ts';
export type { Binding, Recorder } from './gpu/kernels/index.ts';
export { pickForBackend } from './backend.ts';
/** matmul reading an operand transposed without a copy (what VJPs use for Aᵀ·G and G·Bᵀ). */
export { matmulTransposed } from './ops/matmul.ts';
export type { BackendCapabilities, BackendChoices } from './backend.ts';
export { customOp, customOpOutputs } from './custom.ts';
export type {
  CpuInputs,
  CpuTensor,
  CustomOpDefinition,
  CustomVjpContext,
  GpuInputs,
  InputGradients,
  MultiOutputOpDefinition,
  NamedInputs,
  VjpInputs,
} from './custom.ts';

/**
 * The buffer of an optional input, or `fallback` when it is absent: a kernel specialised without
 * that input still needs something bound there (it never reads it).
 */
export function bufferOr(view: StorageView | undefined, fallback: GPUBuffer): GPUBuffer {
  return view ? bufferOf(view) : fallback;
}

/** A 256-byte uniform block with `words` as consecutive u32 values from word 0. */
export function packU32(words: readonly number[]): ArrayBuffer {
  const w = new ParamWriter();
  words.forEach((v, i) => w.u(i, v));
  return w.buffer;
}

/** The element count of a view's shape. */
export function elementCount(view: StorageView | CpuTensor): number {
  return view.shape.reduce((p, d) => p * d, 1);
}

/** Whether a backend encodes GPU dispatches (false for the float64 CPU reference). */
export function dispatchesKernels(backend: Backend): boolean {
  return backend.capabilities.dispatchesKernels;
}
