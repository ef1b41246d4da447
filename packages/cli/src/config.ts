/**
 * Experiment configs from the command line: the protocol's preset, then a JSON config file, then
 * `--set path=value` overrides, validated by the experiment's zod schema. Every problem is a
 * UsageError (exit code 2) whose one-line message names the key.
 */
import { readFileSync } from 'node:fs';
import type { z } from 'zod';

/** Bad usage: a flag, an argument, a config file or value. Exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `over` on top of `base`: objects merge key by key, anything else (arrays included) replaces. */
export function deepMerge<T>(base: T, over: unknown): T {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : (over as T);
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in out ? deepMerge(out[k], v) : v;
  return out as T;
}

/** `a.b.c=value` → { a: { b: { c: value } } }; the value is JSON when it parses, else a string. */
export function parseSet(expression: string): Record<string, unknown> {
  const eq = expression.indexOf('=');
  if (eq <= 0) throw new UsageError(`--set: expected key=value (e.g. --set fairkl.lambda=10), got '${expression}'`);
  const path = expression.slice(0, eq).trim().split('.');
  if (path.some((p) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(p)))
    throw new UsageError(`--set: '${expression.slice(0, eq)}' is not a key path (letters, digits, _ separated by dots)`);
  const raw = expression.slice(eq + 1);
  let value: Json;
  try {
    value = JSON.parse(raw) as Json;
  } catch {
    value = raw;
  }
  return path.reduceRight<Record<string, unknown>>((inner, key, i) => ({ [key]: i === path.length - 1 ? value : inner }), {});
}

export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--config: cannot read '${path}': ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--config: '${path}' is not valid JSON: ${(error as Error).message}`);
  }
  if (!isPlainObject(parsed)) throw new UsageError(`--config: '${path}' must hold a JSON object`);
  // `$schema` lets editors validate the file against the experiment's JSON Schema (fairgpu config --schema).
  const { $schema: _schema, ...rest } = parsed;
  return rest;
}

/** The first schema issue as one line naming its key (`config.fairkl.lambda: …`), plus how many more. */
export function formatIssues(error: z.ZodError, source: string): string {
  const [first, ...rest] = error.issues;
  const key = first.path.length ? first.path.map(String).join('.') : '(root)';
  let message = first.message;
  if (first.code === 'unrecognized_keys') message = `unknown key${first.keys.length > 1 ? 's' : ''} ${first.keys.map((k) => `'${k}'`).join(', ')}`;
  return `${source}: ${key}: ${message}${rest.length ? ` (and ${rest.length} more problem${rest.length > 1 ? 's' : ''})` : ''}`;
}

/** Preset ← file ← sets, validated: the config a run uses. */
export function resolveConfig<C>(schema: z.ZodType<C>, preset: C, overrides: { file?: Record<string, unknown>; sets?: string[] }): C {
  let merged: unknown = structuredClone(preset);
  if (overrides.file) merged = deepMerge(merged, overrides.file);
  for (const s of overrides.sets ?? []) merged = deepMerge(merged, parseSet(s));
  const parsed = schema.safeParse(merged);
  if (!parsed.success) throw new UsageError(formatIssues(parsed.error, 'config'));
  return parsed.data;
}
