/**
 * Screenshot of a run's report.html in headless Chromium (Debian's /usr/bin/chromium, or
 * CHROMIUM_PATH), to look at the report as a reader does:
 *   node tools/report/screenshot.mjs <run dir> [out.png] [--width 1280]
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import playwright from 'playwright-core';

const [runDir, out = join(runDir ?? '.', 'report-screenshot.png')] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
if (!runDir || !existsSync(join(runDir, 'report.html'))) {
  console.error('usage: node tools/report/screenshot.mjs <run dir with report.html> [out.png]');
  process.exit(2);
}
const browser = await playwright.chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(pathToFileURL(resolve(runDir, 'report.html')).href);
  await page.screenshot({ path: out, fullPage: true });
  console.log(out);
} finally {
  await browser.close();
}
