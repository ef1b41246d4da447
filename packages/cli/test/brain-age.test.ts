/**
 * The brain-age experiment without a GPU: config schema and presets, the method grammar, the
 * synthetic generator's structure, the OpenBHB file path, the ridge probe against closed forms,
 * the figure builder and the L^exp-vs-L1 comparison.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeNpy, syntheticBrainAgeSites } from '@fairgpu/datasets';
import { brainAgeConfigSchema, parseMethod, PROTOCOLS, PUBLISHED, type BrainAgeConfig } from '../src/experiments/brain-age/config.ts';
import { loadBrainAgeData } from '../src/experiments/brain-age/data.ts';
import { fitRidge, normalizeRows } from '../src/experiments/brain-age/evaluation.ts';
import { embeddingFigure, pickRows } from '../src/experiments/brain-age/figures.ts';
import { brainAge, compare, describeProtocol, type MethodResult } from '../src/experiments/brain-age/index.ts';
import { PROTOCOL_NAMES } from '../src/experiment.ts';

/** |a − e| ≤ atol + rtol·|e|. */
function close(actual: number, expected: number, rtol: number, atol: number, label = ''): void {
  expect(Number.isFinite(actual), `${label}: ${actual} is not finite`).toBe(true);
  expect(Math.abs(actual - expected), `${label}: ${actual} vs ${expected}`).toBeLessThanOrEqual(atol + rtol * Math.abs(expected));
}

describe('brain-age config', () => {
  it('every protocol preset validates, and the experiment exposes them', () => {
    for (const p of PROTOCOL_NAMES) expect(() => brainAgeConfigSchema.parse(PROTOCOLS[p]), p).not.toThrow();
    expect(brainAge.name).toBe('brain-age');
    expect(brainAge.protocols).toBe(PROTOCOLS);
    expect(brainAge.defaultProtocol(true)).toBe('quick');
    expect(brainAge.defaultProtocol(false)).toBe('gpu');
    // gpu and full run the grid: L1 + 3 losses × {rbf, cauchy} × σ ∈ {1, 2}.
    expect(PROTOCOLS.gpu.methods).toHaveLength(13);
    expect(new Set(PROTOCOLS.full.methods)).toEqual(new Set(PROTOCOLS.gpu.methods));
    expect(PROTOCOLS.quick.methods).toEqual(expect.arrayContaining(['l1', 'l-exp:rbf:2', 'y-aware:rbf:2', 'l-thr:rbf:2']));
  });

  it('rejects misspelt keys at every level, bad methods and duplicates', () => {
    const q = PROTOCOLS.quick;
    const bad: unknown[] = [
      { ...q, seeds: 1 },
      { ...q, training: { ...q.training, epoch: 3 } },
      { ...q, encoder: { ...q.encoder, hiden: [3] } },
      { ...q, data: { ...q.data, generator: { ...(q.data as { generator: object }).generator, siteshift: 1 } } },
      { ...q, methods: ['l-exp:rbf'] },
      { ...q, methods: ['lexp:rbf:2'] },
      { ...q, methods: ['l1', 'l1'] },
      { ...q, methods: [] },
      { ...q, data: { source: 'openbhb', dir: '/x', modalities: ['quasiraw'], splits: { train: 'a', internal: 'b', external: 'c' } } },
      { ...q, training: { ...q.training, temperature: 0 } },
    ];
    for (const c of bad) expect(brainAgeConfigSchema.safeParse(c).success, JSON.stringify(c).slice(0, 120)).toBe(false);
    const ok = { ...q, data: { source: 'openbhb', dir: '/x', modalities: ['vbm_roi', 'desikan_roi'], splits: { train: 'a', internal: 'b', external: 'c' } } };
    expect(brainAgeConfigSchema.safeParse(ok).success).toBe(true);
  });

  it('parses methods into loss, kernel, σ and a file-safe key', () => {
    expect(parseMethod('l1')).toMatchObject({ loss: 'l1', key: 'l1', label: 'L1' });
    expect(parseMethod('l-exp:rbf:2')).toMatchObject({ loss: 'l-exp', kernel: 'rbf', sigma: 2, key: 'l-exp_rbf_2', label: 'L^exp (rbf, σ = 2)' });
    expect(parseMethod('l-thr:cauchy:0.5')).toMatchObject({ loss: 'l-thr', kernel: 'cauchy', sigma: 0.5, key: 'l-thr_cauchy_0.5' });
    expect(() => parseMethod('supcon:rbf:1')).toThrow(/not 'l1'/);
  });

  it('published numbers obey Lc = BAcc^0.3 · MAE_ext (to the paper’s two decimals)', () => {
    for (const p of PUBLISHED) close(p.siteBAcc ** 0.3 * p.externalMae, p.score, 0, 0.02, p.method);
  });

  it('describe() names the chosen protocol and the published one', () => {
    const s = describeProtocol(PROTOCOLS.quick, 'quick');
    expect(s).toMatch(/Protocol 'quick': an MLP/);
    expect(s).toMatch(/ResNet-18 3-D on the OpenBHB/);
    expect(s).toMatch(/12 internal \+ 8 external sites/);
  });
});

describe('synthetic multi-site generator', () => {
  const options = { seed: 3, internalSites: 6, externalSites: 3, subjectsPerSite: 80, features: 20, nuisanceFeatures: 4 };
  const g = syntheticBrainAgeSites(options);

  it('is deterministic, has the requested shapes and keeps external sites out of training', () => {
    const again = syntheticBrainAgeSites(options);
    expect(again.train.features).toEqual(g.train.features);
    expect(g.train.featureCount).toBe(24);
    expect(g.train.features.length).toBe(g.train.length * 24);
    const internalTotal = [...g.siteCounts.slice(0, 6)].reduce((a, b) => a + b, 0);
    expect(g.train.length + g.internalTest.length).toBe(internalTotal);
    close(g.internalTest.length / internalTotal, 0.2, 0, 0.01, 'internal test fraction');
    expect(new Set(g.train.site)).toEqual(new Set([0, 1, 2, 3, 4, 5]));
    expect(new Set(g.externalTest.site)).toEqual(new Set([6, 7, 8]));
    for (const a of [...g.train.age, ...g.externalTest.age]) expect(a >= 6 && a <= 86).toBe(true);
    const other = syntheticBrainAgeSites({ ...options, seed: 4 });
    expect(other.train.features).not.toEqual(g.train.features);
  });

  it('sites dominate the feature variance (F ratio ≫ 1), and the ROI features track age', () => {
    const s = g.train;
    const d = s.featureCount;
    // Nuisance feature 20: between-site variance over within-site variance.
    const bySite = new Map<number, number[]>();
    for (let i = 0; i < s.length; i++) bySite.set(s.site[i], [...(bySite.get(s.site[i]) ?? []), s.features[i * d + 20]]);
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    const grand = mean([...bySite.values()].flat());
    let between = 0;
    let within = 0;
    for (const v of bySite.values()) {
      const m = mean(v);
      between += v.length * (m - grand) ** 2;
      within += v.reduce((a, x) => a + (x - m) ** 2, 0);
    }
    expect(between / within).toBeGreaterThan(5);
    // Some ROI feature correlates with age within a site (|r| > 0.5): the signal is there.
    const site0 = [...Array(s.length).keys()].filter((i) => s.site[i] === 0);
    let best = 0;
    for (let j = 0; j < 20; j++) {
      const x = site0.map((i) => s.features[i * d + j]);
      const y = site0.map((i) => s.age[i]);
      const mx = mean(x);
      const my = mean(y);
      const cov = x.reduce((a, v, k) => a + (v - mx) * (y[k] - my), 0);
      const r = cov / Math.sqrt(x.reduce((a, v) => a + (v - mx) ** 2, 0) * y.reduce((a, v) => a + (v - my) ** 2, 0));
      best = Math.max(best, Math.abs(r));
    }
    expect(best).toBeGreaterThan(0.5);
  });

  it('records the model it used and validates its options', () => {
    expect(g.model).toMatchObject({ seed: 3, features: 20, nuisanceFeatures: 4, featureCount: 24, scannerRank: 3, idiosyncratic: 0.05 });
    expect(() => syntheticBrainAgeSites({ ...options, siteScale: -1 })).toThrow(/siteScale/);
    expect(() => syntheticBrainAgeSites({ ...options, internalSites: 1 })).toThrow(/internalSites/);
  });
});

describe('OpenBHB ROI files through the experiment’s data path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fairgpu-brain-age-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // desikan_roi is [n, 7, 68] and vbm_roi [n, 1, 284] in OpenBHB; smaller trailing shapes here.
  const write = (split: string, rows: Array<[string, number, string]>) => {
    writeFileSync(join(dir, `${split}.tsv`), ['participant_id\tage\tsex\tsite', ...rows.map(([id, a, s]) => `${id}\t${a}\tF\t${s}`)].join('\n') + '\n');
    const n = rows.length;
    writeFileSync(
      join(dir, `${split}_desikan_roi.npy`),
      encodeNpy(
        Float64Array.from({ length: n * 2 * 3 }, (_, i) => i + rows[Math.floor(i / 6)][1]),
        [n, 2, 3],
      ),
    );
    writeFileSync(
      join(dir, `${split}_vbm_roi.npy`),
      encodeNpy(
        Float32Array.from({ length: n * 4 }, (_, i) => (i % 4) * rows[Math.floor(i / 4)][1]),
        [n, 1, 4],
      ),
    );
  };
  write('train', [
    ['s1', 20, '7'],
    ['s2', 30, '2'],
    ['s3', 40, '7'],
    ['s4', 50, '2'],
  ]);
  write('internal_val', [
    ['s5', 25, '2'],
    ['s6', 35, '7'],
  ]);
  write('external_val', [
    ['s7', 60, '99'],
    ['s8', 70, '98'],
  ]);
  const config: BrainAgeConfig = {
    ...PROTOCOLS.smoke,
    data: { source: 'openbhb', dir, modalities: ['desikan_roi', 'vbm_roi'], splits: { train: 'train', internal: 'internal_val', external: 'external_val' } },
  };

  it('flattens and concatenates the modalities, standardises with the training split, keeps site classes', () => {
    const data = loadBrainAgeData(config);
    expect(data.source).toBe('openbhb');
    expect(data.featureCount).toBe(6 + 4);
    expect(data.train.n).toBe(4);
    expect([...data.train.age]).toEqual([20, 30, 40, 50]);
    // Train vocabulary sorted numerically: '2' → 0, '7' → 1; internal keeps it; external sites appended.
    expect([...data.train.site]).toEqual([1, 0, 1, 0]);
    expect([...data.internalTest.site]).toEqual([0, 1]);
    expect([...data.externalTest.site]).toEqual([2, 3]);
    expect(data.siteNames).toEqual(['2', '7', '99', '98']);
    expect(data.trainSites).toEqual([0, 1]);
    // Column 0 of desikan is 0 + age for row i (i·6 + age): train values 20, 36, 52, 68 → mean 44, std √320.
    const col0 = [0, 1, 2, 3].map((i) => data.train.x[i * 10]);
    close(
      col0.reduce((a, b) => a + b, 0),
      0,
      0,
      1e-5,
      'standardised mean',
    );
    close(col0[0], (20 - 44) / Math.sqrt(320), 1e-6, 1e-6, 'standardised value');
    // vbm column 0 is constant 0 in every split: scale 1, value 0.
    expect([...data.train.x].filter((_, k) => k % 10 === 6)).toEqual([0, 0, 0, 0]);
    // Internal subject s5: desikan col 0 = 0·6 + 25 → (25 − 44)/√160.
    close(data.internalTest.x[0], (25 - 44) / Math.sqrt(320), 1e-6, 1e-6, 'internal standardised with train statistics');
    expect(data.summary).toMatch(/OpenBHB desikan_roi \+ vbm_roi/);
  });

  it('names a missing split file', () => {
    expect(() =>
      loadBrainAgeData({
        ...config,
        data: { ...config.data, splits: { train: 'train', internal: 'nope', external: 'external_val' } } as BrainAgeConfig['data'],
      }),
    ).toThrow(/nope/);
  });
});

describe('ridge probe', () => {
  it('recovers an exact linear model with α = 0 (coefficients on standardised features)', () => {
    const n = 50;
    const d = 3;
    const x = Float64Array.from({ length: n * d }, (_, i) => Math.sin(i * 1.7) * (1 + (i % d)) + (i % 5));
    const w = [2, -1, 0.5];
    const y = Float64Array.from({ length: n }, (_, i) => 7 + w.reduce((a, wj, j) => a + wj * x[i * d + j], 0));
    const fit = fitRidge(x, y, n, d, 0);
    for (let j = 0; j < d; j++) close(fit.coef[j] / fit.scale[j], w[j], 1e-8, 1e-8, `w${j}`);
    const p = fit.predict(x, n);
    for (let i = 0; i < n; i++) close(p[i], y[i], 1e-9, 1e-8, `prediction ${i}`);
  });

  it('shrinks as Σ z·y / (Σ z² + α) in one dimension', () => {
    const x = [1, 2, 3, 4, 6];
    const y = [2, 1, 4, 3, 7];
    const alpha = 3;
    const fit = fitRidge(x, y, 5, 1, alpha);
    const mx = 3.2;
    const sd = Math.sqrt(x.reduce((a, v) => a + (v - mx) ** 2, 0) / 5);
    const z = x.map((v) => (v - mx) / sd);
    const my = 3.4;
    const expected = z.reduce((a, zi, i) => a + zi * (y[i] - my), 0) / (z.reduce((a, zi) => a + zi * zi, 0) + alpha);
    close(fit.coef[0], expected, 1e-12, 1e-12, 'coef');
    close(fit.intercept, my, 1e-12, 1e-12, 'intercept');
  });

  it('handles a constant feature and a rank-deficient design with α = 0', () => {
    const x = [1, 5, 2, 5, 3, 5, 4, 5];
    const fit = fitRidge(x, [1, 2, 3, 4], 4, 2, 0);
    close(fit.coef[1], 0, 0, 1e-9, 'constant column');
    const p = fit.predict(x, 4);
    for (let i = 0; i < 4; i++) close(p[i], i + 1, 1e-6, 1e-6, `prediction ${i}`);
    expect(() => fitRidge([1, 2], [1, 2], 1, 2, 1)).toThrow(/y has/);
    expect(() => fitRidge([1, 2, 3], [1], 1, 2, 1)).toThrow(/x has/);
  });

  it('normalizeRows gives unit rows and leaves zero rows at zero', () => {
    const v = normalizeRows(Float32Array.from([3, 4, 0, 0]), 2);
    close(v[0], 0.6, 1e-6, 1e-7);
    close(v[1], 0.8, 1e-6, 1e-7);
    expect([v[2], v[3]]).toEqual([0, 0]);
  });
});

describe('figures and comparison', () => {
  it('draws one panel per method through scatterFigure, explained variance in the titles, external sites ringed', () => {
    const panel = (title: string) => ({
      title,
      x: Float64Array.from([0, 1, 2]),
      y: Float64Array.from([1, 0, 2]),
      explained: [0.4321, 0.05] as [number, number],
    });
    const set = { age: Float32Array.from([10, 50, 80]), site: Int32Array.from([0, 1, 5]), external: Uint8Array.from([0, 0, 1]) };
    for (const by of ['age', 'site'] as const) {
      const f = embeddingFigure([panel('L1'), panel('L^exp')], set, by, { name: `t-${by}`, title: 'T' });
      expect(f.name).toBe(`t-${by}`);
      // 6 points, then (site) 3 legend entries and the ringed "external site" entry.
      expect(f.svg.match(/<circle/g)?.length).toBe(6 + (by === 'site' ? 4 : 0));
      expect(f.svg).toContain('L1 · PC 1 43 %, PC 2 5.0 %');
      expect(f.svg).not.toMatch(/hsl\(/);
      const data = f.data as { colourBy: string; panels: Array<{ method: string; explained: number[]; highlighted: number | null }> };
      expect(data.colourBy).toBe(by);
      expect(data.panels).toHaveLength(2);
      expect(data.panels[1]).toMatchObject({ method: 'L^exp', explained: [0.4321, 0.05], highlighted: by === 'site' ? 1 : null });
      if (by === 'site') {
        expect(f.svg.match(/stroke="#111"/g)?.length).toBe(2 + 1);
        expect(f.svg).toContain('>site 5 (ext)<');
        expect(f.svg).toContain('>external site<');
      } else {
        expect(f.svg).not.toContain('legend-highlight');
      }
    }
    const named = embeddingFigure([panel('L1')], { ...set, siteNames: ['Paris', 'Lyon', 'a', 'b', 'c', 'Nice'] }, 'site', { name: 'n', title: 'T' });
    expect(named.svg).toContain('>Nice (ext)<');
    const rows = pickRows(100, 50, 40, 0);
    expect(rows.length).toBe(40);
    expect(new Set(rows).size).toBe(40);
    expect([...pickRows(3, 2, 10, 0)]).toEqual([0, 1, 2, 3, 4]);
  });

  it('compares the best L^exp with L1', () => {
    const r = (method: string, loss: MethodResult['loss'], siteBAcc: number, internalMae: number, score: number) =>
      ({ method, loss, siteBAcc, internalMae, score }) as MethodResult;
    const c = compare([r('l1', 'l1', 0.9, 4, 6), r('l-exp:rbf:2', 'l-exp', 0.5, 4.4, 5.5), r('l-exp:rbf:1', 'l-exp', 0.95, 5, 5.9)]);
    expect(c).toMatchObject({ lExp: 'l-exp:rbf:2', siteBAccLower: true, scoreLower: true });
    close(c.internalMaeRelativeGap!, 0.1, 1e-12, 1e-12);
    expect(compare([r('l1', 'l1', 0.9, 4, 6)]).lExp).toBeNull();
  });
});
