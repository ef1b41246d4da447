/**
 * `fairgpu run biased-mnist --protocol smoke` end to end through the bin (a child process, as a
 * user runs it): the run directory's files, JSON Lines events, resume without retraining, and the
 * checkpoint commands on the run's checkpoints.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fairgpu } from './bin.ts';

function events(stdout: string): { type: string; [k: string]: unknown }[] {
  return stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
}

/** Width and height from a PNG's IHDR, after checking the signature. */
function pngSize(path: string): { width: number; height: number } {
  const b = readFileSync(path);
  expect([...b.subarray(0, 8)]).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
  expect(b.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

describe('fairgpu doctor', () => {
  it('prints the adapter, its limits and passes the self-test', () => {
    const r = fairgpu('doctor');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^adapter: /m);
    expect(r.stdout).toMatch(/limits: maxStorageBufferBindingSize \d+/);
    expect(r.stdout).toMatch(/self-check: .* → ok/);
    expect(r.stdout).toContain('doctor: everything works');
  });
});

describe('fairgpu run biased-mnist --protocol smoke', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'fairgpu-run-')), 'run');

  it('writes results.json, report.html, report.md and valid PNG figures; --json is JSON Lines only', () => {
    const t0 = performance.now();
    const r = fairgpu('run', 'biased-mnist', '--protocol', 'smoke', '--out', dir, '--json');
    const seconds = (performance.now() - t0) / 1000;
    expect(r.code, r.stderr).toBe(0);
    expect(seconds).toBeLessThan(120); // the protocol's budget is 60 s on 2 idle cores; the suite may share them
    const ev = events(r.stdout);
    expect(ev[0].type).toBe('log');
    const types = new Set(ev.map((e) => e.type));
    for (const t of ['start', 'step', 'epoch', 'model', 'done']) expect(types, t).toContain(t);
    const done = ev.find((e) => e.type === 'done')!;
    expect(done.runDir).toBe(dir);

    const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    expect(results.experiment).toBe('biased-mnist');
    expect(results.protocol).toBe('smoke');
    const models = results.results.rhos[0].models;
    expect(models.map((m: { key: string }) => m.key)).toEqual(['ce', 'end', 'supinfonce', 'fairkl']);
    for (const m of models) {
      for (const k of ['unbiased', 'aligned', 'conflicting']) {
        expect(m[k]).toBeGreaterThanOrEqual(0);
        expect(m[k]).toBeLessThanOrEqual(1);
      }
    }
    expect(results.results.rhos[0].privacy.models).toHaveLength(4);
    expect(Object.keys(results.curves)).toHaveLength(4);

    const figures = [...results.results.rhos[0].figures, 'figures/training-curves.png'];
    expect(figures).toEqual(
      expect.arrayContaining([
        'figures/rho-0.997/grad-cam.png',
        'figures/rho-0.997/similarity.png',
        'figures/rho-0.997/group-accuracy.png',
        'rho-0.997/privacy/gaussian-leakage.png',
      ]),
    );
    for (const f of figures) {
      const { width, height } = pngSize(join(dir, f));
      expect(width, f).toBeGreaterThan(100);
      expect(height, f).toBeGreaterThan(100);
    }
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html.match(/<img src="data:image\/png;base64,/g)).toHaveLength(figures.length);
    expect(html).not.toContain('figure not found');
    expect(html).toContain('published unbiased');
    const md = readFileSync(join(dir, 'report.md'), 'utf8');
    expect(md).toContain('| Vanilla CE |');
    expect(md).toContain('How far from the published numbers');
  });

  it('--resume of a finished run trains nothing and reproduces the numbers', () => {
    const before = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    const r = fairgpu('run', 'biased-mnist', '--resume', dir, '--json');
    expect(r.code, r.stderr).toBe(0);
    const ev = events(r.stdout);
    expect(ev.filter((e) => e.type === 'step')).toHaveLength(0);
    const after = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    const acc = (x: typeof before) => x.results.rhos[0].models.map((m: { unbiased: number }) => m.unbiased);
    acc(after).forEach((v: number, i: number) => expect(v).toBeCloseTo(acc(before)[i], 6));
    expect(after.curves).toEqual(before.curves);
  });

  it('--resume refuses new overrides and another experiment; --out refuses an existing run', () => {
    expect(fairgpu('run', 'biased-mnist', '--resume', dir, '--set', 'epochs=2').code).toBe(2);
    const other = fairgpu('run', 'brain-age', '--resume', dir);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/is a run of 'biased-mnist', not 'brain-age'/);
    const again = fairgpu('run', 'biased-mnist', '--protocol', 'smoke', '--out', dir);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds a run/);
  });

  it("eval, gradcam and privacy work on the run's checkpoints; report re-renders", () => {
    const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    const fairkl = results.results.rhos[0].models.find((m: { key: string }) => m.key === 'fairkl');
    const ckpt = join(dir, 'rho-0.997', 'fairkl.ckpt.safetensors');
    const e = fairgpu('eval', ckpt, '--json');
    expect(e.code, e.stderr).toBe(0);
    const evalEvent = events(e.stdout).find((x) => x.type === 'eval')!;
    expect(evalEvent.accuracy as number).toBeCloseTo(fairkl.unbiased, 6);

    const out = join(dir, 'cam');
    const g = fairgpu('gradcam', ckpt, join(dir, 'rho-0.997', 'ce.ckpt.safetensors'), '--out', out);
    expect(g.code, g.stderr).toBe(0);
    pngSize(join(out, 'grad-cam.png'));

    const p = fairgpu('privacy', join(dir, 'rho-0.997', 'ce.ckpt.safetensors'), '--probe-train-size', '256', '--mlp-epochs', '0', '--out', join(dir, 'attack'));
    expect(p.code, p.stderr).toBe(0);
    expect(existsSync(join(dir, 'attack', 'leakage.json'))).toBe(true);
    expect(p.stdout).toMatch(/Vanilla CE/);

    const rep = fairgpu('report', dir);
    expect(rep.code, rep.stderr).toBe(0);
    expect(rep.stdout).toContain('Test accuracy (%)');
  });
});
