/**
 * `fairgpu run generic-vision --protocol smoke --dataset cifar10` end to end through the bin: the
 * generated CIFAR files, every method trained and evaluated, the report table next to the published
 * numbers, and `--resume` of the finished run (zero training steps, the same top-1).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fairgpu } from './bin.ts';
import { afterAll, describe, expect, it } from 'vitest';
import type { MethodOutcome } from '../src/experiments/generic-vision/index.ts';

const root = mkdtempSync(join(tmpdir(), 'fairgpu-gv-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('fairgpu run generic-vision --protocol smoke', () => {
  const dir = join(root, 'run');
  let first: MethodOutcome[];

  it('trains the four methods on generated CIFAR-10 files and reports them next to the paper', () => {
    const t0 = performance.now();
    const r = fairgpu('run', 'generic-vision', '--protocol', 'smoke', '--dataset', 'cifar10', '--out', dir, '--json');
    const seconds = (performance.now() - t0) / 1000;
    expect(r.code, r.stderr).toBe(0);
    expect(seconds).toBeLessThan(150); // ≤ 60 s on 2 idle cores; the suite may share them
    const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    expect(results.experiment).toBe('generic-vision');
    expect(results.results.data).toMatchObject({ dataset: 'cifar10', source: 'generated', train: 100, test: 50, classes: 10 });
    for (const f of ['data_batch_1.bin', 'data_batch_5.bin', 'test_batch.bin']) expect(existsSync(join(dir, 'generated-cifar10', f))).toBe(true);
    first = results.results.methods;
    expect(first.map((m) => m.method)).toEqual(['ce', 'simclr', 'supcon', 'eps-supinfonce']);
    for (const m of first) {
      // Accuracies are k/50 on the test split and k/100 on the training images.
      expect(Number.isInteger(Math.round(m.top1 * 50)) && Math.abs(m.top1 * 50 - Math.round(m.top1 * 50)) < 1e-9).toBe(true);
      expect(m.top1).toBeGreaterThanOrEqual(0);
      expect(m.top1).toBeLessThanOrEqual(1);
      expect(m.testCount).toBe(50);
      expect(Number.isFinite(m.representation.finalEpochLoss)).toBe(true);
      expect(m.representation.stepsThisRun).toBe(m.method === 'ce' ? 4 : 2);
      expect(existsSync(join(dir, m.representation.checkpoint))).toBe(true);
      if (m.method === 'ce') expect(m.linear).toBeNull();
      else expect(m.linear!.stepsThisRun).toBe(40);
    }
    const report = readFileSync(join(dir, 'report.md'), 'utf8');
    expect(report).toMatch(/\| ε-SupInfoNCE \| \d+\.\d \| \d+\.\d \| 96\.14 \|/);
    expect(report).toMatch(/\| Cross-entropy \| \d+\.\d \| \d+\.\d \| 94\.73 \|/);
    expect(report).toContain('the paper\u2019s numbers'.replace('\u2019', "'"));
    expect(report).toContain('Max-Margin 92.40 %');
    const types = new Set(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).type),
    );
    for (const t of ['start', 'epoch', 'evaluation', 'done']) expect(types, t).toContain(t);
  }, 240_000);

  it('--resume: finished stages train zero steps and score the same', () => {
    const r = fairgpu('run', 'generic-vision', '--resume', dir, '--json');
    expect(r.code, r.stderr).toBe(0);
    const again: MethodOutcome[] = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')).results.methods;
    for (let i = 0; i < again.length; i++) {
      expect(again[i].representation.stepsThisRun).toBe(0);
      expect(again[i].linear?.stepsThisRun ?? 0).toBe(0);
      expect(Math.abs(again[i].top1 - first[i].top1)).toBeLessThanOrEqual(1 / 50 + 1e-9);
      expect(again[i].representation.trainSeconds).toBeCloseTo(first[i].representation.trainSeconds, 6);
    }
  }, 240_000);
});
