import { describe, expect, it } from 'vitest';
import { initGpu, InvalidArgumentError, type InitGpuOptions } from '../src/index.ts';

/** initGpu validates its options before it looks for an adapter: these run without a GPU. */
describe('initGpu options', () => {
  const rejects = async (options: unknown, argument: string, message: RegExp) => {
    const error = await initGpu(options as InitGpuOptions).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).message).toContain(`'${argument}'`);
    expect((error as InvalidArgumentError).message).toMatch(message);
  };

  it('rejects an unknown matmulKernel', () => rejects({ matmulKernel: 'bogus' }, 'matmulKernel', /auto, blocked, tiled.*'bogus'|"bogus"/));

  it.each([NaN, -1, 1.5, Infinity, '1024'])('rejects maxPooledBytes = %s', (v) => rejects({ maxPooledBytes: v }, 'maxPooledBytes', /integer number of bytes/));

  it('rejects an unknown option key, suggesting the close one', () =>
    rejects({ matmulKernal: 'tiled' }, 'options', /unknown option 'matmulKernal' \(did you mean 'matmulKernel'\?\)/));

  it('rejects a bad powerPreference, setDefault or backend', async () => {
    await rejects({ powerPreference: 'fast' }, 'powerPreference', /low-power, high-performance/);
    await rejects({ setDefault: 'yes' }, 'setDefault', /boolean/);
    await rejects({ backend: 'cuda' }, 'backend', /must be one of/);
  });

  it('rejects non-object options', () => rejects(null, 'options', /must be an object/));
});
