import type { Backend, StorageView } from './backend.ts';
import { Storage } from './backend.ts';
import type { DType } from './dtype.ts';
import { DisposedTensorError, InvalidArgumentError } from './errors.ts';
import { GraphNode } from './autograd/graph.ts';
import { backward as runBackward, type BackwardOptions } from './autograd/backward.ts';
import { TENSOR_BRAND, trackNew, untrack } from './scope.ts';
import { sizeOf, type Shape } from './shape.ts';
import * as ops from './ops/index.ts';
import * as composite from './composites-tidy.ts';

let nextId = 1;
const disposeSymbol: typeof Symbol.dispose = (Symbol.dispose ?? Symbol.for('Symbol.dispose')) as typeof Symbol.dispose;

export type TensorLike = Tensor | number;

/**
 * An n-dimensional array on one backend (a WebGPU device or the float64 CPU reference), always
 * contiguous, row-major. A tensor owns one reference to its storage; `dispose()` gives it back
 * (to the GPU buffer pool). Reshape shares storage; every other op writes a new one.
 */
export class Tensor {
  readonly id = nextId++;
  readonly [TENSOR_BRAND] = true;
  readonly shape: Shape;
  readonly dtype: DType;
  readonly backend: Backend;
  /** Accumulated gradient (a leaf that requires grad, after backward()). Owned by this tensor. */
  grad: Tensor | null = null;
  /** The recorded op that produced this tensor, when it depends on tensors that require grad. */
  node: GraphNode | null = null;
  private storageRef: Storage | null;
  private requires = false;

  /** @internal Use the creation functions (`tensor`, `zeros`, …) or ops. */
  constructor(backend: Backend, storage: Storage, shape: Shape, dtype: DType, options: { tracked?: boolean } = {}) {
    this.backend = backend;
    this.storageRef = storage;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    backend.tensorCount++;
    if (options.tracked !== false) trackNew(this);
  }

  get size(): number {
    return sizeOf(this.shape);
  }
  get rank(): number {
    return this.shape.length;
  }
  get isDisposed(): boolean {
    return this.storageRef === null;
  }
  get requiresGrad(): boolean {
    return this.requires;
  }
  set requiresGrad(value: boolean) {
    if (value && this.dtype !== 'f32') throw new InvalidArgumentError('requiresGrad', 'tensor', `must be f32 to require grad, got ${this.dtype}`);
    if (this.node && !value) throw new InvalidArgumentError('requiresGrad', 'tensor', 'cannot be turned off on a non-leaf tensor; use detach()');
    this.requires = value;
  }
  /** True for tensors created by the user (not by a recorded op). */
  get isLeaf(): boolean {
    return this.node === null;
  }

  /** @internal The storage and shape a backend reads. Throws if disposed. */
  view(op: string, argument: string): StorageView {
    if (!this.storageRef) throw new DisposedTensorError(op, argument);
    return { storage: this.storageRef, shape: this.shape, dtype: this.dtype };
  }

  /** @internal A second handle on the same storage (graph-saved values, reshape). */
  share(shape: Shape = this.shape, tracked = false): Tensor {
    const view = this.view('share', 'tensor');
    return new Tensor(this.backend, view.storage.retain(), shape, this.dtype, { tracked });
  }

  /** Sets requiresGrad and returns this tensor (PyTorch's `requires_grad_`). */
  requiresGrad_(value = true): this {
    this.requiresGrad = value;
    return this;
  }

  /** Copies the values to the host. The only way to read a tensor: readback is always async. */
  async toArray(): Promise<Float32Array | Int32Array> {
    return this.backend.read(this.view('toArray', 'tensor'));
  }

  /** The single value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new InvalidArgumentError('item', 'tensor', `must have exactly one element, has shape [${this.shape.join(', ')}]`);
    return (await this.toArray())[0];
  }

  /**
   * Reverse-mode autodiff from this tensor. A scalar needs no seed; otherwise pass `gradient`
   * (same shape). Leaf tensors that require grad accumulate into `.grad`.
   */
  async backward(gradient?: Tensor, options: BackwardOptions = {}): Promise<void> {
    runBackward(this, gradient, options);
  }

  /** Clears `.grad` (disposing it). */
  zeroGrad(): void {
    this.grad?.dispose();
    this.grad = null;
  }

  /** A tensor with the same storage and no graph: gradients stop here. */
  detach(): Tensor {
    return this.share(this.shape, true);
  }

  /**
   * Overwrites this tensor's values with `source`'s (same shape and dtype), keeping its identity:
   * how optimizers update parameters in place. Not recorded for autograd.
   */
  assign(source: Tensor): this {
    ops.validateSame('assign', this, source);
    const target = this.view('assign', 'target');
    this.backend.copyInto(target.storage, source.view('assign', 'source').storage);
    return this;
  }

  /** Gives the storage back (to the pool) and frees this tensor's part of the autograd graph. */
  dispose(): void {
    if (!this.storageRef) return;
    this.storageRef.release();
    this.storageRef = null;
    this.backend.tensorCount--;
    this.node?.release();
    this.node = null;
    this.grad?.dispose();
    this.grad = null;
  }

  [disposeSymbol](): void {
    this.dispose();
  }

  /** @internal Moves `g` into `.grad` (accumulating), owned by this tensor. */
  accumulateGrad(g: Tensor): void {
    untrack(g);
    if (!this.grad) {
      this.grad = g;
      return;
    }
    const sum = ops.add(this.grad, g);
    untrack(sum);
    this.grad.dispose();
    g.dispose();
    this.grad = sum;
  }

  toString(): string {
    return `Tensor(shape=[${this.shape.join(', ')}], dtype=${this.dtype}, backend=${this.backend.name}${this.isDisposed ? ', disposed' : ''})`;
  }

  // ---- ops as methods (PyTorch-like). Each forwards to the op function of the same name. ----
  add(other: TensorLike): Tensor {
    return ops.add(this, other);
  }
  sub(other: TensorLike): Tensor {
    return ops.sub(this, other);
  }
  mul(other: TensorLike): Tensor {
    return ops.mul(this, other);
  }
  div(other: TensorLike): Tensor {
    return ops.div(this, other);
  }
  pow(exponent: TensorLike): Tensor {
    return ops.pow(this, exponent);
  }
  maximum(other: TensorLike): Tensor {
    return ops.maximum(this, other);
  }
  minimum(other: TensorLike): Tensor {
    return ops.minimum(this, other);
  }
  eq(other: TensorLike): Tensor {
    return ops.eq(this, other);
  }
  ne(other: TensorLike): Tensor {
    return ops.ne(this, other);
  }
  lt(other: TensorLike): Tensor {
    return ops.lt(this, other);
  }
  le(other: TensorLike): Tensor {
    return ops.le(this, other);
  }
  gt(other: TensorLike): Tensor {
    return ops.gt(this, other);
  }
  ge(other: TensorLike): Tensor {
    return ops.ge(this, other);
  }
  neg(): Tensor {
    return ops.neg(this);
  }
  exp(): Tensor {
    return ops.exp(this);
  }
  log(): Tensor {
    return ops.log(this);
  }
  sqrt(): Tensor {
    return ops.sqrt(this);
  }
  abs(): Tensor {
    return ops.abs(this);
  }
  sign(): Tensor {
    return ops.sign(this);
  }
  tanh(): Tensor {
    return ops.tanh(this);
  }
  sigmoid(): Tensor {
    return ops.sigmoid(this);
  }
  relu(): Tensor {
    return ops.relu(this);
  }
  sin(): Tensor {
    return ops.sin(this);
  }
  cos(): Tensor {
    return ops.cos(this);
  }
  recip(): Tensor {
    return ops.recip(this);
  }
  floor(): Tensor {
    return ops.floor(this);
  }
  square(): Tensor {
    return composite.square(this);
  }
  sum(axis?: number | readonly number[], keepdim = false): Tensor {
    return ops.sum(this, axis, keepdim);
  }
  max(axis?: number | readonly number[], keepdim = false): Tensor {
    return ops.max(this, axis, keepdim);
  }
  min(axis?: number | readonly number[], keepdim = false): Tensor {
    return composite.min(this, axis, keepdim);
  }
  mean(axis?: number | readonly number[], keepdim = false): Tensor {
    return composite.mean(this, axis, keepdim);
  }
  variance(axis?: number | readonly number[], options?: composite.VarianceOptions): Tensor {
    return composite.variance(this, axis, options);
  }
  logsumexp(axis?: number | readonly number[], keepdim = false): Tensor {
    return composite.logsumexp(this, axis, keepdim);
  }
  softmax(axis = -1): Tensor {
    return composite.softmax(this, axis);
  }
  logSoftmax(axis = -1): Tensor {
    return composite.logSoftmax(this, axis);
  }
  normalize(axis = -1, eps?: number): Tensor {
    return composite.normalize(this, axis, eps);
  }
  matmul(other: Tensor): Tensor {
    return ops.matmul(this, other);
  }
  reshape(shape: readonly number[]): Tensor {
    return ops.reshape(this, shape);
  }
  flatten(startAxis = 0, endAxis = -1): Tensor {
    return composite.flatten(this, startAxis, endAxis);
  }
  permute(axes: readonly number[]): Tensor {
    return ops.permute(this, axes);
  }
  transpose(axis0 = -2, axis1 = -1): Tensor {
    return composite.transpose(this, axis0, axis1);
  }
  expand(shape: readonly number[]): Tensor {
    return ops.expand(this, shape);
  }
  slice(starts: readonly number[], ends?: readonly number[], steps?: readonly number[]): Tensor {
    return ops.slice(this, starts, ends, steps);
  }
  pad(widths: readonly (readonly [number, number])[], value = 0): Tensor {
    return ops.pad(this, widths, value);
  }
  gather(axis: number, index: Tensor): Tensor {
    return ops.gather(this, axis, index);
  }
  cast(dtype: DType): Tensor {
    return ops.cast(this, dtype);
  }
  clamp(min?: number, max?: number): Tensor {
    return composite.clamp(this, min, max);
  }
}

export function isTensor(value: unknown): value is Tensor {
  return value instanceof Tensor;
}

export { GraphNode };
