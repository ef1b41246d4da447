/**
 * Gather and scatter-add along one axis (shaders/tensor/gather.wgsl). Out-of-range indices raise
 * the device check flag instead of reading or writing out of bounds.
 */
import type { OutputSpec, StorageView } from '../../backend.ts';
import { gatherWgsl } from '../../generated/wgsl.ts';
import type { IndexCheck } from '../../primitives.ts';
import { sizeOf } from '../../shape.ts';
import type { PooledBuffer } from '../pool.ts';
import { grid1d, ParamWriter, type Recorder, wgslType } from './common.ts';

export function gather(
  rec: Recorder,
  scatter: boolean,
  values: StorageView,
  index: StorageView,
  axis: number,
  check: IndexCheck | undefined,
  out: OutputSpec,
  dst: GPUBuffer,
): void {
  const srcShape = scatter ? out.shape : values.shape;
  const total = sizeOf(out.shape);
  if (total === 0) return;
  const w = new ParamWriter()
    .u(0, sizeOf(srcShape.slice(0, axis)))
    .u(1, srcShape[axis])
    .u(2, index.shape[axis])
    .u(3, sizeOf(srcShape.slice(axis + 1)))
    .u(4, total);
  const flag = rec.checkFlag(check ?? { op: scatter ? 'scatterAdd' : 'gather', argument: 'index', rule: `must hold indices in [0, ${srcShape[axis]})` });
  w.u(5, flag.code);
  const source = `alias T = ${wgslType(out.dtype)};\nconst SCATTER: bool = ${scatter};\n${gatherWgsl}`;
  const buffers = [(values.storage.handle as PooledBuffer).buffer, (index.storage.handle as PooledBuffer).buffer, dst, flag.buffer];
  rec.dispatch(scatter ? 'scatter-add' : 'gather', source, w.buffer, buffers, grid1d(total));
}
