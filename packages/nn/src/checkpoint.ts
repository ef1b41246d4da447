/**
 * Checkpoints on disk (Node): one safetensors file holding every tensor of the run (models,
 * optimizer state) with PyTorch key names under a prefix per object, and the scalars (loop
 * position, learning rates, scheduler steps, seeds, anything the caller adds) as JSON in the
 * `__metadata__`. Written atomically: a temporary file in the same directory, fsync, rename, fsync
 * of the directory. A process killed at any moment leaves either the old or the new checkpoint.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { assertKnownOptions, InvalidArgumentError, type Device, type Tensor } from '@fairgpu/tensor';
import type { Module } from './module.ts';
import type { Optimizer } from './optim.ts';
import type { LrScheduler } from './schedule.ts';
import { SafetensorsError } from './safetensors.ts';
import { safetensorsToStateDict, stateDictToSafetensors } from './state.ts';
import type { LoopPosition } from './train.ts';

/**
 * Writes bytes to `path` atomically (temp file in the same directory, fsync, rename, fsync dir).
 * If any step before the rename fails, the temporary file is removed and the error rethrown: a
 * failed write leaves the directory as it was.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  if (typeof path !== 'string' || path === '') throw new InvalidArgumentError('writeFileAtomic', 'path', `must be a non-empty string, got ${String(path)}`);
  if (typeof bytes !== 'string' && !(bytes instanceof Uint8Array))
    throw new InvalidArgumentError('writeFileAtomic', 'bytes', 'must be a Uint8Array or a string');
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const data = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
  try {
    const fd = openSync(tmp, 'w');
    try {
      let off = 0;
      while (off < data.length) off += writeSync(fd, data, off, data.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  try {
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // Some platforms cannot open a directory for fsync; the rename itself is still atomic.
  }
}

export interface CheckpointParts {
  models?: Record<string, Module>;
  optimizers?: Record<string, Optimizer>;
  schedulers?: Record<string, LrScheduler>;
  position: LoopPosition;
  /** Anything JSON the caller needs back (seeds, configuration, results so far). */
  extra?: unknown;
}

interface CheckpointMeta {
  format: 'fairgpu-checkpoint-1';
  position: LoopPosition;
  optimizers: Record<string, { lr: number; step: number }>;
  schedulers: Record<string, { lastStep: number }>;
  extra: unknown;
}

const PART_KEYS = ['models', 'optimizers', 'schedulers'] as const;

function checkParts(op: string, parts: unknown, known: readonly string[]): void {
  if (!parts || typeof parts !== 'object')
    throw new InvalidArgumentError(op, 'parts', `must be an object { ${known.join(', ')} }, got ${parts === null ? 'null' : typeof parts}`);
  assertKnownOptions(op, parts, known);
  for (const key of PART_KEYS) {
    const v = (parts as Record<string, unknown>)[key];
    if (v !== undefined && (v === null || typeof v !== 'object')) throw new InvalidArgumentError(op, `parts.${key}`, 'must be an object of named parts');
  }
}

export async function saveCheckpoint(path: string, parts: CheckpointParts): Promise<void> {
  checkParts('saveCheckpoint', parts, [...PART_KEYS, 'position', 'extra']);
  checkPosition('saveCheckpoint', parts.position);
  const tensors = new Map<string, Tensor>();
  for (const [name, m] of Object.entries(parts.models ?? {})) for (const [k, t] of m.stateDict()) tensors.set(`model.${name}.${k}`, t);
  const meta: CheckpointMeta = { format: 'fairgpu-checkpoint-1', position: parts.position, optimizers: {}, schedulers: {}, extra: parts.extra ?? null };
  for (const [name, o] of Object.entries(parts.optimizers ?? {})) {
    const sd = o.stateDict();
    for (const [k, t] of sd.tensors) tensors.set(`optim.${name}.${k}`, t);
    meta.optimizers[name] = sd.scalars;
  }
  for (const [name, s] of Object.entries(parts.schedulers ?? {})) meta.schedulers[name] = s.stateDict();
  const bytes = await stateDictToSafetensors(tensors, { fairgpu: JSON.stringify(meta) });
  writeFileAtomic(path, bytes);
}

function checkPosition(op: string, position: unknown): asserts position is LoopPosition {
  const p = position as Partial<LoopPosition> | null;
  if (
    !p ||
    typeof p !== 'object' ||
    !['epoch', 'index', 'globalStep'].every((k) => Number.isInteger(p[k as keyof LoopPosition]) && (p[k as keyof LoopPosition] as number) >= 0)
  ) {
    throw new InvalidArgumentError(op, 'position', `must be { epoch, index, globalStep } of integers ≥ 0, got ${JSON.stringify(position)}`);
  }
}

/**
 * Restores models, optimizers and schedulers in place from `path`; returns the position and extra,
 * or null when there is no checkpoint file. Objects must be built as for the saved run. Atomic:
 * every part is validated against the file before any is changed, and the file's tensors are
 * freed whatever happens.
 */
export function loadCheckpoint(
  path: string,
  parts: Omit<CheckpointParts, 'position' | 'extra'>,
  device?: Device,
): { position: LoopPosition; extra: unknown } | null {
  checkParts('loadCheckpoint', parts, PART_KEYS);
  if (!existsSync(path)) return null;
  if (statSync(path).size > 2 ** 31) throw new SafetensorsError(`checkpoint ${path} exceeds 2 GiB`);
  const { tensors, metadata } = safetensorsToStateDict(new Uint8Array(readFileSync(path)), device);
  try {
    let meta: CheckpointMeta;
    try {
      meta = JSON.parse(metadata.fairgpu ?? '') as CheckpointMeta;
    } catch {
      throw new SafetensorsError(`${path} has no fairgpu checkpoint metadata`);
    }
    if (meta?.format !== 'fairgpu-checkpoint-1') throw new SafetensorsError(`${path} is not a fairgpu checkpoint`);
    if (!meta.optimizers || typeof meta.optimizers !== 'object' || !meta.schedulers || typeof meta.schedulers !== 'object') {
      throw new SafetensorsError(`${path} has malformed fairgpu checkpoint metadata`);
    }
    checkPosition('loadCheckpoint', meta.position);
    const pick = (prefix: string) => new Map([...tensors].filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k.slice(prefix.length), t]));
    const models = Object.entries(parts.models ?? {}).map(([name, m]) => [m, pick(`model.${name}.`)] as const);
    const optimizers = Object.entries(parts.optimizers ?? {}).map(([name, o]) => {
      if (!meta.optimizers[name]) throw new InvalidArgumentError('loadCheckpoint', name, 'optimizer is missing from the checkpoint');
      return [o, { tensors: pick(`optim.${name}.`), scalars: meta.optimizers[name] }] as const;
    });
    const schedulers = Object.entries(parts.schedulers ?? {}).map(([name, s]) => {
      if (!meta.schedulers[name]) throw new InvalidArgumentError('loadCheckpoint', name, 'scheduler is missing from the checkpoint');
      return [s, meta.schedulers[name]] as const;
    });
    // Validate everything, then load everything.
    for (const [m, state] of models) m.checkStateDict(state);
    for (const [o, dict] of optimizers) o.checkStateDict(dict);
    for (const [s, state] of schedulers) s.checkStateDict(state);
    for (const [m, state] of models) m.loadStateDict(state);
    for (const [o, dict] of optimizers) o.loadStateDict(dict);
    for (const [s, state] of schedulers) s.loadStateDict(state);
    return { position: meta.position, extra: meta.extra };
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}

/** Removes a checkpoint file (after a run completes). */
export function removeCheckpoint(path: string): void {
  rmSync(path, { force: true });
}
