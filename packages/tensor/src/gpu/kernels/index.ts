/**
 * Host side of the tensor kernels: for each primitive, the WGSL specialisation, the uniform
 * parameters and the grid, one file per kernel family. This module routes a primitive to its
 * family (`encodePrimitive`) and re-exports the families' public names.
 */
import type { Operand, OutputSpec, StorageView } from '../../backend.ts';
import { isBinaryOp, isUnaryOp, type Params, type Primitive } from '../../primitives.ts';
import type { Recorder } from './common.ts';
import { BINARY_EXPR, elementwise, UNARY_EXPR } from './elementwise.ts';
import { gather } from './gather.ts';
import { matmul } from './matmul.ts';
import { concat, movement } from './movement.ts';
import { reduce } from './reduce.ts';

export {
  type Binding,
  bufferOf,
  f32Input,
  fillMarker,
  grid1d,
  ParamWriter,
  type Recorder,
  TEXEL_INPUT_MIN_FLOATS,
  TEXEL_ROW,
  type TextureBinding,
  WORKGROUP,
  workgroupSumWgsl,
} from './common.ts';
export { coalesceAxes, elementwise } from './elementwise.ts';
export { gather } from './gather.ts';
export {
  matmul,
  matmulBlock,
  matmulBlockedSource,
  matmulBuffers,
  matmulPlanar,
  matmulSplitWithRowSums,
  matmulSplits,
  matmulSplitSource,
  matmulTextureSource,
  matmulUniformSource,
  type PlanarProduct,
  setSoftwareMatmul,
  splitPlan,
  type SoftwareMatmul,
  textureOrientation,
  textureWorkgroup,
  uniformPlan,
} from './matmul.ts';
export { concat, movement, stridedCopy } from './movement.ts';
export { reduce } from './reduce.ts';

/** Routes a primitive to its kernel. */
export function encodePrimitive<P extends Primitive>(
  rec: Recorder,
  primitive: P,
  inputs: readonly Operand[],
  params: Params<P>,
  out: OutputSpec,
  dst: GPUBuffer,
): void {
  if (isUnaryOp(primitive)) return elementwise(rec, primitive, UNARY_EXPR[primitive], inputs, out, dst);
  if (isBinaryOp(primitive)) return elementwise(rec, primitive, BINARY_EXPR[primitive], inputs, out, dst);
  const views = inputs as readonly StorageView[];
  const p = params as never;
  switch (primitive) {
    case 'where':
      return elementwise(rec, 'where', 'select(x2, x1, x0 != T0(0))', inputs, out, dst);
    case 'cast':
      return elementwise(rec, 'cast', 'x0', inputs, out, dst);
    case 'sum':
    case 'max':
      return reduce(rec, primitive, views[0], (p as Params<'sum'>).axes, dst);
    case 'matmul':
      return matmul(rec, views[0], views[1], p, out, dst);
    case 'permute':
    case 'expand':
    case 'slice':
    case 'pad':
      return movement(rec, primitive, views[0], p, out, dst);
    case 'concat':
      return concat(rec, views, (p as Params<'concat'>).axis, out, dst);
    case 'gather':
    case 'scatterAdd':
      return gather(rec, primitive === 'scatterAdd', views[0], views[1], (p as Params<'gather'>).axis, (p as Params<'gather'>).check, out, dst);
    case 'custom': {
      const { op, attrs } = p as Params<'custom'>;
      return op.gpu(rec, inputs, out, dst, attrs);
    }
    case 'reshape':
      throw new Error('reshape shares storage and never reaches a kernel');
  }
  throw new Error(`no GPU kernel for primitive '${primitive}'`);
}
