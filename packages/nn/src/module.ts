/**
 * Modules with PyTorch's shape: parameters and buffers registered by name, children by attribute
 * name, so `stateDict()` keys match PyTorch's (`layer1.0.weight`, `bn.running_mean`, …) and
 * checkpoints load in either direction. Ordering is PyTorch's too: a module's own parameters, then
 * its own buffers, then each child in registration order.
 */
import {
  assertKnownOptions,
  DeviceMismatchError,
  DisposedTensorError,
  DtypeMismatchError,
  InvalidArgumentError,
  isTensor,
  keep,
  noGrad,
  NonFiniteError,
  ShapeMismatchError,
  tensor,
  type Tensor,
} from '@fairgpu/tensor';
import type { HostArray } from './safetensors.ts';

/** A value `loadStateDict` copies from: a tensor, a `HostArray`, or a flat typed / number array. */
export type StateValue = Tensor | HostArray | Float32Array | Float64Array | Int32Array | readonly number[];
export type StateDictInput = ReadonlyMap<string, StateValue> | Readonly<Record<string, StateValue>>;

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

  /** Whether a forward hook is registered on this module (a caller that fuses modules must then run it on its own). */
  hasForwardHooks(): boolean {
    return this.forwardHooks.length > 0;
  }

  /** The module at a qualified path of `namedModules()` ('' = this module); a typed error lists the paths otherwise. */
  getSubmodule(path: string): Module {
    const found = this.namedModules().find(([name]) => name === path);
    if (!found) {
      const paths = this.namedModules()
        .map(([name]) => `'${name}'`)
        .join(', ');
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
   * `strict` (default) requires exactly the same keys; without it, keys the module lacks are
   * ignored and missing ones keep their values. A value is a tensor on the module's device, or a
   * host array (a `HostArray` `{ dtype, shape, data }`, a typed array or a number array with the
   * target's element count), uploaded for the copy. Shapes and dtypes must match.
   *
   * Atomic: every entry is validated first (keys, types, shapes, dtypes, devices, disposed
   * tensors, finite host values), then everything is copied; an error leaves the module unchanged.
   */
  loadStateDict(state: StateDictInput, options: { strict?: boolean } = {}): void {
    const plan = this.planLoad('loadStateDict', state, options);
    const uploads: Tensor[] = [];
    try {
      const sources = plan.map(([target, source]) => {
        if (isTensor(source)) return source;
        const t = tensor(hostData(source), target.shape, { device: target.backend, dtype: target.dtype });
        uploads.push(t);
        return t;
      });
      noGrad(() => plan.forEach(([target], i) => target.assign(sources[i])));
    } finally {
      for (const t of uploads) t.dispose();
    }
  }

  /**
   * Validates `state` as `loadStateDict` would, without changing anything (a checkpoint loader
   * checks every part before it loads any).
   */
  checkStateDict(state: StateDictInput, options: { strict?: boolean } = {}): void {
    this.planLoad('checkStateDict', state, options);
  }

  private planLoad(op: string, state: StateDictInput, options: { strict?: boolean }): [Tensor, StateValue][] {
    assertKnownOptions(op, options, ['strict']);
    const strict = options?.strict ?? true;
    if (typeof strict !== 'boolean') throw new InvalidArgumentError(op, 'options.strict', `must be a boolean, got ${String(strict)}`);
    if (state === null || typeof state !== 'object') {
      throw new InvalidArgumentError(op, 'state', `must be a Map or an object of tensors / host arrays, got ${state === null ? 'null' : typeof state}`);
    }
    const entries: ReadonlyMap<string, StateValue> = state instanceof Map ? state : new Map(Object.entries(state as Record<string, StateValue>));
    const own = this.stateDict();
    if (strict) {
      const missing = [...own.keys()].filter((k) => !entries.has(k));
      const unexpected = [...entries.keys()].filter((k) => !own.has(k));
      if (missing.length || unexpected.length) {
        throw new InvalidArgumentError(op, 'state', `keys differ: missing [${missing.join(', ')}], unexpected [${unexpected.join(', ')}]`);
      }
    }
    const plan: [Tensor, StateValue][] = [];
    for (const [key, target] of own) {
      if (!entries.has(key)) continue;
      const source = entries.get(key);
      if (target.isDisposed) throw new DisposedTensorError(op, `this.${key}`);
      checkSource(op, key, target, source);
      plan.push([target, source as StateValue]);
    }
    return plan;
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

const shapeText = (shape: readonly number[]) => `[${shape.join(', ')}]`;

function isHostArray(v: unknown): v is HostArray {
  return typeof v === 'object' && v !== null && !ArrayBuffer.isView(v) && !Array.isArray(v) && 'data' in v && 'shape' in v;
}

function hostData(source: Exclude<StateValue, Tensor>): ArrayLike<number> {
  return isHostArray(source) ? source.data : (source as ArrayLike<number>);
}

/** Throws the typed error for the first problem of `source` as the value of `key` (target `target`). */
function checkSource(op: string, key: string, target: Tensor, source: unknown): void {
  if (isTensor(source)) {
    if (source.isDisposed) throw new DisposedTensorError(op, key);
    if (source.backend !== target.backend) {
      throw new DeviceMismatchError(
        op,
        key,
        `is on ${source.backend.name} but the module's '${key}' is on ${target.backend.name} (move it, or pass a host array)`,
      );
    }
    if (source.shape.length !== target.shape.length || source.shape.some((d, i) => d !== target.shape[i])) {
      throw new ShapeMismatchError(op, key, `expected ${shapeText(target.shape)}, got ${shapeText(source.shape)}`);
    }
    if (source.dtype !== target.dtype) throw new DtypeMismatchError(op, key, `expected ${target.dtype}, got ${source.dtype}`);
    return;
  }
  let data: ArrayLike<number>;
  let dtype: 'f32' | 'i32' | null;
  if (isHostArray(source)) {
    const { shape } = source;
    if (!Array.isArray(shape) || shape.length !== target.shape.length || shape.some((d, i) => d !== target.shape[i])) {
      throw new ShapeMismatchError(op, key, `expected ${shapeText(target.shape)}, got ${Array.isArray(shape) ? shapeText(shape) : String(shape)}`);
    }
    if (source.dtype !== 'f32' && source.dtype !== 'i32')
      throw new InvalidArgumentError(op, `${key}.dtype`, `must be 'f32' or 'i32', got ${String(source.dtype)}`);
    const raw: unknown = source.data;
    if (!(raw instanceof Float32Array || raw instanceof Int32Array || raw instanceof Float64Array || Array.isArray(raw))) {
      throw new InvalidArgumentError(op, `${key}.data`, 'must be a Float32Array, Int32Array, Float64Array or number array');
    }
    data = source.data;
    dtype = source.dtype;
  } else if (source instanceof Float32Array || source instanceof Float64Array || source instanceof Int32Array || Array.isArray(source)) {
    data = source as ArrayLike<number>;
    dtype = source instanceof Int32Array ? 'i32' : Array.isArray(source) ? null : 'f32';
  } else {
    const got = source === null ? 'null' : ArrayBuffer.isView(source) ? (source as object).constructor.name : typeof source;
    throw new InvalidArgumentError(
      op,
      key,
      `must be a Tensor, a HostArray { dtype, shape, data }, a Float32Array / Float64Array / Int32Array or a number array; got ${got}`,
    );
  }
  if (data.length !== target.size) {
    throw new ShapeMismatchError(op, key, `has ${data.length} values, the target ${shapeText(target.shape)} holds ${target.size}`);
  }
  if (dtype !== null && dtype !== target.dtype) throw new DtypeMismatchError(op, key, `expected ${target.dtype}, got ${dtype}`);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new NonFiniteError(op, key, `contains ${String(v)} at flat index ${i}`);
    if (target.dtype === 'f32' && !Number.isFinite(Math.fround(v))) throw new NonFiniteError(op, key, `value ${v} at flat index ${i} is beyond the f32 range`);
    if (target.dtype === 'i32' && !(Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31))
      throw new InvalidArgumentError(op, key, `must hold 32-bit integers for an i32 target, got ${v} at flat index ${i}`);
  }
}
