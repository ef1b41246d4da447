/**
 * WebGPU for the examples: a GpuContext from @fairgpu/tensor's initGpu, or — when the browser has
 * no `navigator.gpu` or requestAdapter() finds no adapter — a message in the page saying what
 * WebGPU is needed for and how to get it, instead of a blank page or a stack trace.
 */
import { initGpu, NoAdapterError, type GpuContext } from '@fairgpu/tensor';
import { type ExampleResult, finish } from './page.ts';

export type WebGpuOutcome = { ok: true; gpu: GpuContext } | { ok: false; reason: string };

/** Why WebGPU is unavailable, or a context (the default device from then on). */
export async function openWebGpu(): Promise<WebGpuOutcome> {
  if (typeof navigator === 'undefined' || !('gpu' in navigator) || !navigator.gpu) {
    const insecure = typeof window !== 'undefined' && !window.isSecureContext;
    return {
      ok: false,
      reason: insecure
        ? 'navigator.gpu is missing: this page is not a secure context (WebGPU needs https:// or http://localhost)'
        : 'navigator.gpu is missing: this browser does not expose WebGPU',
    };
  }
  try {
    return { ok: true, gpu: await initGpu() };
  } catch (e) {
    // NoAdapterError's message lists every path tried; the page says it in one line.
    if (e instanceof NoAdapterError)
      return {
        ok: false,
        reason:
          'navigator.gpu.requestAdapter() found no adapter: the browser has WebGPU but offers no GPU for it (WebGPU disabled, or the GPU or its driver blocklisted)',
      };
    throw e;
  }
}

/**
 * The "no WebGPU" panel: what the example would do, why it needs WebGPU, which browsers have it.
 * `purpose` is one sentence about this example ("trains a small network …").
 */
export function showNoWebGpu(result: ExampleResult, reason: string, purpose: string): void {
  const panel = document.getElementById('no-webgpu');
  if (panel) {
    panel.hidden = false;
    panel.innerHTML = `
      <h2>This example needs WebGPU</h2>
      <p>It ${escapeHtml(purpose)} The network, its losses and their gradients run as WebGPU compute
      shaders (the same <code>@fairgpu</code> code that runs in Node and Deno), so without WebGPU there is nothing to run it on.</p>
      <p class="why"><strong>What happened:</strong> ${escapeHtml(reason)}.</p>
      <ul>
        <li><strong>Chrome / Edge 113 or later</strong> on Windows, macOS and ChromeOS: on by default.
        On Linux and Android: open <code>chrome://flags/#enable-unsafe-webgpu</code>, enable it and relaunch
        (or start Chrome with <code>--enable-unsafe-webgpu</code>); <code>chrome://gpu</code> shows whether WebGPU is available.</li>
        <li><strong>Safari 26</strong> (macOS, iOS, iPadOS): on by default; earlier versions: Develop ▸ Feature Flags ▸ WebGPU.</li>
        <li><strong>Firefox 141 or later</strong> on Windows: on by default; elsewhere Firefox Nightly, or <code>dom.webgpu.enabled</code> in <code>about:config</code>.</li>
        <li>The page must come from <code>https://</code> or <code>http://localhost</code> (WebGPU is only exposed to secure contexts).
        Locally: <code>npm run examples:build &amp;&amp; npm run examples:serve</code>.</li>
        <li>Without a GPU, Chromium can still run it on SwiftShader (its CPU implementation) with <code>--enable-unsafe-webgpu</code>: slowly, but it works.</li>
      </ul>`;
  }
  for (const el of Array.from(document.querySelectorAll<HTMLElement>('[data-needs-webgpu]'))) el.hidden = true;
  result.reason = reason;
  finish(result, 'done', reason);
  result.status = 'no-webgpu';
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** The adapter in words (vendor / architecture / description), as the pages print it. */
export function adapterName(gpu: GpuContext): string {
  const a = gpu.adapterInfo;
  return [a.vendor, a.architecture, a.description || a.device].filter(Boolean).join(' / ') || a.path;
}
