/**
 * IDX reader (the MNIST file format: http://yann.lecun.com/exdb/mnist/). A file is a 4-byte magic
 * number `00 00 <type> <ndims>`, then `ndims` big-endian uint32 dimensions, then the data,
 * big-endian, row-major. Every size is checked against the byte length before anything is
 * allocated, so a header that lies yields a DatasetFormatError, never a huge allocation.
 */
import { DatasetFormatError, checkKnownOptions } from './errors.ts';

export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  dims: number[];
  /** Element type code from the magic number (0x08 u8, 0x09 i8, 0x0b i16, 0x0c i32, 0x0d f32, 0x0e f64). */
  typeCode: number;
  /** Row-major data. For u8 files this is a view on the input bytes (no copy). */
  data: IdxData;
}

export const IDX_IMAGES_MAGIC = 0x00000803;
export const IDX_LABELS_MAGIC = 0x00000801;

const ITEM_SIZE: Record<number, number> = { 0x08: 1, 0x09: 1, 0x0b: 2, 0x0c: 4, 0x0d: 4, 0x0e: 8 };
/** More dimensions than any real IDX file has; bounds the header loop on garbage input. */
const MAX_DIMS = 16;

export function readIdx(bytes: Uint8Array): IdxArray {
  if (!(bytes instanceof Uint8Array)) throw new DatasetFormatError('idx', 'input must be a Uint8Array');
  if (bytes.length < 4) throw new DatasetFormatError('idx', `file of ${bytes.length} bytes is shorter than the 4-byte magic number`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  const typeCode = bytes[2];
  const ndims = bytes[3];
  const itemSize = ITEM_SIZE[typeCode];
  if (bytes[0] !== 0 || bytes[1] !== 0 || itemSize === undefined) {
    throw new DatasetFormatError('idx', `bad magic number 0x${magic.toString(16).padStart(8, '0')}`);
  }
  if (ndims < 1 || ndims > MAX_DIMS) throw new DatasetFormatError('idx', `magic declares ${ndims} dimensions; expected 1..${MAX_DIMS}`);
  const headerSize = 4 + 4 * ndims;
  if (bytes.length < headerSize) {
    throw new DatasetFormatError('idx', `truncated header: ${ndims} dimensions need ${headerSize} bytes, file has ${bytes.length}`);
  }
  const available = bytes.length - headerSize;
  const dims: number[] = [];
  let count = 1;
  for (let d = 0; d < ndims; d++) {
    const size = view.getUint32(4 + 4 * d, false);
    dims.push(size);
    count *= size;
    // Checked inside the loop so the product never grows past what the file can hold.
    if (count * itemSize > available) {
      throw new DatasetFormatError(
        'idx',
        `header declares dims [${dims.join(', ')}${d + 1 < ndims ? ', …' : ''}] needing more than the ${available} data bytes present`,
      );
    }
  }
  const dataBytes = count * itemSize;
  if (dataBytes !== available) {
    throw new DatasetFormatError('idx', `header declares ${dataBytes} data bytes but the file has ${available} (trailing bytes)`);
  }
  return { dims, typeCode, data: decodeBigEndian(bytes.subarray(headerSize), typeCode, count) };
}

function decodeBigEndian(bytes: Uint8Array, typeCode: number, count: number): IdxData {
  if (typeCode === 0x08) return bytes;
  if (typeCode === 0x09) return new Int8Array(bytes.buffer, bytes.byteOffset, count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (typeCode) {
    case 0x0b: {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(2 * i, false);
      return out;
    }
    case 0x0c: {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(4 * i, false);
      return out;
    }
    case 0x0d: {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, false);
      return out;
    }
    default: {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, false);
      return out;
    }
  }
}

export interface IdxImages {
  count: number;
  rows: number;
  cols: number;
  /** count·rows·cols greyscale bytes, row-major; a view on the input. */
  pixels: Uint8Array;
}

/** Reads an IDX image file (magic 0x00000803: uint8, 3 dimensions count × rows × cols). */
export function readIdxImages(bytes: Uint8Array, expect: { rows?: number; cols?: number } = {}): IdxImages {
  checkKnownOptions('expect', expect, ['rows', 'cols']);
  expect ??= {};
  const magic = peekMagic(bytes);
  if (magic !== IDX_IMAGES_MAGIC) {
    throw new DatasetFormatError('idx', `expected image magic 0x00000803, got 0x${magic.toString(16).padStart(8, '0')}`);
  }
  const { dims, data } = readIdx(bytes);
  const [count, rows, cols] = dims;
  if (expect.rows !== undefined && rows !== expect.rows) throw new DatasetFormatError('idx', `rows is ${rows}, expected ${expect.rows}`);
  if (expect.cols !== undefined && cols !== expect.cols) throw new DatasetFormatError('idx', `cols is ${cols}, expected ${expect.cols}`);
  return { count, rows, cols, pixels: data as Uint8Array };
}

/** Reads an IDX label file (magic 0x00000801: uint8, 1 dimension); labels must be < numClasses. */
export function readIdxLabels(bytes: Uint8Array, numClasses = 256): Uint8Array {
  const magic = peekMagic(bytes);
  if (magic !== IDX_LABELS_MAGIC) {
    throw new DatasetFormatError('idx', `expected label magic 0x00000801, got 0x${magic.toString(16).padStart(8, '0')}`);
  }
  const labels = readIdx(bytes).data as Uint8Array;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= numClasses) throw new DatasetFormatError('idx', `label[${i}] = ${labels[i]} is not below numClasses = ${numClasses}`);
  }
  return labels;
}

function peekMagic(bytes: Uint8Array): number {
  if (!(bytes instanceof Uint8Array)) throw new DatasetFormatError('idx', 'input must be a Uint8Array');
  if (bytes.length < 4) throw new DatasetFormatError('idx', `file of ${bytes.length} bytes is shorter than the 4-byte magic number`);
  return ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
}

/** Encodes a uint8 IDX file; used to write fixtures and small synthetic datasets. */
export function encodeIdxU8(dims: readonly number[], data: Uint8Array): Uint8Array {
  const count = dims.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new DatasetFormatError('idx', `dims [${dims.join(', ')}] hold ${count} elements but data has ${data.length}`);
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x00000800 | dims.length, false);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}
