import { Storage } from '../backend.ts';
import type { Backend, BackendCapabilities, MemoryInfo, Operand, OutputSpec, StorageView } from '../backend.ts';
import { coerce, type DType } from '../dtype.ts';
import { isBinaryOp, isUnaryOp, type BinaryOp, type Params, type Primitive, type UnaryOp } from '../primitives.ts';
import { broadcastStrides, contiguousStrides, sizeOf, type Shape } from '../shape.ts';

/**
 * The float64 CPU reference: every primitive written for clarity, not speed. Tests compare the
 * GPU against it, and `gradcheck` runs central finite differences on it. i32 tensors hold integers
 * in the same Float64Array and are truncated after each op, as the GPU does.
 */
export class CpuBackend implements Backend {
  readonly kind = 'cpu' as const;
  readonly name = 'cpu-float64-reference';
  /** Runs on CPU cores and never dispatches: ops pick their `reference` choice (see pickForBackend). */
  readonly capabilities: BackendCapabilities = { isSoftware: true, dispatchesKernels: false };
  tensorCount = 0;
  private bytes = 0;
  private peak = 0;

  run<P extends Primitive>(primitive: P, inputs: readonly Operand[], params: Params<P>, out: OutputSpec): Storage {
    const result = compute(primitive, inputs, params, out);
    if (out.dtype === 'i32') for (let i = 0; i < result.length; i++) result[i] = coerce(result[i], 'i32');
    return this.wrap(result);
  }

  upload(data: ArrayLike<number>, dtype: DType): Storage {
    const values = new Float64Array(data.length);
    for (let i = 0; i < data.length; i++) values[i] = dtype === 'i32' ? coerce(data[i], 'i32') : data[i];
    return this.wrap(values);
  }

  async read(view: StorageView): Promise<Float32Array | Int32Array> {
    const values = view.storage.handle as Float64Array;
    return view.dtype === 'i32' ? Int32Array.from(values) : Float32Array.from(values);
  }

  /** The float64 values themselves, for references and finite differences. */
  values(storage: Storage): Float64Array {
    return storage.handle as Float64Array;
  }

  free(storage: Storage): void {
    this.bytes -= storage.byteLength;
  }

  copyInto(target: Storage, source: Storage): void {
    (target.handle as Float64Array).set(source.handle as Float64Array);
    target.range = source.range;
  }

  memory(): MemoryInfo {
    return { tensors: this.tensorCount, bytesInUse: this.bytes, bytesPooled: 0, peakBytesInUse: this.peak };
  }

  flush(): void {}
  async sync(): Promise<void> {}

  wrap(values: Float64Array): Storage {
    this.bytes += values.byteLength;
    this.peak = Math.max(this.peak, this.bytes);
    return new Storage(this, values, values.byteLength);
  }
}

const valuesOf = (operand: Operand): Float64Array => (typeof operand === 'number' ? Float64Array.of(operand) : (operand.storage.handle as Float64Array));
const shapeOf = (operand: Operand): Shape => (typeof operand === 'number' ? [] : operand.shape);

const unaryFns: { [U in UnaryOp]: (x: number) => number } = {
  neg: (x) => -x,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  abs: Math.abs,
  sign: Math.sign,
  tanh: Math.tanh,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  relu: (x) => (x > 0 ? x : 0),
  sin: Math.sin,
  cos: Math.cos,
  recip: (x) => 1 / x,
  floor: Math.floor,
};

function binaryFn(op: BinaryOp, dtype: DType): (a: number, b: number) => number {
  switch (op) {
    case 'add':
      return (a, b) => a + b;
    case 'sub':
      return (a, b) => a - b;
    case 'mul':
      return (a, b) => a * b;
    case 'div':
      return dtype === 'i32' ? (a, b) => Math.trunc(a / b) : (a, b) => a / b;
    case 'pow':
      return Math.pow;
    case 'maximum':
      return Math.max;
    case 'minimum':
      return Math.min;
    case 'eq':
      return (a, b) => +(a === b);
    case 'ne':
      return (a, b) => +(a !== b);
    case 'lt':
      return (a, b) => +(a < b);
    case 'le':
      return (a, b) => +(a <= b);
    case 'gt':
      return (a, b) => +(a > b);
    case 'ge':
      return (a, b) => +(a >= b);
  }
}

/** Calls fn(outIndex, inputIndices) over a broadcast elementwise iteration. */
function forEachBroadcast(outShape: Shape, inputs: readonly Shape[], fn: (i: number, idx: number[]) => void): void {
  const strides = inputs.map((s) => broadcastStrides(s, outShape));
  const n = sizeOf(outShape);
  const coord = new Array<number>(outShape.length).fill(0);
  const idx = new Array<number>(inputs.length).fill(0);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < inputs.length; k++) {
      let o = 0;
      for (let d = 0; d < outShape.length; d++) o += coord[d] * strides[k][d];
      idx[k] = o;
    }
    fn(i, idx);
    for (let d = outShape.length - 1; d >= 0; d--) {
      if (++coord[d] < outShape[d]) break;
      coord[d] = 0;
    }
  }
}

/** Visits every coordinate of `shape` in row-major order. */
function forEachCoord(shape: Shape, fn: (i: number, coord: readonly number[]) => void): void {
  const n = sizeOf(shape);
  const coord = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    fn(i, coord);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++coord[d] < shape[d]) break;
      coord[d] = 0;
    }
  }
}

function compute<P extends Primitive>(primitive: P, inputs: readonly Operand[], anyParams: Params<P>, out: OutputSpec): Float64Array {
  const result = new Float64Array(sizeOf(out.shape));
  const [first] = inputs;
  if (isUnaryOp(primitive)) {
    const f = unaryFns[primitive];
    const x = valuesOf(first);
    for (let i = 0; i < result.length; i++) result[i] = f(x[i]);
    return result;
  }
  if (isBinaryOp(primitive)) {
    const f = binaryFn(primitive, out.dtype);
    const a = valuesOf(inputs[0]);
    const b = valuesOf(inputs[1]);
    forEachBroadcast(out.shape, [shapeOf(inputs[0]), shapeOf(inputs[1])], (i, [ia, ib]) => {
      result[i] = f(a[ia], b[ib]);
    });
    return result;
  }
  const p = anyParams as Params<Primitive> as never;
  switch (primitive) {
    case 'where': {
      const [c, a, b] = inputs.map(valuesOf);
      forEachBroadcast(out.shape, inputs.map(shapeOf), (i, [ic, ia, ib]) => {
        result[i] = c[ic] !== 0 ? a[ia] : b[ib];
      });
      return result;
    }
    case 'sum':
    case 'max': {
      const { axes } = p as Params<'sum'>;
      const inShape = shapeOf(first);
      const x = valuesOf(first);
      result.fill(primitive === 'sum' ? 0 : -Infinity);
      const keptStrides = contiguousStrides(inShape.map((d, a) => (axes.includes(a) ? 1 : d)));
      forEachCoord(inShape, (i, coord) => {
        let o = 0;
        for (let d = 0; d < coord.length; d++) if (!axes.includes(d)) o += coord[d] * keptStrides[d];
        result[o] = primitive === 'sum' ? result[o] + x[i] : Math.max(result[o], x[i]);
      });
      return result;
    }
    case 'matmul': {
      const { transA, transB } = p as Params<'matmul'>;
      const aView = first as StorageView;
      const bView = inputs[1] as StorageView;
      const a = valuesOf(aView);
      const b = valuesOf(bView);
      const r = out.shape.length;
      const [m, n] = [out.shape[r - 2], out.shape[r - 1]];
      const k = transA ? aView.shape[aView.shape.length - 2] : aView.shape[aView.shape.length - 1];
      const batchShape = out.shape.slice(0, -2);
      const aBatch = broadcastStrides(aView.shape.slice(0, -2), batchShape);
      const bBatch = broadcastStrides(bView.shape.slice(0, -2), batchShape);
      forEachCoord(batchShape, (bi, coord) => {
        let ao = 0;
        let bo = 0;
        for (let d = 0; d < coord.length; d++) {
          ao += coord[d] * aBatch[d] * m * k;
          bo += coord[d] * bBatch[d] * k * n;
        }
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let s = 0;
            for (let t = 0; t < k; t++) {
              const av = a[ao + (transA ? t * m + i : i * k + t)];
              const bv = b[bo + (transB ? j * k + t : t * n + j)];
              s += av * bv;
            }
            result[bi * m * n + i * n + j] = s;
          }
        }
      });
      return result;
    }
    case 'custom': {
      const { op, attrs } = p as Params<'custom'>;
      const values = op.cpu(
        inputs.map((x) => (typeof x === 'number' ? x : { values: valuesOf(x), shape: x.shape, dtype: x.dtype })),
        out,
        attrs,
      );
      if (values.length !== result.length)
        throw new Error(`custom op '${op.name}': cpu() returned ${values.length} values for shape [${out.shape.join(', ')}]`);
      return values;
    }
    case 'reshape':
    case 'cast':
      result.set(valuesOf(first));
      return result;
    case 'permute': {
      const { axes } = p as Params<'permute'>;
      const inStrides = contiguousStrides(shapeOf(first));
      const x = valuesOf(first);
      forEachCoord(out.shape, (i, coord) => {
        let o = 0;
        for (let d = 0; d < coord.length; d++) o += coord[d] * inStrides[axes[d]];
        result[i] = x[o];
      });
      return result;
    }
    case 'expand': {
      const x = valuesOf(first);
      forEachBroadcast(out.shape, [shapeOf(first)], (i, [ix]) => {
        result[i] = x[ix];
      });
      return result;
    }
    case 'slice': {
      const { starts, steps } = p as Params<'slice'>;
      const inStrides = contiguousStrides(shapeOf(first));
      const x = valuesOf(first);
      forEachCoord(out.shape, (i, coord) => {
        let o = 0;
        for (let d = 0; d < coord.length; d++) o += (starts[d] + coord[d] * steps[d]) * inStrides[d];
        result[i] = x[o];
      });
      return result;
    }
    case 'pad': {
      const { widths, value } = p as Params<'pad'>;
      const inShape = shapeOf(first);
      const inStrides = contiguousStrides(inShape);
      const x = valuesOf(first);
      forEachCoord(out.shape, (i, coord) => {
        let o = 0;
        for (let d = 0; d < coord.length; d++) {
          const s = coord[d] - widths[d][0];
          if (s < 0 || s >= inShape[d]) {
            result[i] = value;
            return;
          }
          o += s * inStrides[d];
        }
        result[i] = x[o];
      });
      return result;
    }
    case 'concat': {
      const { axis } = p as Params<'concat'>;
      const outStrides = contiguousStrides(out.shape);
      let offset = 0;
      for (const input of inputs) {
        const shape = shapeOf(input);
        const x = valuesOf(input);
        forEachCoord(shape, (i, coord) => {
          let o = offset * outStrides[axis];
          for (let d = 0; d < coord.length; d++) o += coord[d] * outStrides[d];
          result[o] = x[i];
        });
        offset += shape[axis];
      }
      return result;
    }
    case 'gather':
    case 'scatterAdd': {
      const { axis } = p as Params<'gather'>;
      const values = valuesOf(first);
      const index = valuesOf(inputs[1]);
      const indexShape = shapeOf(inputs[1]);
      const srcShape = primitive === 'gather' ? shapeOf(first) : out.shape;
      const srcStrides = contiguousStrides(srcShape);
      forEachCoord(indexShape, (q, coord) => {
        let o = 0;
        for (let d = 0; d < coord.length; d++) o += (d === axis ? index[q] : coord[d]) * srcStrides[d];
        if (primitive === 'gather') result[q] = values[o];
        else result[o] += values[q];
      });
      return result;
    }
  }
  throw new Error(`cpu backend: primitive '${primitive}' has no reference implementation`);
}
