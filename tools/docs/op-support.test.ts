import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BINARY_OPS, UNARY_OPS } from '../../packages/tensor/src/index.ts';
import { main, primitiveNames, probeCpu, readRuntimeReports, renderOpSupport, runtimeCell, type RuntimeReport } from './op-support.ts';

const dir = mkdtempSync(join(tmpdir(), 'fairgpu-op-support-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const nodeReport: RuntimeReport = {
  runtime: 'node',
  adapter: 'llvmpipe (synthetic)',
  passed: 4,
  failed: 0,
  checks: [{ name: 'matmul vs float64', ok: true, detail: 'max err 1e-7' }],
  ops: { add: 3, matmul: 1, 'custom:contrastive-row-stats': 2, 'custom:pair-moments': 1 },
};
const denoReport: RuntimeReport = {
  runtime: 'deno',
  adapter: 'lavapipe (synthetic)',
  passed: 3,
  failed: 1,
  checks: [{ name: 'backward of exp', ok: false, detail: 'gradient off by 2' }],
  ops: { exp: 1 },
};

function rowOf(page: string, primitive: string): string[] {
  const line = page.split('\n').find((l) => l.startsWith(`| \`${primitive}\` |`));
  if (!line) throw new Error(`no row for ${primitive}`);
  return line.split(' | ').map((c) => c.replace(/^\| |\s*\|$/g, ''));
}

describe('op-support generator', () => {
  it('derives the rows from the primitive registry', () => {
    const names = primitiveNames();
    for (const op of [...UNARY_OPS, ...BINARY_OPS, 'where', 'sum', 'max', 'matmul', 'reshape', 'gather', 'scatterAdd', 'cast', 'custom']) {
      expect(names).toContain(op);
    }
    expect(new Set(names).size).toBe(names.length);
  });

  it('runs every primitive on the CPU reference', () => {
    const cells = probeCpu();
    expect(Object.values(cells).filter((c) => !c.ok)).toEqual([]);
    expect(Object.keys(cells)).toEqual(primitiveNames());
  });

  it('fills runtime columns from synthetic reports and marks a missing report as not run', () => {
    writeFileSync(join(dir, 'node.json'), JSON.stringify(nodeReport));
    writeFileSync(join(dir, 'deno.json'), JSON.stringify(denoReport));
    const reports = readRuntimeReports(dir);
    expect(reports.chromium).toBeUndefined();
    expect(reports.node?.report.adapter).toBe('llvmpipe (synthetic)');

    const page = renderOpSupport({ primitives: primitiveNames(), cpu: probeCpu(), reports, reportDir: dir });
    // columns: primitive, family, differentiable, CPU, node, deno, chromium
    expect(rowOf(page, 'add').slice(3)).toEqual(['✓ runs', '✓ 3 dispatches', 'not exercised', 'not run in this build']);
    expect(rowOf(page, 'matmul')[4]).toBe('✓ 1 dispatch');
    expect(rowOf(page, 'exp')[5]).toBe('1 dispatch (suite: 1 failed)');
    expect(rowOf(page, 'eq')[2]).toBe('no');
    expect(page).toContain('| `custom:contrastive-row-stats` | 2 |');
    expect(rowOf(page, 'custom')[4]).toBe('✓ 3 dispatches');
    expect(page).toContain('**backward of exp**: gradient off by 2');
    expect(page).toMatch(/\| Chromium \| not run in this build \|/);
    expect(runtimeCell(undefined, 'add')).toBe('not run in this build');
    const skipped = {
      file: 'chromium.json',
      modified: new Date(0),
      report: { ...nodeReport, runtime: 'chromium' as const, adapter: null, passed: 0, checks: [], ops: {} },
    };
    expect(runtimeCell(skipped, 'add')).toBe('skipped: no adapter');
  });

  it('refuses a malformed report instead of guessing', () => {
    const bad = mkdtempSync(join(dir, 'bad-'));
    writeFileSync(join(bad, 'chromium.json'), JSON.stringify({ ...nodeReport, runtime: 'node' }));
    expect(() => readRuntimeReports(bad)).toThrow(/'runtime' is "node", expected 'chromium'/);
    writeFileSync(join(bad, 'chromium.json'), JSON.stringify({ ...nodeReport, runtime: 'chromium', ops: { add: -1 } }));
    expect(() => readRuntimeReports(bad)).toThrow(/ops\.add must be a non-negative integer/);
    writeFileSync(join(bad, 'chromium.json'), '{');
    expect(() => readRuntimeReports(bad)).toThrow(/not valid JSON/);
  });

  it('writes the page where --out says, from the directory --reports names', () => {
    const out = join(dir, 'out', 'op-support.md');
    main(['--reports', dir, '--out', out]);
    const page = readFileSync(out, 'utf8');
    expect(page).toContain('# Op × runtime support');
    expect(rowOf(page, 'add')[4]).toBe('✓ 3 dispatches');
  });
});
