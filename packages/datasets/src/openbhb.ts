/**
 * Multi-site brain-age regression (OpenBHB, Dufumier et al. 2022, and its challenge):
 * - assembling OpenBHB data a user already has (participants TSV + one `.npy` per modality);
 * - a synthetic multi-site generator with the same shortcut structure (site strongly visible in
 *   the features and correlated with age; external sites never seen in training);
 * - the challenge metric Lc = BAcc_site(internal)^0.3 · MAE_age(external).
 * Runtime-neutral; file reading lives in `@fairgpu/datasets/node`.
 */
import { DatasetArgumentError, DatasetFormatError, checkInteger, checkKnownOptions, checkNumber, checkOptionsObject, checkSeed } from './errors.ts';
import type { NpyArray } from './npy.ts';
import { createRng, permutation } from './prng.ts';

/** Sizes of the public OpenBHB release, for sanity checks and documentation. */
export const OPENBHB_SIZES = Object.freeze({ train: 3227, internalValidation: 362, externalValidation: 396, siteClasses: 64 });
export const OPENBHB_AGE_RANGE = Object.freeze([6, 86] as const);

export interface ParticipantsTable {
  columns: string[];
  /** Raw cell text per row, keyed by column. */
  rows: Array<Record<string, string>>;
}

/** Parses a tab-separated table with a header row (CRLF or LF line ends, trailing blank lines ok). */
export function parseTsv(text: string): ParticipantsTable {
  if (typeof text !== 'string') throw new DatasetFormatError('tsv', 'input must be a string');
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new DatasetFormatError('tsv', 'empty file (no header row)');
  const columns = lines[0].split('\t');
  const duplicate = columns.find((c, i) => columns.indexOf(c) !== i);
  if (duplicate !== undefined) throw new DatasetFormatError('tsv', `column '${duplicate}' appears twice in the header`);
  const rows = lines.slice(1).map((line, r) => {
    const cells = line.split('\t');
    if (cells.length !== columns.length) {
      throw new DatasetFormatError('tsv', `row ${r + 2} has ${cells.length} cells, header has ${columns.length}`);
    }
    const row: Record<string, string> = Object.create(null);
    columns.forEach((c, i) => (row[c] = cells[i]));
    return row;
  });
  return { columns, rows };
}

export interface OpenBhbParticipants {
  length: number;
  participantIds: string[];
  age: Float32Array;
  /** Site class index into `sites`. */
  site: Int32Array;
  /** Site identifiers as written in the TSV; `site[i]` indexes this list. */
  sites: string[];
  table: ParticipantsTable;
}

/**
 * Reads participant_id, age and site from an OpenBHB participants TSV. Pass the training split's
 * `sites` as `siteVocabulary` when reading validation files so that internal sites keep their
 * class index; sites not in the vocabulary are appended after it.
 */
export function parseOpenBhbParticipants(text: string, options: { siteVocabulary?: readonly string[] } = {}): OpenBhbParticipants {
  checkKnownOptions('options', options, ['siteVocabulary']);
  options ??= {};
  const table = parseTsv(text);
  for (const column of ['participant_id', 'age', 'site']) {
    if (!table.columns.includes(column)) throw new DatasetFormatError('tsv', `missing required column '${column}'`);
  }
  const sites = [...(options.siteVocabulary ?? [])];
  const siteIndex = new Map(sites.map((s, i) => [s, i]));
  if (!options.siteVocabulary) {
    // Sorted so the class index of a site does not depend on row order.
    for (const s of [...new Set(table.rows.map((r) => r.site))].sort(compareSiteIds)) {
      siteIndex.set(s, sites.length);
      sites.push(s);
    }
  }
  const n = table.rows.length;
  const age = new Float32Array(n);
  const site = new Int32Array(n);
  const participantIds: string[] = [];
  table.rows.forEach((row, r) => {
    const value = Number(row.age);
    if (row.age.trim() === '' || !Number.isFinite(value) || value < 0 || value > 150) {
      throw new DatasetFormatError('tsv', `row ${r + 2}: column 'age' is ${JSON.stringify(row.age)}, expected an age in years`);
    }
    age[r] = value;
    let index = siteIndex.get(row.site);
    if (index === undefined) {
      index = sites.length;
      siteIndex.set(row.site, index);
      sites.push(row.site);
    }
    site[r] = index;
    participantIds.push(row.participant_id);
  });
  return { length: n, participantIds, age, site, sites, table };
}

/** Numeric site ids sort numerically ("2" before "10"), others lexicographically. */
function compareSiteIds(a: string, b: string): number {
  const x = Number(a);
  const y = Number(b);
  if (a.trim() !== '' && b.trim() !== '' && Number.isFinite(x) && Number.isFinite(y)) return x - y;
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface OpenBhbSplit extends OpenBhbParticipants {
  /** One array per modality (e.g. `vbm_roi`, `quasiraw`), first dimension = participants. */
  modalities: Record<string, NpyArray>;
}

/** Joins participants with modality arrays, checking that every array has one row per participant. */
export function assembleOpenBhb(participants: OpenBhbParticipants, modalities: Record<string, NpyArray>): OpenBhbSplit {
  for (const [name, array] of Object.entries(modalities)) {
    if (array.shape.length === 0 || array.shape[0] !== participants.length) {
      throw new DatasetFormatError(
        'npy',
        `modality '${name}' has shape (${array.shape.join(', ')}), expected first dimension ${participants.length} (one row per participant)`,
      );
    }
  }
  return { ...participants, modalities };
}

// ---------------------------------------------------------------------------------------------
// Synthetic multi-site data

export interface MultiSiteOptions {
  seed: number;
  /** Sites seen in training; default 10. */
  internalSites?: number;
  /** Sites only in the external test set; default 3. */
  externalSites?: number;
  /** Subjects per site; default 100. */
  subjectsPerSite?: number;
  /** Feature dimension; default 32. */
  features?: number;
  /** Probability that a subject's age is drawn around its site's typical age (vs uniform); default 0.8. */
  siteAgeCorrelation?: number;
  /** Standard deviation of the per-site feature offsets; default 3 (strong next to the age signal). */
  siteEffect?: number;
  /** Base standard deviation of scanner noise (each site scales it by a factor in [0.5, 1.5]); default 0.3. */
  noise?: number;
  /** Fraction of internal-site subjects held out as the internal test set; default 0.2. */
  internalTestFraction?: number;
}

export interface MultiSiteSet {
  length: number;
  featureCount: number;
  /** length·featureCount floats, row-major. */
  features: Float32Array;
  age: Float32Array;
  /** Site class; internal sites are 0..internalSites−1, external sites come after. */
  site: Int32Array;
}

export interface MultiSiteData {
  train: MultiSiteSet;
  internalTest: MultiSiteSet;
  externalTest: MultiSiteSet;
  /** Typical age of each site's subjects, the source of the site–age correlation. */
  siteMeanAge: Float32Array;
  internalSites: number;
  externalSites: number;
}

/**
 * features = smooth age signal + site offset + site-scaled noise.
 * The age signal is a sum of per-feature tanh ramps of age (smooth, monotone pieces, as grey-matter
 * volume trends); the offset is large, so a model can read the site off the features and, since
 * sites have typical ages, shortcut age through the site. External sites have offsets and ages
 * never seen in training.
 */
export function syntheticMultiSite(options: MultiSiteOptions): MultiSiteData {
  checkOptionsObject('options', options, 'seed');
  checkKnownOptions('options', options, [
    'seed',
    'internalSites',
    'externalSites',
    'subjectsPerSite',
    'features',
    'siteAgeCorrelation',
    'siteEffect',
    'noise',
    'internalTestFraction',
  ]);
  const internalSites = checkInteger('internalSites', options.internalSites ?? 10, 1, 1000);
  const externalSites = checkInteger('externalSites', options.externalSites ?? 3, 0, 1000);
  const perSite = checkInteger('subjectsPerSite', options.subjectsPerSite ?? 100, 1, 100_000);
  const featureCount = checkInteger('features', options.features ?? 32, 1, 4096);
  const correlation = checkNumber('siteAgeCorrelation', options.siteAgeCorrelation ?? 0.8, 0, 1);
  const siteEffect = checkNumber('siteEffect', options.siteEffect ?? 3, 0, 1000);
  const noise = checkNumber('noise', options.noise ?? 0.3, 0, 1000);
  const testFraction = checkNumber('internalTestFraction', options.internalTestFraction ?? 0.2, 0, 1);
  checkSeed('seed', options.seed);
  const [minAge, maxAge] = OPENBHB_AGE_RANGE;
  const rng = createRng(options.seed, 7);
  const totalSites = internalSites + externalSites;

  const amplitude = Float64Array.from({ length: featureCount }, () => rng.nextNormal());
  const centre = Float64Array.from({ length: featureCount }, () => 20 + 50 * rng.nextFloat());
  const width = Float64Array.from({ length: featureCount }, () => 10 + 20 * rng.nextFloat());
  // Site typical ages spread over the whole range, in random order, for internal and external sites alike.
  const siteOrder = permutation(totalSites, rng);
  const siteMeanAge = Float32Array.from(siteOrder, (k) => minAge + ((k + 0.5) / totalSites) * (maxAge - minAge));
  const siteOffset = Float64Array.from({ length: totalSites * featureCount }, () => siteEffect * rng.nextNormal());
  const siteNoise = Float64Array.from({ length: totalSites }, () => noise * (0.5 + rng.nextFloat()));
  const ageSpread = (maxAge - minAge) / (2 * totalSites) + 4;

  const total = totalSites * perSite;
  const features = new Float32Array(total * featureCount);
  const age = new Float32Array(total);
  const site = new Int32Array(total);
  for (let s = 0, i = 0; s < totalSites; s++) {
    for (let k = 0; k < perSite; k++, i++) {
      let a = rng.nextFloat() < correlation ? siteMeanAge[s] + ageSpread * rng.nextNormal() : minAge + (maxAge - minAge) * rng.nextFloat();
      a = Math.min(maxAge, Math.max(minAge, a));
      age[i] = a;
      site[i] = s;
      for (let j = 0; j < featureCount; j++) {
        const signal = amplitude[j] * Math.tanh((a - centre[j]) / width[j]);
        features[i * featureCount + j] = signal + siteOffset[s * featureCount + j] + siteNoise[s] * rng.nextNormal();
      }
    }
  }

  const internalCount = internalSites * perSite;
  const internalOrder = permutation(internalCount, rng);
  const testCount = Math.round(internalCount * testFraction);
  const pick = (indices: ArrayLike<number>): MultiSiteSet => {
    const n = indices.length;
    const out: MultiSiteSet = { length: n, featureCount, features: new Float32Array(n * featureCount), age: new Float32Array(n), site: new Int32Array(n) };
    for (let r = 0; r < n; r++) {
      const i = indices[r];
      out.features.set(features.subarray(i * featureCount, (i + 1) * featureCount), r * featureCount);
      out.age[r] = age[i];
      out.site[r] = site[i];
    }
    return out;
  };
  return {
    train: pick(internalOrder.subarray(testCount)),
    internalTest: pick(internalOrder.subarray(0, testCount)),
    externalTest: pick(Int32Array.from({ length: total - internalCount }, (_, k) => internalCount + k)),
    siteMeanAge,
    internalSites,
    externalSites,
  };
}

// ---------------------------------------------------------------------------------------------
// Metrics

export function meanAbsoluteError(truth: ArrayLike<number>, prediction: ArrayLike<number>): number {
  if (truth.length !== prediction.length) throw new DatasetArgumentError('prediction', `has ${prediction.length} entries, truth has ${truth.length}`);
  if (truth.length === 0) throw new DatasetArgumentError('truth', 'is empty');
  let sum = 0;
  for (let i = 0; i < truth.length; i++) sum += Math.abs(truth[i] - prediction[i]);
  return sum / truth.length;
}

/** Mean over the classes present in `truth` of the per-class recall. */
export function balancedAccuracy(truth: ArrayLike<number>, prediction: ArrayLike<number>): number {
  if (truth.length !== prediction.length) throw new DatasetArgumentError('prediction', `has ${prediction.length} entries, truth has ${truth.length}`);
  if (truth.length === 0) throw new DatasetArgumentError('truth', 'is empty');
  const total = new Map<number, number>();
  const correct = new Map<number, number>();
  for (let i = 0; i < truth.length; i++) {
    total.set(truth[i], (total.get(truth[i]) ?? 0) + 1);
    if (truth[i] === prediction[i]) correct.set(truth[i], (correct.get(truth[i]) ?? 0) + 1);
  }
  let sum = 0;
  for (const [label, count] of total) sum += (correct.get(label) ?? 0) / count;
  return sum / total.size;
}

/**
 * OpenBHB challenge score Lc = BAcc_site(internal)^0.3 · MAE_age(external): lower is better; a
 * model that cannot tell sites apart (low balanced accuracy of a site probe on its representation)
 * and predicts age well on unseen sites scores low.
 */
export function challengeScore(siteBalancedAccuracy: number, externalAgeMae: number): number {
  checkNumber('siteBalancedAccuracy', siteBalancedAccuracy, 0, 1);
  checkNumber('externalAgeMae', externalAgeMae, 0, Number.MAX_VALUE);
  return siteBalancedAccuracy ** 0.3 * externalAgeMae;
}

export function challengeScoreFromPredictions(p: {
  internalSiteTruth: ArrayLike<number>;
  internalSitePrediction: ArrayLike<number>;
  externalAgeTruth: ArrayLike<number>;
  externalAgePrediction: ArrayLike<number>;
}): { siteBalancedAccuracy: number; externalAgeMae: number; score: number } {
  const siteBalancedAccuracy = balancedAccuracy(p.internalSiteTruth, p.internalSitePrediction);
  const externalAgeMae = meanAbsoluteError(p.externalAgeTruth, p.externalAgePrediction);
  return { siteBalancedAccuracy, externalAgeMae, score: challengeScore(siteBalancedAccuracy, externalAgeMae) };
}
