#!/usr/bin/env node
/**
 * `npm run test:pack`: every package under packages/ is ready to publish.
 *
 * 0. Builds (`npm run build`, turbo: cached when nothing changed) when a package's dist/ is
 *    missing or older than its sources.
 * 1. Per package, on the tarball `npm pack` makes (once, into a temp dir):
 *    - package.json: ESM, sideEffects false, license, description; every export entry but
 *      ./package.json has `types`, `default` and the `@fairgpu/source` condition; README.md and
 *      CHANGELOG.md are in the tarball; no test files are;
 *    - deno.json (not the CLI: it runs on Node): name, version and exports match package.json's
 *      (the `@fairgpu/source` targets), and its imports map each @fairgpu dependency;
 *    - publint (strict: warnings fail) on the tarball;
 *    - are-the-types-wrong on the tarball, profile esm-only (the packages ship ESM only; require()
 *      from CommonJS is not supported by design).
 * 2. A consumer project: the tarballs unpacked into a temp node_modules (third-party dependencies
 *    linked from the repo's), and a TypeScript file importing every entry of every package,
 *    compiled with skipLibCheck false under moduleResolution node16 and bundler: the published
 *    declaration files type-check for a user.
 *
 * Exit 1 when any check fails. Env: FAIRGPU_PACK_KEEP=1 keeps the temp dir; FAIRGPU_PACK_BUILD=0
 * packs the dist/ there is without building (a warning says which packages are stale).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = (name) => join(root, 'node_modules/.bin', name);
const started = performance.now();
const seconds = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
const label = 'test:pack';

const packages = readdirSync(join(root, 'packages'))
  .filter((d) => existsSync(join(root, 'packages', d, 'package.json')))
  .map((d) => {
    const dir = join(root, 'packages', d);
    return { dir, short: d, json: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) };
  });

// ---- 0. build when needed ----
function newest(dir, skip = () => false) {
  let t = 0;
  if (!existsSync(dir)) return 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (skip(p)) continue;
    t = Math.max(t, e.isDirectory() ? newest(p, skip) : statSync(p).mtimeMs);
  }
  return t;
}
function oldestDistOutput(pkg) {
  // The files the exports map points at: each must exist and be newer than every source file.
  let oldest = Infinity;
  for (const [subpath, entry] of Object.entries(pkg.json.exports ?? {})) {
    if (subpath === './package.json' || typeof entry !== 'object') continue;
    for (const target of [entry.types, entry.default]) {
      const f = join(pkg.dir, target);
      oldest = Math.min(oldest, existsSync(f) ? statSync(f).mtimeMs : 0);
    }
  }
  return oldest;
}
const stale = packages.filter((p) => oldestDistOutput(p) < newest(join(p.dir, 'src')));
if (stale.length && process.env.FAIRGPU_PACK_BUILD === '0') {
  console.log(`${label}: WARNING: dist older than src in ${stale.map((p) => p.short).join(', ')}; FAIRGPU_PACK_BUILD=0, so packing it as it is`);
} else if (stale.length) {
  console.log(`${label}: dist missing or older than src in ${stale.map((p) => p.short).join(', ')}: npm run build`);
  const built = spawnSync('npm', ['run', 'build', '--', '--output-logs=errors-only'], { cwd: root, stdio: 'inherit' });
  if (built.status !== 0) {
    console.log(`${label}: FAILED, npm run build exited with ${built.status}`);
    process.exit(1);
  }
}

const requireFromRoot = createRequire(join(root, 'package.json'));
const { publint } = await import(pathToFileURL(requireFromRoot.resolve('publint')).href);
const { formatMessage } = await import(pathToFileURL(requireFromRoot.resolve('publint/utils')).href);

const tmp = mkdtempSync(join(tmpdir(), 'fairgpu-pack-'));
const failures = [];
const fail = (pkg, what) => failures.push(`${pkg}: ${what}`);

// ---- 1. per package ----
const tarballs = new Map();
for (const pkg of packages) {
  const { json, dir, short } = pkg;
  const name = json.name;
  const t = performance.now();
  const before = failures.length;

  if (json.type !== 'module') fail(name, `"type" is ${JSON.stringify(json.type)}, expected "module"`);
  if (json.sideEffects !== false) fail(name, '"sideEffects" must be false (packages do nothing at import)');
  for (const field of ['license', 'description', 'version']) if (!json[field]) fail(name, `"${field}" is missing`);
  const sources = {};
  for (const [subpath, entry] of Object.entries(json.exports ?? {})) {
    if (subpath === './package.json') continue;
    if (typeof entry !== 'object') {
      fail(name, `exports["${subpath}"] must be an object with types and default`);
      continue;
    }
    for (const key of ['@fairgpu/source', 'types', 'default']) if (!entry[key]) fail(name, `exports["${subpath}"] has no "${key}"`);
    if (Object.keys(entry).indexOf('types') > Object.keys(entry).indexOf('default')) fail(name, `exports["${subpath}"]: "types" must come before "default"`);
    sources[subpath] = entry['@fairgpu/source'];
  }
  if (!json.exports?.['./package.json']) fail(name, 'exports has no "./package.json"');

  // deno.json: the JSR / Deno view of the same sources.
  const denoFile = join(dir, 'deno.json');
  if (json.bin) {
    // The CLI is a Node program (bin); Deno users import the libraries.
  } else if (!existsSync(denoFile)) {
    fail(name, 'deno.json is missing');
  } else {
    const deno = JSON.parse(readFileSync(denoFile, 'utf8'));
    if (deno.name !== name) fail(name, `deno.json name ${deno.name}`);
    if (deno.version !== json.version) fail(name, `deno.json version ${deno.version} ≠ package.json ${json.version} (run npm run version-packages)`);
    const want = JSON.stringify(Object.entries(sources).sort());
    const got = JSON.stringify(Object.entries(deno.exports ?? {}).sort());
    if (want !== got) fail(name, `deno.json exports ${got} ≠ package.json's @fairgpu/source targets ${want}`);
    for (const [dep, range] of Object.entries(json.dependencies ?? {})) {
      if (dep.startsWith('@fairgpu/') && deno.imports?.[dep] !== `jsr:${dep}@^${range}`)
        fail(name, `deno.json imports["${dep}"] should be jsr:${dep}@^${range}`);
    }
  }

  // One tarball, used by every check below.
  let packed;
  try {
    packed = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
    )[0];
  } catch (e) {
    fail(
      name,
      `npm pack failed: ${String(e.stderr ?? e.message)
        .trim()
        .split('\n')
        .pop()}`,
    );
    continue;
  }
  const tarball = join(tmp, packed.filename);
  tarballs.set(name, tarball);
  const files = packed.files.map((f) => f.path);
  for (const f of ['README.md', 'CHANGELOG.md', 'package.json']) if (!files.includes(f)) fail(name, `${f} is not in the tarball`);
  const tests = files.filter((f) => /\.test\.[cm]?[jt]s$|(^|\/)test\//.test(f));
  if (tests.length) fail(name, `test files in the tarball: ${tests.slice(0, 3).join(', ')}`);

  // In a tarball, files live under package/.
  const lint = await publint({ pkgDir: 'package', pack: { tarball: new Uint8Array(readFileSync(tarball)).buffer }, level: 'suggestion', strict: true });
  for (const m of lint.messages) fail(name, `publint ${m.type}: ${formatMessage(m, json) ?? m.code}`);

  const attw = spawnSync(bin('attw'), [tarball, '--profile', 'esm-only', '--format', 'ascii', '--no-color'], { cwd: root, encoding: 'utf8' });
  if (attw.status !== 0) fail(name, `are-the-types-wrong:\n${(attw.stdout + attw.stderr).trim()}`);

  const ok = failures.length === before;
  console.log(
    `${label}: ${ok ? 'ok  ' : 'FAIL'} ${name}@${json.version}: ${files.length} files, ${(packed.size / 1024).toFixed(0)} KiB packed; exports ${Object.keys(sources).join(' ')}; publint ${lint.messages.length ? `${lint.messages.length} messages` : 'clean'}, attw ${attw.status === 0 ? 'clean' : 'problems'} (${Math.round(performance.now() - t)} ms)`,
  );
  void short;
}

// ---- 2. a consumer compiles against the published declarations ----
if (tarballs.size === packages.length) {
  const t = performance.now();
  const consumer = join(tmp, 'consumer');
  const modules = join(consumer, 'node_modules');
  mkdirSync(join(modules, '@fairgpu'), { recursive: true });
  for (const [name, tarball] of tarballs) {
    const target = join(modules, name);
    mkdirSync(target, { recursive: true });
    execFileSync('tar', ['-xzf', tarball, '-C', target, '--strip-components=1']);
  }
  // Third-party packages (dependencies, @types/node, @webgpu/types, typescript) from the repo's install.
  const rootModules = join(root, 'node_modules');
  for (const entry of readdirSync(rootModules)) {
    if (entry === '.bin' || entry === 'fairgpu' || entry === '@fairgpu' || entry.startsWith('.')) continue;
    if (entry.startsWith('@')) {
      mkdirSync(join(modules, entry), { recursive: true });
      for (const sub of readdirSync(join(rootModules, entry))) symlinkSync(join(rootModules, entry, sub), join(modules, entry, sub));
    } else {
      symlinkSync(join(rootModules, entry), join(modules, entry));
    }
  }
  const imports = [];
  const uses = [];
  let i = 0;
  for (const pkg of packages) {
    for (const subpath of Object.keys(pkg.json.exports ?? {})) {
      if (subpath === './package.json') continue;
      const specifier = subpath === '.' ? pkg.json.name : `${pkg.json.name}/${subpath.slice(2)}`;
      imports.push(`import * as m${i} from '${specifier}';`);
      uses.push(`m${i}`);
      i++;
    }
  }
  // A typed use of the main path, so an `any` leaking from a broken declaration would not pass silently.
  const program = `${imports.join('\n')}
import { initGpu, tensor, type Tensor } from '@fairgpu/tensor';
import { supcon } from '@fairgpu/losses';
export const modules = [${uses.join(', ')}];
export async function example(): Promise<number> {
  const gpu = await initGpu();
  const z: Tensor = tensor([[1, 0], [0, 1]]);
  const loss: Tensor = supcon(z, { labels: [0, 1] }, { temperature: 0.1 });
  const value: number = await loss.item();
  gpu.destroy();
  return value;
}
`;
  writeFileSync(join(consumer, 'index.ts'), program);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  for (const [moduleResolution, module] of [
    ['node16', 'node16'],
    ['bundler', 'esnext'],
  ]) {
    const config = {
      compilerOptions: {
        target: 'es2022',
        module,
        moduleResolution,
        strict: true,
        skipLibCheck: false,
        noEmit: true,
        lib: ['es2023', 'dom'],
        // What a user adds: WebGPU's types for the GPU* names, Node's for the /node entries.
        types: ['@webgpu/types', 'node'],
      },
      files: ['index.ts'],
    };
    writeFileSync(join(consumer, `tsconfig.${moduleResolution}.json`), JSON.stringify(config, null, 2));
    const tsc = spawnSync(process.execPath, [join(rootModules, 'typescript/bin/tsc'), '-p', `tsconfig.${moduleResolution}.json`], {
      cwd: consumer,
      encoding: 'utf8',
    });
    if (tsc.status !== 0)
      fail(
        'consumer',
        `tsc (moduleResolution ${moduleResolution}, skipLibCheck false) failed:\n${(tsc.stdout + tsc.stderr).trim().split('\n').slice(0, 30).join('\n')}`,
      );
  }
  console.log(
    `${label}: consumer type-check of ${i} entries (node16, bundler; skipLibCheck false) ${failures.some((f) => f.startsWith('consumer')) ? 'FAILED' : 'passed'} (${Math.round(performance.now() - t)} ms)`,
  );
}

if (process.env.FAIRGPU_PACK_KEEP === '1') console.log(`${label}: kept ${tmp}`);
else rmSync(tmp, { recursive: true, force: true });
for (const f of failures) console.log(`${label}: ${f}`);
console.log(
  `${label}: ${packages.length - new Set(failures.map((f) => f.split(':')[0])).size} of ${packages.length} packages passed, ${failures.length} problems in ${seconds()}`,
);
process.exit(failures.length ? 1 : 0);
