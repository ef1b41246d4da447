import { kernelWeight, type KernelType } from './options.ts';
import { EMPTY_LSE, FUSED_COLUMNS, HIDDEN } from './stats.ts';

/**
 * Float64 loops over (i, j) — the CPU side of the fused custom ops, and an independent check of
 * the composite path in tests. They follow the formulas of docs/contrastive-stats.md literally,
 * one anchor row at a time, so nothing M×N is stored here either.
 */

// The fused layout (the public ten, then hidden columns) lives with STAT in stats.ts.
export { FUSED_COLUMNS, HIDDEN };

export interface StatsProblem {
  m: number;
  n: number;
  d: number;
  z: ArrayLike<number>;
  zr: ArrayLike<number>;
  /** zr is z: exclude j = i. */
  self: boolean;
  temperature: number;
  labels?: ArrayLike<number>;
  refLabels?: ArrayLike<number>;
  targets?: ArrayLike<number>;
  refTargets?: ArrayLike<number>;
  kernel?: { type: KernelType; sigma: number };
  epsilon: number;
  logEps: number;
  expVariant: 'paper' | 'released';
}

function lseOf(values: number[]): number {
  if (values.length === 0) return EMPTY_LSE;
  let mx = -Infinity;
  for (const v of values) mx = Math.max(mx, v);
  let s = 0;
  for (const v of values) s += Math.exp(v - mx);
  return mx + Math.log(s);
}

/** log(e^a + e^b + c) without overflow or log 0 (b may be the EMPTY_LSE sentinel). */
export function logDenominator(a: number, b: number, c: number): number {
  const shift = Math.max(a, b, c > 0 ? Math.log(c) : -Infinity);
  return shift + Math.log(Math.exp(a - shift) + Math.exp(b - shift) + (c > 0 ? c * Math.exp(-shift) : 0));
}

function dot(x: ArrayLike<number>, i: number, y: ArrayLike<number>, j: number, d: number): number {
  let s = 0;
  for (let k = 0; k < d; k++) s += x[i * d + k] * y[j * d + k];
  return s;
}

/** Row i's logits S_ij/τ (all j) and per-j classification. */
function rowData(p: StatsProblem, i: number) {
  const logits = new Float64Array(p.n);
  let m = -Infinity;
  for (let j = 0; j < p.n; j++) {
    logits[j] = dot(p.z, i, p.zr, j, p.d) / p.temperature;
    m = Math.max(m, logits[j]);
  }
  return { logits, m };
}

function weight(p: StatsProblem, i: number, j: number): number {
  return kernelWeight(p.kernel!.type, p.kernel!.sigma, p.targets![i] - p.refTargets![j]);
}

/** [M, FUSED_COLUMNS] row-major. */
export function statsForward(p: StatsProblem): Float64Array {
  const out = new Float64Array(p.m * FUSED_COLUMNS);
  const hasLabels = p.labels !== undefined && p.refLabels !== undefined;
  const hasKernel = p.kernel !== undefined && p.targets !== undefined && p.refTargets !== undefined;
  for (let i = 0; i < p.m; i++) {
    const { logits, m } = rowData(p, i);
    const all: number[] = [];
    const pos: number[] = [];
    const neg: number[] = [];
    const expW: number[] = [];
    let sumW = 0;
    let sumWLogit = 0;
    for (let j = 0; j < p.n; j++) {
      if (p.self && j === i) continue;
      const l = logits[j] - m;
      all.push(l);
      if (hasLabels) (p.labels![i] === p.refLabels![j] ? pos : neg).push(l);
      if (hasKernel) {
        const w = weight(p, i, j);
        sumW += w;
        sumWLogit += w * l;
        expW.push(p.expVariant === 'paper' ? logits[j] * (1 - w) : l * (1 - w));
      }
    }
    const row = out.subarray(i * FUSED_COLUMNS, (i + 1) * FUSED_COLUMNS);
    row[0] = m;
    row[1] = lseOf(all);
    if (hasLabels) {
      row[2] = lseOf(pos);
      row[3] = lseOf(neg);
      row[4] = pos.reduce((a, b) => a + b, 0);
      row[5] = pos.length;
      const logD = pos.map((l) => logDenominator(l - p.epsilon, row[3], p.logEps));
      row[6] = logD.reduce((a, b) => a + b, 0);
      row[HIDDEN.logR] = lseOf(logD.map((v) => -v));
    } else {
      row[HIDDEN.logR] = EMPTY_LSE;
    }
    if (hasKernel) {
      row[7] = sumW;
      row[8] = sumWLogit;
      row[9] = p.expVariant === 'paper' ? lseOf(expW) - m : lseOf(expW);
    }
  }
  return out;
}

/**
 * dL/dS_ij for one row given the upstream gradient g (row i of [M, ≥10]) and the forward
 * statistics (row i of [M, FUSED_COLUMNS]). Returns the N values.
 */
function rowGradS(p: StatsProblem, i: number, g: ArrayLike<number>, st: ArrayLike<number>, gOff: number, stOff: number): Float64Array {
  const gs = new Float64Array(p.n);
  const { logits } = rowData(p, i);
  const m = st[stOff];
  const hasLabels = p.labels !== undefined && p.refLabels !== undefined;
  const hasKernel = p.kernel !== undefined && p.targets !== undefined && p.refTargets !== undefined;
  const t = p.temperature;
  for (let j = 0; j < p.n; j++) {
    if (p.self && j === i) continue;
    const l = logits[j] - m;
    let v = g[gOff + 1] * Math.exp(l - st[stOff + 1]);
    if (hasLabels) {
      if (p.labels![i] === p.refLabels![j]) {
        v += g[gOff + 2] * Math.exp(l - st[stOff + 2]) + g[gOff + 4];
        v += g[gOff + 6] * Math.exp(l - p.epsilon - logDenominator(l - p.epsilon, st[stOff + 3], p.logEps));
      } else {
        v += g[gOff + 3] * Math.exp(l - st[stOff + 3]);
        v += g[gOff + 6] * Math.exp(l + st[stOff + HIDDEN.logR]);
      }
    }
    if (hasKernel) {
      const w = weight(p, i, j);
      v += g[gOff + 8] * w;
      const e = p.expVariant === 'paper' ? logits[j] * (1 - w) - (st[stOff + 9] + m) : l * (1 - w) - st[stOff + 9];
      v += g[gOff + 9] * (1 - w) * Math.exp(e);
    }
    gs[j] = v / t;
  }
  return gs;
}

/**
 * The backward: dL/dz [M, d] and dL/dzr [N, d] from g [M, gCols] and the forward statistics.
 * With `self`, callers add the two (zr is z).
 */
export function statsBackward(p: StatsProblem, g: ArrayLike<number>, gCols: number, st: ArrayLike<number>): { dz: Float64Array; dzr: Float64Array } {
  const dz = new Float64Array(p.m * p.d);
  const dzr = new Float64Array(p.n * p.d);
  for (let i = 0; i < p.m; i++) {
    const gs = rowGradS(p, i, g, st, i * gCols, i * FUSED_COLUMNS);
    for (let j = 0; j < p.n; j++) {
      const c = gs[j];
      if (c === 0) continue;
      for (let k = 0; k < p.d; k++) {
        dz[i * p.d + k] += c * p.zr[j * p.d + k];
        dzr[j * p.d + k] += c * p.z[i * p.d + k];
      }
    }
  }
  return { dz, dzr };
}

export interface PairProblem {
  m: number;
  d: number;
  z: ArrayLike<number>;
  temperature: number;
  labels: ArrayLike<number>;
  biasLabels: ArrayLike<number>;
  pairs: 'upper' | 'all';
}

/** Group of pair (i, j): 0 PA, 1 PC, 2 NA, 3 NC. */
export function pairGroup(p: PairProblem, i: number, j: number): number {
  return (p.labels[i] === p.labels[j] ? 0 : 2) + (p.biasLabels[i] === p.biasLabels[j] ? 0 : 1);
}

/** [4, 3]: count, Σ s, Σ s² per group. */
export function pairForward(p: PairProblem): Float64Array {
  const out = new Float64Array(12);
  for (let i = 0; i < p.m; i++) {
    for (let j = p.pairs === 'upper' ? i + 1 : 0; j < p.m; j++) {
      const s = dot(p.z, i, p.z, j, p.d) / p.temperature;
      const k = pairGroup(p, i, j) * 3;
      out[k] += 1;
      out[k + 1] += s;
      out[k + 2] += s * s;
    }
  }
  return out;
}

/** dL/dz [M, d] from g [4, 3]. */
export function pairBackward(p: PairProblem, g: ArrayLike<number>): Float64Array {
  const dz = new Float64Array(p.m * p.d);
  // Each unordered pair appears once ('upper') or twice, (i, j) and (j, i) ('all'); both orders
  // give z_i the same coefficient, and the diagonal's d⟨z_i, z_i⟩/dz_i = 2 z_i matches the 2.
  const factor = p.pairs === 'upper' ? 1 : 2;
  for (let i = 0; i < p.m; i++) {
    for (let j = 0; j < p.m; j++) {
      if (p.pairs === 'upper' && j === i) continue;
      const s = dot(p.z, i, p.z, j, p.d) / p.temperature;
      const k = pairGroup(p, i, j) * 3;
      const c = (factor * (g[k + 1] + 2 * g[k + 2] * s)) / p.temperature;
      for (let q = 0; q < p.d; q++) dz[i * p.d + q] += c * p.z[j * p.d + q];
    }
  }
  return dz;
}
