/**
 * The brain-age experiment end to end on the GPU adapter: the smoke protocol (≤ 60 s on 2 cores)
 * with its report, figures and checkpoints, resuming (a finished model trains zero steps and
 * scores the same; a partial one continues), and the OpenBHB file path through `run`.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeNpy } from '@fairgpu/datasets';
import type { ProgressEvent } from '@fairgpu/nn';
import { gpuOrSkip } from '@fairgpu/tensor/testing';
import { afterAll, describe, expect, it } from 'vitest';
import type { ExperimentOutput, RunContext } from '../src/experiment.ts';
import { brainAge, type BrainAgeConfig, type MethodResult } from '../src/experiments/brain-age/index.ts';
import { PROTOCOLS } from '../src/experiments/brain-age/config.ts';

const gpu = await gpuOrSkip();
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  gpu?.destroy();
});

function close(actual: number, expected: number, rtol: number, atol: number, label = ''): void {
  expect(Number.isFinite(actual), `${label}: ${actual}`).toBe(true);
  expect(Math.abs(actual - expected), `${label}: ${actual} vs ${expected}`).toBeLessThanOrEqual(atol + rtol * Math.abs(expected));
}

async function runOnce(config: BrainAgeConfig, runDir: string, resume: boolean) {
  const events: Array<{ task: string; event: ProgressEvent }> = [];
  const logs: string[] = [];
  const structured: string[] = [];
  const ctx: RunContext<BrainAgeConfig> = {
    gpu: gpu!,
    protocol: 'smoke',
    config,
    runDir,
    resume,
    log: (l) => logs.push(l),
    progress: (task, event) => events.push({ task, event }),
    event: (type) => structured.push(type),
  };
  const t0 = performance.now();
  const out: ExperimentOutput = await brainAge.run(ctx);
  return { out, events, logs, structured, seconds: (performance.now() - t0) / 1000 };
}

const methodsOf = (out: ExperimentOutput) => out.results.methods as MethodResult[];

describe.runIf(gpu)('brain-age smoke protocol', () => {
  const runDir = mkdtempSync(join(tmpdir(), 'fairgpu-brain-age-run-'));
  dirs.push(runDir);
  const config = brainAge.schema.parse(PROTOCOLS.smoke);
  let first: Awaited<ReturnType<typeof runOnce>>;

  it('trains, evaluates and reports every method within the smoke budget; L^exp hides the site better than L1', async () => {
    first = await runOnce(config, runDir, false);
    expect(first.seconds).toBeLessThan(60);
    const methods = methodsOf(first.out);
    expect(methods.map((m) => m.method)).toEqual(config.methods);
    for (const m of methods) {
      for (const k of ['internalMae', 'externalMae', 'siteBAcc', 'score', 'trainSeconds'] as const)
        expect(Number.isFinite(m[k]), `${m.method} ${k}`).toBe(true);
      expect(m.siteBAcc).toBeGreaterThanOrEqual(0);
      expect(m.siteBAcc).toBeLessThanOrEqual(1);
      close(m.score, m.siteBAcc ** 0.3 * m.externalMae, 1e-12, 1e-12, `${m.method} Lc`);
      close(m.siteChance, 1 / (config.data as { generator: { internalSites: number } }).generator.internalSites, 1e-12, 0, 'chance');
      // Ages span 6–86: a representation that learnt nothing gives MAE ≈ 17; these learnt age.
      expect(m.internalMae).toBeLessThan(10);
      expect(existsSync(join(runDir, m.checkpoint))).toBe(true);
      expect(m.stepsThisRun).toBeGreaterThan(0);
    }
    const l1 = methods.find((m) => m.loss === 'l1')!;
    const lexp = methods.find((m) => m.loss === 'l-exp')!;
    // The experiment's claim, on the smoke data: the site is much less decodable from L^exp.
    expect(lexp.siteBAcc).toBeLessThan(l1.siteBAcc - 0.15);
    expect(lexp.score).toBeLessThan(l1.score);
    // Results are plain JSON with unrounded numbers.
    const json = JSON.parse(JSON.stringify(first.out.results)) as typeof first.out.results;
    expect((json.methods as MethodResult[])[0].internalMae).toBe(methods[0].internalMae);
    // Progress: one epoch event per epoch per method, tasks named by method.
    for (const id of config.methods) expect(first.events.filter((e) => e.task === id && e.event.type === 'epoch')).toHaveLength(config.training.epochs);
    expect(first.structured.filter((t) => t === 'evaluation')).toHaveLength(config.methods.length);
    // Report: the table has one row per method next to the published numbers; figures exist as PNG.
    const blocks = first.out.sections.flatMap((s) => s.blocks);
    const tbl = blocks.find((b) => b.kind === 'table');
    expect(tbl && tbl.kind === 'table' && tbl.rows.length).toBe(config.methods.length);
    if (tbl?.kind === 'table') expect(tbl.rows[0].slice(5, 9)).toEqual(['2.67', '6.7', '4.18', '1.86']);
    const figs = blocks.filter((b) => b.kind === 'figure');
    expect(figs).toHaveLength(2);
    for (const f of figs) {
      if (f.kind !== 'figure') continue;
      expect(f.path).toMatch(/^figures\/.+\.png$/);
      const png = readFileSync(join(runDir, f.path));
      expect([...png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join('')).toBe('PNG');
    }
    expect(first.out.headline).toMatch(/Lc/);
  }, 120_000);

  it('resume: finished models train zero steps and score the same', async () => {
    const mtime = statSync(join(runDir, 'l1.ckpt.safetensors')).mtimeMs;
    const again = await runOnce(config, runDir, true);
    const a = methodsOf(first.out);
    const b = methodsOf(again.out);
    for (let i = 0; i < a.length; i++) {
      expect(b[i].stepsThisRun).toBe(0);
      for (const k of ['internalMae', 'externalMae', 'siteBAcc', 'score'] as const) close(b[i][k], a[i][k], 1e-4, 1e-4, `${a[i].method} ${k}`);
      close(b[i].trainSeconds, a[i].trainSeconds, 1e-9, 1e-9, 'train seconds carried over');
    }
    expect(again.events.filter((e) => e.event.type === 'epoch')).toHaveLength(0);
    expect(again.logs.some((l) => l.includes('l1.ckpt.safetensors at epoch ' + config.training.epochs))).toBe(true);
    expect(statSync(join(runDir, 'l1.ckpt.safetensors')).mtimeMs).toBe(mtime);
  }, 120_000);

  it('resume: a partial model continues to the end and matches an uninterrupted run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fairgpu-brain-age-partial-'));
    dirs.push(dir);
    const one: BrainAgeConfig = { ...config, methods: ['l1'], training: { ...config.training, epochs: 1 } };
    await runOnce(one, dir, false);
    const rest = await runOnce({ ...one, training: { ...one.training, epochs: config.training.epochs } }, dir, true);
    const m = methodsOf(rest.out)[0];
    const steps = rest.events.filter((e) => e.event.type === 'epoch');
    expect(steps).toHaveLength(config.training.epochs - 1);
    const full = methodsOf(first.out).find((r) => r.method === 'l1')!;
    expect(m.stepsThisRun * config.training.epochs).toBe(full.stepsThisRun * (config.training.epochs - 1));
    // Same batches, same initialisation, Adam state restored: the same model up to float32 reordering.
    for (const k of ['internalMae', 'externalMae'] as const) close(m[k], full[k], 1e-3, 1e-3, `resumed ${k}`);
  }, 120_000);
});

describe.runIf(gpu)('brain-age on OpenBHB-format files', () => {
  it('runs from a data directory of participants TSVs and ROI .npy files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fairgpu-brain-age-openbhb-'));
    dirs.push(dir);
    let seed = 1;
    const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const write = (split: string, n: number, sites: string[]) => {
      const ages = Array.from({ length: n }, () => 6 + 80 * rand());
      const site = Array.from({ length: n }, (_, i) => sites[i % sites.length]);
      writeFileSync(
        join(dir, `${split}.tsv`),
        ['participant_id\tage\tsite', ...ages.map((a, i) => `sub-${split}-${i}\t${a.toFixed(2)}\t${site[i]}`)].join('\n') + '\n',
      );
      // [n, 1, 7, 4] like desikan_roi's [n, 1, 7, 68]: features = a ramp of age + a site offset + noise.
      const x = new Float32Array(n * 28);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < 28; j++) x[i * 28 + j] = Math.tanh((ages[i] - 20 - 2 * j) / 25) + 0.3 * Number(site[i]) * ((j % 3) - 1) + 0.1 * (rand() - 0.5);
      writeFileSync(join(dir, `${split}_desikan_roi.npy`), encodeNpy(x, [n, 1, 7, 4]));
    };
    write('train', 120, ['1', '2', '3']);
    write('internal_val', 30, ['1', '2', '3']);
    write('external_val', 30, ['8']);
    const config = brainAge.schema.parse({
      ...PROTOCOLS.smoke,
      data: { source: 'openbhb', dir, modalities: ['desikan_roi'], splits: { train: 'train', internal: 'internal_val', external: 'external_val' } },
      methods: ['l1'],
      training: { ...PROTOCOLS.smoke.training, epochs: 2, batchSize: 32 },
    });
    const r = await runOnce(config, join(dir, 'run'), false);
    const m = methodsOf(r.out)[0];
    expect((r.out.results.data as { source: string; featureCount: number }).source).toBe('openbhb');
    expect((r.out.results.data as { featureCount: number }).featureCount).toBe(28);
    close(m.siteChance, 1 / 3, 1e-12, 0, 'three training sites');
    expect(m.siteTestCount).toBe(30);
    expect(Number.isFinite(m.externalMae)).toBe(true);
    expect(r.out.sections[0].blocks.some((b) => b.kind === 'paragraph' && /OpenBHB desikan_roi/.test(b.text))).toBe(true);
  }, 120_000);
});
