/**
 * The op × runtime support table of the docs site (docs/generated/op-support.md, run by
 * `npm run docs:build`).
 *
 * Rows: every primitive of @fairgpu/tensor, read from the gradient table `vjpRules`, whose mapped
 * type `{ [P in Primitive]: … }` makes it the complete primitive set (a primitive without an
 * entry does not compile). Columns:
 *   - CPU float64 reference: each primitive is run once, here, through a fresh `CpuBackend`
 *     (`PROBES` below, a mapped type too: a new primitive without a probe does not compile);
 *   - WebGPU in Node (dawn.node), Deno (wgpu) and Chromium: read from the JSON reports the
 *     cross-runtime suites write to `$FAIRGPU_RUNTIME_REPORT_DIR/<runtime>.json`. A missing report
 *     makes its column "not run in this build": nothing is assumed.
 *
 * Usage: tsx tools/docs/op-support.ts [--reports DIR] [--out FILE]
 *   DIR defaults to $FAIRGPU_RUNTIME_REPORT_DIR, else docs/.generated/runtimes;
 *   FILE defaults to docs/generated/op-support.md.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BINARY_OPS,
  CpuBackend,
  NONDIFFERENTIABLE,
  UNARY_OPS,
  vjpRules,
  type CustomOpDefinition,
  type Operand,
  type OutputSpec,
  type Params,
  type Primitive,
} from '../../packages/tensor/src/index.ts';

export const RUNTIMES = ['node', 'deno', 'chromium'] as const;
export type Runtime = (typeof RUNTIMES)[number];

export const RUNTIME_TITLES: Record<Runtime, string> = {
  node: 'WebGPU in Node (dawn.node)',
  deno: 'Deno (wgpu)',
  chromium: 'Chromium',
};

/** What a cross-runtime suite writes to `<dir>/<runtime>.json`. */
export interface RuntimeReport {
  runtime: Runtime;
  adapter: string | null;
  passed: number;
  failed: number;
  checks: { name: string; ok: boolean; detail: string }[];
  ops: Record<string, number>;
}

/** The closed primitive set, in the order of the gradient table. */
export function primitiveNames(): Primitive[] {
  return Object.keys(vjpRules) as Primitive[];
}

export function familyOf(p: Primitive): string {
  if ((UNARY_OPS as readonly string[]).includes(p)) return 'unary';
  if ((BINARY_OPS as readonly string[]).includes(p)) return 'binary';
  return '—';
}

// ---- CPU column: run each primitive once on the float64 reference ----

interface HostOperand {
  data: number[];
  shape: number[];
  dtype?: 'f32' | 'i32';
}
interface Probe<P extends Primitive> {
  inputs: (HostOperand | number)[];
  params: Params<P>;
  out: OutputSpec;
}

const v2 = (data = [0.5, 2]): HostOperand => ({ data, shape: [2] });
const m22: HostOperand = { data: [1, 2, 3, 4], shape: [2, 2] };
const noParams = {} as Record<string, never>;
const f32x2: OutputSpec = { shape: [2], dtype: 'f32' };
const unary = () => ({ inputs: [v2()], params: noParams, out: f32x2 });
const binary = () => ({ inputs: [v2(), v2([1.5, -1])], params: noParams, out: f32x2 });

/** Doubles its one input; the probe of the `custom` primitive (the extension point fused kernels use). */
const doubleOp: CustomOpDefinition = {
  name: 'op-support-probe-double',
  gpu() {
    throw new Error('the op-support probe runs on the CPU reference only');
  },
  cpu([x]) {
    const values = (x as { values: Float64Array }).values;
    return values.map((v) => 2 * v);
  },
};

/** One small, valid call of every primitive. */
export const PROBES: { [P in Primitive]: () => { inputs: (HostOperand | number)[]; params: Params<P>; out: OutputSpec } } = {
  neg: unary,
  exp: unary,
  log: unary,
  sqrt: unary,
  abs: unary,
  sign: unary,
  tanh: unary,
  sigmoid: unary,
  relu: unary,
  sin: unary,
  cos: unary,
  recip: unary,
  floor: unary,
  add: binary,
  sub: binary,
  mul: binary,
  div: binary,
  pow: binary,
  maximum: binary,
  minimum: binary,
  eq: binary,
  ne: binary,
  lt: binary,
  le: binary,
  gt: binary,
  ge: binary,
  where: () => ({ inputs: [v2([1, 0]), v2(), v2([3, 4])], params: noParams, out: { shape: [2], dtype: 'f32' } }),
  sum: () => ({ inputs: [m22], params: { axes: [1], keepdim: false }, out: { shape: [2], dtype: 'f32' } }),
  max: () => ({ inputs: [m22], params: { axes: [0], keepdim: true }, out: { shape: [1, 2], dtype: 'f32' } }),
  matmul: () => ({ inputs: [m22, m22], params: { transA: false, transB: true }, out: { shape: [2, 2], dtype: 'f32' } }),
  reshape: () => ({ inputs: [m22], params: { shape: [4] }, out: { shape: [4], dtype: 'f32' } }),
  permute: () => ({ inputs: [m22], params: { axes: [1, 0] }, out: { shape: [2, 2], dtype: 'f32' } }),
  expand: () => ({ inputs: [{ data: [1, 2], shape: [1, 2] }], params: { shape: [3, 2] }, out: { shape: [3, 2], dtype: 'f32' } }),
  slice: () => ({ inputs: [m22], params: { starts: [0, 1], ends: [2, 2], steps: [1, 1] }, out: { shape: [2, 1], dtype: 'f32' } }),
  pad: () => ({
    inputs: [m22],
    params: {
      widths: [
        [1, 0],
        [0, 1],
      ],
      value: 0,
    },
    out: { shape: [3, 3], dtype: 'f32' },
  }),
  concat: () => ({ inputs: [m22, m22], params: { axis: 0 }, out: { shape: [4, 2], dtype: 'f32' } }),
  gather: () => ({
    inputs: [m22, { data: [1, 0, 0, 0], shape: [2, 2], dtype: 'i32' }],
    params: { axis: 1 },
    out: { shape: [2, 2], dtype: 'f32' },
  }),
  scatterAdd: () => ({
    inputs: [m22, { data: [1, 0, 0, 0], shape: [2, 2], dtype: 'i32' }],
    params: { axis: 1, shape: [2, 2] },
    out: { shape: [2, 2], dtype: 'f32' },
  }),
  cast: () => ({ inputs: [v2()], params: { dtype: 'i32' }, out: { shape: [2], dtype: 'i32' } }),
  custom: () => ({ inputs: [v2()], params: { op: doubleOp, attrs: {} }, out: { shape: [2], dtype: 'f32' } }),
};

export interface CpuCell {
  ok: boolean;
  detail: string;
}

/** Runs every primitive's probe through a fresh float64 `CpuBackend`. */
export function probeCpu(primitives: readonly Primitive[] = primitiveNames()): Record<string, CpuCell> {
  const backend = new CpuBackend();
  const cells: Record<string, CpuCell> = {};
  for (const p of primitives) {
    const make = PROBES[p] as (() => Probe<Primitive>) | undefined;
    if (!make) {
      cells[p] = { ok: false, detail: 'no probe' };
      continue;
    }
    try {
      const probe = make();
      const inputs: Operand[] = probe.inputs.map((x) =>
        typeof x === 'number' ? x : { storage: backend.upload(x.data, x.dtype ?? 'f32'), shape: x.shape, dtype: x.dtype ?? 'f32' },
      );
      const storage = backend.run(p, inputs, probe.params, probe.out);
      const values = backend.values(storage);
      const expected = probe.out.shape.reduce((a, b) => a * b, 1);
      if (values.length !== expected) throw new Error(`returned ${values.length} values for ${expected} elements`);
      cells[p] = { ok: true, detail: 'runs' };
    } catch (e) {
      cells[p] = { ok: false, detail: `fails: ${(e as Error).message}` };
    }
  }
  return cells;
}

// ---- runtime columns: the cross-runtime suites' reports ----

export interface LoadedReport {
  file: string;
  modified: Date;
  report: RuntimeReport;
}

function checkReport(file: string, value: unknown, runtime: Runtime): RuntimeReport {
  const fail = (why: string): never => {
    throw new Error(`op-support: ${file}: ${why}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('not a JSON object');
  const r = value as Record<string, unknown>;
  if (r.runtime !== runtime) fail(`'runtime' is ${JSON.stringify(r.runtime)}, expected '${runtime}' (the file name)`);
  if (r.adapter !== null && typeof r.adapter !== 'string') fail(`'adapter' must be a string or null`);
  for (const k of ['passed', 'failed'] as const) if (!Number.isInteger(r[k]) || (r[k] as number) < 0) fail(`'${k}' must be a non-negative integer`);
  if (!Array.isArray(r.checks)) fail(`'checks' must be an array`);
  for (const [i, c] of (r.checks as unknown[]).entries()) {
    const check = c as Record<string, unknown>;
    if (typeof check?.name !== 'string' || typeof check.ok !== 'boolean') fail(`checks[${i}] needs a string 'name' and a boolean 'ok'`);
  }
  if (typeof r.ops !== 'object' || r.ops === null || Array.isArray(r.ops)) fail(`'ops' must be an object of dispatch counts`);
  for (const [op, n] of Object.entries(r.ops as object)) if (!Number.isInteger(n) || n < 0) fail(`ops.${op} must be a non-negative integer`);
  return r as unknown as RuntimeReport;
}

/** Reads `<dir>/<runtime>.json` for each runtime; a missing file is `undefined`, a malformed one an error. */
export function readRuntimeReports(dir: string): Record<Runtime, LoadedReport | undefined> {
  const out = {} as Record<Runtime, LoadedReport | undefined>;
  for (const runtime of RUNTIMES) {
    const file = join(dir, `${runtime}.json`);
    if (!existsSync(file)) {
      out[runtime] = undefined;
      continue;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new Error(`op-support: ${file}: not valid JSON (${(e as Error).message})`);
    }
    out[runtime] = { file, modified: statSync(file).mtime, report: checkReport(file, parsed, runtime) };
  }
  return out;
}

// ---- the page ----

const NOT_RUN = 'not run in this build';
const cellText = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** Dispatches of primitive `p` in a report; custom ops are reported as `custom:<name>` and summed into `custom`. */
export function dispatchCount(report: RuntimeReport, p: string): number {
  if (p !== 'custom') return report.ops[p] ?? 0;
  return Object.entries(report.ops).reduce((n, [op, k]) => (op === 'custom' || op.startsWith('custom:') ? n + k : n), 0);
}

export function runtimeCell(loaded: LoadedReport | undefined, p: string): string {
  if (!loaded) return NOT_RUN;
  if (loaded.report.adapter === null) return 'skipped: no adapter';
  const n = dispatchCount(loaded.report, p);
  if (n === 0) return 'not exercised';
  const count = `${n} dispatch${n === 1 ? '' : 'es'}`;
  return loaded.report.failed === 0 ? `✓ ${count}` : `${count} (suite: ${loaded.report.failed} failed)`;
}

export interface RenderInput {
  primitives: readonly Primitive[];
  cpu: Record<string, CpuCell>;
  reports: Record<Runtime, LoadedReport | undefined>;
  /** Shown on the page as where the reports were looked for. */
  reportDir: string;
}

export function renderOpSupport({ primitives, cpu, reports, reportDir }: RenderInput): string {
  const lines: string[] = [];
  lines.push('---');
  lines.push('aside: false');
  lines.push('---');
  lines.push('');
  lines.push('# Op × runtime support');
  lines.push('');
  lines.push(
    `Every primitive of \`@fairgpu/tensor\` (${primitives.length}, read from its gradient table \`vjpRules\`, whose type lists every primitive, so the set is complete by construction) ` +
      'on the float64 CPU reference and on WebGPU in three runtimes. Every other tensor operation is a composite of these.',
  );
  lines.push('');
  lines.push('::: info Generated');
  lines.push(
    'Written by `tools/docs/op-support.ts` during `npm run docs:build`; do not edit. The runtime columns come from the reports of the cross-runtime suites found when the site was built (below the table).',
  );
  lines.push(':::');
  lines.push('');
  lines.push(`| primitive | family | differentiable | CPU float64 | ${RUNTIMES.map((r) => RUNTIME_TITLES[r]).join(' | ')} |`);
  lines.push(`| --- | --- | --- | --- | ${RUNTIMES.map(() => '---').join(' | ')} |`);
  for (const p of primitives) {
    const c = cpu[p];
    const differentiable = vjpRules[p] === NONDIFFERENTIABLE ? 'no' : 'yes';
    const cpuText = c ? (c.ok ? `✓ ${c.detail}` : `✗ ${cellText(c.detail)}`) : 'not probed';
    lines.push(`| \`${p}\` | ${familyOf(p)} | ${differentiable} | ${cpuText} | ${RUNTIMES.map((r) => runtimeCell(reports[r], p)).join(' | ')} |`);
  }
  lines.push('');
  lines.push('## How each column is filled');
  lines.push('');
  lines.push(
    '- **CPU float64** — each primitive was run once, while this page was generated, through a fresh `CpuBackend` on a small input ' +
      '(`runs` = it returned a result of the right size). Values are checked by the test suites (`packages/tensor/test/gradcheck.test.ts`, ' +
      'and `ops.gpu.test.ts`, which compares every primitive on the GPU against this reference).',
  );
  lines.push(
    `- **${RUNTIMES.map((r) => RUNTIME_TITLES[r]).join('**, **')}** — from the report each cross-runtime suite writes to ` +
      '`$FAIRGPU_RUNTIME_REPORT_DIR/<runtime>.json` (`npm run docs:runtimes` runs the three suites with that variable set): how often the suite dispatched that primitive on the GPU, marked ✓ when the suite ' +
      'had no failed check. `not exercised`: the suite ran but never dispatched it. `skipped: no adapter`: the suite found no WebGPU adapter and ran nothing. ' +
      `\`${NOT_RUN}\`: no report was found, so nothing is claimed.`,
  );
  lines.push(
    '- A count is the number of times the suite called `dispatch()` for that primitive on the GPU backend (one op call; a kernel family may encode more than one GPU dispatch for it). ' +
      '`reshape` is a view: `dispatch()` shares the input’s storage and runs no kernel, so its count is op calls only; the CPU probe calls the reference backend directly. ' +
      '`custom` is the extension point the fused kernels of `@fairgpu/kernels` and `@fairgpu/nn` are built on: its cell sums the `custom:<name>` entries of the report, listed by name below.',
  );
  lines.push('');
  lines.push('## Reports used');
  lines.push('');
  lines.push(`Looked for in \`${reportDir}\`:`);
  lines.push('');
  lines.push('| runtime | report | adapter | checks passed / failed |');
  lines.push('| --- | --- | --- | --- |');
  for (const r of RUNTIMES) {
    const l = reports[r];
    if (!l) lines.push(`| ${RUNTIME_TITLES[r]} | ${NOT_RUN} | — | — |`);
    else
      lines.push(
        `| ${RUNTIME_TITLES[r]} | \`${r}.json\` (${l.modified.toISOString().slice(0, 16).replace('T', ' ')} UTC) | ${cellText(l.report.adapter ?? 'none')} | ${l.report.passed} / ${l.report.failed} |`,
      );
  }
  const known = new Set<string>(primitives);
  for (const r of RUNTIMES) {
    const l = reports[r];
    if (!l) continue;
    const extra = Object.entries(l.report.ops).filter(([op]) => !known.has(op) || op === 'custom');
    const failed = l.report.checks.filter((c) => !c.ok);
    if (extra.length === 0 && failed.length === 0) continue;
    lines.push('');
    lines.push(`### ${RUNTIME_TITLES[r]}`);
    if (extra.length > 0) {
      lines.push('');
      lines.push('Custom ops it dispatched, by name (the `custom` row), and any op name that is not a primitive:');
      lines.push('');
      lines.push('| op | dispatches |');
      lines.push('| --- | ---: |');
      for (const [op, n] of extra.sort(([a], [b]) => a.localeCompare(b))) lines.push(`| \`${cellText(op)}\` | ${n} |`);
    }
    if (failed.length > 0) {
      lines.push('');
      lines.push('Failed checks:');
      lines.push('');
      for (const c of failed) lines.push(`- **${cellText(c.name)}**: ${cellText(c.detail ?? '')}`);
    }
  }
  lines.push('');
  return lines.join('\n');
}

function parseArgs(argv: readonly string[]): { reports: string; out: string } {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  let reports = process.env.FAIRGPU_RUNTIME_REPORT_DIR || join(root, 'docs/.generated/runtimes');
  let out = join(root, 'docs/generated/op-support.md');
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--reports' && argv[i + 1]) reports = resolve(argv[++i]);
    else if (a === '--out' && argv[i + 1]) out = resolve(argv[++i]);
    else throw new Error(`op-support: unknown argument '${a}' (usage: op-support.ts [--reports DIR] [--out FILE])`);
  }
  return { reports: resolve(reports), out };
}

export function main(argv: readonly string[]): void {
  const { reports: dir, out } = parseArgs(argv);
  const primitives = primitiveNames();
  const cpu = probeCpu(primitives);
  const reports = readRuntimeReports(dir);
  const shownDir = relative(process.cwd(), dir) || '.';
  writeFileSync(ensureDir(out), renderOpSupport({ primitives, cpu, reports, reportDir: shownDir }));
  const used = RUNTIMES.filter((r) => reports[r]).map((r) => relative(process.cwd(), reports[r]!.file));
  const missing = RUNTIMES.filter((r) => !reports[r]);
  const cpuFailed = primitives.filter((p) => !cpu[p].ok);
  console.log(
    `op-support: ${primitives.length} primitives, CPU reference ${primitives.length - cpuFailed.length}/${primitives.length} run; ` +
      `reports used: ${used.length ? used.join(', ') : 'none'}; ${missing.length ? `not run in this build: ${missing.join(', ')} (looked in ${shownDir})` : 'all runtimes reported'}; wrote ${relative(process.cwd(), out)}`,
  );
  if (cpuFailed.length) throw new Error(`op-support: the CPU reference failed on ${cpuFailed.join(', ')}`);
}

function ensureDir(file: string): string {
  mkdirSync(dirname(file), { recursive: true });
  return file;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
