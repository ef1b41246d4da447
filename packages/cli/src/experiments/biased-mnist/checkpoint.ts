/**
 * Biased-MNIST checkpoints outside a run: `fairgpu eval | gradcam | privacy <checkpoint>` find the
 * run a checkpoint belongs to (`<run dir>/rho-<ρ>/<model>.ckpt.safetensors`, config in
 * `<run dir>/run.json`), rebuild the model with that config and load the weights.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UsageError } from '../../config.ts';
import { readManifest } from '../../runner.ts';
import { biasedMnistConfigSchema, jobConfig, MODEL_KEYS, type BiasedMnistConfig, type JobConfig, type ModelKey } from './config.ts';

export interface CheckpointRef {
  path: string;
  runDir: string;
  key: ModelKey;
  rho: number;
  config: BiasedMnistConfig;
  job: JobConfig;
}

export function locateCheckpoint(path: string): CheckpointRef {
  if (!existsSync(path)) throw new UsageError(`checkpoint: '${path}' does not exist`);
  const file = basename(path);
  const match = /^([a-z]+)\.ckpt\.safetensors$/.exec(file);
  const key = match?.[1] as ModelKey | undefined;
  if (!key || !(MODEL_KEYS as readonly string[]).includes(key)) {
    throw new UsageError(
      `checkpoint: '${file}' is not a Biased-MNIST model checkpoint (expected <model>.ckpt.safetensors with model one of ${MODEL_KEYS.join(', ')})`,
    );
  }
  const rhoDir = basename(dirname(path));
  const rhoMatch = /^rho-([\d.]+)$/.exec(rhoDir);
  if (!rhoMatch) throw new UsageError(`checkpoint: '${path}' is not inside a run's rho-<ρ> directory`);
  const rho = Number(rhoMatch[1]);
  const runDir = dirname(dirname(path));
  if (!existsSync(join(runDir, 'run.json'))) throw new UsageError(`checkpoint: no run.json in '${runDir}': the checkpoint's model config is unknown`);
  const manifest = readManifest(runDir);
  const parsed = biasedMnistConfigSchema.safeParse(manifest.config);
  if (!parsed.success) throw new UsageError(`checkpoint: '${runDir}/run.json' is not a Biased-MNIST run (experiment '${manifest.experiment}')`);
  return { path, runDir, key, rho, config: parsed.data, job: jobConfig(parsed.data, rho) };
}
