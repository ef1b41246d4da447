#!/usr/bin/env node
/**
 * Runs tools/smoke/smoke-core.ts under Deno (its built-in WebGPU: wgpu, here Vulkan on Mesa
 * lavapipe). Deno loads the TypeScript sources directly; it is started with --no-npm --no-remote
 * --no-config --no-lock, so the run proves the sources need nothing from npm (the Node-only
 * `webgpu` import is never reached outside Node).
 *
 * Exit codes: 0 all checks passed, or no adapter and FAIRGPU_REQUIRE_GPU is not 1 (skipped);
 * 1 a check failed, Deno crashed or timed out, or no adapter under FAIRGPU_REQUIRE_GPU=1.
 * Env: FAIRGPU_REQUIRE_GPU=1, FAIRGPU_SMOKE_TIMEOUT_MS (default 180000), DENO (binary path).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const core = join(here, 'smoke-core.ts');
const MARK = '@@FAIRGPU_SMOKE_RESULT@@';
const requireGpu = process.env.FAIRGPU_REQUIRE_GPU === '1';
const timeoutMs = Number(process.env.FAIRGPU_SMOKE_TIMEOUT_MS ?? 180_000);
const label = 'deno smoke';
const started = performance.now();
const seconds = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;

function finish(code, line) {
  console.log(line);
  process.exit(code);
}

function denoBinary() {
  if (process.env.DENO) return process.env.DENO;
  for (const p of [join(root, 'node_modules/deno/deno'), join(root, 'node_modules/.bin/deno')]) if (existsSync(p)) return p;
  return 'deno';
}

// The program Deno reads from stdin: import the smoke, log progress to stderr, result on stdout.
const program = `
import { runSmoke } from ${JSON.stringify(pathToFileURL(core).href)};
const r = await runSmoke({ log: (l) => console.error(l) });
console.log(${JSON.stringify(MARK)} + JSON.stringify(r));
`;

const deno = denoBinary();
const args = [
  'run',
  '--no-config', // ignore any deno.json / package.json: no import map, no node_modules resolution
  '--no-lock',
  '--no-npm', // an npm: or bare package import would fail loudly
  '--no-remote', // so would an https: import
  '--no-prompt',
  '--allow-env', // FAIRGPU_BACKEND is read through process.env / Deno.env
  '--ext=js',
  '-',
];

// wgpu's Vulkan loader probes Wayland/X11 and complains without XDG_RUNTIME_DIR; give it a private one.
let runtimeDir;
const env = { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' };
if (!env.XDG_RUNTIME_DIR) {
  runtimeDir = mkdtempSync(join(tmpdir(), 'fairgpu-deno-xdg-'));
  env.XDG_RUNTIME_DIR = runtimeDir;
}

console.log(`${label}: ${deno} ${args.join(' ')} (stdin imports ${core})`);
const child = spawn(deno, args, { cwd: root, env, stdio: ['pipe', 'pipe', 'pipe'] });
child.stdin.end(program);

let stdout = '';
let stderrTail = '';
child.stdout.setEncoding('utf8').on('data', (d) => {
  stdout += d;
});
child.stderr.setEncoding('utf8').on('data', (d) => {
  process.stderr.write(d);
  stderrTail = (stderrTail + d).slice(-4000);
});

let timedOut = false;
const timer = setTimeout(() => {
  timedOut = true;
  child.kill('SIGKILL');
}, timeoutMs);

child.on('error', (e) => {
  clearTimeout(timer);
  if (runtimeDir) rmSync(runtimeDir, { recursive: true, force: true });
  finish(1, `${label}: FAILED to start ${deno}: ${e.message} (npm ci installs it from the root devDependency 'deno')`);
});

child.on('close', (code, signal) => {
  clearTimeout(timer);
  if (runtimeDir) rmSync(runtimeDir, { recursive: true, force: true });
  const other = stdout.split('\n').filter((l) => l && !l.startsWith(MARK));
  for (const l of other) console.log(l);
  const line = stdout.split('\n').find((l) => l.startsWith(MARK));
  if (timedOut) finish(1, `${label}: FAILED, timed out after ${timeoutMs} ms`);
  if (!line) {
    finish(1, `${label}: FAILED, Deno exited with ${signal ?? `code ${code}`} before reporting a result${stderrTail ? '' : ' (no stderr)'}`);
  }
  const r = JSON.parse(line.slice(MARK.length));
  report(r, code);
});

function report(r, code) {
  const passed = r.checks.filter((c) => c.ok).length;
  const failed = r.checks.length - passed;
  if (!r.adapter) {
    const why = `no adapter: ${String(r.reason ?? 'unknown').replace(/\s*\n\s*-?\s*/g, ' | ')}`;
    if (r.noAdapter && !requireGpu) {
      finish(
        0,
        `${label}: SKIPPED (${why}); set FAIRGPU_REQUIRE_GPU=1 to make this a failure. Linux without a GPU: apt-get install mesa-vulkan-drivers libvulkan1`,
      );
    }
    finish(1, `${label}: FAILED (${why})`);
  }
  const ok = r.ok && failed === 0 && r.checks.length > 0 && code === 0;
  if (!ok) for (const c of r.checks.filter((c) => !c.ok)) console.log(`${label}: failed check '${c.name}': ${c.detail}`);
  finish(
    ok ? 0 : 1,
    `${label}: ${passed} passed, ${failed} failed (adapter ${r.adapter}) in ${seconds()}${code !== 0 && failed === 0 ? `, but Deno exited with code ${code}` : ''}`,
  );
}
