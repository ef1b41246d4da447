/**
 * The experiment's data: three splits (train, internal test = held-out subjects of the training
 * sites, external test = sites never seen), from the synthetic generator or from OpenBHB ROI files,
 * standardised with the training split's per-feature mean and standard deviation.
 */
import { loadOpenBhbSplit, syntheticBrainAgeSites, type NpyArray, type OpenBhbSplit } from '@fairgpu/datasets/node';
import type { BrainAgeConfig } from './config.ts';

export interface Split {
  n: number;
  /** n × featureCount, row-major, standardised with the training split's statistics. */
  x: Float32Array;
  age: Float32Array;
  site: Int32Array;
}

export interface BrainAgeData {
  source: 'synthetic' | 'openbhb';
  featureCount: number;
  train: Split;
  internalTest: Split;
  externalTest: Split;
  /** Site names by class index (synthetic: "site 0", …). */
  siteNames: string[];
  /** Distinct site classes of the training split (the site probe's classes). */
  trainSites: number[];
  /** One line for the log and the report. */
  summary: string;
  /** The generator's parameters (synthetic only). */
  generator?: Record<string, number>;
}

export function loadBrainAgeData(config: BrainAgeConfig): BrainAgeData {
  const d = config.data;
  if (d.source === 'synthetic') {
    const g = syntheticBrainAgeSites({ seed: config.seed, ...d.generator });
    const raw = { train: g.train, internal: g.internalTest, external: g.externalTest };
    const split = (s: typeof g.train) => ({ n: s.length, x: s.features, age: s.age, site: s.site });
    const total = g.internalSites + g.externalSites;
    const { seed, ...generator } = g.model;
    void seed;
    return finish(
      'synthetic',
      g.model.featureCount,
      split(raw.train),
      split(raw.internal),
      split(raw.external),
      Array.from({ length: total }, (_, i) => `site ${i}`),
      `synthetic: ${g.internalSites} internal + ${g.externalSites} external sites, ${g.model.featureCount} features (${g.model.features} ROI + ${g.model.nuisanceFeatures} nuisance)`,
      generator as unknown as Record<string, number>,
    );
  }
  const train = loadOpenBhbSplit(d.dir, d.splits.train, d.modalities);
  const internal = loadOpenBhbSplit(d.dir, d.splits.internal, d.modalities, train.sites);
  const external = loadOpenBhbSplit(d.dir, d.splits.external, d.modalities, internal.sites);
  const a = flatten(train, d.modalities);
  const b = flatten(internal, d.modalities);
  const c = flatten(external, d.modalities);
  if (b.featureCount !== a.featureCount || c.featureCount !== a.featureCount) {
    throw new Error(`OpenBHB splits have ${a.featureCount}, ${b.featureCount} and ${c.featureCount} features per subject; they must agree`);
  }
  return finish(
    'openbhb',
    a.featureCount,
    { n: train.length, x: a.x, age: train.age, site: train.site },
    { n: internal.length, x: b.x, age: internal.age, site: internal.site },
    { n: external.length, x: c.x, age: external.age, site: external.site },
    external.sites,
    `OpenBHB ${d.modalities.join(' + ')} from ${d.dir}: ${a.featureCount} features`,
  );
}

/** Each subject's modality arrays flattened and concatenated (in the configured order), as float32. */
function flatten(split: OpenBhbSplit, modalities: readonly string[]): { x: Float32Array; featureCount: number } {
  const arrays: NpyArray[] = modalities.map((m) => split.modalities[m]);
  const widths = arrays.map((a) => a.shape.slice(1).reduce((p, q) => p * q, 1));
  const featureCount = widths.reduce((p, q) => p + q, 0);
  const x = new Float32Array(split.length * featureCount);
  arrays.forEach((a, k) => {
    const offset = widths.slice(0, k).reduce((p, q) => p + q, 0);
    const w = widths[k];
    for (let i = 0; i < split.length; i++) {
      for (let j = 0; j < w; j++) {
        const v = Number(a.data[i * w + j]);
        if (!Number.isFinite(v)) throw new Error(`OpenBHB ${modalities[k]}: subject ${split.participantIds[i]} has a non-finite value at feature ${j}`);
        x[i * featureCount + offset + j] = v;
      }
    }
  });
  return { x, featureCount };
}

function finish(
  source: BrainAgeData['source'],
  featureCount: number,
  train: Split,
  internalTest: Split,
  externalTest: Split,
  siteNames: string[],
  summary: string,
  generator?: Record<string, number>,
): BrainAgeData {
  if (train.n < 2) throw new Error(`the training split has ${train.n} subjects; at least 2 are needed`);
  // Per-feature mean and std (ddof 0) of the training split; a constant feature keeps scale 1.
  const mean = new Float64Array(featureCount);
  const sq = new Float64Array(featureCount);
  for (let i = 0; i < train.n; i++) for (let j = 0; j < featureCount; j++) mean[j] += train.x[i * featureCount + j];
  for (let j = 0; j < featureCount; j++) mean[j] /= train.n;
  for (let i = 0; i < train.n; i++) for (let j = 0; j < featureCount; j++) sq[j] += (train.x[i * featureCount + j] - mean[j]) ** 2;
  const scale = Float64Array.from(sq, (s) => (s > 0 ? Math.sqrt(s / train.n) : 1));
  const standardise = (s: Split): Split => ({
    ...s,
    x: Float32Array.from(s.x, (v, k) => (v - mean[k % featureCount]) / scale[k % featureCount]),
  });
  const trainSites = [...new Set(train.site)].sort((p, q) => p - q);
  const internalSiteCount = new Set(internalTest.site).size;
  return {
    source,
    featureCount,
    train: standardise(train),
    internalTest: standardise(internalTest),
    externalTest: standardise(externalTest),
    siteNames,
    trainSites,
    summary: `${summary}; train ${train.n}, internal test ${internalTest.n} (${internalSiteCount} sites), external test ${externalTest.n} (${new Set(externalTest.site).size} sites)`,
    ...(generator ? { generator } : {}),
  };
}
