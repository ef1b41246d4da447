/**
 * What every example page shares: the result object it leaves on `window.__fairgpuExample` (read
 * by tools/examples/run-examples.mjs, and handy in the devtools console), a status line, and page
 * errors turned into a visible message instead of a silently stopped page.
 */

/** The page's state as the test runner reads it; `metrics` holds every number the page shows. */
export interface ExampleResult {
  example: string;
  /** 'idle': ready, waiting for the Train button (?autostart=0, as the docs' iframes load it). */
  status: 'running' | 'idle' | 'done' | 'no-webgpu' | 'error';
  /** The WebGPU adapter the page ran on (vendor / architecture / description). */
  adapter: string | null;
  isSoftware: boolean | null;
  /** Why the page stopped (no WebGPU, an error), in words. */
  reason: string | null;
  metrics: Record<string, unknown>;
  /** Seconds from the page's start to done / error. */
  wallSeconds: number | null;
}

declare global {
  interface Window {
    __fairgpuExample?: ExampleResult;
  }
}

const started = performance.now();

/** The result object, created once per page and published on window before any work starts. */
export function exampleResult(example: string): ExampleResult {
  const result: ExampleResult = { example, status: 'running', adapter: null, isSoftware: null, reason: null, metrics: {}, wallSeconds: null };
  window.__fairgpuExample = result;
  const fail = (why: string) => {
    if (result.status === 'done' || result.status === 'no-webgpu') return;
    result.status = 'error';
    result.reason = why;
    result.wallSeconds = elapsedSeconds();
    showError(why);
  };
  window.addEventListener('error', (e) => fail(e.error instanceof Error ? (e.error.stack ?? e.error.message) : String(e.message)));
  window.addEventListener('unhandledrejection', (e) => fail(e.reason instanceof Error ? (e.reason.stack ?? e.reason.message) : String(e.reason)));
  return result;
}

export function finish(result: ExampleResult, status: 'done' | 'error', reason: string | null = null): void {
  result.status = status;
  result.reason = reason;
  result.wallSeconds = elapsedSeconds();
}

export function elapsedSeconds(): number {
  return (performance.now() - started) / 1000;
}

/** Element by id, typed; a missing id is a bug in the page's HTML, reported as such. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no element #${id}`);
  return el as T;
}

export function setStatus(text: string): void {
  const el = document.getElementById('status');
  if (el) el.textContent = text;
}

export function showError(text: string): void {
  const el = document.getElementById('error');
  if (!el) return;
  el.hidden = false;
  el.textContent = `The example stopped with an error:\n${text}`;
}

/** Integer / number page controls, seeded from the URL (?train=512&epochs=4) so a run can be linked or scripted. */
export function numberParam(name: string, fallback: number, min: number, max: number): number {
  const raw = new URLSearchParams(location.search).get(name);
  const v = raw === null ? Number.NaN : Number(raw);
  return Number.isFinite(v) ? Math.min(max, Math.max(min, v)) : fallback;
}

export function stringParam<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
  const raw = new URLSearchParams(location.search).get(name);
  return raw !== null && (allowed as readonly string[]).includes(raw) ? (raw as T) : fallback;
}

/** Whether the page trains as soon as it loads (default) or waits for the button (?autostart=0). */
export function autostart(): boolean {
  return new URLSearchParams(location.search).get('autostart') !== '0';
}

/**
 * Wires the Train button and starts the first run (unless ?autostart=0). `run` trains and fills
 * `result.metrics`; a failure is shown in the page and recorded on the result.
 */
export function startRuns<C>(result: ExampleResult, first: C, readControls: () => C, run: (config: C) => Promise<void>): void {
  const button = byId<HTMLButtonElement>('start');
  const go = (config: C) => {
    if (result.status === 'running' && button.disabled) return;
    result.status = 'running';
    button.disabled = true;
    run(config).then(
      () => {
        finish(result, 'done');
        result.metrics.pageSeconds = elapsedSeconds();
        setStatus('done');
        button.disabled = false;
        button.textContent = 'Train again';
      },
      (e: unknown) => {
        const why = e instanceof Error ? (e.stack ?? e.message) : String(e);
        finish(result, 'error', why);
        setStatus('stopped');
        showError(why);
        button.disabled = false;
      },
    );
  };
  button.addEventListener('click', () => go(readControls()));
  if (autostart()) go(first);
  else {
    result.status = 'idle';
    setStatus('ready: set the sizes and press Train');
  }
}

/** Yields to the browser so the DOM updates (loss curve, status) are painted between GPU steps. */
export function nextFrame(): Promise<void> {
  return new Promise((ok) => requestAnimationFrame(() => ok()));
}

export function percent(v: number | null | undefined, digits = 1): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : `${(100 * v).toFixed(digits)} %`;
}
