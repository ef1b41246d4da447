#!/usr/bin/env node
/**
 * Brings each packages/<pkg>/deno.json in line with its package.json after `changeset version`
 * bumped the versions (changesets knows nothing of deno.json): the version, and the jsr: range
 * of each @fairgpu dependency. `npm run version-packages` runs it; test:pack fails when they differ.
 * Usage: node tools/pack/sync-deno-json.mjs [repo root, default this repo]
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '../..'));
for (const dir of readdirSync(join(root, 'packages'))) {
  const denoFile = join(root, 'packages', dir, 'deno.json');
  if (!existsSync(denoFile)) continue;
  const pkg = JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8'));
  const deno = JSON.parse(readFileSync(denoFile, 'utf8'));
  const before = JSON.stringify(deno);
  deno.version = pkg.version;
  for (const [dep, range] of Object.entries(pkg.dependencies ?? {})) {
    if (dep.startsWith('@fairgpu/')) {
      deno.imports ??= {};
      deno.imports[dep] = `jsr:${dep}@^${range.replace(/^[\^~]/, '')}`;
    }
  }
  if (JSON.stringify(deno) !== before) {
    writeFileSync(denoFile, `${JSON.stringify(deno, null, 2)}\n`);
    console.log(`sync-deno-json: ${pkg.name} deno.json → ${deno.version}`);
  }
}
