/**
 * Movement kernels (shaders/tensor/movement.wgsl): permute, expand, slice, pad and concat, all as
 * one strided copy per output (per input for concat). `stridedCopy` is also used by matmul to
 * expand partially broadcast batches.
 */
import type { OutputSpec, StorageView } from '../../backend.ts';
import type { DType } from '../../dtype.ts';
import { movementWgsl } from '../../generated/wgsl.ts';
import type { Params } from '../../primitives.ts';
import { broadcastStrides, contiguousStrides, sizeOf, type Shape } from '../../shape.ts';
import type { PooledBuffer } from '../pool.ts';
import { grid1d, ones, ParamWriter, type Recorder, scalarBits, wgslType, zerosOf } from './common.ts';

/** One strided copy (see shaders/tensor/movement.wgsl). */
export interface CopySpec {
  shape: Shape;
  start: readonly number[];
  step: readonly number[];
  srcExtent: readonly number[];
  srcStride: readonly number[];
  dstStride?: readonly number[];
  srcOffset?: number;
  dstOffset?: number;
  padValue?: number;
}

export function stridedCopy(rec: Recorder, label: string, dtype: DType, spec: CopySpec, src: GPUBuffer, dst: GPUBuffer): void {
  const n = sizeOf(spec.shape);
  if (n === 0) return;
  const w = new ParamWriter()
    .u(0, n)
    .u(1, spec.shape.length)
    .u(2, spec.srcOffset ?? 0)
    .u(3, spec.dstOffset ?? 0)
    .u(4, scalarBits(spec.padValue ?? 0, dtype))
    .dims(8, spec.shape)
    .dims(16, spec.start, true)
    .dims(24, spec.step, true)
    .dims(32, spec.srcExtent)
    .dims(40, spec.srcStride)
    .dims(48, spec.dstStride ?? contiguousStrides(spec.shape));
  rec.dispatch(label, `alias T = ${wgslType(dtype)};\n${movementWgsl}`, w.buffer, [src, dst], grid1d(n));
}

export function movement<P extends 'permute' | 'expand' | 'slice' | 'pad'>(
  rec: Recorder,
  primitive: P,
  x: StorageView,
  params: Params<P>,
  out: OutputSpec,
  dst: GPUBuffer,
): void {
  const src = (x.storage.handle as PooledBuffer).buffer;
  const inStrides = contiguousStrides(x.shape);
  const r = out.shape.length;
  switch (primitive) {
    case 'permute': {
      const { axes } = params as Params<'permute'>;
      stridedCopy(
        rec,
        'permute',
        x.dtype,
        {
          shape: out.shape,
          start: zerosOf(r),
          step: ones(r),
          srcExtent: axes.map((a) => x.shape[a]),
          srcStride: axes.map((a) => inStrides[a]),
        },
        src,
        dst,
      );
      return;
    }
    case 'expand':
      stridedCopy(
        rec,
        'expand',
        x.dtype,
        {
          shape: out.shape,
          start: zerosOf(r),
          step: ones(r),
          srcExtent: out.shape,
          srcStride: broadcastStrides(x.shape, out.shape),
        },
        src,
        dst,
      );
      return;
    case 'slice': {
      const { starts, steps } = params as Params<'slice'>;
      stridedCopy(rec, 'slice', x.dtype, { shape: out.shape, start: starts, step: steps, srcExtent: x.shape, srcStride: inStrides }, src, dst);
      return;
    }
    case 'pad': {
      const { widths, value } = params as Params<'pad'>;
      stridedCopy(
        rec,
        'pad',
        x.dtype,
        {
          shape: out.shape,
          start: widths.map(([before]) => -before),
          step: ones(r),
          srcExtent: x.shape,
          srcStride: inStrides,
          padValue: value,
        },
        src,
        dst,
      );
      return;
    }
  }
}

export function concat(rec: Recorder, inputs: readonly StorageView[], axis: number, out: OutputSpec, dst: GPUBuffer): void {
  const outStrides = contiguousStrides(out.shape);
  let offset = 0;
  for (const x of inputs) {
    const r = x.shape.length;
    stridedCopy(
      rec,
      'concat',
      out.dtype,
      {
        shape: x.shape,
        start: zerosOf(r),
        step: ones(r),
        srcExtent: x.shape,
        srcStride: contiguousStrides(x.shape),
        dstStride: outStrides,
        dstOffset: offset * outStrides[axis],
      },
      (x.storage.handle as PooledBuffer).buffer,
      dst,
    );
    offset += x.shape[axis];
  }
}
