import { Storage } from '../backend.ts';
import type { Backend, BackendCapabilities, MemoryInfo, Operand, OutputSpec, StorageView } from '../backend.ts';
import type { DType } from '../dtype.ts';
import { DeviceLostError, GpuValidationError, InvalidArgumentError } from '../errors.ts';
import type { IndexCheck, Params, Primitive } from '../primitives.ts';
import { sizeOf } from '../shape.ts';
import { encodePrimitive, type Recorder } from './kernels/index.ts';
import { TEXEL_ROW, type Binding, type TextureBinding } from './kernels/common.ts';
import { PipelineCache } from './pipelines.ts';
import { BufferPool, type PooledBuffer } from './pool.ts';
import { BufferUsage, MapMode, TextureUsage } from './constants.ts';

const STORAGE_USAGE = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;
const UNIFORM_SLOT = 256;
/**
 * Texel copies Recorder.texels keeps current at once, and the texture bytes they may hold (see
 * GpuBackend.texelCache): past either, the least recently used copy is dropped. The byte bound
 * keeps the textures a training step holds to what one layer's columns need on large networks.
 */
const TEXEL_CACHE_ENTRIES = 64;
const TEXEL_CACHE_BYTES = 256 * 2 ** 20; // or half of maxPooledBytes, when that is less
/** Bytes of a texel texture `height` rows of TEXEL_ROW rgba32float texels tall. */
const textureBytes = (height: number) => TEXEL_ROW * height * 16;
/** Bind groups kept for reuse (a step's dispatches, several models' worth); past it the cache starts over. */
const BIND_GROUP_CACHE = 4096;

/** Dispatches encoded before a submit: bounds the uniform ring and the latency of a long chain. */
const MAX_DISPATCHES_PER_SUBMIT = 256;

export interface GpuBackendOptions {
  matmulKernel: 'blocked' | 'tiled';
  isSoftware: boolean;
  maxPooledBytes: number;
  name: string;
  /**
   * Objects the device needs alive as long as this backend (dawn.node's GPU object and the
   * adapter): the default device and every tensor reach the backend, not the context.
   */
  retain?: readonly unknown[];
}

/**
 * The WebGPU backend. Work is recorded into one command encoder (one open compute pass) and
 * submitted when 256 dispatches are queued, before a readback, or on flush(): a chain of ops
 * costs no round trip. Each dispatch takes a 256-byte slot of a uniform ring that is uploaded with
 * one writeBuffer just before the submit.
 *
 * Memory: every tensor storage is a pooled buffer, returned to the pool when its last reference
 * goes. Reusing a buffer inside the same encoder is safe (dispatches run in order); writing one
 * from the host is not if the pending encoder still reads it, so a queue write to a buffer used in
 * the current epoch submits first.
 */
export class GpuBackend implements Backend, Recorder {
  readonly kind = 'gpu' as const;
  readonly name: string;
  readonly matmulKernel: 'blocked' | 'tiled';
  readonly isSoftware: boolean;
  readonly capabilities: BackendCapabilities;
  readonly limits: GPUSupportedLimits;
  tensorCount = 0;
  readonly pipelines: PipelineCache;
  readonly pool: BufferPool;
  /** Counters for benchmarks and tests. */
  readonly stats = { dispatches: 0, submits: 0, readbacks: 0, texelCopies: 0 };
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private epoch = 0;
  private slots = 0;
  private readonly uniformHost = new Uint8Array(UNIFORM_SLOT * MAX_DISPATCHES_PER_SUBMIT);
  private readonly uniformRing: GPUBuffer;
  private scratchInFlight: PooledBuffer[] = [];
  /** Buffers the pending encoder touches: a host write to one of them must submit first. */
  private usedThisEpoch = new Set<GPUBuffer>();
  private destroyAfterSubmit: GPUBuffer[] = [];
  /**
   * Recorder.texels' textures, pooled by height (a power of two) and owned by the backend: taken
   * by the texel cache below for one buffer's copy and free again once that copy is stale (a later
   * copy into the same texture runs after the dispatches that read it: encoder order), destroyed
   * with the backend.
   */
  private readonly freeTextures = new Map<number, TexelTexture[]>();
  /**
   * Buffers whose texel copy is still current (nothing has written the buffer since): a training
   * step reads the same activations as textures from several kernels (batch norm statistics, the
   * fused im2col, the backward's sums, products), and each copy costs a memcpy and a compute-pass
   * break (51 copies of 32 MiB in the quick network's step, 21 of them distinct). An entry goes
   * when the buffer is written: a dispatch binding it as read_write storage, a host write, a copy
   * into it, or its release to the pool; its texture then returns to the free list (later copies
   * into it run after the reads already encoded: encoder order; see staleTextures). Bounded by
   * TEXEL_CACHE_ENTRIES and TEXEL_CACHE_BYTES.
   */
  private readonly texelCache = new Map<GPUBuffer, { entry: TexelTexture; texels: number }>();
  private texelCacheBytes = 0;
  private readonly texelCacheLimit: number;
  /**
   * Textures of dropped copies, free again once the current primitive is encoded: a kernel may
   * take several inputs' copies before it dispatches, and the copy of a later input must not
   * reuse the texture of an earlier one.
   */
  private staleTextures: TexelTexture[] = [];
  /** Bytes of the texel textures (free or holding a cached copy): reported in memory().bytesPooled. */
  private textureBytes = 0;
  private lost: GPUDeviceLostInfo | null = null;
  private readonly retained: readonly unknown[];
  private errors: GPUError[] = [];
  /** Device-side input checks (gather indices): one atomic word, 0 = no error. See checkFlag. */
  private flag: GPUBuffer | null = null;
  /**
   * Bind groups by pipeline and resources: a training step binds the same pooled buffers at the
   * same uniform slots every step (the pool reuses deterministically), and creating a bind group
   * costs ~27 µs of host time on dawn.node (2 ms of a 79-dispatch step). Cleared whenever a buffer
   * or texture is destroyed, so no entry outlives what it binds; bounded by BIND_GROUP_CACHE.
   */
  private readonly bindGroups = new Map<string, GPUBindGroup>();
  private readonly resourceIds = new WeakMap<object, number>();
  private nextResourceId = 0;
  /** A dispatch bound the flag since the last readback copied it. */
  private flagArmed = false;
  private readonly checks: IndexCheck[] = [];
  private readonly checkCodes = new Map<string, number>();

  constructor(
    readonly device: GPUDevice,
    options: GpuBackendOptions,
  ) {
    this.name = options.name;
    this.retained = options.retain ?? [];
    this.matmulKernel = options.matmulKernel;
    this.isSoftware = options.isSoftware;
    this.capabilities = { isSoftware: options.isSoftware, dispatchesKernels: true };
    this.limits = device.limits;
    this.pipelines = new PipelineCache(device);
    this.texelCacheLimit = Math.min(TEXEL_CACHE_BYTES, Math.floor(options.maxPooledBytes / 2));
    this.pool = new BufferPool(device, options.maxPooledBytes, (b) => {
      this.bindGroups.clear();
      this.forgetTexels(b.buffer);
      if (this.usedThisEpoch.has(b.buffer)) this.destroyAfterSubmit.push(b.buffer);
      else b.buffer.destroy();
    });
    this.uniformRing = device.createBuffer({
      size: this.uniformHost.byteLength,
      usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST,
      label: 'fairgpu-uniform-ring',
    });
    void device.lost.then((info) => {
      this.lost = info;
    });
    device.addEventListener?.('uncapturederror', (event) => {
      this.errors.push((event as GPUUncapturedErrorEvent).error);
    });
  }

  // ---- Backend ----

  run<P extends Primitive>(primitive: P, inputs: readonly Operand[], params: Params<P>, out: OutputSpec): Storage {
    this.checkAlive();
    const bytes = Math.max(sizeOf(out.shape), 1) * 4;
    this.checkBindingSize(primitive, bytes);
    const target = this.pool.acquire(bytes, STORAGE_USAGE, `tensor:${primitive}`);
    try {
      encodePrimitive(this, primitive, inputs, params, out, target.buffer);
    } finally {
      for (const s of this.scratchInFlight) {
        this.forgetTexels(s.buffer);
        this.pool.release(s);
      }
      this.scratchInFlight = [];
      for (const t of this.staleTextures) this.freeTextures.get(t.height)!.push(t);
      this.staleTextures = [];
    }
    return new Storage(this, target, target.size);
  }

  upload(data: ArrayLike<number>, dtype: DType): Storage {
    this.checkAlive();
    const bytes = Math.max(data.length, 1) * 4;
    this.checkBindingSize('upload', bytes);
    const target = this.pool.acquire(bytes, STORAGE_USAGE, 'tensor:upload');
    const typed = dtype === 'i32' ? toTyped(Int32Array, data) : toTyped(Float32Array, data);
    if (data.length) this.writeBuffer(target, typed);
    return new Storage(this, target, target.size);
  }

  async read(view: StorageView): Promise<Float32Array | Int32Array> {
    this.checkAlive();
    const n = sizeOf(view.shape);
    const source = view.storage.handle as PooledBuffer;
    const dataBytes = Math.max(n, 1) * 4;
    // The check flag rides along with the data (4 more bytes) when a checking kernel ran since the
    // last readback: no extra submit or map. It is cleared in the same encoder, right after the copy.
    const withFlag = this.flagArmed;
    const staging = this.pool.acquire(dataBytes + (withFlag ? 4 : 0), BufferUsage.MAP_READ | BufferUsage.COPY_DST, 'readback');
    this.endPass();
    const encoder = this.ensureEncoder();
    encoder.copyBufferToBuffer(source.buffer, 0, staging.buffer, 0, dataBytes);
    if (withFlag) this.encodeFlagCopy(encoder, staging.buffer, dataBytes);
    this.usedThisEpoch.add(source.buffer);
    this.flush();
    this.stats.readbacks++;
    try {
      // A kernel that failed to compile explains the errors that follow it: report it first.
      await this.pipelines.check();
      await staging.buffer.mapAsync(MapMode.READ, 0, dataBytes + (withFlag ? 4 : 0));
    } catch (e) {
      this.pool.release(staging);
      this.checkAlive();
      throw e;
    }
    try {
      this.throwReportedErrors();
    } catch (e) {
      staging.buffer.unmap();
      this.pool.release(staging);
      throw e;
    }
    // One mapped range (getMappedRange offsets must be multiples of 8; the flag sits at dataBytes).
    const mapped = staging.buffer.getMappedRange(0, dataBytes + (withFlag ? 4 : 0));
    const bytes = mapped.slice(0, dataBytes);
    const code = withFlag ? new Uint32Array(mapped, dataBytes, 1)[0] : 0;
    staging.buffer.unmap();
    this.pool.release(staging);
    this.throwFlagged(code);
    const result = view.dtype === 'i32' ? new Int32Array(bytes) : new Float32Array(bytes);
    return result.length === n ? result : result.subarray(0, n);
  }

  free(storage: Storage): void {
    const pooled = storage.handle as PooledBuffer;
    this.forgetTexels(pooled.buffer);
    this.pool.release(pooled);
  }

  copyInto(target: Storage, source: Storage): void {
    this.checkAlive();
    const t = target.handle as PooledBuffer;
    const s = source.handle as PooledBuffer;
    this.endPass();
    this.forgetTexels(t.buffer);
    this.ensureEncoder().copyBufferToBuffer(s.buffer, 0, t.buffer, 0, Math.min(target.byteLength, source.byteLength));
    target.range = source.range;
    this.usedThisEpoch.add(t.buffer).add(s.buffer);
  }

  memory(): MemoryInfo {
    return {
      tensors: this.tensorCount,
      bytesInUse: this.pool.bytesInUse,
      bytesPooled: this.pool.bytesPooled + this.textureBytes,
      peakBytesInUse: this.pool.peakBytesInUse,
    };
  }

  flush(): void {
    if (!this.encoder) return;
    this.endPass();
    if (this.slots) this.device.queue.writeBuffer(this.uniformRing, 0, this.uniformHost, 0, this.slots * UNIFORM_SLOT);
    this.device.queue.submit([this.encoder.finish()]);
    this.stats.submits++;
    this.encoder = null;
    this.slots = 0;
    this.epoch++;
    this.usedThisEpoch.clear();
    for (const b of this.destroyAfterSubmit) b.destroy();
    this.destroyAfterSubmit = [];
  }

  async sync(): Promise<void> {
    const staging = this.flagArmed ? this.pool.acquire(4, BufferUsage.MAP_READ | BufferUsage.COPY_DST, 'check-flag') : null;
    if (staging) {
      this.endPass();
      this.encodeFlagCopy(this.ensureEncoder(), staging.buffer, 0);
    }
    this.flush();
    try {
      await this.device.queue.onSubmittedWorkDone();
      this.checkAlive();
      await this.pipelines.check();
      this.throwReportedErrors();
      if (staging) {
        await staging.buffer.mapAsync(MapMode.READ, 0, 4);
        const code = new Uint32Array(staging.buffer.getMappedRange(0, 4))[0];
        staging.buffer.unmap();
        this.throwFlagged(code);
      }
    } finally {
      if (staging) this.pool.release(staging);
    }
  }

  /**
   * The device check flag for a kernel that validates its input (Recorder.checkFlag): codes count
   * down from 0xFFFFFFFF in registration order, so with atomicMax the earliest-registered check
   * (a forward op, before its backward) is the one reported.
   */
  checkFlag(check: IndexCheck): { buffer: GPUBuffer; code: number } {
    this.flag ??= this.device.createBuffer({ size: 16, usage: STORAGE_USAGE, label: 'fairgpu-check-flag' });
    const key = `${check.op}\u0000${check.argument}\u0000${check.rule}`;
    let code = this.checkCodes.get(key);
    if (code === undefined) {
      this.checks.push(check);
      code = 0xffffffff - (this.checks.length - 1);
      this.checkCodes.set(key, code);
    }
    this.flagArmed = true;
    return { buffer: this.flag, code };
  }

  // ---- Recorder (used by kernels.ts) ----

  dispatch(label: string, source: string, params: ArrayBuffer, buffers: readonly (Binding | null)[], grid: readonly [number, number, number]): void {
    if (this.slots === MAX_DISPATCHES_PER_SUBMIT) this.flush();
    const pipeline = this.pipelines.get(label, source);
    const writable = this.pipelines.writableBindings(pipeline);
    const slot = this.slots++;
    this.uniformHost.set(new Uint8Array(params, 0, UNIFORM_SLOT), slot * UNIFORM_SLOT);
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.uniformRing, offset: slot * UNIFORM_SLOT, size: UNIFORM_SLOT } }];
    let key = `${this.resourceId(pipeline)}:${slot}`;
    buffers.forEach((b, i) => {
      if (!b) {
        key += '|';
        return;
      }
      if ('textureView' in b) {
        entries.push({ binding: i + 1, resource: b.textureView });
        key += `|t${this.resourceId(b.textureView)}`;
        return;
      }
      // A range ({ buffer, offset, size }) or a whole buffer; a GPUBuffer has no `buffer` field.
      const range = 'buffer' in b ? b : { buffer: b };
      entries.push({ binding: i + 1, resource: range });
      key += `|${this.resourceId(range.buffer)}:${range.offset ?? ''}:${range.size ?? ''}`;
      this.usedThisEpoch.add(range.buffer);
      if (writable.includes(i + 1)) this.forgetTexels(range.buffer);
    });
    let bindGroup = this.bindGroups.get(key);
    if (!bindGroup) {
      if (this.bindGroups.size >= BIND_GROUP_CACHE) this.bindGroups.clear();
      bindGroup = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
      this.bindGroups.set(key, bindGroup);
    }
    const pass = this.ensurePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(grid[0], grid[1], grid[2]);
    this.stats.dispatches++;
  }

  scratch(bytes: number, options: { uniform?: boolean } = {}): PooledBuffer {
    const b = this.pool.acquire(bytes, options.uniform ? STORAGE_USAGE | BufferUsage.UNIFORM : STORAGE_USAGE, 'scratch');
    this.scratchInFlight.push(b);
    return b;
  }

  texels(buffer: GPUBuffer, floats: number): TextureBinding | null {
    const texels = Math.ceil(floats / 4);
    const cached = this.texelCache.get(buffer);
    if (cached && cached.texels >= texels) {
      // Most recently used last: eviction takes the least recently used copy.
      this.texelCache.delete(buffer);
      this.texelCache.set(buffer, cached);
      this.usedThisEpoch.add(buffer);
      return { textureView: cached.entry.view };
    }
    const rows = Math.max(1, Math.ceil(texels / TEXEL_ROW));
    const maxDim = this.limits.maxTextureDimension2D;
    if (TEXEL_ROW > maxDim || rows > maxDim) return null;
    const height = Math.min(maxDim, 2 ** Math.ceil(Math.log2(rows)));
    let free = this.freeTextures.get(height);
    if (!free) {
      free = [];
      this.freeTextures.set(height, free);
    }
    let entry = free.pop();
    if (!entry) {
      const texture = this.device.createTexture({
        size: [TEXEL_ROW, height, 1],
        format: 'rgba32float',
        usage: TextureUsage.COPY_DST | TextureUsage.TEXTURE_BINDING,
        label: `fairgpu-texels-${height}`,
      });
      entry = { texture, view: texture.createView(), height };
      this.textureBytes += textureBytes(height);
    }
    this.forgetTexels(buffer);
    const bytes = textureBytes(entry.height);
    while (this.texelCache.size && (this.texelCache.size >= TEXEL_CACHE_ENTRIES || this.texelCacheBytes + bytes > this.texelCacheLimit)) {
      this.forgetTexels(this.texelCache.keys().next().value!);
    }
    this.texelCache.set(buffer, { entry, texels });
    this.texelCacheBytes += bytes;
    // A copy cannot sit inside a compute pass: end it; the next dispatch opens a new one.
    this.endPass();
    this.stats.texelCopies++;
    const encoder = this.ensureEncoder();
    const bytesPerRow = TEXEL_ROW * 16;
    const full = Math.floor(texels / TEXEL_ROW);
    if (full) encoder.copyBufferToTexture({ buffer, bytesPerRow, rowsPerImage: full }, { texture: entry.texture }, [TEXEL_ROW, full, 1]);
    const rest = texels - full * TEXEL_ROW;
    if (rest) encoder.copyBufferToTexture({ buffer, offset: full * bytesPerRow, bytesPerRow }, { texture: entry.texture, origin: [0, full, 0] }, [rest, 1, 1]);
    this.usedThisEpoch.add(buffer);
    return { textureView: entry.view };
  }

  /** Drops `buffer`'s texel copy (it is about to change or go): its texture is free again. */
  private forgetTexels(buffer: GPUBuffer): void {
    const cached = this.texelCache.get(buffer);
    if (!cached) return;
    this.texelCache.delete(buffer);
    this.texelCacheBytes -= textureBytes(cached.entry.height);
    this.staleTextures.push(cached.entry);
  }

  // ---- internals ----

  /** Copies the check flag into `staging` at `offset` and clears it, in order with the work before. */
  private encodeFlagCopy(encoder: GPUCommandEncoder, staging: GPUBuffer, offset: number): void {
    encoder.copyBufferToBuffer(this.flag!, 0, staging, offset, 4);
    encoder.clearBuffer(this.flag!, 0, 4);
    this.usedThisEpoch.add(this.flag!);
    this.flagArmed = false;
  }

  private throwFlagged(code: number): void {
    if (code === 0) return;
    const check = this.checks[0xffffffff - code];
    if (!check) throw new GpuValidationError(`GPU check flag holds unknown code ${code}`);
    throw new InvalidArgumentError(
      check.op,
      check.argument,
      `${check.rule} (a value outside the range was found on the GPU; reported at the first readback after the op ran)`,
    );
  }

  /** Destroys pooled buffers and the uniform ring; the device itself belongs to the context. */
  destroy(): void {
    this.flush();
    this.bindGroups.clear();
    for (const buffer of [...this.texelCache.keys()]) this.forgetTexels(buffer);
    for (const { texture } of this.staleTextures) texture.destroy();
    this.staleTextures = [];
    this.pool.drain();
    for (const list of this.freeTextures.values()) for (const { texture } of list) texture.destroy();
    this.freeTextures.clear();
    this.textureBytes = 0;
    this.uniformRing.destroy();
    this.flag?.destroy();
    this.flag = null;
  }

  /** A small id per GPU object, for the bind-group cache's keys. */
  private resourceId(o: object): number {
    let id = this.resourceIds.get(o);
    if (id === undefined) this.resourceIds.set(o, (id = this.nextResourceId++));
    return id;
  }

  private ensureEncoder(): GPUCommandEncoder {
    this.encoder ??= this.device.createCommandEncoder({ label: `fairgpu-epoch-${this.epoch}` });
    return this.encoder;
  }

  private ensurePass(): GPUComputePassEncoder {
    this.pass ??= this.ensureEncoder().beginComputePass();
    return this.pass;
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  private writeBuffer(target: PooledBuffer, data: Float32Array | Int32Array): void {
    // queue.writeBuffer runs before the pending encoder is submitted: if that encoder still reads
    // this buffer (it was freed and reused within the epoch), submit the encoder first.
    if (this.usedThisEpoch.has(target.buffer)) this.flush();
    this.forgetTexels(target.buffer);
    this.device.queue.writeBuffer(target.buffer, 0, data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
  }

  private checkBindingSize(op: string, bytes: number): void {
    const limit = this.device.limits.maxStorageBufferBindingSize;
    if (bytes > limit) {
      throw new InvalidArgumentError(
        op,
        'shape',
        `needs a ${bytes}-byte buffer but this adapter binds at most ${limit} bytes (maxStorageBufferBindingSize); tile the computation`,
      );
    }
  }

  private checkAlive(): void {
    if (this.lost) throw new DeviceLostError(this.lost.reason, this.lost.message || 'no message');
  }

  private throwReportedErrors(): void {
    const error = this.errors.shift();
    if (error) throw new GpuValidationError(`GPU error: ${error.message}`);
  }
}

interface TexelTexture {
  texture: GPUTexture;
  view: GPUTextureView;
  height: number;
}

function toTyped<T extends Float32Array | Int32Array>(ctor: { new (n: number): T; from(a: ArrayLike<number>): T }, data: ArrayLike<number>): T {
  if (data instanceof ctor) return data as T;
  return ctor.from(data);
}
