#!/usr/bin/env node
/**
 * Runs tools/smoke/smoke-core.ts in headless Chromium (WebGPU on SwiftShader without a GPU).
 *
 * 1. esbuild bundles smoke-core.ts (and the tensor sources it imports by relative path) into one
 *    ESM file in a temp dir, for the browser. A plugin fails the build if anything tries to resolve
 *    `webgpu` (dawn.node) or a `node:` module, and the metafile is checked: only repo sources go in.
 * 2. A node:http server on 127.0.0.1 (a free port; a secure context, so navigator.gpu is exposed)
 *    serves a page that runs the smoke and leaves the result on `window.__fairgpuSmoke`.
 * 3. playwright-core drives the Debian chromium (/usr/bin/chromium, or CHROMIUM_PATH) to it.
 *
 * Exit codes: 0 all checks passed, or no adapter / no browser and FAIRGPU_REQUIRE_GPU is not 1
 * (skipped); 1 otherwise. Env: FAIRGPU_REQUIRE_GPU=1, FAIRGPU_SMOKE_TIMEOUT_MS (default 300000),
 * CHROMIUM_PATH.
 */
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const requireGpu = process.env.FAIRGPU_REQUIRE_GPU === '1';
const timeoutMs = Number(process.env.FAIRGPU_SMOKE_TIMEOUT_MS ?? 300_000);
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const label = 'browser smoke';
const started = performance.now();
const seconds = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
const CHROMIUM_FLAGS = [
  '--headless=new',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--disable-dev-shm-usage',
];

const cleanups = [];
async function finish(code, line) {
  for (const f of cleanups.reverse()) {
    try {
      await f();
    } catch {
      // best effort: the verdict below is what matters
    }
  }
  console.log(line);
  process.exit(code);
}
/** "Cannot run here" (no browser, no adapter): a skip unless FAIRGPU_REQUIRE_GPU=1. */
function cannotRun(why, hint) {
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

const outDir = mkdtempSync(join(tmpdir(), 'fairgpu-smoke-'));
cleanups.push(() => rmSync(outDir, { recursive: true, force: true }));
const outfile = join(outDir, 'smoke.js');

const entry = `
import { runSmoke } from './smoke-core.ts';
window.__fairgpuSmoke = null;
runSmoke().then(
  (r) => { window.__fairgpuSmoke = r; },
  (e) => { window.__fairgpuSmoke = { ok: false, adapter: null, adapterInfo: null, noAdapter: false, reason: 'runSmoke threw: ' + (e && e.stack || e), checks: [], ms: 0 }; },
);
`;

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

let bundle;
try {
  const t = performance.now();
  bundle = await esbuild.build({
    stdin: { contents: entry, resolveDir: here, sourcefile: 'smoke-browser-entry.js', loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outfile,
    metafile: true,
    logLevel: 'silent',
    plugins: [forbidNode],
  });
  for (const w of bundle.warnings) console.log(`${label}: esbuild warning: ${w.text}${w.location ? ` (${w.location.file}:${w.location.line})` : ''}`);
  const inputs = Object.keys(bundle.metafile.inputs);
  const foreign = inputs.filter(
    (p) =>
      p.includes('node_modules') ||
      !(p.startsWith('packages/tensor/src/') || p.startsWith('tools/smoke/') || p === '<stdin>' || p.endsWith('smoke-browser-entry.js')),
  );
  if (foreign.length) await finish(1, `${label}: FAILED, the bundle pulled in files outside the tensor sources: ${foreign.join(', ')}`);
  const code = readFileSync(outfile, 'utf8');
  if (/\bimport\s*\(\s*["']webgpu["']\s*\)|from\s*["']webgpu["']/.test(code))
    await finish(1, `${label}: FAILED, the bundle contains a static import of 'webgpu'`);
  console.log(
    `${label}: bundled ${inputs.length} source files into ${(code.length / 1024).toFixed(0)} KiB in ${Math.round(performance.now() - t)} ms (no 'webgpu', no node: imports, no node_modules)`,
  );
} catch (e) {
  const errors = e.errors?.map((x) => x.text).join('; ') ?? e.message;
  await finish(1, `${label}: FAILED to bundle smoke-core.ts: ${errors}`);
}

// ---- 2. serve ----
const page = `<!doctype html><meta charset="utf-8"><title>fairgpu smoke</title><script type="module" src="/smoke.js"></script>`;
const server = createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
  if (path === '/' || path === '/index.html') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(page);
  } else if (path === '/smoke.js') {
    res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' }).end(readFileSync(outfile));
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
  const handle = await tab.waitForFunction(() => window.__fairgpuSmoke, undefined, { timeout: timeoutMs, polling: 250 });
  r = await handle.jsonValue();
} catch (e) {
  const why = String(e.message).split('\n')[0];
  await finish(1, `${label}: FAILED, no result from the page (${why})${pageErrors.length ? `; page errors: ${pageErrors.join(' | ')}` : ''}`);
}

const passed = r.checks.filter((c) => c.ok).length;
const failed = r.checks.length - passed;
if (!r.adapter) {
  const why = `no adapter: ${String(r.reason ?? 'unknown').replace(/\s*\n\s*-?\s*/g, ' | ')}`;
  if (r.noAdapter) await cannotRun(why, 'Chromium needs --enable-unsafe-webgpu on Linux; see chrome://gpu');
  await finish(1, `${label}: FAILED (${why})`);
}
const ok = r.ok && failed === 0 && r.checks.length > 0 && pageErrors.length === 0;
if (!ok) for (const c of r.checks.filter((c) => !c.ok)) console.log(`${label}: failed check '${c.name}': ${c.detail}`);
await finish(
  ok ? 0 : 1,
  `${label}: ${passed} passed, ${failed} failed (adapter ${r.adapter}) in ${seconds()}${pageErrors.length ? `, with page errors: ${pageErrors.join(' | ')}` : ''}`,
);
