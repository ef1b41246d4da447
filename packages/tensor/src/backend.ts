import type { DType } from './dtype.ts';
import type { Params, Primitive } from './primitives.ts';
import type { Shape } from './shape.ts';

/** What a backend receives for each input: a tensor's storage with its shape, or a JS scalar. */
export interface StorageView {
  readonly storage: Storage;
  readonly shape: Shape;
  readonly dtype: DType;
}
export type Operand = StorageView | number;

export interface OutputSpec {
  readonly shape: Shape;
  readonly dtype: DType;
}

export interface MemoryInfo {
  /** Live tensor handles on this backend. */
  readonly tensors: number;
  /** Bytes of device memory held by live storages. */
  readonly bytesInUse: number;
  /** Bytes of freed buffers kept for reuse (GPU pool); 0 on the CPU. */
  readonly bytesPooled: number;
  /** High-water mark of bytesInUse (GPU: since creation or `backend.pool.resetPeak()`). */
  readonly peakBytesInUse: number;
}

/**
 * A backend runs primitives on storages. Two exist: the WebGPU backend (`gpu/backend.ts`) and the
 * float64 CPU reference (`cpu/backend.ts`). Storages are reference-counted so reshape can share one
 * and the autograd graph can keep what a backward pass needs after the user disposed a tensor.
 */
export interface Backend {
  readonly kind: 'gpu' | 'cpu';
  readonly name: string;
  run<P extends Primitive>(primitive: P, inputs: readonly Operand[], params: Params<P>, out: OutputSpec): Storage;
  upload(data: ArrayLike<number>, dtype: DType): Storage;
  read(view: StorageView): Promise<Float32Array | Int32Array>;
  /** Returns a storage's memory (to the pool on the GPU). Called when its last reference goes. */
  free(storage: Storage): void;
  /** Copies `source` into `target` (same byte size), for in-place parameter updates. */
  copyInto(target: Storage, source: Storage): void;
  memory(): MemoryInfo;
  /** Submits queued GPU work without waiting (no-op on the CPU). */
  flush(): void;
  /** Resolves when all submitted work has finished. */
  sync(): Promise<void>;
  tensorCount: number;
}

/** Reference-counted device memory. `handle` is a GPU buffer or a Float64Array. */
export class Storage {
  private refs = 1;
  /**
   * [min, max] of an i32 storage's values when the host knows them (set by `tensor()`/`arange()`
   * at upload, carried by reshape views and `assign`): lets gather check an index with no
   * readback. Undefined for values computed on the device.
   */
  range: readonly [number, number] | undefined = undefined;
  constructor(
    readonly backend: Backend,
    readonly handle: unknown,
    readonly byteLength: number,
  ) {}

  retain(): this {
    this.refs++;
    return this;
  }

  release(): void {
    if (--this.refs === 0) this.backend.free(this);
  }

  get alive(): boolean {
    return this.refs > 0;
  }
}
