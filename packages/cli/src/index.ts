/**
 * fairgpu — the command and its experiment runner as a library:
 *   - main(argv) runs the CLI (resolves to the exit code);
 *   - runExperiment runs one experiment into a run directory (results.json, report.md/html);
 *   - EXPERIMENTS: biased-mnist, privacy, brain-age (each an Experiment: schema, protocols, run);
 *   - the report blocks and renderers, for experiments of your own.
 */
export { main, buildProgram, VERSION } from './main.ts';
export { runExperiment, rerenderReport, writeReport, readManifest, adapterName } from './runner.ts';
export type { RunRequest, RunOutcome, RunManifest, Curves } from './runner.ts';
export { resolveConfig, parseSet, deepMerge, readConfigFile, UsageError } from './config.ts';
export { createDisplay, colorEnabled } from './display.ts';
export type { Display, DisplayMode, DisplayOptions } from './display.ts';
export { PROTOCOL_NAMES } from './experiment.ts';
export type { Experiment, ExperimentOutput, ProtocolName, RunContext } from './experiment.ts';
export { EXPERIMENTS, DEFAULT_EXPERIMENT } from './experiments/index.ts';
export { biasedMnist, privacy, runBiasedMnist } from './experiments/biased-mnist/index.ts';
export { brainAge } from './experiments/brain-age/index.ts';
export * from './report/blocks.ts';
export { reportToMarkdown } from './report/markdown.ts';
export { reportToHtml } from './report/html.ts';
export { reportTablesToText, tableToText } from './report/terminal.ts';
export { doctor } from './doctor.ts';
