/**
 * L-BFGS on the host in float64 for a smooth convex objective whose value and gradient come from
 * the device (`evaluate` reads them back). Two-loop recursion (Nocedal & Wright, Alg. 7.4),
 * backtracking Armijo line search; a pair with sᵀy ≤ 0 (rounding near the optimum) is skipped.
 */

export interface LbfgsOptions {
  /** Stop when max |gradient| ≤ gtol (default 1e-5). */
  gtol: number;
  /** Stop when |f_k − f_{k+1}| ≤ ftol · max(|f_k|, |f_{k+1}|, 1) (default 1e-10). */
  ftol: number;
  maxIterations: number;
  /** Stored correction pairs (default 10, as scipy's L-BFGS-B). */
  memory: number;
}

export type LbfgsStop = 'gradient' | 'loss-change' | 'line-search' | 'max-iterations';

export interface LbfgsResult {
  x: Float64Array;
  f: number;
  gradMax: number;
  iterations: number;
  evaluations: number;
  stop: LbfgsStop;
}

export async function lbfgs(
  evaluate: (x: Float64Array) => Promise<{ f: number; g: Float64Array }>,
  x0: Float64Array,
  options: LbfgsOptions,
): Promise<LbfgsResult> {
  const n = x0.length;
  let x: Float64Array = Float64Array.from(x0);
  let { f, g }: { f: number; g: Float64Array } = await evaluate(x);
  let evaluations = 1;
  const ss: Float64Array[] = [];
  const ys: Float64Array[] = [];
  const rhos: number[] = [];
  const maxAbs = (v: Float64Array) => v.reduce((m, t) => Math.max(m, Math.abs(t)), 0);
  const dot = (a: Float64Array, b: Float64Array) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += a[i] * b[i];
    return s;
  };
  let stop: LbfgsStop = 'max-iterations';
  let iterations = 0;
  for (; iterations < options.maxIterations; iterations++) {
    if (maxAbs(g) <= options.gtol) {
      stop = 'gradient';
      break;
    }
    // d = −H·g by the two-loop recursion.
    const q = Float64Array.from(g);
    const alphas = new Float64Array(ss.length);
    for (let i = ss.length - 1; i >= 0; i--) {
      alphas[i] = rhos[i] * dot(ss[i], q);
      for (let t = 0; t < n; t++) q[t] -= alphas[i] * ys[i][t];
    }
    const last = ss.length - 1;
    const gamma = last >= 0 ? dot(ss[last], ys[last]) / dot(ys[last], ys[last]) : 1 / Math.max(Math.sqrt(dot(g, g)), 1e-300);
    for (let t = 0; t < n; t++) q[t] *= gamma;
    for (let i = 0; i < ss.length; i++) {
      const beta = rhos[i] * dot(ys[i], q);
      for (let t = 0; t < n; t++) q[t] += ss[i][t] * (alphas[i] - beta);
    }
    let dir = q.map((v) => -v);
    let slope = dot(g, dir);
    if (!(slope < 0)) {
      // Not a descent direction (rounding): restart from steepest descent.
      ss.length = ys.length = rhos.length = 0;
      const scale = 1 / Math.max(Math.sqrt(dot(g, g)), 1e-300);
      dir = g.map((v) => -v * scale);
      slope = dot(g, dir);
    }
    let step = 1;
    let accepted: { x: Float64Array; f: number; g: Float64Array } | null = null;
    for (let tries = 0; tries < 40; tries++) {
      const xn = x.map((v, i) => v + step * dir[i]);
      const r = await evaluate(xn);
      evaluations++;
      if (Number.isFinite(r.f) && r.f <= f + 1e-4 * step * slope) {
        accepted = { x: xn, f: r.f, g: r.g };
        break;
      }
      step *= 0.5;
    }
    if (!accepted) {
      stop = 'line-search';
      break;
    }
    const s = accepted.x.map((v, i) => v - x[i]);
    const y = accepted.g.map((v, i) => v - g[i]);
    const sy = dot(s, y);
    if (sy > 1e-12 * Math.sqrt(dot(s, s) * dot(y, y))) {
      ss.push(s);
      ys.push(y);
      rhos.push(1 / sy);
      if (ss.length > options.memory) {
        ss.shift();
        ys.shift();
        rhos.shift();
      }
    }
    const fPrev = f;
    ({ x, f, g } = accepted);
    if (Math.abs(fPrev - f) <= options.ftol * Math.max(Math.abs(fPrev), Math.abs(f), 1)) {
      iterations++;
      stop = maxAbs(g) <= options.gtol ? 'gradient' : 'loss-change';
      break;
    }
  }
  return { x, f, gradMax: maxAbs(g), iterations, evaluations, stop };
}
