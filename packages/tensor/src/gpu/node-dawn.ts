/**
 * The Node runtime adapter: dawn.node from the npm package `webgpu`, loaded lazily (never at
 * import) through a computed specifier so browser and Deno bundles never try to resolve it.
 */
export interface DawnModule {
  create(flags: string[]): GPU;
}

export async function loadDawn(): Promise<DawnModule> {
  const specifier = 'webgpu';
  const mod = (await import(/* @vite-ignore */ specifier)) as DawnModule & { default?: DawnModule };
  return typeof mod.create === 'function' ? mod : (mod.default as DawnModule);
}

export function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string; deno?: string }; env?: Record<string, string | undefined> } }).process;
  return !!p?.versions?.node && !(globalThis as { Deno?: unknown }).Deno && !(globalThis as { Bun?: unknown }).Bun;
}

export function env(name: string): string | undefined {
  const g = globalThis as { process?: { env?: Record<string, string | undefined> }; Deno?: { env: { get(n: string): string | undefined } } };
  try {
    return g.process?.env?.[name] ?? g.Deno?.env.get(name);
  } catch {
    return undefined; // Deno without --allow-env
  }
}

export function setEnvIfUnset(name: string, value: string): void {
  const p = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  if (p?.env && p.env[name] === undefined) p.env[name] = value;
}

export function fileExists(path: string): boolean {
  const p = (globalThis as { process?: { getBuiltinModule?: (m: string) => { existsSync(path: string): boolean } } }).process;
  try {
    return p?.getBuiltinModule?.('node:fs').existsSync(path) ?? false;
  } catch {
    return false;
  }
}
