/**
 * A multi-site brain-age generator with scanner effects that a regression encoder picks up
 * (the `fairgpu run brain-age` experiment; OpenBHB's structure, Dufumier et al. 2022).
 *
 * Generative model, per subject i of site s (p ROI features, k latent age factors):
 *
 *   age        a_i ~ N(μ_s, ageSpread²) with probability siteAgeCorrelation, else U[6, 86]
 *   brain age  b_i = a_i + δ_i,  δ_i ~ N(0, bioNoise²)            (biological variation: MAE floor)
 *   biology    h(b) ∈ R^k,  h_j(b) = tanh((b − c_j) / w_j)        (smooth monotone atrophy trends)
 *   ROI        x_i = g_s ⊙ (A·h(b_i) + ε_i) + m_s + σ_s·η_i        (p features)
 *   nuisance   n_i = u_s + σ_s·ζ_i                                 (q scanner-only features)
 *
 * with A ∈ R^{p×k} (unit-variance columns, each feature a mix of the k trends), ε, η, ζ standard
 * normal, and the site's scanner effect drawn from a low-rank "scanner factor" model, as real
 * acquisition differences (field strength, vendor, sequence) are few but touch every region:
 *
 *   shift      m_s = siteShift · (U·c_s + √idiosyncratic·e_s)/√(1 + idiosyncratic)   U ∈ R^{p×r}, c_s, e_s ~ N(0, I)
 *   gain       g_s = exp(siteScale · V·d_s)                                V ∈ R^{p×r}, d_s ~ N(0, I/r)
 *   noise      σ_s = noise · U[0.5, 1.5]
 *   nuisance   u_s = siteNuisance · N(0, I_q)
 *
 * The site is therefore easy to read off x (shifts several times the age signal, site-only
 * features), it is correlated with age (sites have typical ages), and unseen ("external") sites
 * draw new c_s, d_s, e_s, u_s: an encoder that keeps the site in its representation lets a
 * downstream age probe shortcut through it, which fails on external sites.
 */
import { DatasetArgumentError, checkInteger, checkNumber } from './errors.ts';
import type { MultiSiteData, MultiSiteSet } from './openbhb.ts';
import { OPENBHB_AGE_RANGE } from './openbhb.ts';
import { createRng, permutation, type Rng } from './prng.ts';

export interface BrainAgeSitesOptions {
  seed: number;
  /** Sites seen in training (default 12). */
  internalSites?: number;
  /** Sites only in the external test set (default 8). */
  externalSites?: number;
  /** Mean subjects per site; each site draws a count in [0.5, 1.5]× this (default 300). */
  subjectsPerSite?: number;
  /** ROI features p (default 64). */
  features?: number;
  /** Latent age trends k (default 4). */
  latentDim?: number;
  /** Scanner-only nuisance features q, appended after the ROI features (default 8). */
  nuisanceFeatures?: number;
  /** Standard deviation δ of brain age around chronological age, in years (default 3). */
  bioNoise?: number;
  /** Share of a site's subjects drawn around its typical age (default 0.8). */
  siteAgeCorrelation?: number;
  /** Standard deviation of ages around a site's typical age, in years (default 10). */
  ageSpread?: number;
  /** Scale of the site shift m_s per feature, in units of the (unit-variance) biological signal (default 2). */
  siteShift?: number;
  /** Rank r of the scanner factors (default 3). */
  scannerRank?: number;
  /** Variance of the site-specific (full-rank) part of the shift relative to the scanner part (default 0.05). */
  idiosyncratic?: number;
  /** Log-gain scale of the multiplicative site effect (default 0.3). */
  siteScale?: number;
  /** Scale of the nuisance features' site means (default 2). */
  siteNuisance?: number;
  /** Base scanner noise σ (each site multiplies it by U[0.5, 1.5]; default 0.5). */
  noise?: number;
  /** Fraction of internal-site subjects held out as the internal test set (default 0.2). */
  internalTestFraction?: number;
}

/** The parameters actually used (defaults filled in), for reports. */
export type BrainAgeSitesModel = Required<Omit<BrainAgeSitesOptions, 'seed'>> & { seed: number; featureCount: number };

export interface BrainAgeSitesData extends MultiSiteData {
  model: BrainAgeSitesModel;
  /** Subjects per site (internal then external). */
  siteCounts: Int32Array;
}

export const BRAIN_AGE_SITES_DEFAULTS = Object.freeze({
  internalSites: 12,
  externalSites: 8,
  subjectsPerSite: 300,
  features: 64,
  latentDim: 4,
  nuisanceFeatures: 8,
  bioNoise: 3,
  siteAgeCorrelation: 0.8,
  ageSpread: 10,
  siteShift: 2,
  scannerRank: 3,
  idiosyncratic: 0.05,
  siteScale: 0.3,
  siteNuisance: 2,
  noise: 0.5,
  internalTestFraction: 0.2,
});

function resolve(options: BrainAgeSitesOptions): BrainAgeSitesModel {
  if (typeof options !== 'object' || options === null) throw new DatasetArgumentError('options', 'expected an object');
  if (typeof options.seed !== 'number' || !Number.isFinite(options.seed)) throw new DatasetArgumentError('seed', 'expected a finite number');
  const o = { ...BRAIN_AGE_SITES_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as BrainAgeSitesModel;
  checkInteger('internalSites', o.internalSites, 2, 1000);
  checkInteger('externalSites', o.externalSites, 0, 1000);
  checkInteger('subjectsPerSite', o.subjectsPerSite, 2, 100_000);
  checkInteger('features', o.features, 1, 4096);
  checkInteger('latentDim', o.latentDim, 1, 64);
  checkInteger('nuisanceFeatures', o.nuisanceFeatures, 0, 4096);
  checkNumber('bioNoise', o.bioNoise, 0, 100);
  checkNumber('siteAgeCorrelation', o.siteAgeCorrelation, 0, 1);
  checkNumber('ageSpread', o.ageSpread, 0, 1000);
  checkNumber('siteShift', o.siteShift, 0, 1000);
  checkInteger('scannerRank', o.scannerRank, 1, 4096);
  checkNumber('idiosyncratic', o.idiosyncratic, 0, 1000);
  checkNumber('siteScale', o.siteScale, 0, 10);
  checkNumber('siteNuisance', o.siteNuisance, 0, 1000);
  checkNumber('noise', o.noise, 0, 1000);
  checkNumber('internalTestFraction', o.internalTestFraction, 0, 0.9);
  return { ...o, seed: options.seed, featureCount: o.features + o.nuisanceFeatures };
}

const normals = (rng: Rng, n: number, scale = 1) => Float64Array.from({ length: n }, () => scale * rng.nextNormal());

/**
 * Synthetic multi-site ROI features (see the module comment for the model). Internal sites are
 * 0..internalSites−1 (split into train and internal test by subject), external sites follow and
 * form the external test set. Deterministic in `seed`.
 */
export function syntheticBrainAgeSites(options: BrainAgeSitesOptions): BrainAgeSitesData {
  const m = resolve(options);
  const { features: p, latentDim: k, nuisanceFeatures: q, featureCount, scannerRank: r } = m;
  const [minAge, maxAge] = OPENBHB_AGE_RANGE;
  const rng = createRng(m.seed, 13);
  const totalSites = m.internalSites + m.externalSites;

  // Biology: k tanh trends and their loadings A (p×k, each feature's signal has unit variance on average).
  const centre = Float64Array.from({ length: k }, () => 15 + 60 * rng.nextFloat());
  const width = Float64Array.from({ length: k }, () => 8 + 22 * rng.nextFloat());
  const loadings = normals(rng, p * k, 1 / Math.sqrt(k));
  // Scanner factors U, V (p×r) shared by all sites.
  const shiftBasis = normals(rng, p * r);
  const gainBasis = normals(rng, p * r);

  // Sites: typical ages over the whole range in random order (internal and external alike).
  const order = permutation(totalSites, rng);
  const siteMeanAge = Float32Array.from(order, (j) => minAge + ((j + 0.5) / totalSites) * (maxAge - minAge));
  const shift = new Float64Array(totalSites * p);
  const gain = new Float64Array(totalSites * p);
  const nuisanceMean = new Float64Array(totalSites * q);
  const siteNoise = new Float64Array(totalSites);
  const siteCounts = new Int32Array(totalSites);
  const norm = 1 / Math.sqrt(1 + m.idiosyncratic);
  for (let s = 0; s < totalSites; s++) {
    const c = normals(rng, r);
    const d = normals(rng, r, 1 / Math.sqrt(r));
    for (let j = 0; j < p; j++) {
      let sh = 0;
      let lg = 0;
      for (let t = 0; t < r; t++) {
        sh += shiftBasis[j * r + t] * c[t];
        lg += gainBasis[j * r + t] * d[t];
      }
      shift[s * p + j] = m.siteShift * norm * (sh / Math.sqrt(r) + Math.sqrt(m.idiosyncratic) * rng.nextNormal());
      gain[s * p + j] = Math.exp(m.siteScale * lg);
    }
    for (let j = 0; j < q; j++) nuisanceMean[s * q + j] = m.siteNuisance * rng.nextNormal();
    siteNoise[s] = m.noise * (0.5 + rng.nextFloat());
    siteCounts[s] = Math.max(2, Math.round(m.subjectsPerSite * (0.5 + rng.nextFloat())));
  }

  const total = siteCounts.reduce((a, b) => a + b, 0);
  const x = new Float32Array(total * featureCount);
  const age = new Float32Array(total);
  const site = new Int32Array(total);
  const h = new Float64Array(k);
  for (let s = 0, i = 0; s < totalSites; s++) {
    for (let n = 0; n < siteCounts[s]; n++, i++) {
      let a = rng.nextFloat() < m.siteAgeCorrelation ? siteMeanAge[s] + m.ageSpread * rng.nextNormal() : minAge + (maxAge - minAge) * rng.nextFloat();
      a = Math.min(maxAge, Math.max(minAge, a));
      age[i] = a;
      site[i] = s;
      const b = a + m.bioNoise * rng.nextNormal();
      for (let t = 0; t < k; t++) h[t] = Math.tanh((b - centre[t]) / width[t]);
      const row = i * featureCount;
      for (let j = 0; j < p; j++) {
        let signal = 0;
        for (let t = 0; t < k; t++) signal += loadings[j * k + t] * h[t];
        // ε: subject-level biological variability of the region, 0.3 of the signal's scale.
        const bio = signal + 0.3 * rng.nextNormal();
        x[row + j] = gain[s * p + j] * bio + shift[s * p + j] + siteNoise[s] * rng.nextNormal();
      }
      for (let j = 0; j < q; j++) x[row + p + j] = nuisanceMean[s * q + j] + siteNoise[s] * rng.nextNormal();
    }
  }

  const internalCount = siteCounts.slice(0, m.internalSites).reduce((a, b) => a + b, 0);
  const internalOrder = permutation(internalCount, rng);
  const testCount = Math.round(internalCount * m.internalTestFraction);
  const pick = (indices: ArrayLike<number>): MultiSiteSet => {
    const n = indices.length;
    const out: MultiSiteSet = { length: n, featureCount, features: new Float32Array(n * featureCount), age: new Float32Array(n), site: new Int32Array(n) };
    for (let row = 0; row < n; row++) {
      const i = indices[row];
      out.features.set(x.subarray(i * featureCount, (i + 1) * featureCount), row * featureCount);
      out.age[row] = age[i];
      out.site[row] = site[i];
    }
    return out;
  };
  return {
    train: pick(internalOrder.subarray(testCount)),
    internalTest: pick(internalOrder.subarray(0, testCount)),
    externalTest: pick(Int32Array.from({ length: total - internalCount }, (_, j) => internalCount + j)),
    siteMeanAge,
    internalSites: m.internalSites,
    externalSites: m.externalSites,
    model: m,
    siteCounts,
  };
}
