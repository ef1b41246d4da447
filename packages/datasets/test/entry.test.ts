/**
 * The runtime-neutral entry point must not reach Node built-ins or pngjs (which needs zlib):
 * walk the static import graph from src/index.ts and check every module it loads.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const srcDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');

function importGraph(entry: string): { modules: string[]; external: string[] } {
  const modules = new Set<string>();
  const external = new Set<string>();
  const visit = (file: string): void => {
    if (modules.has(file)) return;
    modules.add(file);
    const source = readFileSync(join(srcDir, file), 'utf8');
    for (const match of source.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)) {
      const target = match[1];
      if (target.startsWith('./')) visit(target.slice(2));
      else external.add(target);
    }
    if (/\bimport\s*\(/.test(source)) external.add(`dynamic import in ${file}`);
  };
  visit(entry);
  return { modules: [...modules], external: [...external] };
}

describe('entry points', () => {
  it('index.ts loads no Node built-ins, pngjs or dynamic imports', () => {
    const { modules, external } = importGraph('index.ts');
    expect(modules).toContain('loader.ts');
    expect(modules).not.toContain('node-files.ts');
    expect(external).toEqual([]);
  });

  it('node.ts adds the file adapter and PNG decoding', () => {
    const { external } = importGraph('node.ts');
    expect(external).toEqual(expect.arrayContaining(['node:fs', 'pngjs']));
  });

  it('importing the package has no side effects beyond defining exports', async () => {
    const before = Object.keys(globalThis).sort();
    const index = await import('../src/index.ts');
    expect(typeof index.createLoader).toBe('function');
    expect(Object.keys(globalThis).sort()).toEqual(before);
  });
});
