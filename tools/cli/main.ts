/**
 * `npm start`: the main training job (tools/cli/job.ts) — vanilla CE vs ε-SupInfoNCE + FairKL on
 * Biased-MNIST, a table of unbiased / bias-aligned / bias-conflicting accuracy next to the
 * published numbers, written as JSON. The default protocol follows the adapter: `quick` (sized for
 * ≤ 15 minutes on a 2-core software adapter) or `gpu` (a few minutes on a GPU, long enough for the
 * debiasing effect to show); `--full` runs the published protocol. `--self-check` runs the old
 * adapter self-check instead.
 *
 *   npm start -- [--protocol quick|gpu|full] [--full] [--rho 0.997] [--seed 0] [--epochs N] [--ce-epochs N] [--train-size N] [--test-size N]
 *                [--only ce,end,fairkl] [--lambda 1] [--fairkl-lr LR] [--end-alpha A] [--end-beta B] [--end-lr LR] [--end-epochs N]
 *                [--batch N] [--channels a,b,c,d] [--strides a,b,c,d]
 *                [--out runs/<timestamp>/results.json] [--resume <run dir>] [--no-progress] [--no-figures]
 *                [--privacy] [--probe-train-size N] [--mlp-epochs N] [--gradcam-layer extracter|extracter.N]
 *
 * After each model is trained (or loaded from a finished run with --resume), diagnostics.ts computes
 * its Grad-CAM maps, digit mass, similarity histograms and per-cell accuracy; the figures of every
 * model go to <run dir>/figures (PNG + SVG + JSON) unless --no-figures.
 */
import { parseArgs } from 'node:util';
import { dirname, join } from 'node:path';
import cliProgress from 'cli-progress';
import { initGpu } from '@fairgpu/tensor';
import { FULL, gradcamLayer, MODEL_KEYS, probeTrainingSet, PROTOCOLS, PUBLISHED, PUBLISHED_PRIVACY, runJob, writeResults, type JobConfig, type ModelKey, type ModelResult } from './job.ts';
import { selfCheck } from './self-check.ts';
import { writeLeakageReport } from '@fairgpu/privacy/node';
import { DEFAULT_DIAGNOSTICS, diagnose, figuresDir, privacyReport, writeDiagnosticFigures, type ModelDiagnostics } from './diagnostics.ts';

const USAGE = `usage: npm start -- [--protocol quick|gpu|full] [--full] [--rho R] [--seed S] [--epochs N] [--ce-epochs N] [--train-size N] [--test-size N] [--only ce,end,fairkl] [--lambda L] [--fairkl-lr LR] [--end-alpha A] [--end-beta B] [--end-lr LR] [--end-epochs N] [--batch N] [--channels a,b,c,d] [--strides a,b,c,d] [--out FILE] [--resume DIR] [--no-progress] [--no-figures] [--privacy] [--probe-train-size N] [--mlp-epochs N] [--gradcam-layer PATH] | --self-check`;

function numberOption(name: string, value: string | undefined, check: (v: number) => boolean): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  if (!check(v)) throw new Error(`--${name}: invalid value '${value}'\n${USAGE}`);
  return v;
}

/** Columns padded to their widest cell, separated by │ (first row: the header). */
function printTable(rows: string[][]): void {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  │  '));
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'self-check': { type: 'boolean', default: false },
      full: { type: 'boolean', default: false },
      protocol: { type: 'string' },
      rho: { type: 'string' },
      seed: { type: 'string' },
      epochs: { type: 'string' },
      'ce-epochs': { type: 'string' },
      'train-size': { type: 'string' },
      'test-size': { type: 'string' },
      out: { type: 'string' },
      resume: { type: 'string' },
      only: { type: 'string' },
      lambda: { type: 'string' },
      'fairkl-lr': { type: 'string' },
      'end-alpha': { type: 'string' },
      'end-beta': { type: 'string' },
      'end-lr': { type: 'string' },
      'end-epochs': { type: 'string' },
      batch: { type: 'string' },
      channels: { type: 'string' },
      strides: { type: 'string' },
      'no-progress': { type: 'boolean', default: false },
      'no-figures': { type: 'boolean', default: false },
      privacy: { type: 'boolean', default: false },
      'probe-train-size': { type: 'string' },
      'mlp-epochs': { type: 'string' },
      'gradcam-layer': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values['self-check']) return selfCheck();

  if (values.protocol !== undefined && !Object.hasOwn(PROTOCOLS, values.protocol)) throw new Error(`--protocol: expected quick, gpu or full, got '${values.protocol}'\n${USAGE}`);
  if (values.full && values.protocol !== undefined && values.protocol !== 'full') throw new Error(`--full contradicts --protocol ${values.protocol}\n${USAGE}`);
  // The default protocol follows the adapter: what fits in minutes there.
  const gpu = await initGpu();
  const chosen = values.full ? 'full' : (values.protocol as keyof typeof PROTOCOLS | undefined) ?? (gpu.adapterInfo.isSoftware ? 'quick' : 'gpu');
  const base = PROTOCOLS[chosen];
  const int = (v: number) => Number.isInteger(v) && v >= 0;
  const list = (name: string, value: string | undefined, fallback: number[]): number[] => {
    if (value === undefined) return fallback;
    const v = value.split(',').map(Number);
    if (v.length !== 4 || !v.every((x) => Number.isInteger(x) && x > 0)) throw new Error(`--${name}: expected 4 positive integers separated by commas, got '${value}'\n${USAGE}`);
    return v;
  };
  const config: JobConfig = {
    ...base,
    rho: numberOption('rho', values.rho, (v) => v > 0 && v <= 1) ?? 0.997,
    seed: numberOption('seed', values.seed, int) ?? 0,
    epochs: numberOption('epochs', values.epochs, (v) => int(v) && v > 0) ?? base.epochs,
    // --epochs sets both models unless --ce-epochs says otherwise.
    ceEpochs: numberOption('ce-epochs', values['ce-epochs'], (v) => int(v) && v > 0) ?? (values.epochs !== undefined ? undefined : base.ceEpochs),
    trainSize: numberOption('train-size', values['train-size'], int) ?? base.trainSize,
    testSize: numberOption('test-size', values['test-size'], int) ?? base.testSize,
    batch: numberOption('batch', values.batch, (v) => int(v) && v >= 2) ?? base.batch,
    channels: list('channels', values.channels, base.channels),
    strides: list('strides', values.strides, base.strides),
    fairkl: {
      ...base.fairkl,
      lambda: numberOption('lambda', values.lambda, (v) => v >= 0 && Number.isFinite(v)) ?? base.fairkl.lambda,
      lr: numberOption('fairkl-lr', values['fairkl-lr'], (v) => v > 0 && Number.isFinite(v)) ?? base.fairkl.lr,
    },
    end: {
      ...base.end,
      alpha: numberOption('end-alpha', values['end-alpha'], (v) => v >= 0 && Number.isFinite(v)) ?? base.end.alpha,
      beta: numberOption('end-beta', values['end-beta'], (v) => v >= 0 && Number.isFinite(v)) ?? base.end.beta,
      lr: numberOption('end-lr', values['end-lr'], (v) => v > 0 && Number.isFinite(v)) ?? base.end.lr,
      epochs: numberOption('end-epochs', values['end-epochs'], (v) => int(v) && v > 0) ?? base.end.epochs,
    },
  };
  if (values.only !== undefined) {
    const keys = values.only.split(',');
    const unknown = keys.filter((k) => !(MODEL_KEYS as readonly string[]).includes(k));
    if (unknown.length || keys.length === 0 || new Set(keys).size !== keys.length) {
      throw new Error(`--only: expected distinct names from ${MODEL_KEYS.join(', ')} separated by commas, got '${values.only}'\n${USAGE}`);
    }
    config.models = keys as ModelKey[];
  }
  if (values.privacy && values['no-figures']) throw new Error(`--privacy needs the diagnostics: drop --no-figures\n${USAGE}`);
  const probeTrainSize = numberOption('probe-train-size', values['probe-train-size'], int) ?? 0;
  const mlpEpochs = numberOption('mlp-epochs', values['mlp-epochs'], int) ?? 10;
  const probeTrain = values.privacy ? probeTrainingSet(config, probeTrainSize) : undefined;
  const camLayer = values['gradcam-layer'] !== undefined ? { layer: values['gradcam-layer'], side: Number.NaN } : gradcamLayer(config);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const runDir = values.resume ?? (values.out ? dirname(values.out) : join('runs', stamp));
  const out = values.out ?? join(runDir, 'results.json');

  const info = gpu.adapterInfo;
  const adapter = `${info.description || info.device || info.vendor}${info.isSoftware ? ' (software)' : ''}`;
  const protocol = `${config.protocol} protocol: SimpleConvNet ${config.kernelSize}×${config.kernelSize}, channels [${config.channels.join(', ')}], strides [${config.strides.join(', ')}], `
    + `${config.trainSize || 'all 60000'} training images, ${config.ceEpochs !== undefined && config.ceEpochs !== config.epochs ? `${config.epochs} epochs (vanilla CE ${config.ceEpochs})` : `${config.epochs} epochs`}, batch ${config.batch}, FairKL λ = ${config.fairkl.lambda} (SGD lr ${config.fairkl.lr}, cosine), `
    + `test on ${config.testSize || 'all 10000'} ρ = 0.1 images`
    + (config.models.includes('end') ? `; EnD α = ${config.end.alpha}, β = ${config.end.beta} (Adam lr ${config.end.lr}${config.end.epochs !== undefined ? `, ${config.end.epochs} epochs` : ''})` : '');
  console.log(`adapter: ${adapter}`);
  console.log(protocol);
  if (config.protocol === 'quick') {
    const smaller = `a smaller net${config.trainSize ? ', a subset of the images' : ''}, ${config.epochs} instead of ${FULL.epochs} epochs`;
    const lambda = config.fairkl.lambda !== FULL.fairkl.lambda ? ` and FairKL λ = ${config.fairkl.lambda} instead of ${FULL.fairkl.lambda}` : '';
    console.log(`(quick protocol, the default on software adapters: ${smaller}${lambda}, so the job fits ≤ 15 min on 2 CPU cores; --protocol gpu or --full on a GPU)`);
  } else if (config.protocol === 'gpu') {
    console.log(`(gpu protocol, the default on hardware adapters: the quick network on all images for ${config.epochs} epochs, FairKL λ = ${config.fairkl.lambda} instead of ${FULL.fairkl.lambda}; --full runs the published protocol)`);
  }

  const multibar = !values['no-progress'] && process.stdout.isTTY
    ? new cliProgress.MultiBar({ format: '{model} |{bar}| {value}/{total} steps | epoch {epoch} | loss {loss} | lr {lr} | {ips} img/s', hideCursor: true, clearOnComplete: false }, cliProgress.Presets.shades_classic)
    : null;
  const bars = new Map<string, cliProgress.SingleBar>();
  const t0 = performance.now();
  let results: ModelResult[];
  const diagnostics: ModelDiagnostics[] = [];
  let privacy: Awaited<ReturnType<typeof privacyReport>> | undefined;
  let testSet: Parameters<typeof writeDiagnosticFigures>[1] | undefined;
  try {
    results = await runJob({
      gpu, config, runDir, resume: values.resume !== undefined,
      analyse: values['no-figures'] ? undefined : async (model, test, evaluation) => {
        testSet = test;
        const t = performance.now();
        diagnostics.push(await diagnose(model, test, evaluation, { ...DEFAULT_DIAGNOSTICS, gradcamLayer: camLayer.layer }, probeTrain));
        const d = diagnostics.at(-1)!;
        const line = `${model.name}: diagnostics in ${((performance.now() - t) / 1000).toFixed(1)} s — Grad-CAM (${camLayer.layer}) mass on digit pixels ${d.digitMass.mean === null ? 'n/a (every map is zero)' : `${(100 * d.digitMass.mean).toFixed(1)} %`} over the ${d.digitMass.count} of ${DEFAULT_DIAGNOSTICS.massImages} conflicting test images whose map is not all zero (digits cover ${(100 * d.digitMass.digitArea).toFixed(1)} % of the image)`;
        if (multibar) multibar.log(`${line}\n`);
        else console.log(line);
      },
      log: (line) => (multibar ? multibar.log(`${line}\n`) : console.log(line)),
      onProgress: (model, e) => {
        if (e.type === 'step') {
          const payload = { model: model.padEnd(22), epoch: e.epoch + 1, loss: e.loss?.toFixed(4) ?? '-', lr: e.lr.toExponential(2), ips: e.imagesPerSecond.toFixed(0) };
          if (multibar) {
            let bar = bars.get(model);
            if (!bar) bars.set(model, (bar = multibar.create(e.totalSteps, 0, payload)));
            bar.update(e.globalStep, payload);
          }
        } else if (e.type === 'epoch') {
          const line = `${model}: epoch ${e.epoch + 1}/${e.epochs} mean loss ${e.meanLoss.toFixed(4)}, ${e.seconds.toFixed(1)} s, ${e.imagesPerSecond.toFixed(0)} images/s`;
          if (multibar) multibar.log(`${line}\n`);
          else console.log(line);
        }
      },
    });
  } finally {
    multibar?.stop();
  }
  const seconds = (performance.now() - t0) / 1000;

  const pct = (v: number) => (Number.isFinite(v) ? (100 * v).toFixed(1) : 'n/a');
  const rhoKey = String(config.rho);
  console.log(`\nBiased-MNIST ρ = ${config.rho}, test accuracy (%) — ${config.protocol} protocol, measured here on ${adapter}`);
  const rows = [['model', 'unbiased (ρ = 0.1 accuracy)', 'bias-aligned', 'bias-conflicting', 'epochs', 'train time'], ...results.map((r) => [r.name, pct(r.unbiased), pct(r.aligned), pct(r.conflicting), String(r.epochs), `${r.trainSeconds.toFixed(0)} s`])];
  printTable(rows);
  console.log(`\nPublished unbiased accuracy at ρ = ${config.rho} (full protocol: 7×7 SimpleConvNet, 80 epochs, all images, GPUs):`);
  for (const [name, byRho] of Object.entries(PUBLISHED)) console.log(`  ${name}: ${byRho[rhoKey] ?? 'not published for this ρ'}`);
  const ce = results.find((r) => r.key === 'ce');
  for (const other of results.filter((r) => r.key !== 'ce')) {
    if (!ce) break;
    const margin = other.unbiased - ce.unbiased;
    console.log(`\n${other.name} − vanilla CE, unbiased accuracy: ${margin >= 0 ? '+' : ''}${(100 * margin).toFixed(1)} points.`);
  }
  if (diagnostics.length) {
    const pm = (g: { mean: number | null; std: number | null }) => (g.mean === null ? 'n/a' : `${g.mean.toFixed(3)} ± ${g.std!.toFixed(3)}`);
    console.log(`\nWhere the models look (Grad-CAM at '${camLayer.layer}'${Number.isFinite(camLayer.side) ? `, ${camLayer.side}×${camLayer.side} maps` : ''}) and what their features order (ρ = 0.1 test set):`);
    const drows = [['model', 'Grad-CAM mass on digit', 'cell-mean acc', 'worst cell', 's+ aligned', 's+ conflicting', 's− aligned', 's− conflicting'],
      ...diagnostics.map((d) => [d.name, d.digitMass.mean === null ? 'n/a' : `${(100 * d.digitMass.mean).toFixed(1)} %`, pct(d.groups.unbiased), pct(d.groups.worstGroup),
        pm(d.similarity.positiveAligned), pm(d.similarity.positiveConflicting), pm(d.similarity.negativeAligned), pm(d.similarity.negativeConflicting)])];
    printTable(drows);
    console.log(`(digit pixels cover ${(100 * diagnostics[0].digitMass.digitArea).toFixed(1)} % of an image: a map that ignores the digit puts less than that on it; FairKL's aim is s+ aligned ≈ s+ conflicting)`);
    if (probeTrain) {
      const t = performance.now();
      const report = await privacyReport(diagnostics, probeTrain, testSet!, { mlpEpochs, seed: config.seed });
      const privacyDir = join(runDir, 'privacy');
      const written = await writeLeakageReport(report, privacyDir);
      privacy = report;
      console.log(`\nPrivacy (${((performance.now() - t) / 1000).toFixed(0)} s): colour predicted from the frozen bottleneck — probes trained on ${probeTrain.labels.length} ρ = 0.999 training images, scored on the ρ = 0.1 test set (lower = more private)`);
      const prow = [['model', 'linear probe', 'balanced', 'MLP probe', 'chance', 'PC1 mean Bhattacharyya', 'published linear probe, ρ = 0.997'],
        ...report.models.map((m, i) => {
          const key = diagnostics.filter((d) => d.embeddings)[i].key;
          return [m.name, m.linear ? pct(m.linear.accuracy) : '-', m.linear ? pct(m.linear.balancedAccuracy) : '-', m.mlp ? pct(m.mlp.accuracy) : '-', pct(m.chance),
            m.gaussian ? m.gaussian.summary.meanBhattacharyya.toFixed(3) : '-', PUBLISHED_PRIVACY[key] !== undefined ? `${PUBLISHED_PRIVACY[key]}` : 'not published'];
        })];
      printTable(prow);
      console.log('(published: linear probe on the 128-d bottleneck of the full-protocol models, ICCVW 2021; Bhattacharyya 1 = the colours overlap on PC 1)');
      console.log(`privacy report written to ${written.markdown}, ${written.json} and ${privacyDir}/gaussian-leakage.png`);
    }
    const written = await writeDiagnosticFigures(diagnostics, testSet!, figuresDir(runDir));
    console.log(`figures written to ${figuresDir(runDir)}: ${written.filter((p) => p.endsWith('.png')).map((p) => p.split('/').at(-1)).join(', ')} (+ .svg, .json)`);
  }
  console.log(`Total time ${((performance.now() - t0) / 1000).toFixed(0)} s.`);

  writeResults(out, {
    dataset: 'Biased-MNIST', rho: config.rho, seed: config.seed, protocol: config.protocol, config, adapter, seconds,
    results: results.map((r) => ({ ...r, unbiased: 100 * r.unbiased, aligned: 100 * r.aligned, conflicting: 100 * r.conflicting })),
    diagnostics: diagnostics.map((d) => ({
      key: d.key, name: d.name, digitMass: d.digitMass, groups: d.groups, similarity: d.similarity,
    })),
    ...(privacy ? { privacy: { attribute: privacy.attribute, probeTrain: { rho: 0.999, images: probeTrain!.labels.length }, models: privacy.models } } : {}),
    published: Object.fromEntries(Object.entries(PUBLISHED).map(([k, v]) => [k, v[rhoKey] ?? null])),
  });
  console.log(`results written to ${out}`);
  gpu.destroy();
  return 0;
}

// dawn.node keeps the process alive while its GPU object is referenced: exit explicitly.
main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error instanceof Error ? `${error.name}: ${error.message}` : error);
    process.exit(1);
  },
);
