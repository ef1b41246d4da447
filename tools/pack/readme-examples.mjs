#!/usr/bin/env node
/**
 * `npm run test:readmes`: runs every ```ts block of packages/<pkg>/README.md in Node, importing
 * the packages by name (the `@fairgpu/source` condition: the sources), and checks what it prints
 * against the block's `// → …` comments, in order (numbers with a relative tolerance of 1e-4).
 * The README's values are worked out by hand where the README says so; elsewhere they only pin
 * what the example prints, so a README cannot drift from the code.
 *
 * Each block runs in its own process (dawn.node keeps a Node process alive, so the runner ends it
 * after the block's last line). Exit 1 when a block throws, exits non-zero or prints something
 * else. Needs a WebGPU adapter (llvmpipe is enough); FAIRGPU_README_ONLY=<pkg> runs one README.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const label = 'test:readmes';
// Inside the repo so bare package names resolve through its node_modules; ignored by git.
const work = join(root, 'node_modules/.cache/fairgpu-readmes');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

/** Tokens of a printed or expected line: numbers and words, brackets and commas dropped. */
const tokens = (line) => line.split(/[\s,[\]{}'"]+/).filter(Boolean);
function lineMatches(printed, expected) {
  const a = tokens(printed);
  const b = tokens(expected);
  if (a.length !== b.length) return false;
  return a.every((t, i) => {
    const x = Number(t);
    const y = Number(b[i]);
    if (Number.isFinite(x) && Number.isFinite(y)) return Math.abs(x - y) <= 1e-4 * Math.max(1, Math.abs(y));
    return t === b[i];
  });
}

const only = process.env.FAIRGPU_README_ONLY;
const failures = [];
let blocks = 0;
for (const pkg of readdirSync(join(root, 'packages'))) {
  if (only && pkg !== only) continue;
  const readme = join(root, 'packages', pkg, 'README.md');
  if (!existsSync(readme)) {
    failures.push(`${pkg}: no README.md`);
    continue;
  }
  const text = readFileSync(readme, 'utf8');
  const found = [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  if (!found.length) failures.push(`${pkg}: README.md has no \`\`\`ts example`);
  found.forEach((code, i) => {
    blocks++;
    const expected = [...code.matchAll(/\/\/ → (.*)$/gm)].map((m) => m[1].trim());
    const file = join(work, `${pkg}-${i}.mts`);
    writeFileSync(file, `${code}\nprocess.exit(0);\n`);
    const t = performance.now();
    const run = spawnSync(process.execPath, ['--conditions=@fairgpu/source', '--import', 'tsx', file], {
      cwd: root,
      encoding: 'utf8',
      timeout: 180_000,
      env: { ...process.env, NO_COLOR: '1', EGL_PLATFORM: process.env.EGL_PLATFORM ?? 'surfaceless' },
    });
    const printed = (run.stdout ?? '').split('\n').filter(Boolean);
    const problems = [];
    if (run.status !== 0) problems.push(`exited with ${run.signal ?? run.status}: ${(run.stderr ?? '').trim().split('\n').slice(-6).join(' | ')}`);
    // Each expected line must be printed, in order (other lines may come between).
    let at = 0;
    for (const e of expected) {
      while (at < printed.length && !lineMatches(printed[at], e)) at++;
      if (at === printed.length) {
        problems.push(`expected a line '${e}'; printed: ${printed.map((p) => `'${p}'`).join(', ')}`);
        break;
      }
      at++;
    }
    const where = `packages/${pkg}/README.md block ${i + 1}`;
    if (problems.length) failures.push(`${where}: ${problems.join('; ')}`);
    console.log(`${label}: ${problems.length ? 'FAIL' : 'ok  '} ${where}: ${expected.length} printed values checked (${Math.round(performance.now() - t)} ms)`);
  });
}
for (const f of failures) console.log(`${label}: ${f}`);
console.log(`${label}: ${blocks - failures.length} passed, ${failures.length} failed`);
process.exit(failures.length ? 1 : 0);
