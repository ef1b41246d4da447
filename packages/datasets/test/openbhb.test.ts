import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  OPENBHB_SIZES,
  balancedAccuracy,
  challengeScore,
  challengeScoreFromPredictions,
  meanAbsoluteError,
  parseOpenBhbParticipants,
  parseTsv,
  syntheticMultiSite,
} from '../src/openbhb.ts';
import type { MultiSiteSet } from '../src/openbhb.ts';
import { encodeNpy } from '../src/npy.ts';
import { loadOpenBhbSplit } from '../src/node-files.ts';
import { DatasetArgumentError, DatasetFormatError } from '../src/errors.ts';

describe('OpenBHB files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fairgpu-openbhb-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // Same columns as the OpenBHB participants files (subset), rows in file order.
  const trainTsv = [
    'participant_id\tsession\tage\tsex\tsite\tstudy',
    'sub-001\t1\t23.5\tmale\t17\tabide1',
    'sub-002\t1\t8.25\tfemale\t3\tabide2',
    'sub-003\t1\t71\tmale\t17\tixi',
    '',
  ].join('\r\n');
  writeFileSync(join(dir, 'train.tsv'), trainTsv);
  writeFileSync(
    join(dir, 'train_vbm_roi.npy'),
    encodeNpy(
      Float32Array.from({ length: 3 * 284 }, (_, i) => i / 10),
      [3, 1, 284],
    ),
  );
  writeFileSync(
    join(dir, 'train_desikan_roi.npy'),
    encodeNpy(
      Float64Array.from({ length: 3 * 7 * 68 }, (_, i) => i),
      [3, 7, 68],
      { version: 2 },
    ),
  );
  writeFileSync(join(dir, 'val.tsv'), 'participant_id\tage\tsite\nsub-100\t40\t3\nsub-101\t55\t90\n');
  writeFileSync(join(dir, 'val_vbm_roi.npy'), encodeNpy(new Float32Array(2 * 284), [2, 1, 284]));
  writeFileSync(join(dir, 'bad.tsv'), 'participant_id\tage\nsub-1\t3\n');
  writeFileSync(join(dir, 'short.tsv'), 'participant_id\tage\tsite\nsub-1\t30\t1\n');
  writeFileSync(join(dir, 'short_vbm_roi.npy'), encodeNpy(new Float32Array(2 * 4), [2, 4]));

  it('loads participants and modality arrays, with site classes in numeric order', () => {
    const train = loadOpenBhbSplit(dir, 'train', ['vbm_roi', 'desikan_roi']);
    expect(train.length).toBe(3);
    expect(train.participantIds).toEqual(['sub-001', 'sub-002', 'sub-003']);
    expect(train.age[1]).toBeCloseTo(8.25, 5);
    expect(train.sites).toEqual(['3', '17']);
    expect([...train.site]).toEqual([1, 0, 1]);
    expect(train.modalities.vbm_roi.shape).toEqual([3, 1, 284]);
    expect(train.modalities.vbm_roi.data[285]).toBeCloseTo(28.5, 4);
    expect(train.modalities.desikan_roi.dtype).toBe('f8');
    expect(train.table.rows[2].study).toBe('ixi');

    // Validation keeps internal site indices; an external site is appended.
    const val = loadOpenBhbSplit(dir, 'val', ['vbm_roi'], train.sites);
    expect([...val.site]).toEqual([0, 2]);
    expect(val.sites).toEqual(['3', '17', '90']);
  });

  it('rejects missing columns, bad ages, ragged rows and row-count mismatches', () => {
    expect(() => loadOpenBhbSplit(dir, 'bad', [])).toThrow(/missing required column 'site'/);
    expect(() => loadOpenBhbSplit(dir, 'short', ['vbm_roi'])).toThrow(/modality 'vbm_roi' has shape \(2, 4\), expected first dimension 1/);
    expect(() => parseOpenBhbParticipants('participant_id\tage\tsite\ns\tabc\t1')).toThrow(/column 'age'/);
    expect(() => parseTsv('a\tb\n1')).toThrow(DatasetFormatError);
    expect(() => parseTsv('')).toThrow(/empty/);
  });
});

describe('synthetic multi-site data', () => {
  const data = syntheticMultiSite({ seed: 11, internalSites: 8, externalSites: 3, subjectsPerSite: 60, features: 16 });

  /** Nearest-centroid classifier/regressor fitted on train: a stand-in for a model that shortcuts. */
  function siteCentroids(set: MultiSiteSet, sites: number): Float64Array {
    const sums = new Float64Array(sites * set.featureCount);
    const counts = new Float64Array(sites);
    for (let i = 0; i < set.length; i++) {
      counts[set.site[i]]++;
      for (let j = 0; j < set.featureCount; j++) sums[set.site[i] * set.featureCount + j] += set.features[i * set.featureCount + j];
    }
    for (let s = 0; s < sites; s++) for (let j = 0; j < set.featureCount; j++) sums[s * set.featureCount + j] /= counts[s];
    return sums;
  }

  function nearestSite(centroids: Float64Array, set: MultiSiteSet, i: number, sites: number): number {
    let best = 0;
    let bestDistance = Infinity;
    for (let s = 0; s < sites; s++) {
      let d = 0;
      for (let j = 0; j < set.featureCount; j++) d += (set.features[i * set.featureCount + j] - centroids[s * set.featureCount + j]) ** 2;
      if (d < bestDistance) [best, bestDistance] = [s, d];
    }
    return best;
  }

  it('has the requested sizes, ages in [6, 86], and external sites absent from training', () => {
    expect(data.train.length + data.internalTest.length).toBe(8 * 60);
    expect(data.internalTest.length).toBe(96);
    expect(data.externalTest.length).toBe(3 * 60);
    for (const set of [data.train, data.internalTest, data.externalTest]) {
      expect(set.features.length).toBe(set.length * 16);
      expect(Math.min(...set.age)).toBeGreaterThanOrEqual(6);
      expect(Math.max(...set.age)).toBeLessThanOrEqual(86);
    }
    expect(Math.max(...data.train.site)).toBeLessThan(8);
    expect(Math.min(...data.externalTest.site)).toBeGreaterThanOrEqual(8);
  });

  it('makes the site readable from the features and correlated with age (the shortcut)', () => {
    const centroids = siteCentroids(data.train, 8);
    const truth = Array.from(data.internalTest.site);
    const predicted = truth.map((_, i) => nearestSite(centroids, data.internalTest, i, 8));
    expect(balancedAccuracy(truth, predicted)).toBeGreaterThan(0.9);
    // Predicting age by the site's mean training age already beats the global mean on internal data.
    const siteAge = new Float64Array(8);
    const siteCount = new Float64Array(8);
    data.train.site.forEach((s, i) => {
      siteAge[s] += data.train.age[i];
      siteCount[s]++;
    });
    const globalMean = data.train.age.reduce((a, b) => a + b, 0) / data.train.length;
    const bySite = Array.from(data.internalTest.site, (s) => siteAge[s] / siteCount[s]);
    const maeSite = meanAbsoluteError(data.internalTest.age, bySite);
    const maeGlobal = meanAbsoluteError(data.internalTest.age, new Array(data.internalTest.length).fill(globalMean));
    expect(maeSite).toBeLessThan(0.7 * maeGlobal);
  });

  it('is deterministic for a seed', () => {
    const again = syntheticMultiSite({ seed: 11, internalSites: 8, externalSites: 3, subjectsPerSite: 60, features: 16 });
    expect(again.train.features).toEqual(data.train.features);
    const other = syntheticMultiSite({ seed: 12, internalSites: 8, externalSites: 3, subjectsPerSite: 60, features: 16 });
    expect(other.train.features).not.toEqual(data.train.features);
  });
});

describe('challenge metric', () => {
  it('Lc = BAcc^0.3 · MAE, with balanced accuracy averaging per-class recall', () => {
    expect(challengeScore(1, 5)).toBeCloseTo(5, 12);
    expect(challengeScore(0.5, 4)).toBeCloseTo(4 * 0.5 ** 0.3, 12);
    expect(challengeScore(0, 4)).toBe(0);
    // Class 0: 3/4 right; class 1: 0/1 right → (0.75 + 0) / 2.
    expect(balancedAccuracy([0, 0, 0, 0, 1], [0, 0, 0, 1, 0])).toBeCloseTo(0.375, 12);
    expect(meanAbsoluteError([10, 20], [12, 17])).toBeCloseTo(2.5, 12);
    const all = challengeScoreFromPredictions({
      internalSiteTruth: [0, 1, 1],
      internalSitePrediction: [0, 1, 0],
      externalAgeTruth: [30, 40],
      externalAgePrediction: [33, 40],
    });
    expect(all.siteBalancedAccuracy).toBeCloseTo(0.75, 12);
    expect(all.externalAgeMae).toBeCloseTo(1.5, 12);
    expect(all.score).toBeCloseTo(0.75 ** 0.3 * 1.5, 12);
    expect(() => challengeScore(1.2, 1)).toThrow(DatasetArgumentError);
    expect(() => meanAbsoluteError([1], [1, 2])).toThrow(/prediction/);
    expect(OPENBHB_SIZES.siteClasses).toBe(64);
  });
});
