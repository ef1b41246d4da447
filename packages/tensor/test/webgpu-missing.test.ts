import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { NoAdapterError, WebGpuPackageMissingError, isFairgpuError } from '../src/index.ts';
import { loadDawn } from '../src/gpu/node-dawn.ts';

// `webgpu` (dawn.node) is an optional peer dependency: Node without it must get one typed error
// that says what to install, not a list of failed probes.
describe('webgpu (dawn.node) not installed', () => {
  it('loadDawn: a package that does not resolve is WebGpuPackageMissingError naming it', async () => {
    const error = await loadDawn('fairgpu-test-package-that-is-not-installed').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebGpuPackageMissingError);
    expect(error).toBeInstanceOf(NoAdapterError);
    expect(isFairgpuError(error)).toBe(true);
    expect((error as WebGpuPackageMissingError).packageName).toBe('fairgpu-test-package-that-is-not-installed');
    expect((error as Error).message).toMatch(/npm install fairgpu-test-package-that-is-not-installed/);
  });

  it('loadDawn: other import failures are rethrown as they are (npm install would not fix them)', async () => {
    // A relative path that does not exist is not "the package is absent".
    const error = await loadDawn('./no-such-dawn-module.js').catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(WebGpuPackageMissingError);
  });

  it('initGpu() in Node with `webgpu` unresolvable throws WebGpuPackageMissingError: npm install webgpu', () => {
    // A child process whose module hook makes `webgpu` fail to resolve as an absent package does.
    const hook = fileURLToPath(new URL('./fixtures/hide-webgpu.mjs', import.meta.url));
    const index = new URL('../src/index.ts', import.meta.url).href;
    const program = `
      import { initGpu, NoAdapterError, WebGpuPackageMissingError } from ${JSON.stringify(index)};
      try { const gpu = await initGpu(); gpu.destroy(); console.log(JSON.stringify({ threw: false })); }
      catch (e) { console.log(JSON.stringify({ threw: true, name: e.name, missing: e instanceof WebGpuPackageMissingError, noAdapter: e instanceof NoAdapterError, packageName: e.packageName, message: e.message })); }
      process.exit(0);`;
    const env = { ...process.env };
    delete env.FAIRGPU_BACKEND; // auto: the path that imports dawn.node
    const out = execFileSync(process.execPath, ['--conditions=@fairgpu/source', '--import', 'tsx', '--import', hook, '--input-type=module', '-e', program], {
      encoding: 'utf8',
      env,
      timeout: 60_000,
    });
    const r = JSON.parse(out.trim().split('\n').pop()!);
    expect(r).toMatchObject({ threw: true, name: 'WebGpuPackageMissingError', missing: true, noAdapter: true, packageName: 'webgpu' });
    expect(r.message).toMatch(/npm install webgpu/);
    expect(r.message).toMatch(/optional peer dependency/);
  });
});
