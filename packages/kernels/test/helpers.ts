import { tensor, type Tensor, type Device } from '@fairgpu/tensor';
import { expectClose } from '@fairgpu/tensor/testing';

// The shared GPU-suite helpers live in @fairgpu/tensor/testing; package-specific ones follow.
export { gpuOrSkip, randomData, expectClose, type Tolerance } from '@fairgpu/tensor/testing';

export function make(data: number[], shape: readonly number[], device: Device, options: { requiresGrad?: boolean; dtype?: 'f32' | 'i32' } = {}): Tensor {
  return tensor(data, shape, { device, ...options });
}

/** The shared spec's tolerance for a block output: |got − exp| ≤ 1e-4·max(1, |exp|). */
export function expectSpecClose(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string): void {
  expectClose(actual, expected, { rtol: 1e-4, atol: 1e-4 }, label);
}

/** The shared spec's gradient tolerance: max|g − g_exp| ≤ 1e-4·max(1, max|g_exp|). */
export function expectSpecGrad(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string, factor = 1e-4): void {
  let scale = 1;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  expectClose(actual, expected, { rtol: 0, atol: factor * scale }, label);
}

/** A CPU tensor's float64 values (toArray() rounds to f32). */
export function f64(t: import('@fairgpu/tensor').Tensor): number[] {
  const cpu = t.backend as import('@fairgpu/tensor').CpuBackend;
  return Array.from(cpu.values(t.view('test', 'tensor').storage));
}
