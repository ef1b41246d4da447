/**
 * What the two headless-Chromium runners (tools/runtimes/run-browser.mjs, the runtime suite, and
 * tools/examples/run-examples.mjs, the live examples) share: where the browser is, the flags it is
 * started with, and an exit that runs the registered cleanups (browser, server, temp dirs) first.
 */

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * WebGPU on (SwiftShader where there is no GPU), and nothing that reaches the network: this
 * machine's closed network refuses Chromium's background connections, many at a time.
 */
export const CHROMIUM_FLAGS = [
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

/**
 * A `finish(code, line)` that runs `cleanups` last-registered first (each best effort: the
 * verdict line is what matters), prints the line and exits with `code`.
 */
export function finisher(cleanups) {
  return async function finish(code, line) {
    for (const f of cleanups.reverse()) {
      try {
        await f();
      } catch {
        // best effort: the verdict below is what matters
      }
    }
    console.log(line);
    process.exit(code);
  };
}
