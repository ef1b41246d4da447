import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { gpuOrSkip } from './helpers.ts';
import { graphLeakLoop } from './graph-lifetime.ts';

/**
 * Process-level lifetime of the GPU device (each case in a child process: a native crash must not
 * take the test runner with it) and graph lifetime on the GPU backend.
 */
const gpu = await gpuOrSkip();
afterAll(() => gpu?.destroy());

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '../../..');

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runChild(script: string, args: string[] = [], env: Record<string, string | undefined> = {}): Promise<ChildResult> {
  const childEnv: Record<string, string | undefined> = { ...process.env, EGL_PLATFORM: 'surfaceless', ...env };
  for (const [k, v] of Object.entries(childEnv)) if (v === undefined) delete childEnv[k];
  // vitest's own NODE_OPTIONS (loaders) must not leak into the child.
  delete childEnv.NODE_OPTIONS;
  // stderr goes to a file, as in a CI log (a tty or a pipe behaves the same; Node's 'pipe' is a
  // socket, which initGpu cannot reopen to capture native output: see captureNativeStderr).
  const dir = mkdtempSync(join(tmpdir(), 'fairgpu-child-'));
  const errPath = join(dir, 'stderr.txt');
  const errFd = openSync(errPath, 'w');
  return new Promise<ChildResult>((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--conditions=@fairgpu/source', '--import', 'tsx', join(here, 'children', script), ...args], {
      cwd: repoRoot,
      env: childEnv as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', errFd],
    });
    let stdout = '';
    child.stdout!.on('data', (d) => (stdout += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr: readFileSync(errPath, 'utf8') });
    });
  }).finally(() => {
    closeSync(errFd);
    rmSync(dir, { recursive: true, force: true });
  });
}

function describeExit(r: ChildResult): string {
  return `exit code ${r.code}, signal ${r.signal}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

/** Lines of a native abort: glibc/libstdc++ messages a clean exit never prints. */
const NATIVE_FAILURE = /terminate called|std::system_error|Assertion|futex facility|Segmentation|Aborted/;

describe.runIf(gpu)('device lifetime across the process (child processes)', () => {
  it('a discarded initGpu() result survives forced garbage collections between forward + backward passes', async () => {
    // Item 1: the default device owns dawn.node's GPU object; before, the first GC crashed.
    for (let run = 0; run < 2; run++) {
      const r = await runChild('discard-context.ts');
      expect(r.code, describeExit(r)).toBe(0);
      expect(r.stdout).toContain('done');
      expect(r.stderr).not.toMatch(NATIVE_FAILURE);
    }
  });

  const exits: [string, string][] = [
    ['queued', 'discard'],
    ['submitted', 'discard'],
    ['mapping', 'discard'],
    ['idle', 'discard'],
    ['natural', 'discard'],
    ['queued', 'hold'],
    ['mapping', 'hold'],
    ['natural', 'hold'],
  ];
  it.each(exits)('exiting (%s work, context %s) without destroy() ends cleanly', async (when, hold) => {
    const r = await runChild('exit.ts', [when, hold]);
    expect(r.signal, describeExit(r)).toBeNull();
    expect(r.code, describeExit(r)).toBe(0);
    expect(r.stdout).toContain(`exiting (${when}, ${hold})`);
    expect(r.stderr).not.toMatch(NATIVE_FAILURE);
  });

  it('a successful run writes nothing to stderr (no native EGL/Vulkan/Dawn lines)', async () => {
    // Item 3: EGL_PLATFORM is set by initGpu before dawn loads, the software paths come first
    // without a GPU device node, and Dawn's discovery notices go into fairgpu's report.
    const r = await runChild('quiet.ts', [], { EGL_PLATFORM: undefined, XDG_RUNTIME_DIR: undefined, FAIRGPU_DEBUG: undefined });
    expect(r.code, describeExit(r)).toBe(0);
    expect(r.stdout).toContain('values 2,4,6');
    expect(r.stderr, describeExit(r)).toBe('');
  });

  it('FAIRGPU_DEBUG=1 shows the probe report and the adapter in use', async () => {
    const r = await runChild('quiet.ts', [], { FAIRGPU_DEBUG: '1' });
    expect(r.code, describeExit(r)).toBe(0);
    expect(r.stderr).toMatch(/^fairgpu: initGpu: using /m);
  });
});

describe.runIf(gpu)('graph lifetime without scopes (GPU)', () => {
  it('dispose() without backward() frees the recorded graph', async () => {
    const counts = await graphLeakLoop(gpu!, { backward: false, iterations: 5 });
    expect(new Set(counts).size, `memory().tensors per iteration: ${counts.join(' → ')}`).toBe(1);
  });

  it('backward() then dispose() of every handle and of W.grad leaks nothing', async () => {
    const before = gpu!.memory();
    const counts = await graphLeakLoop(gpu!, { backward: true, iterations: 5 });
    expect(new Set(counts).size, `memory().tensors per iteration: ${counts.join(' → ')}`).toBe(1);
    expect(gpu!.memory().bytesInUse).toBe(before.bytesInUse);
  });
});
