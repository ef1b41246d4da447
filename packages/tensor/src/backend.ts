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
  /** Bytes of freed buffers kept for reuse (GPU pool, plus software adapters' texel textures); 0 on the CPU. */
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
  /** What kernels may assume about the hardware: read it through `pickForBackend`, never by casting. */
  readonly capabilities: BackendCapabilities;
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

/** What a backend tells the ops that pick a kernel variant or an algorithm per backend. */
export interface BackendCapabilities {
  /**
   * True when the work runs on CPU cores: a software WebGPU adapter (llvmpipe, lavapipe,
   * SwiftShader) or the float64 CPU reference.
   */
  readonly isSoftware: boolean;
  /** True when the backend encodes GPU dispatches; false for the CPU reference (it runs `cpu()`). */
  readonly dispatchesKernels: boolean;
}

/** One choice per backend class, for `pickForBackend`. */
export interface BackendChoices<T> {
  /** Software adapters (llvmpipe, lavapipe, SwiftShader). */
  readonly software: T;
  /** Hardware GPUs. */
  readonly hardware: T;
  /** The float64 CPU reference (it never dispatches); defaults to `software`. */
  readonly reference?: T;
}

/**
 * The single picker of a per-backend kernel variant or algorithm: `reference` (else `software`)
 * on the CPU reference, `software` on software adapters, `hardware` on hardware GPUs.
 */
export function pickForBackend<T>(backend: Backend, choices: BackendChoices<T>): T {
  const { isSoftware, dispatchesKernels } = backend.capabilities;
  if (!dispatchesKernels) return choices.reference ?? choices.software;
  return isSoftware ? choices.software : choices.hardware;
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
