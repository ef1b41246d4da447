import { tensor, type Device, type Tensor } from '../src/index.ts';

export { gpuOrSkip, randomData, expectClose, recordDispatches, type Tolerance } from '../src/testing.ts';

export function make(data: number[], shape: readonly number[], device: Device, options: { requiresGrad?: boolean; dtype?: 'f32' | 'i32' } = {}): Tensor {
  return tensor(data, shape, { device, ...options });
}
