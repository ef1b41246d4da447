#!/usr/bin/env node
/**
 * Runs tools/runtimes/suite.ts under Deno (its built-in WebGPU: wgpu, here Vulkan on Mesa
 * lavapipe). Deno loads the TypeScript sources directly: the packages' names resolve through an
 * import map made from each packages/<pkg>/deno.json ("name" + "exports", the same files JSR
 * would publish), and Deno is started with --no-npm --no-remote --no-config --no-lock, so the run
 * proves the runtime-neutral entries need nothing from npm (the Node-only `webgpu` import is
 * never reached outside Node).
 *
 * Before running, `deno check` type-checks the suite and every source it reaches with the same
 * import map (FAIRGPU_DENO_CHECK=0 skips it).
 *
 * Exit codes: 0 all checks passed, or no adapter and FAIRGPU_REQUIRE_GPU is not 1 (skipped);
 * 1 a check failed, the type check failed, Deno crashed or timed out. Env: FAIRGPU_REQUIRE_GPU=1,
 * FAIRGPU_SUITE_TIMEOUT_MS (default 300000), FAIRGPU_RUNTIME_REPORT_DIR (writes deno.json),
 * FAIRGPU_SUITE_ONLY, DENO (binary path).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { childEnv, childProgram, exit, finishChild, root, runChild, suitePath } from './common.mjs';

const label = 'deno suite';

function denoBinary() {
  if (process.env.DENO) return process.env.DENO;
  for (const p of [join(root, 'node_modules/deno/deno'), join(root, 'node_modules/.bin/deno')]) if (existsSync(p)) return p;
  return 'deno';
}

/** { "@fairgpu/tensor": "file:///…/packages/tensor/src/index.ts", "@fairgpu/tensor/internal": … } from every deno.json. */
export function importMapFromDenoJson() {
  const imports = {};
  const packages = join(root, 'packages');
  for (const dir of readdirSync(packages)) {
    const file = join(packages, dir, 'deno.json');
    if (!existsSync(file)) continue;
    const config = JSON.parse(readFileSync(file, 'utf8'));
    const exports = typeof config.exports === 'string' ? { '.': config.exports } : config.exports;
    for (const [subpath, target] of Object.entries(exports)) {
      const specifier = subpath === '.' ? config.name : `${config.name}/${subpath.replace(/^\.\//, '')}`;
      imports[specifier] = pathToFileURL(join(packages, dir, target)).href;
    }
  }
  return { imports };
}

const tmp = mkdtempSync(join(tmpdir(), 'fairgpu-deno-'));
const importMap = join(tmp, 'import_map.json');
writeFileSync(importMap, JSON.stringify(importMapFromDenoJson(), null, 2));
// wgpu's Vulkan loader probes Wayland/X11 and complains without XDG_RUNTIME_DIR; give it a private one.
const env = childEnv(process.env.XDG_RUNTIME_DIR ? {} : { XDG_RUNTIME_DIR: tmp });
const cleanup = () => rmSync(tmp, { recursive: true, force: true });

const deno = denoBinary();
const common = [
  '--no-config', // ignore any deno.json / package.json: only the import map below resolves names
  `--import-map=${importMap}`,
  '--no-lock',
  '--no-npm', // an npm: or unmapped bare import would fail loudly
  '--no-remote', // so would an https: or jsr: import
];

if (process.env.FAIRGPU_DENO_CHECK !== '0') {
  const t = performance.now();
  const checked = spawnSync(deno, ['check', ...common, '--quiet', suitePath], { cwd: root, env, encoding: 'utf8' });
  if (checked.error || checked.status !== 0) {
    cleanup();
    process.stderr.write(checked.stderr ?? '');
    exit(1, `${label}: FAILED, deno check of ${suitePath}: ${checked.error?.message ?? `exit ${checked.status}`}`);
  }
  console.log(`${label}: deno check of the suite and the sources it imports passed in ${Math.round(performance.now() - t)} ms`);
}

const args = ['run', ...common, '--no-prompt', '--allow-env', '--ext=ts', '-'];
console.log(`${label}: ${deno} ${args.join(' ')} (stdin imports ${suitePath})`);
const outcome = await runChild(label, deno, args, { env, input: childProgram(pathToFileURL(suitePath).href) });
cleanup();
finishChild(label, 'deno', outcome, 'Linux without a GPU: apt-get install mesa-vulkan-drivers libvulkan1');
