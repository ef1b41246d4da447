/** The `fairgpu` bin as a user runs it (a child process), for the end-to-end tests. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/fairgpu.js', import.meta.url));

/** Runs `fairgpu ...args` without colour on the surfaceless EGL platform (4-minute limit). */
export function fairgpu(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', EGL_PLATFORM: 'surfaceless' },
    timeout: 240_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
