import { tensor, type Tensor, type Device } from '@fairgpu/tensor';

// The shared GPU-suite helpers live in @fairgpu/tensor/testing; package-specific ones follow.
export { gpuOrSkip, randomData, expectClose, recordDispatches, type Tolerance } from '@fairgpu/tensor/testing';

export function make(data: number[], shape: readonly number[], device: Device, options: { requiresGrad?: boolean; dtype?: 'f32' | 'i32' } = {}): Tensor {
  return tensor(data, shape, { device, ...options });
}
