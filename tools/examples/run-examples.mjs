#!/usr/bin/env node
/**
 * `npm run test:examples`: builds the browser examples, serves them on 127.0.0.1 and runs each in
 * headless Chromium (WebGPU on SwiftShader without a GPU), as tools/smoke/run-browser.mjs does for
 * the smoke.
 *
 * 1. `tools/examples/build.ts` (tsx, the packages' sources): docs/public/examples/.
 * 2. tools/examples/serve.mjs's static server on 127.0.0.1 (a free port; a secure context).
 * 3. playwright-core drives /usr/bin/chromium (or CHROMIUM_PATH) to each example, waits until the
 *    page's `window.__fairgpuExample.status` leaves 'running', and checks what it shows: no page
 *    exception or console error, every number finite and in range (losses decrease, PCA variance
 *    ratios in (0, 1] summing to at most 1, accuracies and Grad-CAM masses in [0, 1], no tensor
 *    left allocated), the plots drawn. A full-page screenshot of each is saved.
 * 4. The same pages with WebGPU taken away by an init script — `navigator.gpu` deleted, and
 *    `requestAdapter()` resolving to null — must show the "needs WebGPU" message (and nothing
 *    else: no error, the example's controls hidden).
 *
 * Prints one line per failed check and "N passed, N failed"; exit 1 on any failure. No browser,
 * or no WebGPU adapter with the flags on: skipped (exit 0) unless FAIRGPU_REQUIRE_GPU=1.
 * Env: FAIRGPU_REQUIRE_GPU=1, FAIRGPU_EXAMPLES_TIMEOUT_MS (per page, default 240000),
 * FAIRGPU_EXAMPLES_OUT (screenshot directory; default a new temp dir), CHROMIUM_PATH,
 * FAIRGPU_EXAMPLES (comma-separated subset of the examples).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PUBLIC_DIR, serveDirectory } from './serve.mjs';
import { CHROMIUM_FLAGS, chromiumPath, finisher } from '../runtimes/chromium.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const label = 'examples';
const requireGpu = process.env.FAIRGPU_REQUIRE_GPU === '1';
const timeoutMs = Number(process.env.FAIRGPU_EXAMPLES_TIMEOUT_MS ?? 240_000);
const ALL = ['biased-mnist', 'grad-cam'];
const examples = process.env.FAIRGPU_EXAMPLES ? process.env.FAIRGPU_EXAMPLES.split(',').map((s) => s.trim()) : ALL;
const started = performance.now();
const seconds = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
const cleanups = [];
const finish = finisher(cleanups);
function cannotRun(why, hint) {
  if (!requireGpu) return finish(0, `${label}: SKIPPED (${why}); set FAIRGPU_REQUIRE_GPU=1 to make this a failure. ${hint}`);
  return finish(1, `${label}: FAILED (${why})`);
}

const unknown = examples.filter((e) => !ALL.includes(e));
if (unknown.length) await finish(1, `${label}: FAILED, unknown example(s) in FAIRGPU_EXAMPLES: ${unknown.join(', ')} (known: ${ALL.join(', ')})`);

// ---- 1. build ----
const requireFromRoot = createRequire(join(root, 'package.json'));
const tsxCli = join(dirname(requireFromRoot.resolve('tsx/package.json')), 'dist/cli.mjs');
const built = spawnSync(process.execPath, [tsxCli, '--conditions=@fairgpu/source', join(here, 'build.ts'), ...examples], { cwd: root, encoding: 'utf8' });
process.stdout.write(built.stdout ?? '');
if (built.status !== 0) await finish(1, `${label}: FAILED to build: ${(built.stderr || built.error?.message || '').trim()}`);

// ---- 2. serve ----
const server = await serveDirectory(PUBLIC_DIR);
cleanups.push(
  () =>
    new Promise((ok) => {
      server.close(() => ok());
      server.closeAllConnections?.();
    }),
);
const base = `http://127.0.0.1:${server.address().port}`;

// ---- 3. browser ----
if (!existsSync(chromiumPath)) await cannotRun(`no browser at ${chromiumPath}`, 'Debian: apt-get install chromium (or set CHROMIUM_PATH)');
let chromium;
try {
  const playwright = await import(pathToFileURL(requireFromRoot.resolve('playwright-core')).href);
  chromium = playwright.chromium ?? playwright.default?.chromium;
} catch (e) {
  await finish(1, `${label}: FAILED, cannot load playwright-core (${e.message}); run npm ci`);
}
let browser;
try {
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: CHROMIUM_FLAGS, timeout: 60_000 });
} catch (e) {
  await finish(1, `${label}: FAILED to launch ${chromiumPath}: ${String(e.message).split('\n')[0]}`);
}
cleanups.push(() => browser.close());
const outDir = process.env.FAIRGPU_EXAMPLES_OUT ? resolve(process.env.FAIRGPU_EXAMPLES_OUT) : mkdtempSync(join(tmpdir(), 'fairgpu-examples-'));
mkdirSync(outDir, { recursive: true });
console.log(`${label}: ${chromiumPath} ${browser.version()} at ${base}; screenshots in ${outDir}`);

const checks = [];
function check(name, ok, detail = '') {
  checks.push({ name, ok: Boolean(ok), detail });
  if (!ok) console.log(`${label}: FAILED check '${name}'${detail ? `: ${detail}` : ''}`);
}
const finite = (v) => typeof v === 'number' && Number.isFinite(v);
const unit = (v) => finite(v) && v >= 0 && v <= 1;
/** An accuracy triple as the pages report it: every present value in [0, 1], the counts adding up. */
function checkAccuracy(name, g) {
  const ok =
    g &&
    unit(g.accuracy) &&
    (g.aligned === null || unit(g.aligned)) &&
    (g.conflicting === null || unit(g.conflicting)) &&
    g.counts.aligned + g.counts.conflicting === g.counts.total &&
    g.counts.total > 0;
  check(name, ok, JSON.stringify(g));
}
function checkLoss(example, m) {
  check(
    `${example}: every step's loss is finite`,
    Array.isArray(m.loss) && m.loss.length === m.steps && m.steps > 3 && m.loss.every(finite),
    `${m.steps} steps`,
  );
  check(
    `${example}: the loss decreased (mean of the last 3 steps < first 3)`,
    finite(m.lossFirst3) && finite(m.lossLast3) && m.lossLast3 < m.lossFirst3,
    `${m.lossFirst3} → ${m.lossLast3}`,
  );
}

/** Opens `url` in a fresh context (with `initScript` if given); returns the page's result and what it logged. */
async function openExample(url, initScript, waitMs) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  if (initScript) await context.addInitScript(initScript);
  const tab = await context.newPage();
  const errors = [];
  tab.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console.error: ${m.text()}`);
  });
  tab.on('pageerror', (e) => errors.push(`exception: ${e.message}`));
  tab.on('crash', () => errors.push('the page crashed'));
  const t = performance.now();
  let result = null;
  try {
    await tab.goto(url, { waitUntil: 'load', timeout: 60_000 });
    const handle = await tab.waitForFunction(
      () => window.__fairgpuExample && window.__fairgpuExample.status !== 'running' && window.__fairgpuExample,
      undefined,
      {
        timeout: waitMs,
        polling: 500,
      },
    );
    result = await handle.jsonValue();
  } catch (e) {
    errors.push(`no result from the page: ${String(e.message).split('\n')[0]}`);
  }
  return { context, tab, result, errors, seconds: (performance.now() - t) / 1000 };
}

const CHECKS = {
  'biased-mnist': async (m, tab) => {
    checkLoss('biased-mnist', m);
    check('biased-mnist: contrastive and FairKL losses finite', m.contrastiveLoss.every(finite) && m.fairklLoss.every((v) => finite(v) && v >= -1e-6));
    const [r1, r2] = m.pcaRatio ?? [];
    check(
      'biased-mnist: PCA variance ratios in (0, 1], PC1 ≥ PC2, sum ≤ 1',
      finite(r1) && finite(r2) && r1 > 0 && r2 > 0 && r1 <= 1 && r2 <= r1 && r1 + r2 <= 1 + 1e-9,
      `${r1}, ${r2}`,
    );
    checkAccuracy('biased-mnist: 5-NN accuracy (all / aligned / conflicting)', m.knn);
    checkAccuracy('biased-mnist: linear-probe accuracy (all / aligned / conflicting)', m.linear);
    check('biased-mnist: the training set has bias-conflicting images', m.trainConflicting > 0, String(m.trainConflicting));
    check('biased-mnist: no tensor left allocated after training', m.tensorsLeft === 0, String(m.tensorsLeft));
    const dom = await tab.evaluate(() => ({
      points: document.querySelectorAll('#pca circle').length,
      lossSvg: document.querySelectorAll('#loss-curve svg').length,
      rows: document.querySelectorAll('#accuracy tbody tr').length,
      status: document.getElementById('status')?.textContent,
    }));
    check('biased-mnist: PCA scatter has a point per held-out image', dom.points >= m.config.testSize, `${dom.points} circles for ${m.config.testSize} images`);
    check('biased-mnist: loss curve and accuracy table drawn', dom.lossSvg === 1 && dom.rows === 2 && dom.status === 'done', JSON.stringify(dom));
    // The switch to colouring by bias redraws the same points in the palette's colours.
    await tab.click('#colour-bias');
    const fills = await tab.evaluate(() => new Set([...document.querySelectorAll('#pca circle')].map((c) => c.getAttribute('fill'))).size);
    check('biased-mnist: "by background colour" recolours the PCA plot', fills >= 2, `${fills} distinct fills`);
  },
  'grad-cam': async (m, tab) => {
    checkLoss('grad-cam', m);
    checkAccuracy('grad-cam: accuracy (all / aligned / conflicting)', m.accuracy);
    check('grad-cam: Grad-CAM maps in [0, 1]', m.mapRange && m.mapRange[0] >= 0 && m.mapRange[1] <= 1 && m.mapRange[1] > 0, JSON.stringify(m.mapRange));
    check(
      'grad-cam: every digit mass in [0, 1] (null only for an all-zero map)',
      Array.isArray(m.masses) && m.masses.length === m.config.massImages && m.masses.every((v) => v === null || unit(v)) && m.nonEmptyMaps > 0,
      `${m.nonEmptyMaps} non-empty of ${m.masses?.length}`,
    );
    check('grad-cam: mean digit mass in [0, 1]', unit(m.meanDigitMass), String(m.meanDigitMass));
    check('grad-cam: digit area in (0, 1)', finite(m.digitArea) && m.digitArea > 0 && m.digitArea < 1, String(m.digitArea));
    check('grad-cam: no tensor left allocated', m.tensorsLeft === 0, String(m.tensorsLeft));
    const dom = await tab.evaluate(() => ({
      cards: document.querySelectorAll('#cams .cam').length,
      canvases: document.querySelectorAll('#cams canvas').length,
      text: [...document.querySelectorAll('#cams .cam')].map((c) => c.textContent),
    }));
    check(
      'grad-cam: one card (image + heatmap) per shown image',
      dom.cards === m.grid.length && dom.canvases === 2 * m.grid.length && dom.cards > 0,
      JSON.stringify({ ...dom, text: undefined }),
    );
    check(
      'grad-cam: each card shows its prediction and digit mass',
      dom.text.every(
        (t, i) => t.includes(`predicted ${m.grid[i].predicted}`) && (m.grid[i].mass === null || t.includes(`${(100 * m.grid[i].mass).toFixed(1)} %`)),
      ),
    );
  },
};

for (const name of examples) {
  const { context, tab, result, errors, seconds: s } = await openExample(`${base}/examples/${name}/`, null, timeoutMs);
  await tab.screenshot({ path: join(outDir, `${name}.png`), fullPage: true }).catch((e) => errors.push(`screenshot: ${e.message}`));
  if (result?.status === 'no-webgpu') {
    await context.close();
    await cannotRun(`no WebGPU adapter in ${chromiumPath}: ${result.reason}`, 'Chromium needs --enable-unsafe-webgpu on Linux; see chrome://gpu');
  }
  check(`${name}: finished`, result?.status === 'done', result ? `${result.status}: ${result.reason ?? ''}` : errors.join(' | '));
  check(`${name}: no page errors`, errors.length === 0, errors.join(' | '));
  if (result?.status === 'done') {
    console.log(`${label}: ${name} done in ${s.toFixed(1)} s on ${result.adapter}${result.isSoftware ? ' (software)' : ''}`);
    try {
      await CHECKS[name](result.metrics, tab);
    } catch (e) {
      check(`${name}: checks ran`, false, e.stack ?? e.message);
    }
    await tab.screenshot({ path: join(outDir, `${name}.png`), fullPage: true }).catch(() => {});
  }
  await context.close();
}

// ---- 4. without WebGPU ----
const WITHOUT = {
  'no-navigator-gpu': `delete Navigator.prototype.gpu; Object.defineProperty(navigator, 'gpu', { value: undefined, configurable: true });`,
  'null-adapter': `if (self.GPU) GPU.prototype.requestAdapter = async function () { return null; };`,
};
for (const name of examples) {
  for (const [mode, script] of Object.entries(WITHOUT)) {
    const { context, tab, result, errors } = await openExample(`${base}/examples/${name}/`, script, 30_000);
    const dom = await tab
      .evaluate(() => ({
        notice: !document.getElementById('no-webgpu')?.hidden ? (document.getElementById('no-webgpu')?.textContent ?? '') : '',
        mainHidden: document.querySelector('[data-needs-webgpu]')?.hidden === true,
      }))
      .catch(() => ({ notice: '', mainHidden: false }));
    await tab.screenshot({ path: join(outDir, `${name}-${mode}.png`), fullPage: true }).catch(() => {});
    check(`${name} (${mode}): reports no-webgpu`, result?.status === 'no-webgpu', result ? `${result.status}: ${result.reason ?? ''}` : errors.join(' | '));
    check(
      `${name} (${mode}): shows the "needs WebGPU" message with browsers and flags`,
      /needs WebGPU/.test(dom.notice) && /enable-unsafe-webgpu/.test(dom.notice) && /Safari/.test(dom.notice) && /Firefox/.test(dom.notice) && dom.mainHidden,
      JSON.stringify({ mainHidden: dom.mainHidden, notice: dom.notice.slice(0, 80) }),
    );
    const expected = mode === 'no-navigator-gpu' ? /navigator\.gpu is missing/ : /requestAdapter\(\) found no adapter/;
    check(`${name} (${mode}): says what happened`, expected.test(dom.notice), dom.notice.slice(0, 200));
    check(`${name} (${mode}): no page errors`, errors.length === 0, errors.join(' | '));
    await context.close();
  }
}

const passed = checks.filter((c) => c.ok).length;
const failed = checks.length - passed;
await finish(failed === 0 && checks.length > 0 ? 0 : 1, `${label}: ${passed} passed, ${failed} failed in ${seconds()} (screenshots: ${outDir})`);
