import { initGpu, type GpuContext, Rng, tensor, type Tensor, type Device } from '@fairgpu/tensor';

/**
 * GPU suites: a context when an adapter exists. Without one they skip with a message on a user's
 * machine, and fail when FAIRGPU_REQUIRE_GPU=1 (CI), so they can never silently not run there.
 */
export async function gpuOrSkip(): Promise<GpuContext | undefined> {
  try {
    return await initGpu({ setDefault: false });
  } catch (e) {
    if (process.env.FAIRGPU_REQUIRE_GPU === '1') throw e;
    console.warn(`GPU tests skipped: ${(e as Error).message}`);
    return undefined;
  }
}

export function randomData(n: number, seed: number, kind: 'normal' | 'positive' | 'int' = 'normal'): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => (kind === 'positive' ? 0.2 + 2 * rng.uniform() : kind === 'int' ? Math.floor(rng.uniform() * 7) - 3 : rng.normal()));
}

export function make(data: number[], shape: readonly number[], device: Device, options: { requiresGrad?: boolean; dtype?: 'f32' | 'i32' } = {}): Tensor {
  return tensor(data, shape, { device, ...options });
}

export interface Tolerance {
  rtol?: number;
  atol?: number;
}

/** |actual − expected| ≤ atol + rtol·|expected| everywhere; reports the worst element. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, { rtol = 1e-5, atol = 1e-6 }: Tolerance = {}, label = ''): void {
  if (actual.length !== expected.length) throw new Error(`${label}: length ${actual.length} ≠ ${expected.length}`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (e === a) continue;
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    throw new Error(`${label}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (rtol ${rtol}, atol ${atol})`);
  }
}
