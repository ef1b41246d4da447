/**
 * Deterministic GPU buffer pool. Buffers are bucketed by size class (powers of two in quarter
 * steps, so at most 25% waste) and usage, reused LIFO, and destroyed only when the pooled bytes
 * exceed `maxPooledBytes` (oldest first). Nothing depends on garbage collection: a buffer goes back
 * exactly when the last tensor holding its storage is disposed.
 */
export interface PooledBuffer {
  readonly buffer: GPUBuffer;
  readonly size: number;
  readonly usage: number;
}

const MIN_BUFFER = 256;

export function sizeClass(bytes: number): number {
  if (bytes <= MIN_BUFFER) return MIN_BUFFER;
  const p = 2 ** Math.floor(Math.log2(bytes));
  const quarter = p / 4;
  const rounded = Math.ceil(bytes / quarter) * quarter;
  return Math.ceil(rounded / MIN_BUFFER) * MIN_BUFFER;
}

export class BufferPool {
  private readonly free = new Map<string, PooledBuffer[]>();
  private order: PooledBuffer[] = [];
  bytesInUse = 0;
  bytesPooled = 0;
  /** High-water mark of bytesInUse since creation or the last resetPeak(). */
  peakBytesInUse = 0;
  /** Buffers created over the pool's life (a pool that works creates few). */
  created = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly maxPooledBytes: number,
    private readonly onEvict: (b: PooledBuffer) => void,
  ) {}

  acquire(bytes: number, usage: number, label: string): PooledBuffer {
    const size = sizeClass(bytes);
    const key = `${size}:${usage}`;
    const list = this.free.get(key);
    const reused = list?.pop();
    if (reused) {
      this.order.splice(this.order.lastIndexOf(reused), 1);
      this.bytesPooled -= size;
      this.bytesInUse += size;
      this.peakBytesInUse = Math.max(this.peakBytesInUse, this.bytesInUse);
      return reused;
    }
    const buffer = this.device.createBuffer({ size, usage, label });
    this.created++;
    this.bytesInUse += size;
    this.peakBytesInUse = Math.max(this.peakBytesInUse, this.bytesInUse);
    return { buffer, size, usage };
  }

  release(b: PooledBuffer): void {
    this.bytesInUse -= b.size;
    const key = `${b.size}:${b.usage}`;
    let list = this.free.get(key);
    if (!list) {
      list = [];
      this.free.set(key, list);
    }
    list.push(b);
    this.order.push(b);
    this.bytesPooled += b.size;
    while (this.bytesPooled > this.maxPooledBytes && this.order.length) {
      const victim = this.order.shift()!;
      const victims = this.free.get(`${victim.size}:${victim.usage}`)!;
      victims.splice(victims.indexOf(victim), 1);
      this.bytesPooled -= victim.size;
      this.onEvict(victim);
    }
  }

  resetPeak(): void {
    this.peakBytesInUse = this.bytesInUse;
  }

  /** Destroys every pooled (free) buffer. */
  drain(): void {
    for (const b of this.order) this.onEvict(b);
    this.free.clear();
    this.order = [];
    this.bytesPooled = 0;
  }
}
