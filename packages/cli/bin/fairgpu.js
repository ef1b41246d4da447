#!/usr/bin/env node
// The `fairgpu` command. Installed from npm it runs the compiled CLI (dist/). In the repository,
// where the package has its TypeScript sources and no build, it runs them through tsx with the
// `@fairgpu/source` condition (so `npx fairgpu …` works without `npm run build`).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

const source = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
if (existsSync(source)) {
  const tsx = import.meta.resolve('tsx');
  const child = spawnSync(process.execPath, ['--conditions=@fairgpu/source', '--import', tsx, source, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(child.status ?? 128 + (constants.signals[child.signal] ?? 0));
} else {
  await import('../dist/cli.js');
}
