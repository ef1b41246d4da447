import { WgslCompileError } from '../errors.ts';

/**
 * Compute pipelines cached by their full WGSL source (which encodes every specialisation), with
 * the device's validation errors turned into a `WgslCompileError` naming the kernel and showing the
 * offending lines. Creation is synchronous (WebGPU queues the compile); the error check resolves
 * later and is raised at the next sync point (readback), as the GPU reports it.
 */
export class PipelineCache {
  private readonly cache = new Map<string, GPUComputePipeline>();
  private readonly writable = new WeakMap<GPUComputePipeline, readonly number[]>();
  private readonly pending: Promise<WgslCompileError | null>[] = [];

  constructor(private readonly device: GPUDevice) {}

  get size(): number {
    return this.cache.size;
  }

  get(label: string, source: string): GPUComputePipeline {
    const cached = this.cache.get(source);
    if (cached) return cached;
    this.device.pushErrorScope('validation');
    const module = this.device.createShaderModule({ code: source, label });
    const pipeline = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label });
    const check = this.device.popErrorScope().then(async (error) => {
      if (!error) return null;
      const info = await module.getCompilationInfo();
      const lines = source.split('\n');
      const excerpt = info.messages
        .filter((m) => m.type === 'error')
        .map((m) => `  line ${m.lineNum}: ${m.message}\n    ${lines[m.lineNum - 1] ?? ''}`)
        .join('\n');
      return new WgslCompileError(label, error.message, excerpt);
    });
    this.pending.push(check);
    this.cache.set(source, pipeline);
    this.writable.set(pipeline, writableBindings(source));
    return pipeline;
  }

  /** The group-0 bindings `pipeline`'s kernel declares as read_write storage: what a dispatch may write. */
  writableBindings(pipeline: GPUComputePipeline): readonly number[] {
    return this.writable.get(pipeline) ?? [];
  }

  /** Throws the first compile error reported so far. */
  async check(): Promise<void> {
    if (!this.pending.length) return;
    const results = await Promise.all(this.pending.splice(0));
    const failure = results.find((r) => r !== null);
    if (failure) throw failure;
  }
}

/** Bindings declared `@group(0) @binding(N) var<storage, read_write>` in a WGSL source. */
export function writableBindings(source: string): number[] {
  return [...source.matchAll(/@group\(0\)\s*@binding\((\d+)\)\s*var\s*<\s*storage\s*,\s*read_write\s*>/g)].map((m) => Number(m[1]));
}
