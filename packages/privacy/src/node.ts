/** @fairgpu/privacy/node — leakage reports written to files (atomic). */
import { join } from 'node:path';
import { writeFigure, type WrittenFigure } from '@fairgpu/metrics/node';
import { writeFileAtomic } from '@fairgpu/nn/node';
import { InvalidArgumentError } from '@fairgpu/tensor';
import { leakageMarkdown, type LeakageReport } from './report.ts';

export * from './index.ts';

export interface WrittenLeakageReport {
  json: string;
  markdown: string;
  figures: WrittenFigure[];
}

/**
 * Writes `<outDir>/leakage.json` (the report's numbers, figures left out), `<outDir>/leakage.md`
 * (the table) and every figure as PNG + SVG + JSON (writeFigure). Each file is written to a
 * temporary file, fsynced and renamed into place.
 */
export async function writeLeakageReport(report: LeakageReport, outDir: string): Promise<WrittenLeakageReport> {
  const op = 'writeLeakageReport';
  if (typeof report !== 'object' || report === null || !Array.isArray(report.models))
    throw new InvalidArgumentError(op, 'report', 'must be a report from leakageReport()');
  if (typeof outDir !== 'string' || outDir === '') throw new InvalidArgumentError(op, 'outDir', 'must be a non-empty path');
  const figures: WrittenFigure[] = [];
  for (const f of report.figures) figures.push(await writeFigure(f, outDir));
  const { figures: _figures, ...numbers } = report;
  const json = join(outDir, 'leakage.json');
  const markdown = join(outDir, 'leakage.md');
  writeFileAtomic(json, `${JSON.stringify({ ...numbers, figures: report.figures.map((f) => f.name) }, null, 2)}\n`);
  writeFileAtomic(markdown, leakageMarkdown(report));
  return { json, markdown, figures };
}
