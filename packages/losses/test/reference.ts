/**
 * Float64 CPU references of every `paper` variant, written straight from the formulas of
 * spec/losses.md with plain loops (no tensors, no shared code with src/): the independent check
 * of the paper variants (the public vectors cover mostly `released`).
 */
export interface RefBatch {
  x: number[][];
  labels?: number[];
  bias?: number[];
  targets?: number[];
  nViews?: number;
}

const tile = (a: number[] | undefined, v: number) => (a ? Array.from({ length: v }, () => a).flat() : undefined);

function normalized(x: number[][]): number[][] {
  return x.map((r) => {
    const n = Math.max(Math.sqrt(r.reduce((s, v) => s + v * v, 0)), 1e-12);
    return r.map((v) => v / n);
  });
}

function sims(x: number[][]): number[][] {
  const z = normalized(x);
  return z.map((a) => z.map((b) => a.reduce((s, v, k) => s + v * b[k], 0)));
}

function prepare(b: RefBatch, tau: number) {
  const V = b.nViews ?? 1;
  const S = sims(b.x);
  const M = S.length;
  const y = tile(b.labels, V);
  const l = S.map((row) => {
    const m = Math.max(...row.map((s) => s / tau));
    return row.map((s) => s / tau - m);
  });
  return { M, S, l, y, bias: tile(b.bias, V), t: tile(b.targets, V) };
}

const lse = (xs: number[]) => {
  if (xs.length === 0) return -Infinity;
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((s, v) => s + Math.exp(v - m), 0));
};
const meanValid = (terms: (number | null)[]) => {
  const kept = terms.filter((t): t is number => t !== null);
  return kept.length ? kept.reduce((a, b) => a + b, 0) / kept.length : 0;
};

export interface ContrastiveRefOptions {
  temperature: number;
  baseTemperature?: number;
  epsilon?: number;
  logEps?: number;
}

type Kind = 'supcon' | 'eps-out' | 'eps-in' | 'eps-supcon';

/** The label-supervised losses, `paper`: anchors without positives left out of the mean. */
export function refContrastive(kind: Kind, b: RefBatch, o: ContrastiveRefOptions): number {
  const tau = o.temperature;
  const scale = tau / (o.baseTemperature ?? tau);
  const eps = o.epsilon ?? 0;
  const logEps = o.logEps ?? 0;
  const { M, l, y } = prepare(b, tau);
  const terms: (number | null)[] = [];
  for (let i = 0; i < M; i++) {
    const P: number[] = [];
    const N: number[] = [];
    for (let j = 0; j < M; j++) if (j !== i) (y![j] === y![i] ? P : N).push(j);
    if (P.length === 0) {
      terms.push(null);
      continue;
    }
    const negSum = N.reduce((s, n) => s + Math.exp(l[i][n]), 0);
    const posSum = P.reduce((s, p) => s + Math.exp(l[i][p]), 0);
    let t = 0;
    if (kind === 'supcon') {
      const all = lse([...P, ...N].map((a) => l[i][a]));
      for (const p of P) t += l[i][p] - all;
      t /= P.length;
    } else if (kind === 'eps-out') {
      for (const p of P) t += l[i][p] - Math.log(Math.exp(-eps) * Math.exp(l[i][p]) + negSum + logEps);
      t /= P.length;
    } else if (kind === 'eps-supcon') {
      for (const p of P) t += l[i][p] - Math.log(Math.exp(-eps) * posSum + negSum + logEps);
      t /= P.length;
    } else {
      t = Math.log(posSum) - Math.log((Math.exp(-eps) / P.length) * posSum + negSum);
    }
    terms.push(-scale * t);
  }
  return meanValid(terms);
}

export type KernelName = 'gaussian' | 'rbf' | 'cauchy';
export function weight(kernel: KernelName, sigma: number, delta: number): number {
  if (kernel === 'gaussian') return Math.exp(-(delta * delta) / (2 * sigma * sigma)) / (Math.sqrt(2 * Math.PI) * sigma);
  if (kernel === 'rbf') return Math.exp(-(delta * delta) / (2 * sigma * sigma));
  return 1 / (sigma * delta * delta + 1);
}

export interface KernelRefOptions {
  temperature: number;
  baseTemperature?: number;
  kernel: KernelName;
  sigma: number;
}

/** y-aware, L^exp (paper) and L^thr (paper, a naive O(M³) loop) — mean over anchors. */
export function refKernel(method: 'y-aware' | 'exp' | 'thr', b: RefBatch, o: KernelRefOptions): number {
  const tau = o.temperature;
  const scale = tau / (o.baseTemperature ?? tau);
  const { M, S, l, t } = prepare(b, tau);
  const w = t!.map((ti) => t!.map((tj) => weight(o.kernel, o.sigma, ti - tj)));
  let total = 0;
  for (let i = 0; i < M; i++) {
    const others = Array.from({ length: M }, (_, j) => j).filter((j) => j !== i);
    const sumW = others.reduce((s, k) => s + w[i][k], 0);
    let acc = 0;
    if (method === 'thr') {
      for (const k of others) {
        const below = others.filter((j) => w[i][j] < w[i][k]).map((j) => l[i][j]);
        acc += w[i][k] * (l[i][k] - lse([l[i][k], ...below]));
      }
    } else {
      const m = Math.max(...S[i].map((s) => s / tau));
      const U = method === 'y-aware' ? lse(others.map((j) => l[i][j])) : lse(others.map((j) => (S[i][j] * (1 - w[i][j])) / tau)) - m;
      for (const k of others) acc += w[i][k] * (l[i][k] - U);
    }
    total += sumW > 0 ? (-scale * acc) / sumW : 0;
  }
  return total / M;
}

/** FairKL `paper`: unordered pairs i < j, KL(PA‖PC) + KL(NA‖NC) of Gaussian fits. */
export function refFairKL(b: RefBatch, o: { temperature: number; symmetric?: boolean; varianceEps?: number }): number {
  const { M, S, y, bias } = prepare(b, 1);
  const sets: Record<'PA' | 'PC' | 'NA' | 'NC', number[]> = { PA: [], PC: [], NA: [], NC: [] };
  for (let i = 0; i < M; i++) {
    for (let j = i + 1; j < M; j++) {
      const key = `${y![i] === y![j] ? 'P' : 'N'}${bias![i] === bias![j] ? 'A' : 'C'}` as keyof typeof sets;
      sets[key].push(S[i][j] / o.temperature);
    }
  }
  const fit = (s: number[]) => {
    const mu = s.reduce((a, v) => a + v, 0) / s.length;
    const v = s.reduce((a, x) => a + (x - mu) ** 2, 0) / (s.length - 1) + (o.varianceEps ?? 1e-6);
    return { mu, v };
  };
  const kl = (p: { mu: number; v: number }, q: { mu: number; v: number }) => 0.5 * ((p.v + (p.mu - q.mu) ** 2) / q.v - Math.log(p.v / q.v) - 1);
  const term = (a: number[], c: number[]) => {
    if (a.length < 2 || c.length < 2) return 0;
    const p = fit(a);
    const q = fit(c);
    return o.symmetric ? kl(p, q) + kl(q, p) : kl(p, q);
  };
  return term(sets.PA, sets.PC) + term(sets.NA, sets.NC);
}

/** EnD `paper`: α·R⊥ + β·R∥ with Q every same-class different-bias pair. */
export function refEnd(b: RefBatch, o: { alpha: number; beta: number }): number {
  const { M, S, y, bias } = prepare(b, 1);
  const groups = new Map<number, number>();
  let nPerp = 0;
  let qSum = 0;
  let nQ = 0;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < i; j++) {
      const g = Math.min(1, Math.max(-1, S[i][j]));
      if (bias![i] === bias![j]) {
        groups.set(bias![i], (groups.get(bias![i]) ?? 0) + g);
        nPerp++;
      } else if (y![i] === y![j]) {
        qSum += (1 + g) / 2;
        nQ++;
      }
    }
  }
  const perp = nPerp ? [...groups.values()].reduce((a, v) => a + Math.abs(v), 0) / nPerp : 0;
  const par = nQ ? 1 - qSum / nQ : 0;
  return o.alpha * perp + o.beta * par;
}

/** Central finite differences of a float64 reference with respect to every feature. */
export function numericGrad(f: (x: number[][]) => number, x: number[][], h = 1e-6): number[] {
  const out: number[] = [];
  for (let i = 0; i < x.length; i++) {
    for (let k = 0; k < x[i].length; k++) {
      const plus = x.map((r) => [...r]);
      const minus = x.map((r) => [...r]);
      plus[i][k] += h;
      minus[i][k] -= h;
      out.push((f(plus) - f(minus)) / (2 * h));
    }
  }
  return out;
}
