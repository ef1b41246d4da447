/**
 * The leakage report: per model, linear and MLP attribute probes next to chance, and the Gaussian
 * PCA fit, from precomputed embeddings or from a frozen encoder and dataset batches.
 */
import { gaussianDensityFigure, type Figure } from '@fairgpu/metrics';
import { concat, InvalidArgumentError, isTensor, noGrad, scope, type Tensor } from '@fairgpu/tensor';
import { gaussianLeakage, type GaussianLeakage } from './gaussian.ts';
import { attributeProbe, type GroupAccuracy, type LinearProbeOptions, type MlpProbeOptions, type ProbeResult } from './probe.ts';
import { checkEmbeddings, readAttribute, type AttributeLike } from './validate.ts';

/** A frozen encoder: a function, or a module with `features(x)` (used first) or `forward(x)`. */
export type Encoder = ((x: Tensor) => Tensor) | { features(x: Tensor): Tensor } | { forward(x: Tensor): Tensor };

/** One batch of inputs and the private attribute of each sample. */
export interface EncoderBatch {
  x: Tensor;
  attribute: AttributeLike;
}

export type BatchSource = Iterable<EncoderBatch> | AsyncIterable<EncoderBatch>;

export type LeakageModel =
  | { name: string; trainEmbeddings: Tensor; testEmbeddings: Tensor; trainAttribute?: AttributeLike; testAttribute?: AttributeLike }
  | { name: string; encoder: Encoder; train: BatchSource; test: BatchSource };

export interface LeakageReportOptions {
  /** The models compared (one report row and figure panel each). */
  models?: LeakageModel[];
  /**
   * The single-model form: `{ encoder, train, test, attribute }` stands for
   * `models: [{ name: name ?? 'model', encoder, train, test }]`. Not with `models`.
   */
  encoder?: Encoder;
  train?: BatchSource;
  test?: BatchSource;
  name?: string;
  /** The attribute's name (default 'attribute') and, for embedding models, its train/test values shared by every model. */
  attribute?: { name?: string; train?: AttributeLike; test?: AttributeLike };
  /** Linear probe options, or false to skip it. */
  linear?: false | LinearProbeOptions;
  /** MLP probe options (seed included), or false to skip it. */
  mlp?: false | MlpProbeOptions;
  /** Gaussian PCA fit options, or false to skip it. Default: component 0 of the test embeddings. */
  gaussian?: false | { component?: number; split?: 'train' | 'test'; minStd?: number };
  /** Group names in the figure (default `group <g>`). */
  label?: (group: number) => string;
}

export interface ProbeSummary {
  accuracy: number;
  balancedAccuracy: number;
  chance: number;
  trainAccuracy: number;
  perGroup: GroupAccuracy[];
  /** Linear: L-BFGS iterations / stop reason / converged; MLP: steps, epochs, hidden, last epoch loss. */
  fit: Record<string, number | string | boolean>;
}

export interface LeakageModelReport {
  name: string;
  nTrain: number;
  nTest: number;
  dim: number;
  /** Majority group's share of the test set. */
  chance: number;
  linear: ProbeSummary | null;
  mlp: ProbeSummary | null;
  gaussian: (Omit<GaussianLeakage, 'groups' | 'figure'> & { split: 'train' | 'test'; groups: Array<Omit<GaussianLeakage['groups'][number], 'values'>> }) | null;
}

export interface LeakageReport {
  attribute: string;
  models: LeakageModelReport[];
  /** 'gaussian-leakage': the fitted densities, one panel per model (absent with > 10 groups or gaussian: false). */
  figures: Figure[];
}

const OP = 'leakageReport';

/**
 * Runs the attribute-inference attack (linear and MLP probes) and the Gaussian PCA fit for each
 * model; returns plain numbers (JSON-ready) and the figures. Write it with `writeLeakageReport`
 * from `@fairgpu/privacy/node`.
 *
 * @example
 * // one frozen encoder over { x, attribute } batches
 * const one = await leakageReport({ encoder: net, train: trainBatches, test: testBatches, attribute: { name: 'colour' } });
 * // several models side by side
 * const report = await leakageReport({
 *   models: [
 *     { name: 'vanilla', encoder: vanilla, train: trainBatches, test: testBatches },
 *     { name: 'EnD', trainEmbeddings: a, testEmbeddings: b, trainAttribute: colTrain, testAttribute: colTest },
 *   ],
 *   attribute: { name: 'colour' },
 * });
 */
export async function leakageReport(options: LeakageReportOptions): Promise<LeakageReport> {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError(OP, 'options', 'must be an object');
  if (options.encoder !== undefined) {
    if (options.models !== undefined) throw new InvalidArgumentError(OP, 'encoder', 'cannot be given with models (put the encoder in models[i].encoder)');
    if (options.train === undefined || options.test === undefined)
      throw new InvalidArgumentError(OP, options.train === undefined ? 'train' : 'test', 'is required with encoder (batches of { x, attribute })');
    const { encoder, train, test, name, ...rest } = options;
    return leakageReport({ ...rest, models: [{ name: name ?? 'model', encoder, train, test }] });
  }
  if (!Array.isArray(options.models) || options.models.length === 0)
    throw new InvalidArgumentError(OP, 'models', 'must be a non-empty array (or give encoder, train and test for one model)');
  const names = new Set<string>();
  options.models.forEach((m, i) => {
    if (typeof m !== 'object' || m === null || typeof m.name !== 'string' || m.name === '')
      throw new InvalidArgumentError(OP, `models[${i}].name`, 'must be a non-empty string');
    if (names.has(m.name)) throw new InvalidArgumentError(OP, `models[${i}].name`, `repeats ${JSON.stringify(m.name)}`);
    names.add(m.name);
    if (!('encoder' in m) && !('trainEmbeddings' in m))
      throw new InvalidArgumentError(OP, `models[${i}]`, 'needs either trainEmbeddings/testEmbeddings or encoder/train/test');
  });
  const attributeName = options.attribute?.name ?? 'attribute';
  const gaussianOptions = options.gaussian === false ? null : (options.gaussian ?? {});
  const split = gaussianOptions?.split ?? 'test';
  if (split !== 'train' && split !== 'test') throw new InvalidArgumentError(OP, 'gaussian.split', `must be 'train' or 'test', got ${String(split)}`);

  const reports: LeakageModelReport[] = [];
  const fits: Array<{ name: string; g: GaussianLeakage }> = [];
  for (const [i, m] of options.models.entries()) {
    const r = await scope(async () => {
      const data = await embeddingsOf(m, i, options.attribute);
      const summary = (p: ProbeResult): ProbeSummary => ({
        accuracy: p.accuracy,
        balancedAccuracy: p.balancedAccuracy,
        chance: p.chance,
        trainAccuracy: p.trainAccuracy,
        perGroup: p.perGroup,
        fit: p.linear
          ? { iterations: p.linear.iterations, stop: p.linear.stop, converged: p.linear.converged, gradMax: p.linear.gradMax, loss: p.linear.loss }
          : { steps: p.mlp!.steps, epochs: p.mlp!.epochs, hidden: p.mlp!.hidden, lastEpochLoss: p.mlp!.lastEpochLoss },
      });
      const input = { trainEmbeddings: data.train, trainAttribute: data.trainAttribute, testEmbeddings: data.test, testAttribute: data.testAttribute };
      const linear = options.linear === false ? null : summary(await attributeProbe({ ...input, ...(options.linear ?? {}), probe: 'linear' }));
      const mlp = options.mlp === false ? null : summary(await attributeProbe({ ...input, ...(options.mlp ?? {}), probe: 'mlp' }));
      let gaussian: LeakageModelReport['gaussian'] = null;
      if (gaussianOptions) {
        const g = await gaussianLeakage(split === 'test' ? data.test : data.train, split === 'test' ? data.testAttribute : data.trainAttribute, {
          component: gaussianOptions.component,
          minStd: gaussianOptions.minStd,
          figure: false,
        });
        fits.push({ name: m.name, g });
        gaussian = {
          component: g.component,
          split,
          explainedVarianceRatio: g.explainedVarianceRatio,
          groups: g.groups.map(({ values: _values, ...rest }) => rest),
          pairs: g.pairs,
          summary: g.summary,
        };
      }
      const counts = new Map<number, number>();
      for (const v of data.testAttribute) counts.set(v, (counts.get(v) ?? 0) + 1);
      return {
        name: m.name,
        nTrain: data.train.shape[0],
        nTest: data.test.shape[0],
        dim: data.train.shape[1],
        chance: Math.max(...counts.values()) / data.testAttribute.length,
        linear,
        mlp,
        gaussian,
      };
    });
    reports.push(r);
  }

  const figures: Figure[] = [];
  if (fits.length && fits.every((f) => f.g.groups.length <= 10)) {
    const label = options.label ?? ((g: number) => `${attributeName} ${g}`);
    const component = fits[0].g.component;
    figures.push(
      gaussianDensityFigure({
        name: 'gaussian-leakage',
        title: `${attributeName}: Gaussian fit per group on principal component ${component + 1} (${split} embeddings)`,
        panels: fits.map(({ name, g }) => ({
          title: `${name} (mean BC ${g.summary.meanBhattacharyya.toFixed(3)})`,
          groups: g.groups.map((x) => ({ label: label(x.group), mean: x.mean, std: x.std, values: x.values })),
        })),
        xLabel: `projection on PC${component + 1}`,
      }),
    );
  }
  return { attribute: attributeName, models: reports, figures };
}

function callEncoder(encoder: Encoder, x: Tensor): Tensor {
  if (typeof encoder === 'function') return encoder(x);
  if ('features' in encoder && typeof encoder.features === 'function') return encoder.features(x);
  if ('forward' in encoder && typeof encoder.forward === 'function') return encoder.forward(x);
  throw new InvalidArgumentError(OP, 'encoder', 'must be a function or have features(x) / forward(x)');
}

async function embeddingsOf(m: LeakageModel, i: number, shared: LeakageReportOptions['attribute']) {
  if ('encoder' in m) {
    const enc = m.encoder;
    if (enc === null || (typeof enc !== 'function' && typeof enc !== 'object'))
      throw new InvalidArgumentError(OP, `models[${i}].encoder`, 'must be a function or a module');
    // A module runs in eval mode (BatchNorm running statistics, no dropout) and is restored after.
    const mod = enc as { training?: unknown; train?: (mode: boolean) => unknown; eval?: () => unknown };
    const wasTraining = typeof mod.training === 'boolean' && typeof mod.train === 'function' ? mod.training : null;
    if (wasTraining !== null) mod.train!(false);
    try {
      const train = await encode(enc, m.train, `models[${i}].train`);
      const test = await encode(enc, m.test, `models[${i}].test`);
      return { train: train.embeddings, test: test.embeddings, trainAttribute: train.attribute, testAttribute: test.attribute };
    } finally {
      if (wasTraining !== null) mod.train!(wasTraining);
    }
  }
  const train = checkEmbeddings(OP, `models[${i}].trainEmbeddings`, m.trainEmbeddings);
  const test = checkEmbeddings(OP, `models[${i}].testEmbeddings`, m.testEmbeddings);
  const trainValues = m.trainAttribute ?? shared?.train;
  const testValues = m.testAttribute ?? shared?.test;
  if (trainValues === undefined) throw new InvalidArgumentError(OP, `models[${i}].trainAttribute`, 'is missing (give it on the model or as attribute.train)');
  if (testValues === undefined) throw new InvalidArgumentError(OP, `models[${i}].testAttribute`, 'is missing (give it on the model or as attribute.test)');
  return {
    train,
    test,
    trainAttribute: await readAttribute(OP, `models[${i}].trainAttribute`, trainValues, train.shape[0]),
    testAttribute: await readAttribute(OP, `models[${i}].testAttribute`, testValues, test.shape[0]),
  };
}

async function encode(encoder: Encoder, source: BatchSource, argument: string): Promise<{ embeddings: Tensor; attribute: Int32Array }> {
  if (source === null || typeof source !== 'object' || !(Symbol.iterator in source || Symbol.asyncIterator in source)) {
    throw new InvalidArgumentError(OP, argument, 'must be an iterable or async iterable of { x, attribute } batches');
  }
  const chunks: Tensor[] = [];
  const attributes: Int32Array[] = [];
  let b = 0;
  for await (const batch of source as AsyncIterable<EncoderBatch>) {
    if (typeof batch !== 'object' || batch === null || !isTensor(batch.x)) throw new InvalidArgumentError(OP, `${argument}[${b}].x`, 'must be a Tensor');
    const e = noGrad(() => callEncoder(encoder, batch.x));
    checkEmbeddings(OP, `${argument}[${b}] (encoder output)`, e);
    if (e.shape[0] !== batch.x.shape[0])
      throw new InvalidArgumentError(OP, `${argument}[${b}] (encoder output)`, `has ${e.shape[0]} rows for a batch of ${batch.x.shape[0]}`);
    if (chunks.length && e.shape[1] !== chunks[0].shape[1])
      throw new InvalidArgumentError(OP, `${argument}[${b}] (encoder output)`, `has ${e.shape[1]} features, batch 0 had ${chunks[0].shape[1]}`);
    attributes.push(await readAttribute(OP, `${argument}[${b}].attribute`, batch.attribute, e.shape[0]));
    chunks.push(e.detach());
    b++;
  }
  if (!chunks.length) throw new InvalidArgumentError(OP, argument, 'yielded no batches');
  const embeddings = chunks.length === 1 ? chunks[0] : concat(chunks, 0);
  const attribute = new Int32Array(attributes.reduce((n, a) => n + a.length, 0));
  let off = 0;
  for (const a of attributes) {
    attribute.set(a, off);
    off += a.length;
  }
  return { embeddings, attribute };
}

/** leakage.md: one row per model. */
export function leakageMarkdown(report: LeakageReport): string {
  const pct = (v: number | undefined) => (v === undefined ? '–' : `${(100 * v).toFixed(2)} %`);
  const lines = [
    `# Attribute leakage: ${report.attribute}`,
    '',
    'Probe accuracy on held-out embeddings (lower = more private); balanced accuracy of the linear probe; chance = majority group share of the test set; Bhattacharyya = mean pairwise coefficient of the per-group Gaussian fits on the principal component (1 = indistinguishable).',
    '',
    '| model | linear probe acc | MLP acc | balanced acc | chance | Bhattacharyya |',
    '|---|---|---|---|---|---|',
    ...report.models.map(
      (m) =>
        `| ${m.name.replace(/\|/g, '\\|')} | ${pct(m.linear?.accuracy)} | ${pct(m.mlp?.accuracy)} | ${pct(m.linear?.balancedAccuracy)} | ${pct(m.chance)} | ${m.gaussian ? m.gaussian.summary.meanBhattacharyya.toFixed(4) : '–'} |`,
    ),
    '',
  ];
  return lines.join('\n');
}
