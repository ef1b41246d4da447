/**
 * Modules with PyTorch's shape: parameters and buffers registered by name, children by attribute
 * name, so `stateDict()` keys match PyTorch's (`layer1.0.weight`, `bn.running_mean`, …) and
 * checkpoints load in either direction. Ordering is PyTorch's too: a module's own parameters, then
 * its own buffers, then each child in registration order.
 */
import { InvalidArgumentError, ShapeMismatchError, DtypeMismatchError, keep, noGrad, type Tensor } from '@fairgpu/tensor';

export abstract class Module {
  /** False after `eval()`: BatchNorm uses running statistics, Dropout is the identity. */
  training = true;
  private readonly params = new Map<string, Tensor>();
  private readonly buffers = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();

  abstract forward(x: Tensor): Tensor;

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
