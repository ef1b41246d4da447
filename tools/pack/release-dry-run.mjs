#!/usr/bin/env node
/**
 * `npm run release:dry-run`: what a release would do, in a temp copy, without touching the repo
 * (its .changeset/ entries, versions and CHANGELOGs stay as they are).
 *
 * 1. Copies the root package.json, .changeset/ and packages/* (with their dist/: run
 *    `npm run build` first) into a temp dir; node_modules is linked from the repo.
 * 2. `changeset version` there, then tools/pack/sync-deno-json.mjs (deno.json versions).
 * 3. Prints each package's version before → after, the CHANGELOG.md section changesets wrote,
 *    and `npm publish --dry-run` of each package (what would be uploaded, under which version).
 *
 * Exit 1 when `changeset version` or a publish dry run fails. FAIRGPU_RELEASE_KEEP=1 keeps the copy.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const label = 'release:dry-run';
const tmp = mkdtempSync(join(tmpdir(), 'fairgpu-release-'));
const done = (code) => {
  if (process.env.FAIRGPU_RELEASE_KEEP === '1') console.log(`${label}: kept ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
  process.exit(code);
};

cpSync(join(root, 'package.json'), join(tmp, 'package.json'));
cpSync(join(root, '.changeset'), join(tmp, '.changeset'), { recursive: true });
const names = readdirSync(join(root, 'packages')).filter((d) => existsSync(join(root, 'packages', d, 'package.json')));
for (const d of names) {
  cpSync(join(root, 'packages', d), join(tmp, 'packages', d), {
    recursive: true,
    filter: (src) => !src.includes('/node_modules') && !src.endsWith('.tsbuildinfo'),
  });
}
symlinkSync(join(root, 'node_modules'), join(tmp, 'node_modules'));

const read = (d) => JSON.parse(readFileSync(join(tmp, 'packages', d, 'package.json'), 'utf8'));
const before = Object.fromEntries(names.map((d) => [d, read(d).version]));
const changelogBefore = Object.fromEntries(
  names.map((d) => [d, existsSync(join(tmp, 'packages', d, 'CHANGELOG.md')) ? readFileSync(join(tmp, 'packages', d, 'CHANGELOG.md'), 'utf8') : '']),
);
const pending = readdirSync(join(tmp, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md');
console.log(`${label}: ${pending.length} pending changesets; changeset version in ${tmp}`);

const version = spawnSync(process.execPath, [join(root, 'node_modules/@changesets/cli/bin.js'), 'version'], { cwd: tmp, encoding: 'utf8' });
if (version.status !== 0) {
  console.log(`${label}: FAILED, changeset version: ${(version.stdout + version.stderr).trim()}`);
  done(1);
}
execFileSync(process.execPath, [join(root, 'tools/pack/sync-deno-json.mjs'), tmp], { stdio: 'inherit' });

let failed = 0;
for (const d of names) {
  const pkg = read(d);
  const changelog = readFileSync(join(tmp, 'packages', d, 'CHANGELOG.md'), 'utf8');
  // What changesets added: the new text before the previous content (after the title line).
  const old = changelogBefore[d].split('\n').slice(1).join('\n').trim();
  const added = old ? changelog.slice(0, changelog.lastIndexOf(old)).trim() : changelog.trim();
  console.log(`\n==== ${pkg.name}: ${before[d]} → ${pkg.version}`);
  console.log(added.split('\n').slice(0, 40).join('\n') + (added.split('\n').length > 40 ? `\n… (${added.split('\n').length - 40} more lines)` : ''));
  const publish = spawnSync('npm', ['publish', '--dry-run', '--ignore-scripts', '--json', '--access', 'public'], {
    cwd: join(tmp, 'packages', d),
    encoding: 'utf8',
  });
  let summary;
  try {
    const r = JSON.parse(publish.stdout.slice(publish.stdout.indexOf('{')));
    const info = r[pkg.name] ?? r;
    summary = `${info.id ?? `${pkg.name}@${pkg.version}`}: ${info.entryCount ?? info.files?.length} files, ${((info.size ?? 0) / 1024).toFixed(0)} KiB`;
  } catch {
    summary = publish.stdout.trim().split('\n').slice(-3).join(' | ');
  }
  if (publish.status !== 0) {
    failed++;
    console.log(`npm publish --dry-run FAILED (${publish.status}): ${publish.stderr.trim().split('\n').slice(-5).join(' | ')}`);
  } else {
    console.log(`npm publish --dry-run: would publish ${summary}`);
  }
}
console.log(`\n${label}: ${names.length - failed} of ${names.length} packages would publish; the repo's .changeset/, versions and CHANGELOGs are unchanged`);
done(failed ? 1 : 0);
