import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeSafetensors } from '../src/index.ts';
import { expectClose } from './helpers.ts';

const child = join(import.meta.dirname, 'fixtures', 'resume-child.ts');

/**
 * Whether an adapter exists, asked of a child process: this worker never loads dawn.node itself.
 * (Creating and destroying a device here only to probe made the worker abort at exit about one run
 * in four on llvmpipe: "terminate called … std::system_error" from dawn's teardown.)
 */
async function gpuAvailable(): Promise<boolean> {
  const probe =
    "import { initGpu } from '@fairgpu/tensor'; const g = await initGpu({ setDefault: false }); console.log('adapter ok'); g.destroy(); process.exit(0);";
  const out = await new Promise<{ code: number | null; text: string }>((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', '--conditions=@fairgpu/source', '--input-type=module', '-e', probe], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    p.stdout.on('data', (d: Buffer) => (text += d.toString()));
    p.stderr.on('data', (d: Buffer) => (text += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, text }));
  });
  if (out.code === 0 && out.text.includes('adapter ok')) return true;
  if (process.env.FAIRGPU_REQUIRE_GPU === '1') throw new Error(`no GPU adapter for the resume test:\n${out.text}`);
  const lines = out.text.trim().split('\n');
  console.warn(`GPU tests skipped: ${lines.find((l) => /Error/.test(l)) ?? lines.pop()}`);
  return false;
}

const gpu = await gpuAvailable();
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Runs the child; with killAt, SIGKILLs it as soon as it reports that step's checkpoint. */
function run(
  dir: string,
  steps: number,
  options: { resume?: boolean; killAt?: number } = {},
): Promise<{ code: number | null; signal: string | null; out: string }> {
  return new Promise((resolve, reject) => {
    // node itself with tsx's loader (not the tsx CLI, which would leave its node child running when killed).
    const args = [
      '--import',
      'tsx',
      '--conditions=@fairgpu/source',
      child,
      dir,
      String(steps),
      ...(options.resume ? ['--resume'] : []),
      ...(options.killAt ? ['--slow', '200'] : []),
    ];
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (options.killAt && out.includes(`step ${options.killAt}\n`)) p.kill('SIGKILL');
    });
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('close', (code, signal) => resolve({ code, signal, out }));
  });
}

const weights = (dir: string) => decodeSafetensors(new Uint8Array(readFileSync(join(dir, 'final.safetensors')))).tensors;

describe.runIf(gpu)('checkpoint + resume (child processes on the GPU)', () => {
  it('a run killed with SIGKILL and resumed ends with the same weights as an uninterrupted run', async () => {
    const a = mkdtempSync(join(tmpdir(), 'fairgpu-resume-a-'));
    const b = mkdtempSync(join(tmpdir(), 'fairgpu-resume-b-'));
    dirs.push(a, b);
    const steps = 10;
    const [full, killed] = await Promise.all([run(a, steps), run(b, steps, { killAt: 5 })]);
    expect(full.code, full.out).toBe(0);
    expect(killed.signal).toBe('SIGKILL');
    expect(killed.out).not.toContain('done');
    const resumed = await run(b, steps, { resume: true });
    expect(resumed.code, resumed.out).toBe(0);
    // The resumed run starts after the last checkpoint it saw, not from scratch.
    expect(resumed.out).not.toMatch(/^step [1-5]$/m);
    const wa = weights(a);
    const wb = weights(b);
    expect([...wb.keys()]).toEqual([...wa.keys()]);
    expect([...wa.keys()]).toContain('1.running_mean');
    // Same seed, same batches, same f32 kernels, exact checkpoint values: identical weights.
    for (const [k, t] of wa) expectClose(wb.get(k)!.data, t.data, { rtol: 0, atol: 0 }, k);
  }, 60_000);
});
