import { tensor, type Device, type Tensor } from '../src/index.ts';
import type { GpuBackend } from '../src/gpu/backend.ts';

export { gpuOrSkip, randomData, expectClose, type Tolerance } from '../src/testing.ts';

export function make(data: number[], shape: readonly number[], device: Device, options: { requiresGrad?: boolean; dtype?: 'f32' | 'i32' } = {}): Tensor {
  return tensor(data, shape, { device, ...options });
}

/**
 * Records the label and WGSL source of every dispatch `backend` encodes (they still run), so a
 * test can assert which kernel a product or op took; `restore()` puts the backend back.
 */
export function recordDispatches(backend: GpuBackend): { labels: string[]; sources: string[]; restore(): void } {
  const labels: string[] = [];
  const sources: string[] = [];
  const original = backend.dispatch.bind(backend);
  backend.dispatch = (label, source, ...rest) => {
    labels.push(label);
    sources.push(source);
    original(label, source, ...rest);
  };
  return { labels, sources, restore: () => void (backend.dispatch = original) };
}
