// @ts-check
/**
 * TypeDoc plugin: names each entry-point module after the import specifier users write
 * (`@fairgpu/tensor`, `@fairgpu/nn/node`, …) instead of its path (`tensor/src`, `nn/src/node`).
 * The specifier is read from the package's package.json "exports" (the `@fairgpu/source`
 * condition points at the file), so a new entry point needs no change here.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { Converter, ReflectionKind } from 'typedoc';

/** @param {string} file absolute path of an entry point */
function specifierOf(file) {
  let dir = dirname(file);
  while (dir !== dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      for (const [sub, target] of Object.entries(pkg.exports ?? {})) {
        const src = typeof target === 'object' && target ? target['@fairgpu/source'] : undefined;
        if (src && resolve(dir, src) === file) return sub === '.' ? pkg.name : `${pkg.name}/${sub.replace(/^\.\//, '')}`;
      }
      return undefined;
    } catch {
      dir = dirname(dir);
    }
  }
  return undefined;
}

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (_context, reflection) => {
    if (!reflection.kindOf(ReflectionKind.Module)) return;
    const symbol = _context.getSymbolFromReflection(reflection);
    const file = symbol?.declarations?.[0]?.getSourceFile().fileName;
    if (!file) return;
    const name = specifierOf(resolve(file));
    if (name) reflection.name = name;
    else app.logger.warn(`typedoc-module-names: no package.json export for ${relative(process.cwd(), file)}`);
  });
}
