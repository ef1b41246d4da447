import { Rng, tensor, type Device } from '@fairgpu/tensor';
import { lossRegistry, type Impl, type LossBatch, type LossName } from '../src/index.ts';

/**
 * The documented edge cases (docs/losses/README.md, "Edge cases"): every loss must give a finite
 * value and gradient on each, in both variants (released batches the authors' code turns into
 * NaN are rejected with a typed error instead, tested in validation.test.ts).
 */
export interface EdgeCase {
  name: string;
  x: number[][];
  batch: LossBatch;
  temperature?: number;
}

function rows(seed: number, M: number, d: number): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: M }, () => Array.from({ length: d }, () => rng.normal()));
}

function withZeroRows(x: number[][], which: number[] | 'all'): number[][] {
  return x.map((r, i) => (which === 'all' || which.includes(i) ? r.map(() => 0) : r));
}

export function edgeCases(): EdgeCase[] {
  const B = 8;
  const base = { biasLabels: [0, 1, 0, 1, 0, 1, 0, 1], targets: [20, 21, 21, 35, 50, 50, 64, 70] };
  const dup = rows(3, 2 * B, 6);
  dup[1] = [...dup[0]];
  dup[2] = dup[0].map((v) => 2 * v);
  dup[B + 1] = [...dup[1]];
  return [
    { name: 'anchors without positives', x: rows(1, 2 * B, 6), batch: { ...base, labels: [0, 0, 1, 1, 2, 3, 4, 5], nViews: 2 } },
    { name: 'a single class', x: rows(2, 2 * B, 6), batch: { ...base, labels: Array(B).fill(7), nViews: 2 } },
    { name: 'one bias group', x: rows(4, 2 * B, 6), batch: { ...base, labels: [0, 1, 0, 1, 2, 2, 0, 1], biasLabels: Array(B).fill(3), nViews: 2 } },
    { name: 'duplicate rows', x: dup, batch: { ...base, labels: [0, 0, 0, 1, 1, 2, 2, 1], nViews: 2 } },
    { name: 'temperature 0.01', x: rows(5, 2 * B, 6), batch: { ...base, labels: [0, 1, 0, 1, 2, 2, 0, 1], nViews: 2 }, temperature: 0.01 },
    // Dead-ReLU features: ‖x‖ = 0 rows (l2Normalize divides by max(‖x‖, 1e-12): gradient g / 1e-12, finite).
    { name: 'a zero row', x: withZeroRows(rows(6, 2 * B, 6), [3]), batch: { ...base, labels: [0, 1, 0, 1, 2, 2, 0, 1], nViews: 2 } },
    { name: 'every row zero', x: withZeroRows(rows(7, 2 * B, 6), 'all'), batch: { ...base, labels: [0, 1, 0, 1, 2, 2, 3, 3], nViews: 2 } },
  ];
}

/** Options for each loss on an edge case (paper-vs-released; cross-entropy reads the 6 columns as logits). */
export function edgeOptions(name: LossName, variant: 'paper' | 'released', impl: Impl, temperature: number | undefined): Record<string, unknown> {
  const t = temperature === undefined ? {} : name === 'fairkl' ? { temperature } : name === 'end' || name === 'cross-entropy' ? {} : { temperature };
  return { variant, impl, ...t, ...(name === 'y-aware' || name === 'l-exp' || name === 'l-thr' ? { kernel: 'rbf', sigma: 5 } : {}) };
}

/** Which (loss, variant) pairs run on an edge case (released supcon / eps-in reject lonely anchors). */
export function edgeRuns(c: EdgeCase): { name: LossName; variant: 'paper' | 'released'; options?: Record<string, unknown> }[] {
  const out: { name: LossName; variant: 'paper' | 'released'; options?: Record<string, unknown> }[] = [];
  const lonely = c.name === 'anchors without positives';
  for (const name of Object.keys(lossRegistry) as LossName[]) {
    for (const variant of ['paper', 'released'] as const) {
      if (name === 'supcon' && variant === 'released' && lonely) continue;
      out.push({ name, variant });
      if (name === 'eps-supinfonce' && !(variant === 'released' && lonely)) out.push({ name, variant, options: { form: 'in', epsilon: 0.5 } });
    }
  }
  return out;
}

export function edgeInput(c: EdgeCase, name: LossName, device: Device) {
  const M = c.x.length;
  const d = c.x[0].length;
  if (name === 'cross-entropy') {
    // Logits [M, 6] against class ids tiled to M rows (cross-entropy has no views).
    const labels = Array.from({ length: M }, (_, i) => (c.batch.labels as number[])[i % (M / (c.batch.nViews ?? 1))] % d);
    return {
      x: tensor(
        c.x.flat().map((v) => v / (c.temperature ?? 1)),
        [M, d],
        { device, requiresGrad: true },
      ),
      batch: { labels },
    };
  }
  return { x: tensor(c.x.flat(), [M, d], { device, requiresGrad: true }), batch: c.batch };
}
