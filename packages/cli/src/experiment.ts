/**
 * What an experiment is to the runner: a name, a zod schema for its config, one preset config per
 * protocol, and a `run` that trains and evaluates under a RunContext, then returns every number
 * (results.json) and its part of the report (sections of report/blocks.ts).
 *
 * The runner (runner.ts) owns the run directory, the config file, the progress display (TTY bars,
 * plain lines or JSON Lines), the training curves and the report files; an experiment only writes
 * its checkpoints and figures under `ctx.runDir`.
 */
import type { GpuContext } from '@fairgpu/tensor';
import type { ProgressEvent } from '@fairgpu/nn';
import type { z } from 'zod';
import type { ReportSection } from './report/blocks.ts';

/**
 * smoke: ≤ 60 s on 2 cores (tests, CI); quick: ≤ 15 min on 2 cores without a GPU; gpu: minutes on
 * one GPU; full: the published protocol.
 */
export const PROTOCOL_NAMES = ['smoke', 'quick', 'gpu', 'full'] as const;
export type ProtocolName = (typeof PROTOCOL_NAMES)[number];

export interface RunContext<C> {
  gpu: GpuContext;
  protocol: ProtocolName;
  /** The validated config: the protocol's preset with the user's overrides. */
  config: C;
  /** Where checkpoints (`*.ckpt.safetensors`) and figures (`figures/*.png`) go. */
  runDir: string;
  /** True when continuing a run: load finished or partial checkpoints instead of starting over. */
  resume: boolean;
  /** A line for the reader (a plain line, above the progress bars, or a JSON Lines 'log' event). */
  log(line: string): void;
  /**
   * Training progress of one task (a model). Epoch events also become the report's training
   * curves (mean loss per epoch per task), kept across resumes.
   */
  progress(task: string, event: ProgressEvent): void;
  /** A structured event for `--json` consumers (e.g. a model's evaluation). */
  event(type: string, data: Record<string, unknown>): void;
}

export interface ExperimentOutput {
  /** Every number the run measured, JSON-serialisable (results.json's `results`). */
  results: Record<string, unknown>;
  /** The experiment's report sections, in order (the runner adds the run's header and curves). */
  sections: ReportSection[];
  /** One-line summary for the terminal and report's top ("ε-SupInfoNCE + FairKL 50.4 % vs CE 9.9 %"). */
  headline?: string;
}

export interface Experiment<C = unknown> {
  name: string;
  /** One line for `fairgpu list` and --help. */
  summary: string;
  schema: z.ZodType<C>;
  protocols: Record<ProtocolName, C>;
  /** The protocol when the user gives none: depends on the adapter. */
  defaultProtocol(isSoftwareAdapter: boolean): ProtocolName;
  /** A sentence on the chosen protocol versus the published one, for the start of the run and the report. */
  describe(config: C, protocol: ProtocolName): string;
  run(ctx: RunContext<C>): Promise<ExperimentOutput>;
}
