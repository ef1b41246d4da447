import { Rng, tensor, type Device, type Tensor } from '@fairgpu/tensor';
import type { ContrastiveStatsOptions, StatName } from '../src/index.ts';
import type { KernelType } from '../src/options.ts';

/** Random contrastive problems shared by the CPU and GPU suites. */
export interface Case {
  name: string;
  m: number;
  n?: number;
  d: number;
  temperature: number;
  /** Multiply the unit rows by this (logits up to scale²/τ). */
  scale?: number;
  classes?: number;
  kernel?: { type: KernelType; sigma: number };
  epsilon?: number;
  logEps?: number;
  expVariant?: 'paper' | 'released';
  reference?: boolean;
  /** Copy row 0 into these rows (ties in the max). */
  duplicates?: number[];
  /** Give row 0 a label nobody else has (an anchor without positives). */
  lonely?: boolean;
  /** The `columns` option (default: all whose inputs are given). */
  columns?: StatName[];
  seed: number;
}

export interface Data {
  z: number[];
  zr?: number[];
  labels?: number[];
  refLabels?: number[];
  targets?: number[];
  refTargets?: number[];
}

function unitRows(rows: number, d: number, rng: Rng, scale: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < rows; i++) {
    const v = Array.from({ length: d }, () => rng.normal());
    const norm = Math.hypot(...v) || 1;
    for (const x of v) out.push(Math.fround((scale * x) / norm));
  }
  return out;
}

export function makeData(c: Case): Data {
  const rng = new Rng(c.seed);
  const n = c.n ?? c.m;
  const scale = c.scale ?? 1;
  const z = unitRows(c.m, c.d, rng, scale);
  for (const r of c.duplicates ?? []) for (let k = 0; k < c.d; k++) z[r * c.d + k] = z[k];
  const data: Data = { z };
  const label = () => Math.floor(rng.uniform() * (c.classes ?? 3));
  if (c.classes !== undefined) {
    data.labels = Array.from({ length: c.m }, label);
    if (c.lonely) data.labels[0] = 1000;
  }
  if (c.kernel) data.targets = Array.from({ length: c.m }, () => Math.fround(20 + 40 * rng.uniform()));
  if (c.reference) {
    data.zr = unitRows(n, c.d, rng, scale);
    if (c.classes !== undefined) data.refLabels = Array.from({ length: n }, label);
    if (c.kernel) data.refTargets = Array.from({ length: n }, () => Math.fround(20 + 40 * rng.uniform()));
  }
  return data;
}

export const CASES: Case[] = [
  { name: 'self, labels, τ=0.1', m: 13, d: 5, temperature: 0.1, classes: 3, seed: 1 },
  { name: 'self, labels, ε and logEps', m: 11, d: 4, temperature: 0.5, classes: 2, epsilon: 0.3, logEps: 1e-6, seed: 2 },
  { name: 'reference, labels', m: 7, n: 10, d: 6, temperature: 0.2, classes: 3, reference: true, seed: 3 },
  { name: 'self, gaussian kernel, paper', m: 9, d: 3, temperature: 0.1, kernel: { type: 'gaussian', sigma: 5 }, seed: 4 },
  { name: 'self, rbf kernel, released', m: 9, d: 3, temperature: 0.1, kernel: { type: 'rbf', sigma: 4 }, expVariant: 'released', seed: 5 },
  {
    name: 'reference, cauchy kernel + labels',
    m: 6,
    n: 8,
    d: 4,
    temperature: 0.3,
    classes: 2,
    kernel: { type: 'cauchy', sigma: 0.5 },
    reference: true,
    seed: 6,
  },
  { name: 'no labels (nt-xent style)', m: 8, d: 2, temperature: 0.07, seed: 7 },
  { name: 'τ=0.01, duplicate rows, lonely anchor', m: 10, d: 8, temperature: 0.01, classes: 3, duplicates: [3, 7], lonely: true, epsilon: 0.1, seed: 8 },
  { name: 'logits up to 1e3 (|z|²/τ = 1000)', m: 9, d: 4, temperature: 0.1, scale: 10, classes: 2, kernel: { type: 'rbf', sigma: 10 }, seed: 9 },
  { name: 'two rows: single unmasked entry', m: 2, d: 3, temperature: 0.2, classes: 2, seed: 10 },
  // Requested columns only (the losses' sets): the fused forward skips pass 2 unless epsOut or
  // the released lseExpW is asked for; the others are 0 without gradient in both implementations.
  { name: 'columns: supcon (one pass)', m: 12, d: 8, temperature: 0.1, classes: 3, columns: ['lseAll', 'sumPosLogit', 'countPos'], seed: 11 },
  {
    name: 'columns: eps-supinfonce out',
    m: 11,
    d: 4,
    temperature: 0.3,
    classes: 2,
    epsilon: 0.2,
    logEps: 1e-6,
    columns: ['sumPosLogit', 'countPos', 'epsOut'],
    seed: 12,
  },
  {
    name: 'columns: eps-supinfonce in, reference',
    m: 6,
    n: 9,
    d: 4,
    temperature: 0.2,
    classes: 3,
    reference: true,
    columns: ['lsePos', 'lseNeg', 'countPos'],
    seed: 13,
  },
  {
    name: 'columns: l-exp released',
    m: 9,
    d: 4,
    temperature: 0.1,
    kernel: { type: 'rbf', sigma: 4 },
    expVariant: 'released',
    columns: ['sumW', 'sumWLogit', 'lseExpW'],
    seed: 14,
  },
  { name: 'columns: y-aware', m: 9, d: 3, temperature: 0.1, kernel: { type: 'gaussian', sigma: 5 }, columns: ['sumW', 'sumWLogit', 'lseAll'], seed: 15 },
];

/** The case's tensors on `device` and the contrastiveRowStats options that read them. */
export function statsInputs(c: Case, data: Data, device: Device): { opts: ContrastiveStatsOptions; z: Tensor; zr?: Tensor } {
  const z = tensor(data.z, [c.m, c.d], { device, requiresGrad: true });
  const zr = data.zr ? tensor(data.zr, [c.n!, c.d], { device, requiresGrad: true }) : undefined;
  const opts: ContrastiveStatsOptions = {
    temperature: c.temperature,
    reference: zr,
    labels: data.labels ? tensor(data.labels, [c.m], { device, dtype: 'i32' }) : undefined,
    refLabels: data.refLabels ? tensor(data.refLabels, [c.n!], { device, dtype: 'i32' }) : undefined,
    targets: data.targets ? tensor(data.targets, [c.m], { device }) : undefined,
    refTargets: data.refTargets ? tensor(data.refTargets, [c.n!], { device }) : undefined,
    kernel: c.kernel,
    epsilon: c.epsilon,
    logEps: c.logEps,
    expVariant: c.expVariant,
    columns: c.columns,
  };
  return { opts, z, zr };
}
