import { InvalidArgumentError } from './errors.ts';
import type { Tensor } from './tensor.ts';

/**
 * Scopes own the tensors created while they are the innermost open scope and dispose every one
 * not returned (or `keep()`-ed) when they close. `tidy` is synchronous; `scope` also works across
 * `await`, which TF.js's tidy refuses. Scopes form one stack: two async scopes running
 * interleaved on the same event loop would adopt each other's tensors, so run training steps one
 * after another (or track by hand with `s.track`).
 */
export class Scope {
  private readonly owned = new Set<Tensor>();

  /** Adopts a tensor created elsewhere so it is disposed with this scope. */
  track<T extends Tensor>(t: T): T {
    this.owned.add(t);
    return t;
  }

  /** Releases a tensor from this scope's ownership (it outlives the scope). */
  keep<T extends Tensor>(t: T): T {
    this.owned.delete(t);
    return t;
  }

  /** @internal */
  has(t: Tensor): boolean {
    return this.owned.has(t);
  }

  /** @internal Disposes everything still owned except `survivors`, which move to `parent`. */
  close(survivors: ReadonlySet<Tensor>, parent: Scope | undefined): void {
    for (const t of this.owned) {
      if (survivors.has(t)) parent?.track(t);
      else t.dispose();
    }
    this.owned.clear();
  }
}

const stack: Scope[] = [];

/** @internal Called by the Tensor constructor. */
export function trackNew(t: Tensor): void {
  stack[stack.length - 1]?.track(t);
}

/** @internal Removes a tensor from whichever open scope owns it (it now belongs to a parameter). */
export function untrack(t: Tensor): void {
  for (let i = stack.length - 1; i >= 0; i--) if (stack[i].has(t)) stack[i].keep(t);
}

/** Keeps `t` alive past the innermost scope that owns it. */
export function keep<T extends Tensor>(t: T): T {
  untrack(t);
  return t;
}

function collectTensors(value: unknown, out: Set<Tensor>, isTensor: (v: unknown) => v is Tensor, depth = 0): void {
  if (depth > 8 || value === null || typeof value !== 'object') return;
  if (isTensor(value)) {
    out.add(value);
    return;
  }
  if (Array.isArray(value)) for (const v of value) collectTensors(v, out, isTensor, depth + 1);
  else if (Object.getPrototypeOf(value) === Object.prototype || value instanceof Map) {
    const values = value instanceof Map ? [...value.values()] : Object.values(value);
    for (const v of values) collectTensors(v, out, isTensor, depth + 1);
  }
}

/** Marks Tensor instances, so scopes can find them in results without importing the class. */
export const TENSOR_BRAND: unique symbol = Symbol.for('fairgpu.tensor') as never;
const isTensorFn = (v: unknown): v is Tensor => typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[TENSOR_BRAND] === true;

/**
 * Runs `fn` and disposes every tensor it created except those reachable from its return value
 * (through arrays, plain objects and maps).
 *
 * @example
 * const loss = tidy(() => pred.sub(target).square().mean());
 */
export function tidy<R>(fn: (s: Scope) => R): R {
  const s = new Scope();
  stack.push(s);
  let result: R;
  try {
    result = fn(s);
  } catch (e) {
    stack.splice(stack.lastIndexOf(s), 1);
    s.close(new Set(), undefined);
    throw e;
  }
  if (result instanceof Promise) {
    stack.splice(stack.lastIndexOf(s), 1);
    s.close(new Set(), undefined);
    // Tensors the async body creates after its first await are not owned by this scope.
    void result.catch(() => undefined);
    throw new InvalidArgumentError(
      'tidy',
      'fn',
      'returned a Promise (an async function): tidy is synchronous; use `await scope(async (s) => ...)` for async code',
    );
  }
  stack.splice(stack.lastIndexOf(s), 1);
  const survivors = new Set<Tensor>();
  collectTensors(result, survivors, isTensorFn);
  s.close(survivors, stack[stack.length - 1]);
  return result;
}

/**
 * The async form of `tidy`: tensors created while `fn` runs, across its awaits, are disposed when
 * it settles, except those reachable from its result.
 *
 * @example
 * const loss = await scope(async () => {
 *   const l = model.forward(x).sub(y).square().mean();
 *   await l.backward();
 *   return l;
 * });
 */
export async function scope<R>(fn: (s: Scope) => Promise<R>): Promise<R> {
  const s = new Scope();
  stack.push(s);
  let result: R;
  try {
    result = await fn(s);
  } catch (e) {
    stack.splice(stack.lastIndexOf(s), 1);
    s.close(new Set(), undefined);
    throw e;
  }
  stack.splice(stack.lastIndexOf(s), 1);
  const survivors = new Set<Tensor>();
  collectTensors(result, survivors, isTensorFn);
  s.close(survivors, stack[stack.length - 1]);
  return result;
}
