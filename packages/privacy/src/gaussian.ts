/**
 * The seed's PCA Gaussian fit: project embeddings on one principal component, fit a normal per
 * private-attribute group, and measure how far apart the groups are (Bhattacharyya, KL).
 */
import { gaussianDensityFigure, type Figure } from '@fairgpu/metrics';
import { InvalidArgumentError, scope, type Tensor } from '@fairgpu/tensor';
import { pca, type Pca } from './pca.ts';
import { checkEmbeddings, checkFinite, distinct, positiveInteger, positiveNumber, readAttribute, type AttributeLike } from './validate.ts';

/**
 * Bhattacharyya coefficient of N(m1, s1²) and N(m2, s2²):
 * BC = √(2·s1·s2 / (s1² + s2²)) · exp(−(m1 − m2)² / (4·(s1² + s2²))) ∈ (0, 1], 1 = identical.
 */
export function bhattacharyyaCoefficient(m1: number, s1: number, m2: number, s2: number): number {
  const v = s1 * s1 + s2 * s2;
  return Math.sqrt((2 * s1 * s2) / v) * Math.exp(-((m1 - m2) ** 2) / (4 * v));
}

/** KL(N(mp, sp²) ‖ N(mq, sq²)) = ln(sq/sp) + (sp² + (mp − mq)²) / (2·sq²) − ½ (nats). */
export function klDivergenceNormal(mp: number, sp: number, mq: number, sq: number): number {
  return Math.log(sq / sp) + (sp * sp + (mp - mq) ** 2) / (2 * sq * sq) - 0.5;
}

export interface GaussianGroupFit {
  group: number;
  count: number;
  mean: number;
  /** Maximum-likelihood std (divisor count), after the `minStd` floor. */
  std: number;
  /** True when the group's std was below `minStd` and was raised to it. */
  stdFloored: boolean;
  /** The group's projections, in sample order. */
  values: Float64Array;
}

export interface GaussianPair {
  a: number;
  b: number;
  bhattacharyya: number;
  /** −ln(bhattacharyya). */
  bhattacharyyaDistance: number;
  klAB: number;
  klBA: number;
}

export interface GaussianLeakage {
  component: number;
  /** The component's share of the total variance of the PCA used. */
  explainedVarianceRatio: number;
  groups: GaussianGroupFit[];
  pairs: GaussianPair[];
  summary: {
    /** Mean pairwise Bhattacharyya coefficient: 1 = indistinguishable groups, → 0 = separated. */
    meanBhattacharyya: number;
    minBhattacharyya: number;
    /** Mean of ½(KL(a‖b) + KL(b‖a)) over pairs. */
    meanSymmetricKL: number;
    maxKL: number;
  };
  /** Fitted densities over the per-group histograms; null with more than 10 groups (tab10 palette). */
  figure: Figure | null;
}

export interface GaussianLeakageOptions {
  /** Principal component to project on, 0-based (default 0). */
  component?: number;
  /** A fitted PCA with more than `component` components (default: fitted on `embeddings`). */
  pca?: Pca;
  /** Smallest group size (default 2); a smaller group throws InvalidArgumentError naming 'groups'. */
  minCount?: number;
  /**
   * Floor of each group's std (default 1e-6 × the std of all projections, or 1e-6 when that is 0):
   * a constant group would make KL infinite and BC 0/0. Floored groups say `stdFloored: true`.
   */
  minStd?: number;
  /** Figure: false to skip it; or its name/title/panel title and group labels. */
  figure?: false | { name?: string; title?: string; panelTitle?: string; label?: (group: number) => string };
}

const OP = 'gaussianLeakage';

/**
 * Gaussian leakage of a private attribute along one principal component of `embeddings`.
 *
 * @example
 * const g = await gaussianLeakage(embeddings, colours, { component: 0 });
 * g.summary.meanBhattacharyya; // 1 = the component carries no information on the colour
 */
export async function gaussianLeakage(embeddings: Tensor, groups: AttributeLike, options: GaussianLeakageOptions = {}): Promise<GaussianLeakage> {
  checkEmbeddings(OP, 'embeddings', embeddings);
  const [n, d] = embeddings.shape;
  const component = options.component ?? 0;
  if (typeof component !== 'number' || !Number.isInteger(component) || component < 0 || component >= Math.min(n, d)) {
    throw new InvalidArgumentError(OP, 'options.component', `must be an integer in [0, ${Math.min(n, d) - 1}], got ${String(component)}`);
  }
  if (options.pca) {
    const p = options.pca;
    if (p.nFeatures !== d) throw new InvalidArgumentError(OP, 'options.pca', `was fitted on ${p.nFeatures} features, embeddings have ${d}`);
    if (component >= p.k) throw new InvalidArgumentError(OP, 'options.pca', `has ${p.k} components; component ${component} needs more`);
    if (p.components.isDisposed) throw new InvalidArgumentError(OP, 'options.pca', 'was disposed');
  }
  const minCount = positiveInteger(OP, 'options.minCount', options.minCount ?? 2, 2);
  if (options.minStd !== undefined) positiveNumber(OP, 'options.minStd', options.minStd);
  const labels = await readAttribute(OP, 'groups', groups, n);
  const ids = distinct(labels);
  const counts = new Map<number, number>();
  for (const g of labels) counts.set(g, (counts.get(g) ?? 0) + 1);
  const small = ids.filter((g) => counts.get(g)! < minCount);
  if (small.length) {
    throw new InvalidArgumentError(
      OP,
      'groups',
      `group(s) ${small.map((g) => `${g} (${counts.get(g)} sample${counts.get(g) === 1 ? '' : 's'})`).join(', ')} have fewer than minCount = ${minCount} samples; a Gaussian fit needs at least 2 (drop or merge them)`,
    );
  }

  const { projection, ratio } = await scope(async () => {
    const p = options.pca ?? (await pca(embeddings, component + 1));
    try {
      const z = await p.transform(embeddings).toArray();
      const k = p.k;
      const projection = Float64Array.from({ length: n }, (_, i) => z[i * k + component]);
      return { projection, ratio: p.explainedVarianceRatio[component] };
    } finally {
      if (!options.pca) p.dispose();
    }
  });
  checkFinite(OP, 'embeddings', projection, 'the projection of sample');

  let all = 0;
  for (const v of projection) all += v;
  const allMean = all / n;
  let allVar = 0;
  for (const v of projection) allVar += (v - allMean) ** 2;
  const allStd = Math.sqrt(allVar / n);
  const minStd = options.minStd ?? (allStd > 0 ? 1e-6 * allStd : 1e-6);

  const fits: GaussianGroupFit[] = ids.map((group) => {
    const values = Float64Array.from(projection.filter((_, i) => labels[i] === group));
    const mean = values.reduce((a, v) => a + v, 0) / values.length;
    const std = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length);
    return { group, count: values.length, mean, std: Math.max(std, minStd), stdFloored: std < minStd, values };
  });
  const pairs: GaussianPair[] = [];
  for (let i = 0; i < fits.length; i++) {
    for (let j = i + 1; j < fits.length; j++) {
      const [p, q] = [fits[i], fits[j]];
      const bc = bhattacharyyaCoefficient(p.mean, p.std, q.mean, q.std);
      pairs.push({
        a: p.group,
        b: q.group,
        bhattacharyya: bc,
        bhattacharyyaDistance: -Math.log(bc),
        klAB: klDivergenceNormal(p.mean, p.std, q.mean, q.std),
        klBA: klDivergenceNormal(q.mean, q.std, p.mean, p.std),
      });
    }
  }
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, v) => a + v, 0) / xs.length : NaN);
  const summary = pairs.length
    ? {
        meanBhattacharyya: mean(pairs.map((p) => p.bhattacharyya)),
        minBhattacharyya: Math.min(...pairs.map((p) => p.bhattacharyya)),
        meanSymmetricKL: mean(pairs.map((p) => (p.klAB + p.klBA) / 2)),
        maxKL: Math.max(...pairs.map((p) => Math.max(p.klAB, p.klBA))),
      }
    : // One group: nothing to tell apart.
      { meanBhattacharyya: 1, minBhattacharyya: 1, meanSymmetricKL: 0, maxKL: 0 };

  let figure: Figure | null = null;
  if (options.figure !== false && fits.length <= 10) {
    const f = options.figure ?? {};
    const label = f.label ?? ((g: number) => `group ${g}`);
    figure = gaussianDensityFigure({
      name: f.name ?? 'gaussian-leakage',
      title: f.title ?? `Gaussian fit per group on principal component ${component + 1}`,
      panels: [
        {
          title: f.panelTitle ?? `PC${component + 1}: mean BC ${summary.meanBhattacharyya.toFixed(3)}`,
          groups: fits.map((g) => ({ label: label(g.group), mean: g.mean, std: g.std, values: g.values })),
        },
      ],
      xLabel: `projection on PC${component + 1}`,
    });
  }
  return { component, explainedVarianceRatio: ratio, groups: fits, pairs, summary, figure };
}
