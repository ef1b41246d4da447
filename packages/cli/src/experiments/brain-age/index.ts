/**
 * `fairgpu run brain-age`: multi-site brain-age regression (the seed's third result, Barbano et al.
 * ISBI 2023) as the OpenBHB challenge evaluates it. Each method trains an MLP encoder on ROI
 * features (L1 through a linear head, or a kernel contrastive loss on the encoder's output); the
 * frozen embeddings then get a ridge age probe (internal / external MAE) and a logistic site probe
 * (balanced accuracy), and the challenge score Lc = BAcc^0.3 · MAE_ext. See docs/brain-age.md.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFigure } from '@fairgpu/metrics/node';
import type { Experiment, ExperimentOutput, ProtocolName, RunContext } from '../../experiment.ts';
import { figure, num, paragraph, pct, table, type ReportSection } from '../../report/blocks.ts';
import { brainAgeConfigSchema, parseMethod, PROTOCOLS, PUBLISHED, PUBLISHED_SITE_CLASSES, type BrainAgeConfig, type MethodSpec } from './config.ts';
import { loadBrainAgeData, type BrainAgeData } from './data.ts';
import { evaluateEmbeddings, type Evaluation } from './evaluation.ts';
import { embeddingFigure, pickRows, projectPanel, type PanelPoints } from './figures.ts';
import { BrainAgeModel, trainModel, type TrainOutcome } from './training.ts';

export { brainAgeConfigSchema, PROTOCOLS, PUBLISHED, parseMethod } from './config.ts';
export type { BrainAgeConfig, MethodSpec } from './config.ts';

export interface MethodResult extends Evaluation {
  method: string;
  key: string;
  label: string;
  loss: MethodSpec['loss'];
  kernel: MethodSpec['kernel'] | null;
  sigma: number | null;
  trainSeconds: number;
  stepsThisRun: number;
  finalEpochLoss: number | null;
  checkpoint: string;
}

export function describeProtocol(config: BrainAgeConfig, protocol: ProtocolName): string {
  const d = config.data;
  const data =
    d.source === 'synthetic'
      ? `synthetic ROI features (${d.generator.features} ROI + ${d.generator.nuisanceFeatures} nuisance, ${d.generator.internalSites} internal + ${d.generator.externalSites} external sites, ≈${d.generator.subjectsPerSite} subjects per site)`
      : `OpenBHB ${d.modalities.join(' + ')} ROI features from ${d.dir}`;
  const t = config.training;
  return (
    `Protocol '${protocol}': an MLP (hidden ${config.encoder.hidden.join('×') || 'none'} → ${config.encoder.embedding}-d embedding) on ${data}, ` +
    `${t.epochs} epochs, batch ${t.batchSize}, τ = ${t.temperature}, ${config.methods.length} methods; ` +
    `the published protocol trains a ResNet-18 3-D on the OpenBHB T1 volumes (3,227 training scans, 64 sites), τ = 0.1, batch 32, so the numbers are comparable in their ranking, not in value.`
  );
}

async function run(ctx: RunContext<BrainAgeConfig>): Promise<ExperimentOutput> {
  const config = brainAgeConfigSchema.parse(ctx.config);
  const methods = config.methods.map(parseMethod);
  const data = loadBrainAgeData(config);
  ctx.log(data.summary);
  mkdirSync(join(ctx.runDir, 'figures'), { recursive: true });
  const rows = pickRows(data.internalTest.n, data.externalTest.n, config.figure.points, config.seed);
  const results: MethodResult[] = [];
  const panels: PanelPoints[] = [];
  for (const method of methods) {
    const model = new BrainAgeModel(method, config, data.featureCount, data.train.age);
    try {
      const outcome: TrainOutcome = await trainModel(model, data.train, data.featureCount, {
        runDir: ctx.runDir,
        resume: ctx.resume,
        log: ctx.log,
        progress: (e) => ctx.progress(method.id, e),
      });
      const d = config.encoder.embedding;
      const embeddings = {
        d,
        train: await model.embed(data.train, data.featureCount),
        internalTest: await model.embed(data.internalTest, data.featureCount),
        externalTest: await model.embed(data.externalTest, data.featureCount),
      };
      const evaluation = await evaluateEmbeddings(embeddings, data, config.probes);
      panels.push(await projectPanel(method.label, embeddings.internalTest, embeddings.externalTest, d, rows));
      const r: MethodResult = {
        method: method.id,
        key: method.key,
        label: method.label,
        loss: method.loss,
        kernel: method.kernel ?? null,
        sigma: method.sigma ?? null,
        ...evaluation,
        trainSeconds: outcome.trainSeconds,
        stepsThisRun: outcome.stepsThisRun,
        finalEpochLoss: outcome.finalEpochLoss,
        checkpoint: `${method.key}.ckpt.safetensors`,
      };
      results.push(r);
      ctx.event('evaluation', { ...r });
      ctx.log(
        `${method.label}: internal MAE ${num(r.internalMae)}, external MAE ${num(r.externalMae)}, site BAcc ${pct(r.siteBAcc)} % (chance ${pct(r.siteChance)} %), Lc ${num(r.score)}`,
      );
    } finally {
      model.dispose();
    }
  }

  const set = {
    age: Float32Array.from(rows, (r) => (r < data.internalTest.n ? data.internalTest.age[r] : data.externalTest.age[r - data.internalTest.n])),
    site: Int32Array.from(rows, (r) => (r < data.internalTest.n ? data.internalTest.site[r] : data.externalTest.site[r - data.internalTest.n])),
    external: Uint8Array.from(rows, (r) => (r < data.internalTest.n ? 0 : 1)),
    siteNames: data.siteNames,
  };
  const figureDir = join(ctx.runDir, 'figures');
  const byAge = embeddingFigure(panels, set, 'age', {
    name: 'brain-age-embeddings-age',
    title: 'Test embeddings, first two principal components, coloured by age',
  });
  const bySite = embeddingFigure(panels, set, 'site', {
    name: 'brain-age-embeddings-site',
    title: 'Test embeddings, first two principal components, coloured by site',
  });
  await writeFigure(byAge, figureDir, { formats: ['png', 'json'] });
  await writeFigure(bySite, figureDir, { formats: ['png', 'json'] });
  const figures = { age: `figures/${byAge.name}.png`, site: `figures/${bySite.name}.png` };

  const comparison = compare(results);
  return {
    results: {
      data: {
        source: data.source,
        summary: data.summary,
        featureCount: data.featureCount,
        train: data.train.n,
        internalTest: data.internalTest.n,
        externalTest: data.externalTest.n,
        generator: data.generator ?? null,
      },
      methods: results,
      comparison,
      published: PUBLISHED,
      figures,
    },
    sections: sections(config, ctx.protocol, data, results, comparison, figures),
    headline: headline(results),
  };
}

export interface Comparison {
  /** The L^exp method compared with L1 (the one with the lowest Lc), or null without both. */
  lExp: string | null;
  siteBAccLower: boolean | null;
  scoreLower: boolean | null;
  /** (MAE_int(L^exp) − MAE_int(L1)) / MAE_int(L1). */
  internalMaeRelativeGap: number | null;
}

export function compare(results: readonly MethodResult[]): Comparison {
  const l1 = results.find((r) => r.loss === 'l1');
  const exps = results.filter((r) => r.loss === 'l-exp').sort((a, b) => a.score - b.score);
  if (!l1 || exps.length === 0) return { lExp: null, siteBAccLower: null, scoreLower: null, internalMaeRelativeGap: null };
  const e = exps[0];
  return {
    lExp: e.method,
    siteBAccLower: e.siteBAcc < l1.siteBAcc,
    scoreLower: e.score < l1.score,
    internalMaeRelativeGap: (e.internalMae - l1.internalMae) / l1.internalMae,
  };
}

function headline(results: readonly MethodResult[]): string {
  const best = [...results].sort((a, b) => a.score - b.score)[0];
  const l1 = results.find((r) => r.loss === 'l1');
  const part = (r: MethodResult) => `${r.label} Lc ${num(r.score)} (site BAcc ${pct(r.siteBAcc)} %, MAE ${num(r.internalMae)} / ${num(r.externalMae)})`;
  return l1 && best !== l1 ? `${part(best)} vs ${part(l1)}` : part(best);
}

function sections(
  config: BrainAgeConfig,
  protocol: ProtocolName,
  data: BrainAgeData,
  results: readonly MethodResult[],
  c: Comparison,
  figures: { age: string; site: string },
): ReportSection[] {
  const published = new Map(PUBLISHED.map((p) => [p.method, p]));
  const header = ['Method', 'MAE int', 'site BAcc %', 'MAE ext', 'Lc', 'published MAE int', 'BAcc %', 'MAE ext', 'Lc', 'train s'];
  const rows = results.map((r) => {
    const p = published.get(r.method);
    return [
      r.label,
      num(r.internalMae),
      pct(r.siteBAcc),
      num(r.externalMae),
      num(r.score),
      p ? num(p.internalMae) : '—',
      p ? pct(p.siteBAcc) : '—',
      p ? num(p.externalMae) : '—',
      p ? num(p.score) : '—',
      num(r.trainSeconds, 1),
    ];
  });
  const chance = results[0] ? pct(results[0].siteChance) : 'n/a';
  const verdict =
    c.lExp === null
      ? 'The run has no L1 and L^exp pair to compare.'
      : `${parseMethod(c.lExp).label} versus L1: site balanced accuracy ${c.siteBAccLower ? 'lower' : '**not** lower'}, Lc ${c.scoreLower ? 'lower (better)' : '**not** lower'}, internal MAE ${c.internalMaeRelativeGap! >= 0 ? '+' : ''}${pct(c.internalMaeRelativeGap!)} % relative to L1.`;
  return [
    {
      title: 'Multi-site brain age (OpenBHB challenge evaluation)',
      blocks: [
        paragraph(describeProtocol(config, protocol)),
        paragraph(
          `Data: ${data.summary}. Every representation is frozen and probed the same way: a ridge regression (α = ${config.probes.ridgeAlpha}, standardised embeddings) fitted on the training embeddings predicts age on the internal test set (held-out subjects of the training sites) and the external test set (sites never seen); a logistic regression (C = ${config.probes.logisticC}) fitted on the training embeddings predicts the site of internal-test subjects (balanced accuracy; chance ${chance} %, ${PUBLISHED_SITE_CLASSES} sites in OpenBHB: 1.6 %). Lc = BAcc^0.3 · MAE_ext, lower is better.`,
        ),
        table(header, rows, {
          caption: `Measured here (protocol '${protocol}') next to the published OpenBHB numbers (ResNet-18 3-D, Barbano et al. 2023)`,
          notes: ['MAE in years. Published rows exist for L1 (the organisers’ ResNet baseline) and the rbf σ = 2 kernels; "—" where the paper reports none.'],
        }),
        paragraph(verdict),
        figure(figures.age, 'First two principal components of the test embeddings (internal + external), coloured by age; one panel per method.'),
        figure(figures.site, 'The same projections coloured by site (external sites ringed): an encoder that ignores the scanner mixes the sites.'),
      ],
    },
  ];
}

export const brainAge: Experiment<BrainAgeConfig> = {
  name: 'brain-age',
  summary: 'Multi-site brain age: kernel contrastive regression (y-aware, L^exp, L^thr) vs L1, OpenBHB challenge evaluation (site BAcc, MAE, Lc)',
  schema: brainAgeConfigSchema,
  protocols: PROTOCOLS,
  defaultProtocol: (isSoftwareAdapter) => (isSoftwareAdapter ? 'quick' : 'gpu'),
  describe: describeProtocol,
  run,
};
