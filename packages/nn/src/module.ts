/**
 * Modules with PyTorch's shape: parameters and buffers registered by name, children by attribute
 * name, so `stateDict()` keys match PyTorch's (`layer1.0.weight`, `bn.running_mean`, …) and
 * checkpoints load in either direction. Ordering is PyTorch's too: a module's own parameters, then
 * its own buffers, then each child in registration order.
 */
import { InvalidArgumentError, ShapeMismatchError, DtypeMismatchError, keep, noGrad, type Tensor } from '@fairgpu/tensor';

/**
 * Called after a module's `forward` with its input and output (PyTorch's `register_forward_hook`).
 * Returning a tensor replaces the output seen by the rest of the model: Grad-CAM returns a detached
 * copy that requires grad, so the backward pass stops there and leaves the activation's gradient in
 * its `.grad`.
 */
export type ForwardHook = (module: Module, input: Tensor, output: Tensor) => Tensor | void;

/** Returned by `registerForwardHook`; `remove()` is idempotent. */
export interface HookHandle {
  remove(): void;
}

export abstract class Module {
  /** False after `eval()`: BatchNorm uses running statistics, Dropout is the identity. */
  training = true;
  private readonly params = new Map<string, Tensor>();
  private readonly buffers = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();
  private forwardHooks: ForwardHook[] = [];

  abstract forward(x: Tensor): Tensor;

  /**
   * Runs `hook` after every `forward` of this module until the handle is removed. Modules call
   * their children's `forward` directly, so the hook is installed as an own `forward` property that
   * wraps the class's method, and deleted with the last hook: a module without hooks pays nothing.
   */
  registerForwardHook(hook: ForwardHook): HookHandle {
    if (typeof hook !== 'function') throw new InvalidArgumentError('Module.registerForwardHook', 'hook', `must be a function, got ${typeof hook}`);
    if (this.forwardHooks.length === 0) {
      const inner = Object.getPrototypeOf(this).forward as (x: Tensor) => Tensor;
      Object.defineProperty(this, 'forward', {
        configurable: true,
        writable: true,
        value: (x: Tensor): Tensor => {
          let y = inner.call(this, x);
          // A copy: a hook that removes itself must not shift the iteration.
          for (const h of [...this.forwardHooks]) {
            const replaced = h(this, x, y);
            if (replaced !== undefined) y = replaced;
          }
          return y;
        },
      });
    }
    this.forwardHooks.push(hook);
    let removed = false;
    return {
      remove: () => {
        if (removed) return;
        removed = true;
        this.forwardHooks = this.forwardHooks.filter((h) => h !== hook);
        if (this.forwardHooks.length === 0) delete (this as { forward?: unknown }).forward;
      },
    };
  }

  /** The module at a qualified path of `namedModules()` ('' = this module); a typed error lists the paths otherwise. */
  getSubmodule(path: string): Module {
    const found = this.namedModules().find(([name]) => name === path);
    if (!found) {
      const paths = this.namedModules().map(([name]) => `'${name}'`).join(', ');
      throw new InvalidArgumentError('Module.getSubmodule', 'path', `'${path}' is not a module path of this model; paths: ${paths}`);
    }
    return found[1];
  }

  /** Alias of `forward` (PyTorch's `module(x)`). */
  call(x: Tensor): Tensor {
    return this.forward(x);
  }

  protected registerParameter(name: string, value: Tensor): Tensor {
    checkName(name, this.params, this.buffers, this.children);
    value.requiresGrad = true;
    // Parameters outlive any scope they were created in: the module owns them.
    this.params.set(name, keep(value));
    return value;
  }

  protected registerBuffer(name: string, value: Tensor): Tensor {
    checkName(name, this.params, this.buffers, this.children);
    this.buffers.set(name, keep(value));
    return value;
  }

  protected registerModule<M extends Module>(name: string, module: M): M {
    checkName(name, this.params, this.buffers, this.children);
    this.children.set(name, module);
    return module;
  }

  /** [qualified name, module] pairs, this module first (prefix ''). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.children) out.push(...child.namedModules(join(prefix, name)));
    return out;
  }

  namedChildren(): [string, Module][] {
    return [...this.children];
  }

  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [...this.params].map(([n, t]) => [join(prefix, n), t]);
    for (const [name, child] of this.children) out.push(...child.namedParameters(join(prefix, name)));
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [...this.buffers].map(([n, t]) => [join(prefix, n), t]);
    for (const [name, child] of this.children) out.push(...child.namedBuffers(join(prefix, name)));
    return out;
  }

  /** Parameters and buffers by qualified name, in PyTorch's order. The tensors are the live ones. */
  stateDict(prefix = ''): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [n, t] of this.params) out.set(join(prefix, n), t);
    for (const [n, t] of this.buffers) out.set(join(prefix, n), t);
    for (const [name, child] of this.children) for (const [k, v] of child.stateDict(join(prefix, name))) out.set(k, v);
    return out;
  }

  /**
   * Copies values into the parameters and buffers (identity kept, so optimizers stay attached).
   * `strict` (default) requires exactly the same keys. Values may live on another device or be
   * host arrays; shapes and dtypes must match.
   */
  loadStateDict(state: ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>, options: { strict?: boolean } = {}): void {
    const { strict = true } = options;
    const entries: ReadonlyMap<string, Tensor> = state instanceof Map ? state : new Map(Object.entries(state as Record<string, Tensor>));
    const own = this.stateDict();
    if (strict) {
      const missing = [...own.keys()].filter((k) => !entries.has(k));
      const unexpected = [...entries.keys()].filter((k) => !own.has(k));
      if (missing.length || unexpected.length) {
        throw new InvalidArgumentError('loadStateDict', 'state', `keys differ: missing [${missing.join(', ')}], unexpected [${unexpected.join(', ')}]`);
      }
    }
    for (const [key, target] of own) {
      const source = entries.get(key);
      if (!source) continue;
      if (source.shape.length !== target.shape.length || source.shape.some((d, i) => d !== target.shape[i])) {
        throw new ShapeMismatchError('loadStateDict', key, `expected [${target.shape.join(', ')}], got [${source.shape.join(', ')}]`);
      }
      if (source.dtype !== target.dtype) throw new DtypeMismatchError('loadStateDict', key, `expected ${target.dtype}, got ${source.dtype}`);
    }
    noGrad(() => {
      for (const [key, target] of own) {
        const source = entries.get(key);
        if (source) target.assign(source);
      }
    });
  }

  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  /** Frees every parameter and buffer. */
  dispose(): void {
    for (const t of this.stateDict().values()) t.dispose();
  }
}

function join(prefix: string, name: string): string {
  return prefix ? `${prefix}.${name}` : name;
}

function checkName(name: string, ...maps: Map<string, unknown>[]): void {
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new InvalidArgumentError('Module.register', 'name', `must be a non-empty identifier without dots, got '${name}'`);
  if (maps.some((m) => m.has(name))) throw new InvalidArgumentError('Module.register', 'name', `'${name}' is already registered`);
}
