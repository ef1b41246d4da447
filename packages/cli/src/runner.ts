/**
 * Runs one experiment into a run directory:
 *
 *   <run dir>/run.json          experiment, protocol, config, adapter (written first: --resume reads it)
 *   <run dir>/curves.json       mean training loss per epoch per task (kept across resumes)
 *   <run dir>/results.json      every number (the experiment's results + the run's metadata)
 *   <run dir>/report.md, report.html, figures/…, checkpoints
 *
 * Every file is written atomically (temporary file, fsync, rename): a killed run never leaves a
 * truncated results.json or report.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lineChartFigure } from '@fairgpu/metrics';
import { writeFigure } from '@fairgpu/metrics/node';
import { writeFileAtomic } from '@fairgpu/nn/node';
import type { GpuContext } from '@fairgpu/tensor';
import { resolveConfig, UsageError } from './config.ts';
import type { Display } from './display.ts';
import type { Experiment, ExperimentOutput, ProtocolName } from './experiment.ts';
import { PROTOCOL_NAMES } from './experiment.ts';
import { figure, list, paragraph, type ReportSection } from './report/blocks.ts';
import { reportToHtml } from './report/html.ts';
import { reportToMarkdown } from './report/markdown.ts';
import { reportTablesToText } from './report/terminal.ts';

export interface RunRequest {
  experiment: Experiment<unknown>;
  gpu: GpuContext;
  display: Display;
  /** Default: the experiment's choice for this adapter. */
  protocol?: ProtocolName;
  configFile?: Record<string, unknown>;
  sets?: string[];
  /** The run directory (default runs/<experiment>-<timestamp>). */
  out?: string;
  /** Continue the run in this directory with its saved config. */
  resume?: string;
  /** How the run was started, for the report's "reproduce" line. */
  command?: string;
}

export interface RunManifest {
  experiment: string;
  protocol: ProtocolName;
  config: unknown;
  adapter: string;
  startedAt: string;
  command?: string;
}

export interface RunOutcome {
  runDir: string;
  manifest: RunManifest;
  output: ExperimentOutput;
  seconds: number;
  files: { results: string; markdown: string; html: string; curves?: string };
}

/** Mean loss per epoch (index = epoch; null where an epoch's mean is unknown), per task. */
export type Curves = Record<string, (number | null)[]>;

export function adapterName(gpu: GpuContext): string {
  const info = gpu.adapterInfo;
  return `${info.description || info.device || info.vendor || 'unknown adapter'}${info.isSoftware ? ' (software)' : ''}`;
}

export function readManifest(runDir: string): RunManifest {
  const path = join(runDir, 'run.json');
  if (!existsSync(path)) throw new UsageError(`--resume: '${runDir}' is not a run directory (no run.json)`);
  try {
    const manifest = JSON.parse(readFileSync(path, 'utf8')) as RunManifest;
    if (typeof manifest.experiment !== 'string' || !PROTOCOL_NAMES.includes(manifest.protocol)) throw new Error('missing experiment or protocol');
    return manifest;
  } catch (error) {
    throw new UsageError(`--resume: '${path}' is not a valid run.json: ${(error as Error).message}`);
  }
}

function writeJson(path: string, value: unknown): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

export async function runExperiment(request: RunRequest): Promise<RunOutcome> {
  const { experiment, gpu, display } = request;
  const started = new Date();
  let runDir: string;
  let manifest: RunManifest;
  if (request.resume !== undefined) {
    if (request.configFile || request.sets?.length || request.protocol)
      throw new UsageError('--resume continues a run with its saved config: drop --protocol, --config and --set');
    runDir = request.resume;
    manifest = readManifest(runDir);
    if (manifest.experiment !== experiment.name) throw new UsageError(`--resume: '${runDir}' is a run of '${manifest.experiment}', not '${experiment.name}'`);
    manifest.config = resolveConfig(experiment.schema, manifest.config, {});
  } else {
    const protocol = request.protocol ?? experiment.defaultProtocol(gpu.adapterInfo.isSoftware);
    const config = resolveConfig(experiment.schema, experiment.protocols[protocol], { file: request.configFile, sets: request.sets });
    runDir = request.out ?? join('runs', `${experiment.name}-${started.toISOString().replace(/[:.]/g, '-')}`);
    if (existsSync(join(runDir, 'run.json')))
      throw new UsageError(`--out: '${runDir}' already holds a run (use --resume ${runDir} to continue it, or another --out)`);
    manifest = { experiment: experiment.name, protocol, config, adapter: adapterName(gpu), startedAt: started.toISOString(), command: request.command };
  }
  mkdirSync(runDir, { recursive: true });
  writeJson(join(runDir, 'run.json'), manifest);

  const curvesPath = join(runDir, 'curves.json');
  const curves: Curves = request.resume !== undefined && existsSync(curvesPath) ? (JSON.parse(readFileSync(curvesPath, 'utf8')) as Curves) : {};
  display.log(`adapter: ${adapterName(gpu)}`);
  display.log(experiment.describe(manifest.config, manifest.protocol));
  display.event('start', {
    experiment: experiment.name,
    protocol: manifest.protocol,
    runDir,
    resume: request.resume !== undefined,
    config: manifest.config as Record<string, unknown>,
  });

  const t0 = performance.now();
  let output: ExperimentOutput;
  try {
    output = await experiment.run({
      gpu,
      protocol: manifest.protocol,
      config: manifest.config,
      runDir,
      resume: request.resume !== undefined,
      log: (line) => display.log(line),
      event: (type, data) => display.event(type, data),
      progress: (task, e) => {
        display.progress(task, e);
        if (e.type === 'epoch') {
          const c = (curves[task] ??= []);
          while (c.length < e.epoch) c.push(null);
          c[e.epoch] = Number.isFinite(e.meanLoss) ? e.meanLoss : null;
          writeJson(curvesPath, curves);
        }
      },
    });
  } finally {
    display.close();
  }
  const seconds = (performance.now() - t0) / 1000;

  const sections: ReportSection[] = [overview(experiment, manifest, runDir, seconds, output), ...output.sections];
  const curvesFigure = await writeCurves(curves, runDir);
  if (curvesFigure)
    sections.push({
      title: 'Training curves',
      blocks: [figure(curvesFigure, 'Mean training loss per epoch, one panel per model (the loss each model minimises; scales differ).')],
    });

  const results = join(runDir, 'results.json');
  writeJson(results, { ...manifest, finishedAt: new Date().toISOString(), seconds, headline: output.headline ?? null, results: output.results, curves });
  const files = writeReport(runDir, sections, reportTitle(experiment, manifest));
  display.log(`\n${reportTablesToText(output.sections)}`);
  if (output.headline) display.log(`\n${output.headline}`);
  display.log(`\nreport: ${files.html} (and report.md); every number: ${results}; total ${seconds.toFixed(0)} s`);
  display.event('done', { runDir, results, report: files.html, markdown: files.markdown, seconds, headline: output.headline ?? null });
  return { runDir, manifest, output, seconds, files: { results, ...files, ...(curvesFigure ? { curves: join(runDir, curvesFigure) } : {}) } };
}

function reportTitle(experiment: Experiment<unknown>, manifest: RunManifest): string {
  return `fairgpu: ${experiment.name} (${manifest.protocol} protocol)`;
}

function overview(experiment: Experiment<unknown>, manifest: RunManifest, runDir: string, seconds: number, output: ExperimentOutput): ReportSection {
  return {
    title: 'Run',
    blocks: [
      ...(output.headline ? [paragraph(`**${output.headline}**`)] : []),
      paragraph(experiment.summary),
      list([
        experiment.describe(manifest.config, manifest.protocol),
        `adapter: ${manifest.adapter}`,
        `started ${manifest.startedAt}, ${(seconds / 60).toFixed(1)} min of experiment time`,
        `run directory: \`${runDir}\` (config in run.json, every number in results.json)`,
        ...(manifest.command ? [`reproduce: \`${manifest.command}\``] : []),
      ]),
    ],
  };
}

/** The training-curves figure (one panel per task) under figures/, or null without any epoch. */
async function writeCurves(curves: Curves, runDir: string): Promise<string | null> {
  const panels = Object.entries(curves)
    .map(([task, losses]) => ({ title: task, series: [{ name: task, points: losses.flatMap((y, i) => (y === null ? [] : [{ x: i + 1, y }])) }] }))
    .filter((p) => p.series[0].points.length > 0);
  if (panels.length === 0) return null;
  const fig = lineChartFigure({ name: 'training-curves', title: 'Mean training loss per epoch', xLabel: 'epoch', yLabel: 'mean loss', panels });
  await writeFigure(fig, join(runDir, 'figures'));
  return 'figures/training-curves.png';
}

/** report.md and report.html from the same sections, and the sections themselves (report.json: `fairgpu report` re-renders from it). */
export function writeReport(runDir: string, sections: ReportSection[], title: string): { markdown: string; html: string } {
  const markdown = join(runDir, 'report.md');
  const html = join(runDir, 'report.html');
  writeJson(join(runDir, 'report.json'), { title, sections });
  writeFileAtomic(markdown, reportToMarkdown(title, sections));
  writeFileAtomic(html, reportToHtml(title, sections, runDir));
  return { markdown, html };
}

/** Renders report.md and report.html again from a finished run's report.json (figures re-inlined). */
export function rerenderReport(runDir: string): { markdown: string; html: string; sections: ReportSection[] } {
  const path = join(runDir, 'report.json');
  if (!existsSync(path)) throw new UsageError(`report: '${runDir}' has no report.json (not a finished run directory)`);
  const { title, sections } = JSON.parse(readFileSync(path, 'utf8')) as { title: string; sections: ReportSection[] };
  return { ...writeReport(runDir, sections, title), sections };
}
