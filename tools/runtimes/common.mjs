/**
 * What the three runners (run-node.mjs, run-deno.mjs, run-browser.mjs) share: running the suite in
 * a child process and reading its result line, the verdict ("N passed, N failed", exit code) and
 * the report file.
 *
 * Report: when FAIRGPU_RUNTIME_REPORT_DIR is set, `<dir>/<runtime>.json` (runtime ∈ node | deno |
 * chromium) = { runtime, adapter, passed, failed, checks: [{ name, ok, detail }], ops: { [op]:
 * dispatchCount } }. The docs' op × runtime support table is built from these files: keep the
 * schema. A runtime with no adapter (skipped) writes adapter null and no checks.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const here = dirname(fileURLToPath(import.meta.url));
export const root = resolve(here, '../..');
export const suitePath = join(here, 'suite.ts');
/** Prefix of the child's one result line on stdout. */
export const MARK = '@@FAIRGPU_SUITE_RESULT@@';
export const requireGpu = process.env.FAIRGPU_REQUIRE_GPU === '1';
export const timeoutMs = Number(process.env.FAIRGPU_SUITE_TIMEOUT_MS ?? process.env.FAIRGPU_SMOKE_TIMEOUT_MS ?? 300_000);

const started = performance.now();
export const seconds = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;

/** FAIRGPU_SUITE_ONLY=a,b runs only the checks whose name contains a or b (for debugging one). */
export function onlyChecks() {
  const v = process.env.FAIRGPU_SUITE_ONLY;
  return v
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : undefined;
}

/** The program a child runtime evaluates: run the suite, progress on stderr, the result on stdout. */
export function childProgram(suiteUrl) {
  return `
import { runSuite } from ${JSON.stringify(suiteUrl)};
const r = await runSuite({ log: (l) => console.error(l), only: ${JSON.stringify(onlyChecks() ?? null)} ?? undefined });
console.log(${JSON.stringify(MARK)} + JSON.stringify(r));
// dawn.node keeps a Node process alive; Deno would exit anyway.
globalThis.process?.exit?.(0);
`;
}

export function writeRuntimeReport(runtime, r) {
  const dir = process.env.FAIRGPU_RUNTIME_REPORT_DIR;
  if (!dir) return undefined;
  const checks = (r?.checks ?? []).map((c) => ({ name: c.name, ok: c.ok, detail: c.detail }));
  const passed = checks.filter((c) => c.ok).length;
  const report = { runtime, adapter: r?.adapter ?? null, passed, failed: checks.length - passed, checks, ops: r?.ops ?? {} };
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${runtime}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}

/**
 * The verdict on a suite result: exit code and the summary line. `problems` are failures outside
 * the checks (a crash, a non-zero exit, page errors). No adapter is a skip (exit 0) unless
 * FAIRGPU_REQUIRE_GPU=1.
 */
export function verdict(label, runtime, r, problems, noAdapterHint) {
  const passed = r.checks.filter((c) => c.ok).length;
  const failed = r.checks.length - passed;
  const file = writeRuntimeReport(runtime, r);
  const written = file ? ` (report ${file})` : '';
  if (!r.adapter) {
    const why = `no adapter: ${String(r.reason ?? 'unknown').replace(/\s*\n\s*-?\s*/g, ' | ')}`;
    if (r.noAdapter && !requireGpu)
      return { code: 0, line: `${label}: SKIPPED (${why}); set FAIRGPU_REQUIRE_GPU=1 to make this a failure. ${noAdapterHint}${written}` };
    return { code: 1, line: `${label}: FAILED (${why})${written}` };
  }
  const ok = r.ok && failed === 0 && r.checks.length > 0 && problems.length === 0;
  const lines = [];
  if (!ok) for (const c of r.checks.filter((c) => !c.ok)) lines.push(`${label}: failed check '${c.name}': ${c.detail}`);
  const opCount = Object.keys(r.ops ?? {}).length;
  lines.push(
    `${label}: ${passed} passed, ${failed} failed (adapter ${r.adapter}; ${opCount} distinct ops dispatched) in ${seconds()}${problems.length ? `; ${problems.join('; ')}` : ''}${written}`,
  );
  return { code: ok ? 0 : 1, line: lines.join('\n') };
}

/**
 * Runs `command args` with `program` on stdin (or none), echoes its stderr, and resolves with the
 * parsed result line, the exit code / signal and whether it timed out.
 */
export function runChild(label, command, args, { env, input }) {
  return new Promise((done) => {
    const child = spawn(command, args, { cwd: root, env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    if (input !== undefined) child.stdin.end(input);
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d) => process.stderr.write(d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      done({ startError: e });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      for (const l of stdout.split('\n').filter((l) => l && !l.startsWith(MARK))) console.log(`${label}: [stdout] ${l}`);
      const line = stdout.split('\n').find((l) => l.startsWith(MARK));
      done({ result: line ? JSON.parse(line.slice(MARK.length)) : undefined, code, signal, timedOut });
    });
  });
}

/** Turns runChild's outcome into the verdict and exits. */
export function finishChild(label, runtime, outcome, noAdapterHint) {
  const { startError, result, code, signal, timedOut } = outcome;
  if (startError) return exit(1, `${label}: FAILED to start: ${startError.message}`);
  if (timedOut) {
    writeRuntimeReport(runtime, result);
    return exit(1, `${label}: FAILED, timed out after ${timeoutMs} ms`);
  }
  if (!result) return exit(1, `${label}: FAILED, the runtime exited with ${signal ?? `code ${code}`} before reporting a result`);
  const problems = code === 0 ? [] : [`the runtime exited with ${signal ?? `code ${code}`}`];
  const v = verdict(label, runtime, result, problems, noAdapterHint);
  return exit(v.code, v.line);
}

export function exit(code, line) {
  console.log(line);
  process.exit(code);
}

/** Child environment: no colour, no update check. */
export function childEnv(extra = {}) {
  return { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1', ...extra };
}
