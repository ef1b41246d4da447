/**
 * Test utilities for packages built on @fairgpu/tensor (`@fairgpu/tensor/testing`): GPU suites that
 * skip with a message on a machine without an adapter but fail under FAIRGPU_REQUIRE_GPU=1 (CI),
 * seeded data, a relative + absolute closeness check that names the worst element, and a recorder
 * of the kernels a backend dispatches.
 */
import { initGpu, type GpuContext } from './gpu/context.ts';
import { env } from './gpu/node-dawn.ts';
import { Rng } from './random.ts';
import type { GpuBackend } from './gpu/backend.ts';

export async function gpuOrSkip(): Promise<GpuContext | undefined> {
  try {
    return await initGpu({ setDefault: false });
  } catch (e) {
    if (env('FAIRGPU_REQUIRE_GPU') === '1') throw e;
    console.warn(`GPU tests skipped: ${(e as Error).message}`);
    return undefined;
  }
}

export function randomData(n: number, seed: number, kind: 'normal' | 'positive' | 'int' = 'normal'): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => (kind === 'positive' ? 0.2 + 2 * rng.uniform() : kind === 'int' ? Math.floor(rng.uniform() * 7) - 3 : rng.normal()));
}

export interface Tolerance {
  rtol?: number;
  atol?: number;
}

/** Throws unless |actual − expected| ≤ atol + rtol·|expected| everywhere (NaN matches NaN). */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, { rtol = 1e-5, atol = 1e-6 }: Tolerance = {}, label = ''): void {
  if (actual.length !== expected.length) throw new Error(`${label}: length ${actual.length} ≠ ${expected.length}`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if ((Number.isNaN(e) && Number.isNaN(a)) || e === a) continue;
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
