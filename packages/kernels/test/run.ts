import { Rng, scope, tensor, type Device, type Tensor } from '@fairgpu/tensor';
import { contrastiveRowStats, pairMoments, STATS_COLUMNS } from '../src/index.ts';
import { contrastiveRowStatsFused, pairMomentsFused, type Variant } from '../src/fused.ts';
import { resolvePairOptions } from '../src/pairs.ts';
import { resolveStatsOptions } from '../src/stats.ts';
import type { Case } from './problems.ts';
import { makeData, statsInputs } from './problems.ts';

export type Impl = 'composite' | 'fused' | Variant;

export interface RunResult {
  out: number[];
  dz: number[];
  dzr?: number[];
}

/** Statistics and gradients of sum(W ⊙ stats) for one case on one device and implementation. */
export async function runStats(c: Case, device: Device, impl: Impl, read: (t: Tensor) => Promise<number[]>): Promise<RunResult> {
  const data = makeData(c);
  const rng = new Rng(c.seed + 100);
  const w = Array.from({ length: c.m * STATS_COLUMNS }, () => rng.normal());
  return scope(async () => {
    const { opts, z, zr } = statsInputs(c, data, device);
    const out =
      impl === 'composite' || impl === 'fused' ? contrastiveRowStats(z, { ...opts, impl }) : contrastiveRowStatsFused(resolveStatsOptions(z, opts), impl);
    await out
      .mul(tensor(w, [c.m, STATS_COLUMNS], { device }))
      .sum()
      .backward();
    return { out: await read(out), dz: await read(z.grad!), dzr: zr ? await read(zr.grad!) : undefined };
  });
}

export interface PairCase {
  m: number;
  d: number;
  temperature: number;
  pairs: 'upper' | 'all';
  seed: number;
}

export async function runPairs(c: PairCase, device: Device, impl: Impl, read: (t: Tensor) => Promise<number[]>): Promise<RunResult> {
  const rng = new Rng(c.seed);
  const z = Array.from({ length: c.m * c.d }, () => Math.fround(rng.normal() / Math.sqrt(c.d)));
  const labels = Array.from({ length: c.m }, () => Math.floor(rng.uniform() * 2));
  const bias = Array.from({ length: c.m }, () => Math.floor(rng.uniform() * 2));
  const g = Array.from({ length: 12 }, () => rng.normal());
  return scope(async () => {
    const zt = tensor(z, [c.m, c.d], { device, requiresGrad: true });
    const opts = {
      temperature: c.temperature,
      labels: tensor(labels, [c.m], { device, dtype: 'i32' }),
      biasLabels: tensor(bias, [c.m], { device, dtype: 'i32' }),
      pairs: c.pairs,
    };
    const out = impl === 'composite' || impl === 'fused' ? pairMoments(zt, { ...opts, impl }) : pairMomentsFused(resolvePairOptions(zt, opts), impl);
    await out
      .mul(tensor(g, [4, 3], { device }))
      .sum()
      .backward();
    return { out: await read(out), dz: await read(zt.grad!) };
  });
}
