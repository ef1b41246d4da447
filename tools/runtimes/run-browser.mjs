#!/usr/bin/env node
/**
 * Runs tools/runtimes/suite.ts in headless Chromium (WebGPU on SwiftShader without a GPU).
 *
 * 1. esbuild bundles, for the browser, each package's runtime-neutral entry on its own
 *    (`@fairgpu/losses`, …: what an app that imports only that package gets) and then the suite.
 *    Names resolve through the packages' exports maps with the `@fairgpu/source` condition (the
 *    TypeScript sources). A plugin fails a build that tries to resolve `webgpu` (dawn.node) or a
 *    `node:` module, and each metafile is checked: only that package's and its dependencies'
 *    sources go in, nothing from node_modules, and the output has no `webgpu` import.
 * 2. A node:http server on 127.0.0.1 (a free port; a secure context, so navigator.gpu is exposed)
 *    serves a page that runs the suite and leaves the result on `window.__fairgpuSuite`.
 * 3. playwright-core drives the Debian chromium (/usr/bin/chromium, or CHROMIUM_PATH) to it.
 *
 * Exit codes: 0 all checks passed, or no adapter / no browser and FAIRGPU_REQUIRE_GPU is not 1
 * (skipped); 1 otherwise. Env: FAIRGPU_REQUIRE_GPU=1, FAIRGPU_SUITE_TIMEOUT_MS (default 300000),
 * FAIRGPU_RUNTIME_REPORT_DIR (writes chromium.json), FAIRGPU_SUITE_ONLY, CHROMIUM_PATH.
 */
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { here, onlyChecks, requireGpu, root, timeoutMs, verdict, writeRuntimeReport } from './common.mjs';
import { CHROMIUM_FLAGS, chromiumPath, finisher } from './chromium.mjs';

const label = 'browser suite';
/** Runtime-neutral entries and the packages whose sources each may pull in (its dependencies). */
export const BROWSER_ENTRIES = {
  '@fairgpu/tensor': ['tensor'],
  '@fairgpu/kernels': ['tensor', 'kernels'],
  '@fairgpu/losses': ['tensor', 'kernels', 'losses'],
  '@fairgpu/nn': ['tensor', 'nn'],
  '@fairgpu/datasets': ['datasets'],
  '@fairgpu/metrics': ['tensor', 'kernels', 'nn', 'metrics'],
  '@fairgpu/privacy': ['tensor', 'kernels', 'nn', 'metrics', 'privacy'],
};

const cleanups = [];
const finish = finisher(cleanups);
/** "Cannot run here" (no browser, no adapter): a skip unless FAIRGPU_REQUIRE_GPU=1. */
function cannotRun(why, hint) {
  writeRuntimeReport('chromium', { adapter: null, checks: [], ops: {} });
  if (!requireGpu) return finish(0, `${label}: SKIPPED (${why}); set FAIRGPU_REQUIRE_GPU=1 to make this a failure. ${hint}`);
  return finish(1, `${label}: FAILED (${why})`);
}

// ---- 1. bundle ----
const requireFromRoot = createRequire(join(root, 'package.json'));
async function load(name) {
  try {
    return await import(pathToFileURL(requireFromRoot.resolve(name)).href);
  } catch (e) {
    await finish(1, `${label}: FAILED, cannot load '${name}' from ${root}/node_modules (${e.message}); run npm ci`);
  }
}
const esbuild = await load('esbuild');
const playwright = await load('playwright-core');
const chromium = playwright.chromium ?? playwright.default?.chromium;

const outDir = mkdtempSync(join(tmpdir(), 'fairgpu-browser-'));
cleanups.push(() => rmSync(outDir, { recursive: true, force: true }));

const forbidNode = {
  name: 'forbid-node-modules',
  setup(b) {
    // dawn.node must stay behind the Node-only computed import; any static path to it (or to a
    // Node built-in) would mean the browser bundle is broken.
    b.onResolve({ filter: /^(webgpu(\/.*)?|node:.*)$/ }, (args) => ({
      errors: [{ text: `the browser bundle tried to resolve '${args.path}' (imported by ${relative(root, args.importer)})` }],
    }));
  },
};

/**
 * Bundles `contents` for the browser and checks the result: inputs only under `allowed` path
 * prefixes (repo-relative, as esbuild's metafile names them), no node_modules, no `webgpu` import.
 * Returns a problem string, or the bundle's size and input count.
 */
async function bundle(name, contents, outfile, allowed) {
  try {
    const result = await esbuild.build({
      stdin: { contents, resolveDir: here, sourcefile: `${name}-entry.js`, loader: 'js' },
      bundle: true,
      format: 'esm',
      platform: 'browser',
      // The same condition the repo's tests and tsconfig use: package names resolve to src/*.ts.
      conditions: ['@fairgpu/source'],
      target: 'es2022',
      outfile,
      metafile: true,
      logLevel: 'silent',
      absWorkingDir: root,
      plugins: [forbidNode],
    });
    for (const w of result.warnings)
      console.log(`${label}: esbuild warning (${name}): ${w.text}${w.location ? ` (${w.location.file}:${w.location.line})` : ''}`);
    const inputs = Object.keys(result.metafile.inputs);
    const foreign = inputs.filter((p) => p.includes('node_modules') || !(p.endsWith(`${name}-entry.js`) || allowed.some((a) => p.startsWith(a))));
    if (foreign.length) return { problem: `${name}: the bundle pulled in files outside ${allowed.join(', ')}: ${foreign.join(', ')}` };
    const code = readFileSync(outfile, 'utf8');
    if (/\bimport\s*\(\s*["']webgpu["']\s*\)|from\s*["']webgpu["']|require\s*\(\s*["']webgpu["']\s*\)/.test(code))
      return { problem: `${name}: the bundle contains a static import of 'webgpu'` };
    return { inputs: inputs.length, kib: code.length / 1024 };
  } catch (e) {
    return { problem: `${name}: ${e.errors?.map((x) => x.text).join('; ') ?? e.message}` };
  }
}

const t = performance.now();
const problems = [];
const sizes = [];
for (const [pkg, deps] of Object.entries(BROWSER_ENTRIES)) {
  const short = pkg.replace('@fairgpu/', '');
  // `export *` keeps every export alive, so the check covers the whole entry, not what one app uses.
  const r = await bundle(
    short,
    `export * from '${pkg}';`,
    join(outDir, `${short}.js`),
    deps.map((d) => `packages/${d}/src/`),
  );
  if (r.problem) problems.push(r.problem);
  else sizes.push(`${short} ${r.kib.toFixed(0)} KiB`);
}
if (problems.length) await finish(1, `${label}: FAILED, browser bundles of the package entries: ${problems.join(' | ')}`);
console.log(`${label}: each entry bundled alone for the browser: ${sizes.join(', ')} (no 'webgpu', no node: imports, no node_modules)`);

const entry = `
import { runSuite } from './suite.ts';
window.__fairgpuSuite = null;
runSuite({ only: ${JSON.stringify(onlyChecks() ?? null)} ?? undefined }).then(
  (r) => { window.__fairgpuSuite = r; },
  (e) => { window.__fairgpuSuite = { ok: false, adapter: null, adapterInfo: null, noAdapter: false, reason: 'runSuite threw: ' + (e && e.stack || e), checks: [], ops: {}, ms: 0 }; },
);
`;
const suiteFile = join(outDir, 'suite.js');
const suiteBundle = await bundle(
  'suite',
  entry,
  suiteFile,
  ['tensor', 'kernels', 'losses', 'nn', 'datasets', 'metrics'].map((d) => `packages/${d}/src/`).concat(['tools/runtimes/']),
);
if (suiteBundle.problem) await finish(1, `${label}: FAILED to bundle the suite: ${suiteBundle.problem}`);
console.log(
  `${label}: bundled the suite from ${suiteBundle.inputs} source files into ${suiteBundle.kib.toFixed(0)} KiB; bundling took ${Math.round(performance.now() - t)} ms`,
);

// ---- 2. serve ----
const page = `<!doctype html><meta charset="utf-8"><title>fairgpu runtime suite</title><script type="module" src="/suite.js"></script>`;
const server = createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
  if (path === '/' || path === '/index.html') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(page);
  } else if (path === '/suite.js') {
    res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' }).end(readFileSync(suiteFile));
  } else if (path === '/favicon.ico') {
    res.writeHead(204).end();
  } else {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  }
});
await new Promise((ok, fail) => {
  server.once('error', fail);
  server.listen(0, '127.0.0.1', ok);
});
cleanups.push(
  () =>
    new Promise((ok) => {
      server.close(() => ok());
      server.closeAllConnections?.();
    }),
);
const url = `http://127.0.0.1:${server.address().port}/`;

// ---- 3. browser ----
if (!existsSync(chromiumPath)) {
  await cannotRun(`no browser at ${chromiumPath}`, 'Debian: apt-get install chromium (or set CHROMIUM_PATH)');
}
let browser;
try {
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: CHROMIUM_FLAGS, timeout: 60_000 });
} catch (e) {
  await finish(1, `${label}: FAILED to launch ${chromiumPath}: ${String(e.message).split('\n')[0]}`);
}
cleanups.push(() => browser.close());
console.log(`${label}: ${chromiumPath} ${browser.version()} at ${url}`);

const context = await browser.newContext();
const tab = await context.newPage();
const pageErrors = [];
tab.on('console', (m) => console.log(`${label}: [page ${m.type()}] ${m.text()}`));
tab.on('pageerror', (e) => {
  pageErrors.push(e.message);
  console.log(`${label}: [page exception] ${e.message}`);
});
tab.on('crash', () => pageErrors.push('the page crashed'));

let r;
try {
  await tab.goto(url, { waitUntil: 'load', timeout: 60_000 });
  const handle = await tab.waitForFunction(() => window.__fairgpuSuite, undefined, { timeout: timeoutMs, polling: 250 });
  r = await handle.jsonValue();
} catch (e) {
  const why = String(e.message).split('\n')[0];
  await finish(1, `${label}: FAILED, no result from the page (${why})${pageErrors.length ? `; page errors: ${pageErrors.join(' | ')}` : ''}`);
}

if (!r.adapter && r.noAdapter)
  await cannotRun(
    `no adapter: ${String(r.reason ?? 'unknown').replace(/\s*\n\s*-?\s*/g, ' | ')}`,
    'Chromium needs --enable-unsafe-webgpu on Linux; see chrome://gpu',
  );
const v = verdict(label, 'chromium', r, pageErrors.length ? [`page errors: ${pageErrors.join(' | ')}`] : [], '');
await finish(v.code, v.line);
