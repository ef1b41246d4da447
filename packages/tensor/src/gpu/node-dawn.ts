/**
 * The Node runtime adapter: dawn.node from the npm package `webgpu` (an optional peer dependency:
 * browsers and Deno never need it), loaded lazily (never at import) through a computed specifier
 * so browser and Deno bundles never try to resolve it.
 */
import { WebGpuPackageMissingError } from '../errors.ts';

export interface DawnModule {
  create(flags: string[]): GPU;
}

/** The npm package that provides dawn.node. */
export const DAWN_PACKAGE = 'webgpu';

/**
 * Imports dawn.node. `specifier` exists for tests (a name that does not resolve stands for the
 * package being absent, without uninstalling it). A package that does not resolve becomes
 * WebGpuPackageMissingError; any other failure (a native binary that does not load, a broken
 * install) is rethrown as it is, since "npm install" would not be the fix.
 */
export async function loadDawn(specifier: string = DAWN_PACKAGE): Promise<DawnModule> {
  let mod: DawnModule & { default?: DawnModule };
  try {
    mod = (await import(/* @vite-ignore */ specifier)) as DawnModule & { default?: DawnModule };
  } catch (e) {
    if (isNotFound(e, specifier)) throw new WebGpuPackageMissingError(specifier, String((e as Error).message ?? e).split('\n')[0]);
    throw e;
  }
  return typeof mod.create === 'function' ? mod : (mod.default as DawnModule);
}

/** Node's "cannot find package" for `specifier` itself (not for one of its own imports). */
function isNotFound(e: unknown, specifier: string): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  const message = String((e as Error).message ?? '');
  return message.includes(`'${specifier}'`) || message.includes(`"${specifier}"`);
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

/** FAIRGPU_DEBUG set to anything but '' or '0': native output raw, probe report on stderr. */
export function debugEnabled(): boolean {
  const v = env('FAIRGPU_DEBUG');
  return v !== undefined && v !== '' && v !== '0';
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

interface NodeFs {
  openSync(path: string, flags: string): number;
  closeSync(fd: number): void;
  readFileSync(path: string, encoding: 'utf8'): string;
  unlinkSync(path: string): void;
}

function nodeFs(): NodeFs | undefined {
  const p = (globalThis as { process?: { getBuiltinModule?: (m: string) => unknown } }).process;
  try {
    return p?.getBuiltinModule?.('node:fs') as NodeFs | undefined;
  } catch {
    return undefined;
  }
}

/** True when a directory or file exists at any of `paths` (device nodes included). */
export function anyExists(paths: readonly string[]): boolean {
  return paths.some(fileExists);
}

/**
 * Runs the synchronous `fn` with the process's fd 2 pointed at a temporary file and returns what
 * native code wrote there. dawn.node's adapter discovery prints notices with fprintf(stderr) from
 * C++ (Dawn's limit clamping, "Couldn't load Vulkan", EGL probe failures): no JS hook sees them.
 * Node has no dup2, so fd 2 is closed and reopened (open() takes the lowest free fd) around `fn`,
 * which runs no JS; the original is restored through /proc/self/fd. Linux only, and only when fd 2
 * can be reopened that way (a tty, pipe or file): otherwise `fn` runs as is and `captured` is
 * undefined. FAIRGPU_DEBUG=1 turns the capture off.
 */
export function captureNativeStderr<T>(fn: () => T): { result: T; captured: string | undefined } {
  const p = (globalThis as { process?: { platform?: string; pid?: number } }).process;
  const fs = nodeFs();
  if (!fs || p?.platform !== 'linux' || debugEnabled() || !fileExists('/proc/self/fd/2')) return { result: fn(), captured: undefined };
  let saved: number;
  try {
    saved = fs.openSync('/proc/self/fd/2', 'a');
  } catch {
    return { result: fn(), captured: undefined }; // a socket, or fd 2 closed
  }
  const tmp = `${env('TMPDIR') ?? '/tmp'}/fairgpu-dawn-stderr-${p.pid ?? 0}-${Date.now()}`;
  let redirected = false;
  try {
    fs.closeSync(2);
    const fd = fs.openSync(tmp, 'w+');
    redirected = fd === 2;
    if (!redirected) fs.closeSync(fd);
  } catch {
    redirected = false;
  }
  let result: T;
  try {
    result = fn();
  } finally {
    if (redirected) fs.closeSync(2);
    const restored = fs.openSync(`/proc/self/fd/${saved}`, 'a');
    if (restored !== 2) fs.closeSync(restored);
    fs.closeSync(saved);
  }
  let captured: string | undefined;
  if (redirected) {
    try {
      captured = fs.readFileSync(tmp, 'utf8');
    } catch {
      captured = undefined;
    }
  }
  try {
    fs.unlinkSync(tmp);
  } catch {
    // already gone
  }
  return { result, captured };
}
