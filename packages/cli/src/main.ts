/**
 * The `fairgpu` command. `main(argv)` resolves to the exit code: 0 ok, 1 a failed run, 2 bad usage
 * (an unknown flag, a bad value, a config key that does not exist — one line naming it).
 *
 *   fairgpu run <experiment> [--protocol smoke|quick|gpu|full] [--config FILE] [--set key=value]… [--dataset NAME] [--data DIR] [--out DIR] [--resume DIR] [--json] [--no-progress]
 *   fairgpu list | config <experiment> [--schema] | train | eval <ckpt> | gradcam <ckpt> | privacy <ckpt…> | report <run dir> | bench [suite] | doctor
 */
import { join } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { z } from 'zod';
import { initGpu, NoAdapterError, type GpuContext } from '@fairgpu/tensor';
import { writeLeakageReport } from '@fairgpu/privacy/node';
import { readConfigFile, resolveConfig, UsageError } from './config.ts';
import { createDisplay, type Display } from './display.ts';
import { doctor } from './doctor.ts';
import { PROTOCOL_NAMES, type ProtocolName } from './experiment.ts';
import { EXPERIMENTS } from './experiments/index.ts';
import { MODEL_KEYS, MODEL_NAMES } from './experiments/biased-mnist/index.ts';
import { locateCheckpoint, type CheckpointRef } from './experiments/biased-mnist/checkpoint.ts';
import { DEFAULT_DIAGNOSTICS, diagnose, privacyReport, writeDiagnosticFigures } from './experiments/biased-mnist/diagnostics.ts';
import { disposeModel, evaluate, probeTrainingSet, restoreModel, testSet } from './experiments/biased-mnist/job.ts';
import { gradcamLayer } from './experiments/biased-mnist/config.ts';
import { pct, table } from './report/blocks.ts';
import { reportTablesToText, tableToText } from './report/terminal.ts';
import { rerenderReport, runExperiment } from './runner.ts';

export const VERSION = '0.1.0';

interface IO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

interface OutputFlags {
  json?: boolean;
  progress?: boolean;
}

const protocolOption = () =>
  new Option(
    '-p, --protocol <name>',
    'smoke (≤ 60 s, tests), quick (≤ 15 min on 2 cores), gpu, full (published); default: quick on a software adapter, gpu on a GPU',
  ).choices(PROTOCOL_NAMES);
const collect = (value: string, previous: string[]) => [...previous, value];

function experimentArg(name: string) {
  const experiment = EXPERIMENTS[name];
  if (!experiment) throw new InvalidArgumentError(`unknown experiment '${name}' (known: ${Object.keys(EXPERIMENTS).join(', ')})`);
  return experiment;
}

function positiveInt(flag: string) {
  return (value: string) => {
    const v = Number(value);
    if (!Number.isInteger(v) || v < 0) throw new InvalidArgumentError(`${flag} must be a non-negative integer, got '${value}'`);
    return v;
  };
}

/**
 * `--dataset` / `--data` as `--set dataset=…` / `--set data=…` (JSON strings, so a path stays a
 * string), for the experiments whose config has those keys.
 */
function datasetFlags(
  experiment: { name: string; protocols: Record<ProtocolName, unknown> },
  flags: { dataset?: string; data?: string; resume?: string },
): string[] {
  const sets: string[] = [];
  for (const key of ['dataset', 'data'] as const) {
    const value = flags[key];
    if (value === undefined) continue;
    if (flags.resume !== undefined) throw new UsageError(`--${key}: --resume continues a run with its saved config`);
    const preset = experiment.protocols.quick;
    if (preset === null || typeof preset !== 'object' || !(key in preset)) throw new UsageError(`--${key}: experiment '${experiment.name}' takes no --${key}`);
    sets.push(`${key}=${JSON.stringify(value)}`);
  }
  return sets;
}

/** The GPU for a command, with fairgpu's own message when there is none. */
async function gpuFor(display: Display): Promise<GpuContext> {
  try {
    return await initGpu();
  } catch (error) {
    if (error instanceof NoAdapterError) display.warn('no WebGPU adapter: run `fairgpu doctor` for what to install');
    throw error;
  }
}

export function buildProgram(io: IO, state: { code: number }): Command {
  const display = (flags: OutputFlags) => createDisplay({ json: flags.json, progress: flags.progress, stdout: io.stdout, stderr: io.stderr, env: io.env });
  const program = new Command('fairgpu')
    .description('Fairness, debiasing and privacy experiments of the ε-SupInfoNCE / FairKL / EnD line on WebGPU, with reports')
    .version(VERSION)
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
  const withGpu = async (flags: OutputFlags, body: (gpu: GpuContext, d: Display) => Promise<number>) => {
    const d = display(flags);
    const gpu = await gpuFor(d);
    try {
      state.code = await body(gpu, d);
    } finally {
      d.close();
      gpu.destroy();
    }
  };
  const outputOptions = (c: Command) =>
    c.option('--json', 'JSON Lines events on stdout instead of text').option('--no-progress', 'plain lines instead of progress bars');

  outputOptions(
    program
      .command('run')
      .description('run an experiment into a run directory: results.json, report.html, report.md, figures')
      .argument('<experiment>', `one of ${Object.keys(EXPERIMENTS).join(', ')}`, experimentArg)
      .addOption(protocolOption())
      .option('-c, --config <file>', 'JSON config overrides on top of the protocol (keys as in `fairgpu config <experiment>`)')
      .option('-s, --set <key=value>', 'one config override, e.g. --set rhos=[0.99,0.997] --set fairkl.lambda=10 (repeatable)', collect, [])
      .option('-o, --out <dir>', 'run directory (default runs/<experiment>-<timestamp>)')
      .option('-r, --resume <dir>', 'continue the run in <dir> where it stopped (finished models are not retrained)')
      .option('--dataset <name>', 'for experiments with a dataset key (generic-vision: cifar10, cifar100, imagenet100); same as --set dataset=<name>')
      .option('--data <dir>', 'directory of the dataset files, for experiments with a data key (generic-vision); same as --set data=<dir>'),
  ).action(async (experiment, flags) => {
    // Bad config files and values are usage errors before the adapter starts (the default
    // protocol depends on the adapter; any preset catches unknown keys and bad values).
    const configFile = flags.config ? readConfigFile(flags.config) : undefined;
    const sets: string[] = [...datasetFlags(experiment, flags), ...flags.set];
    if (flags.resume === undefined)
      resolveConfig(experiment.schema, experiment.protocols[(flags.protocol as ProtocolName | undefined) ?? 'quick'], { file: configFile, sets });
    await withGpu(flags, async (gpu, d) => {
      await runExperiment({
        experiment,
        gpu,
        display: d,
        protocol: flags.protocol as ProtocolName | undefined,
        configFile,
        sets,
        out: flags.out,
        resume: flags.resume,
        command: `fairgpu ${process.argv.slice(2).join(' ')}`,
      });
      return 0;
    });
  });

  program
    .command('list')
    .description('the experiments and their protocols')
    .action(() => {
      for (const e of Object.values(EXPERIMENTS))
        io.stdout.write(`${e.name.padEnd(14)} ${e.summary}\n${''.padEnd(14)} protocols: ${PROTOCOL_NAMES.join(', ')}\n`);
    });

  program
    .command('config')
    .description("print an experiment's config for a protocol (JSON: edit it and pass it back with --config), or its JSON Schema")
    .argument('<experiment>', 'experiment name', experimentArg)
    .addOption(protocolOption().default('quick'))
    .option('-s, --set <key=value>', 'override (repeatable)', collect, [])
    .option('--schema', 'print the JSON Schema of the config instead')
    .action((experiment, flags) => {
      const value = flags.schema
        ? z.toJSONSchema(experiment.schema, { unrepresentable: 'any' })
        : resolveConfig(experiment.schema, experiment.protocols[flags.protocol as ProtocolName], { sets: flags.set });
      io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    });

  outputOptions(
    program
      .command('train')
      .description('train one Biased-MNIST model (no diagnostics) and keep its checkpoint')
      .requiredOption('-m, --model <key>', `model: ${MODEL_KEYS.join(', ')}`)
      .option('--rho <ρ>', 'training colour correlation', '0.997')
      .addOption(protocolOption())
      .option('-s, --set <key=value>', 'config override (repeatable)', collect, [])
      .option('-o, --out <dir>', 'run directory'),
  ).action(async (flags) => {
    if (!(MODEL_KEYS as readonly string[]).includes(flags.model))
      throw new UsageError(`--model: expected one of ${MODEL_KEYS.join(', ')}, got '${flags.model}'`);
    await withGpu(flags, async (gpu, d) => {
      const outcome = await runExperiment({
        experiment: EXPERIMENTS['biased-mnist'],
        gpu,
        display: d,
        protocol: flags.protocol,
        out: flags.out,
        sets: [`models=["${flags.model}"]`, `rhos=[${flags.rho}]`, 'diagnostics=false', 'privacy.enabled=false', ...flags.set],
        command: `fairgpu ${process.argv.slice(2).join(' ')}`,
      });
      d.log(`checkpoint: ${join(outcome.runDir, `rho-${Number(flags.rho)}`, `${flags.model}.ckpt.safetensors`)}`);
      return 0;
    });
  });

  outputOptions(
    program
      .command('eval')
      .description("accuracy of a Biased-MNIST checkpoint on its run's ρ = 0.1 test set (overall, bias-aligned, bias-conflicting)")
      .argument('<checkpoint>', '<run dir>/rho-<ρ>/<model>.ckpt.safetensors'),
  ).action(async (path, flags) => {
    const ref = locateCheckpoint(path);
    await withGpu(flags, async (_gpu, d) => {
      const model = restoreModel(ref.key, ref.job, ref.path);
      try {
        const { groups } = await evaluate(model, testSet(ref.job), 500);
        d.event('eval', {
          checkpoint: path,
          key: ref.key,
          rho: ref.rho,
          accuracy: groups.accuracy,
          aligned: groups.aligned,
          conflicting: groups.conflicting,
          worstGroup: groups.worstGroup,
        });
        d.log(
          tableToText(
            table(
              ['model', 'unbiased', 'bias-aligned', 'bias-conflicting', 'worst cell'],
              [[MODEL_NAMES[ref.key], pct(groups.accuracy), pct(groups.aligned), pct(groups.conflicting), pct(groups.worstGroup)]],
              { caption: `${path}: test accuracy (%) on ${groups.counts.total} ρ = 0.1 images, trained at ρ = ${ref.rho}` },
            ),
          ),
        );
      } finally {
        disposeModel(model);
      }
      return 0;
    });
  });

  outputOptions(
    program
      .command('gradcam')
      .description('Grad-CAM, similarity histograms and per-cell accuracy of Biased-MNIST checkpoints (figures as PNG + SVG + JSON)')
      .argument('<checkpoints...>', 'one or more <model>.ckpt.safetensors of the same run and ρ')
      .option('-o, --out <dir>', 'figure directory (default <run dir>/figures/gradcam-<ρ>)')
      .option('--layer <path>', "the encoder layer explained ('extracter' or 'extracter.<n>'; default the deepest ≥ 7×7)"),
  ).action(async (paths: string[], flags) => {
    const refs = sameRun(paths.map(locateCheckpoint));
    await withGpu(flags, async (_gpu, d) => {
      const { diagnostics, test } = await analyseCheckpoints(refs, { layer: flags.layer });
      const out = flags.out ?? join(refs[0].runDir, 'figures', `gradcam-${refs[0].rho}`);
      const written = await writeDiagnosticFigures(diagnostics, test, out);
      for (const x of diagnostics)
        d.log(
          `${x.name}: Grad-CAM mass on digit pixels ${x.digitMass.mean === null ? 'n/a' : `${pct(x.digitMass.mean)} %`} (digits cover ${pct(x.digitMass.digitArea)} %)`,
        );
      d.event('figures', { files: written });
      d.log(`figures: ${written.filter((p) => p.endsWith('.png')).join(', ')}`);
      return 0;
    });
  });

  outputOptions(
    program
      .command('privacy')
      .description('the colour-inference attack on Biased-MNIST checkpoints: linear + MLP probes on the frozen bottleneck, Gaussian leakage of PC 1')
      .argument('<checkpoints...>', 'one or more <model>.ckpt.safetensors of the same run and ρ')
      .option('-o, --out <dir>', 'report directory (default <run dir>/privacy-<ρ>)')
      .option('--probe-train-size <n>', 'ρ = 0.999 training images the probes learn from (0 = all 60,000)', positiveInt('--probe-train-size'), 0)
      .option('--mlp-epochs <n>', 'MLP probe epochs (0 = linear probe only)', positiveInt('--mlp-epochs'), 10),
  ).action(async (paths: string[], flags) => {
    const refs = sameRun(paths.map(locateCheckpoint));
    await withGpu(flags, async (_gpu, d) => {
      const probeTrain = probeTrainingSet(refs[0].job, flags.probeTrainSize);
      const { diagnostics, test } = await analyseCheckpoints(refs, { probeTrain });
      const report = await privacyReport(diagnostics, probeTrain, test, { mlpEpochs: flags.mlpEpochs, seed: refs[0].config.seed });
      const out = flags.out ?? join(refs[0].runDir, `privacy-${refs[0].rho}`);
      const written = await writeLeakageReport(report, out);
      d.log(
        tableToText(
          table(
            ['model', 'linear probe', 'balanced', 'MLP probe', 'chance'],
            report.models.map((m) => [
              m.name,
              m.linear ? pct(m.linear.accuracy) : '-',
              m.linear ? pct(m.linear.balancedAccuracy) : '-',
              m.mlp ? pct(m.mlp.accuracy) : '-',
              pct(m.chance),
            ]),
            {
              caption: `colour predicted from the frozen bottleneck (%, lower = more private), probes trained on ${probeTrain.labels.length} ρ = 0.999 images`,
            },
          ),
        ),
      );
      d.event('privacy', {
        models: report.models.map((m) => ({ name: m.name, linear: m.linear?.accuracy ?? null, mlp: m.mlp?.accuracy ?? null, chance: m.chance })),
        markdown: written.markdown,
        json: written.json,
      });
      d.log(`privacy report: ${written.markdown}, ${written.json}`);
      return 0;
    });
  });

  program
    .command('report')
    .description("render a finished run's report.md and report.html again (figures re-inlined) and print its tables")
    .argument('<run dir>', 'a run directory')
    .action((runDir: string) => {
      const { html, markdown, sections } = rerenderReport(runDir);
      io.stdout.write(`${reportTablesToText(sections)}\n\nreport: ${html} (and ${markdown})\n`);
    });

  program
    .command('bench')
    .description('benchmarks, each against a baseline measured in the same run: tensor (default), losses, train')
    .argument('[suite]', 'tensor | losses | train', 'tensor')
    .option('--json', 'one JSON object per row')
    .option('--sizes <list>', 'comma-separated sizes (tensor, losses)')
    .option('--batch <n>', 'batch size (train)', positiveInt('--batch'))
    .option('--vs-torch', 'train: the same SimpleConvNet steps in PyTorch on the CPU, with the ratio (needs python3 with torch)')
    .action(async (suite: string, flags) => {
      const { runBench } = await import('./bench/index.ts');
      state.code = await runBench(
        suite,
        { json: flags.json, sizes: flags.sizes?.split(',').map(Number), batch: flags.batch, vsTorch: flags.vsTorch },
        (line) => io.stdout.write(`${line}\n`),
        (line) => io.stderr.write(`${line}\n`),
      );
    });

  program
    .command('doctor')
    .description('find the WebGPU adapter, print its features and limits, run a self-test; says what to install when there is none')
    .action(async () => {
      state.code = await doctor((line) => io.stdout.write(`${line}\n`));
    });

  return program;
}

function sameRun(refs: CheckpointRef[]): CheckpointRef[] {
  const [first] = refs;
  for (const r of refs) {
    if (r.runDir !== first.runDir || r.rho !== first.rho)
      throw new UsageError(`checkpoints: '${r.path}' is not from the same run and ρ as '${first.path}' (they share one test set)`);
  }
  if (new Set(refs.map((r) => r.key)).size !== refs.length) throw new UsageError('checkpoints: the same model is given twice');
  return refs;
}

/** Diagnostics of restored checkpoints on their run's test set (one model on the GPU at a time). */
async function analyseCheckpoints(refs: CheckpointRef[], options: { layer?: string; probeTrain?: ReturnType<typeof probeTrainingSet> }) {
  const test = testSet(refs[0].job);
  const layer = options.layer ?? refs[0].config.gradcamLayer ?? gradcamLayer(refs[0].config).layer;
  if (!/^extracter(\.\d+)?$/.test(layer)) throw new UsageError(`--layer: expected 'extracter' or 'extracter.<n>', got '${layer}'`);
  const diagnostics = [];
  for (const ref of refs) {
    const model = restoreModel(ref.key, ref.job, ref.path);
    try {
      const evaluation = await evaluate(model, test, 500);
      diagnostics.push(await diagnose(model, test, evaluation, { ...DEFAULT_DIAGNOSTICS, gradcamLayer: layer }, options.probeTrain));
    } finally {
      disposeModel(model);
    }
  }
  return { diagnostics, test };
}

/** Runs the CLI on `argv` (without node and the script) and resolves to the exit code. */
export async function main(argv: string[], io: IO = { stdout: process.stdout, stderr: process.stderr, env: process.env }): Promise<number> {
  const state = { code: 0 };
  const program = buildProgram(io, state);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return state.code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; every parse error (already printed by commander, one line) is usage.
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help' ? 0 : 2;
    }
    if (error instanceof UsageError) {
      io.stderr.write(`error: ${error.message}\n`);
      return 2;
    }
    const e = error as Error;
    io.stderr.write(`error: ${e?.name ?? 'Error'}: ${e?.message ?? String(error)}\n`);
    if (io.env.FAIRGPU_DEBUG && e?.stack) io.stderr.write(`${e.stack}\n`);
    return 1;
  }
}
