import { afterAll, describe, expect, it } from 'vitest';
import { getDefaultDevice, initGpu, InvalidArgumentError, NoAdapterError, tensor } from '../src/index.ts';
import { gpuOrSkip } from './helpers.ts';

const gpu = await gpuOrSkip();
afterAll(() => gpu?.destroy());

describe.runIf(gpu)('device layer', () => {
  it('describes the adapter it chose and reads the limits it was granted', () => {
    const info = gpu!.adapterInfo;
    expect(info.path).toMatch(/dawn:|navigator/);
    expect(['core', 'compatibility']).toContain(info.featureLevel);
    expect(gpu!.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 2 ** 20);
    expect(gpu!.limits.maxComputeInvocationsPerWorkgroup).toBeGreaterThanOrEqual(128);
    expect(['blocked', 'tiled']).toContain(gpu!.backend.matmulKernel);
  });

  it('caches pipelines by source: a rebuilt string hits, other sources of the label (same length) do not', () => {
    const cache = gpu!.backend.pipelines;
    const kernel = (k: number) => `@group(0) @binding(0) var<storage, read_write> b: array<f32>;\n@compute @workgroup_size(1) fn main() { b[0] = ${k}.0; }\n`;
    const first = Array.from({ length: 10 }, (_, k) => cache.get('cache-probe', kernel(k)));
    expect(new Set(first).size).toBe(10);
    // Fresh strings of the same text (as kernels build them per dispatch) get the same pipelines.
    for (let k = 9; k >= 0; k--) expect(cache.get('cache-probe', [kernel(k)].join(''))).toBe(first[k]);
    // The same source under another label: the source map's pipeline, nothing compiled.
    const size = cache.size;
    expect(cache.get('cache-probe-2', kernel(3))).toBe(first[3]);
    expect(cache.size).toBe(size);
  });

  it('explains what it tried when no adapter can be found', async () => {
    // Metal does not exist on Linux: dawn.node returns no adapter for it.
    const error = await initGpu({ backend: 'metal', setDefault: false }).catch((e: unknown) => e);
    if (process.platform === 'darwin') return; // there it may well succeed
    expect(error).toBeInstanceOf(NoAdapterError);
    expect((error as NoAdapterError).attempts.join('\n')).toMatch(/dawn:metal/);
    expect((error as Error).message).toMatch(/Fix:/);
  });

  it('rejects an unknown backend name, naming where it came from', async () => {
    await expect(initGpu({ backend: 'cuda' as never })).rejects.toThrowError(InvalidArgumentError);
    await expect(initGpu({ backend: 'cuda' as never })).rejects.toThrowError(/argument 'backend'.*from options/);
  });

  it('makes a context the default device only when asked', async () => {
    const before = getDefaultDevice();
    const ctx = await initGpu({ setDefault: false });
    expect(getDefaultDevice()).toBe(before);
    const t = tensor([1, 2], undefined, { device: ctx });
    expect(t.backend).toBe(ctx.backend);
    t.dispose();
    ctx.destroy();
  });
});
