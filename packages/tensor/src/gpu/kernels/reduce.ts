/**
 * Reduction kernels (shaders/tensor/reduce.wgsl): sum and max over sorted axes, one pass per run of
 * adjacent axes, with a chunked second pass for long axes. `reduceSource` is shared with matmul,
 * which sums its split-K partial products with it.
 */
import type { StorageView } from '../../backend.ts';
import type { DType } from '../../dtype.ts';
import { reduceWgsl } from '../../generated/wgsl.ts';
import { sizeOf } from '../../shape.ts';
import type { PooledBuffer } from '../pool.ts';
import { type Binding, f32Input, grid1d, ParamWriter, type Recorder, wgslType } from './common.ts';

/** Splits a sorted axis list into maximal runs of consecutive axes. */
function axisRuns(axes: readonly number[]): [number, number][] {
  const runs: [number, number][] = [];
  for (const a of axes) {
    const last = runs[runs.length - 1];
    if (last && last[1] === a - 1) last[1] = a;
    else runs.push([a, a]);
  }
  return runs;
}

/** The WGSL of shaders/tensor/reduce.wgsl for `op` and `dtype`, without its input binding (see reduceInput). */
export function reduceSource(op: 'sum' | 'max', dtype: DType): string {
  const t = wgslType(dtype);
  const identity = op === 'sum' ? `${t}(0)` : dtype === 'i32' ? 'i32(-2147483647 - 1)' : '-3.4028234663852886e38';
  const combine = op === 'sum' ? 'a + b' : 'max(a, b)';
  return `alias T = ${t};\nconst IDENTITY: T = ${identity};\nfn combine(a: T, b: T) -> T { return ${combine}; }\n${reduceWgsl}`;
}

/** The input binding of a reduction pass over `floats` elements of `buffer`: f32Input for f32, storage for i32. */
export function reduceInput(rec: Recorder, dtype: DType, buffer: GPUBuffer, floats: number): { resource: Binding; wgsl: string } {
  if (dtype === 'f32') return f32Input(rec, 'src', 1, buffer, floats);
  return { resource: buffer, wgsl: '@group(0) @binding(1) var<storage, read> src: array<T>;\nfn src_at(i: u32) -> T { return src[i]; }\n' };
}

/**
 * Sum or max over sorted axes. Each run of adjacent axes is one pass over an [outer, K, inner] view
 * (the last run first); long axes with few outputs are split into chunks and finished by a second
 * pass, so a full reduction still uses many invocations.
 */
export function reduce(rec: Recorder, op: 'sum' | 'max', x: StorageView, axes: readonly number[], outBuffer: GPUBuffer): void {
  const outSize = sizeOf(x.shape.filter((_, i) => !axes.includes(i)));
  if (outSize === 0) return;
  const source = reduceSource(op, x.dtype);
  let shape = [...x.shape];
  let src = (x.storage.handle as PooledBuffer).buffer;
  const runs = axisRuns(axes).reverse();
  runs.forEach(([a0, a1], r) => {
    const outer = sizeOf(shape.slice(0, a0));
    const k = sizeOf(shape.slice(a0, a1 + 1));
    const inner = sizeOf(shape.slice(a1 + 1));
    const isLast = r === runs.length - 1;
    const dst = isLast ? outBuffer : rec.scratch(outer * inner * 4).buffer;
    const pass = (from: GPUBuffer, to: GPUBuffer, o: number, kk: number, inn: number, chunks: number) => {
      const chunkLen = Math.ceil(kk / chunks);
      const total = o * chunks * inn;
      const w = new ParamWriter().u(0, o).u(1, kk).u(2, inn).u(3, chunks).u(4, chunkLen).u(5, total);
      const input = reduceInput(rec, x.dtype, from, o * kk * inn);
      rec.dispatch(`${op}-reduce`, input.wgsl + source, w.buffer, [input.resource, to], grid1d(total));
    };
    const outputs = outer * inner;
    const chunks = outputs < 4096 && k >= 1024 ? Math.min(Math.ceil(k / 256), Math.ceil(16384 / outputs)) : 1;
    if (chunks > 1) {
      const partial = rec.scratch(outer * chunks * inner * 4).buffer;
      pass(src, partial, outer, k, inner, chunks);
      pass(partial, dst, outer, chunks, inner, 1);
    } else {
      pass(src, dst, outer, k, inner, 1);
    }
    src = dst;
    shape = [...shape.slice(0, a0), 1, ...shape.slice(a1 + 1)];
  });
}
