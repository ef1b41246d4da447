/**
 * NumPy `.npy` reader and writer (format spec:
 * https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html).
 *
 * Layout: `\x93NUMPY`, major, minor, header length (uint16 LE in v1, uint32 LE in v2/v3), then a
 * Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }` (latin-1 in
 * v1/v2, UTF-8 in v3), then the raw data. Supported dtypes: b1 u1 i1 u2 i2 u4 i4 f4 f8, and i8/u8
 * as BigInt64Array/BigUint64Array; either byte order. Fortran-ordered arrays are transposed to C
 * order. Everything is validated against the byte length before allocating.
 */
import { DatasetFormatError, checkInteger, checkKnownOptions } from './errors.ts';

export type NpyData =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

export type NpyDtype = 'b1' | 'u1' | 'i1' | 'u2' | 'i2' | 'u4' | 'i4' | 'f4' | 'f8' | 'i8' | 'u8';

export interface NpyArray {
  shape: number[];
  dtype: NpyDtype;
  /** Always C (row-major) order; Fortran-ordered files are transposed on read. */
  data: NpyData;
  /** True when the file was stored in Fortran order (and has been transposed). */
  wasFortranOrder: boolean;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ITEM_SIZE: Record<NpyDtype, number> = { b1: 1, u1: 1, i1: 1, u2: 2, i2: 2, u4: 4, i4: 4, f4: 4, f8: 8, i8: 8, u8: 8 };
/** Real headers are a few hundred bytes; this bounds parsing work on garbage input. */
const MAX_HEADER_BYTES = 1 << 20;
const MAX_DIMS = 32;
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function readNpy(bytes: Uint8Array): NpyArray {
  if (!(bytes instanceof Uint8Array)) throw new DatasetFormatError('npy', 'input must be a Uint8Array');
  if (bytes.length < 10) throw new DatasetFormatError('npy', `file of ${bytes.length} bytes is shorter than the 10-byte preamble`);
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) throw new DatasetFormatError('npy', 'bad magic string (expected \\x93NUMPY)');
  }
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerStart: number;
  let headerLength: number;
  if (major === 1) {
    headerStart = 10;
    headerLength = view.getUint16(8, true);
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new DatasetFormatError('npy', `version ${major} preamble needs 12 bytes, file has ${bytes.length}`);
    headerStart = 12;
    headerLength = view.getUint32(8, true);
  } else {
    throw new DatasetFormatError('npy', `unsupported format version ${major}.${bytes[7]}`);
  }
  if (headerLength > MAX_HEADER_BYTES) throw new DatasetFormatError('npy', `header length ${headerLength} exceeds ${MAX_HEADER_BYTES} bytes`);
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.length) {
    throw new DatasetFormatError('npy', `header length ${headerLength} runs past the end of the ${bytes.length}-byte file`);
  }
  const headerBytes = bytes.subarray(headerStart, dataStart);
  const headerText = major === 3 ? decodeUtf8(headerBytes) : decodeLatin1(headerBytes);
  const header = parseHeader(headerText);

  const itemSize = ITEM_SIZE[header.dtype];
  const available = bytes.length - dataStart;
  let count = 1;
  for (const size of header.shape) {
    count *= size;
    if (count * itemSize > available) {
      throw new DatasetFormatError('npy', `shape (${header.shape.join(', ')}) of ${header.dtype} needs more than the ${available} data bytes present`);
    }
  }
  if (count * itemSize !== available) {
    throw new DatasetFormatError(
      'npy',
      `shape (${header.shape.join(', ')}) of ${header.dtype} needs ${count * itemSize} data bytes but the file has ${available}`,
    );
  }
  let data = decodeData(bytes.subarray(dataStart), header.dtype, header.littleEndian, count);
  if (header.fortranOrder && header.shape.length > 1) data = fortranToC(data, header.shape);
  return { shape: header.shape, dtype: header.dtype, data, wasFortranOrder: header.fortranOrder };
}

interface NpyHeader {
  dtype: NpyDtype;
  littleEndian: boolean;
  fortranOrder: boolean;
  shape: number[];
}

function parseHeader(text: string): NpyHeader {
  const value = new PyLiteralParser(text).parseTopLevel();
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new DatasetFormatError('npy', 'header is not a dict literal');
  }
  const dict = value as Record<string, PyValue>;
  const descr = dict['descr'];
  const fortranOrder = dict['fortran_order'];
  const shape = dict['shape'];
  if (typeof descr !== 'string')
    throw new DatasetFormatError('npy', `header field 'descr' must be a dtype string (structured dtypes are not supported), got ${describe(descr)}`);
  if (typeof fortranOrder !== 'boolean')
    throw new DatasetFormatError('npy', `header field 'fortran_order' must be True or False, got ${describe(fortranOrder)}`);
  if (!Array.isArray(shape)) throw new DatasetFormatError('npy', `header field 'shape' must be a tuple, got ${describe(shape)}`);
  if (shape.length > MAX_DIMS) throw new DatasetFormatError('npy', `header field 'shape' has ${shape.length} dimensions; at most ${MAX_DIMS} are supported`);
  for (const size of shape) {
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
      throw new DatasetFormatError('npy', `header field 'shape' must hold non-negative integers, got ${describe(size)}`);
    }
  }
  const match = /^([<>|=])([biuf])(\d+)$/.exec(descr);
  if (!match) throw new DatasetFormatError('npy', `header field 'descr' has unsupported dtype '${descr}'`);
  const dtype = `${match[2]}${match[3]}`;
  if (!(dtype in ITEM_SIZE))
    throw new DatasetFormatError('npy', `header field 'descr' has unsupported dtype '${descr}' (supported: ${Object.keys(ITEM_SIZE).join(' ')})`);
  // '=' means "native order of the writer", which numpy only ever writes on little-endian hosts.
  return { dtype: dtype as NpyDtype, littleEndian: match[1] !== '>', fortranOrder, shape: shape as number[] };
}

function describe(value: PyValue | undefined): string {
  if (value === undefined) return 'nothing (field missing)';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

type PyValue = string | number | boolean | null | PyValue[] | { [key: string]: PyValue };

/** Parses the subset of Python literals numpy writes: dicts, tuples, lists, strings, ints, booleans, None. */
class PyLiteralParser {
  private pos = 0;
  private depth = 0;
  constructor(private readonly text: string) {}

  parseTopLevel(): PyValue {
    const value = this.parseValue();
    this.skipSpace();
    if (this.pos !== this.text.length) this.fail('unexpected text after the dict');
    return value;
  }

  private fail(message: string): never {
    throw new DatasetFormatError('npy', `malformed header at character ${this.pos}: ${message}`);
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
  }

  private parseValue(): PyValue {
    this.skipSpace();
    const ch = this.text[this.pos];
    if (ch === undefined) this.fail('unexpected end');
    if (ch === '{' || ch === '(' || ch === '[') {
      // Nesting is bounded so crafted headers cannot exhaust the stack.
      if (++this.depth > 8) this.fail('nesting too deep');
      const value = ch === '{' ? this.parseDict() : this.parseSequence(ch === '(' ? ')' : ']');
      this.depth--;
      return value;
    }
    if (ch === "'" || ch === '"') return this.parseString(ch);
    const word = /^(True|False|None|-?\d+L?)/.exec(this.text.slice(this.pos, this.pos + 40));
    if (!word) this.fail(`unexpected character ${JSON.stringify(ch)}`);
    this.pos += word[0].length;
    if (word[0] === 'True') return true;
    if (word[0] === 'False') return false;
    if (word[0] === 'None') return null;
    return Number(word[0].replace('L', ''));
  }

  private parseString(quote: string): string {
    const end = this.text.indexOf(quote, this.pos + 1);
    if (end < 0) this.fail('unterminated string');
    const value = this.text.slice(this.pos + 1, end);
    if (value.includes('\\')) this.fail('escapes in strings are not supported');
    this.pos = end + 1;
    return value;
  }

  private parseSequence(close: string): PyValue[] {
    this.pos++;
    const items: PyValue[] = [];
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === close) {
        this.pos++;
        return items;
      }
      items.push(this.parseValue());
      this.skipSpace();
      if (this.text[this.pos] === ',') this.pos++;
      else if (this.text[this.pos] !== close) this.fail(`expected ',' or '${close}'`);
    }
  }

  private parseDict(): { [key: string]: PyValue } {
    this.pos++;
    const dict: { [key: string]: PyValue } = Object.create(null);
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === '}') {
        this.pos++;
        return dict;
      }
      const key = this.parseValue();
      if (typeof key !== 'string') this.fail('dict keys must be strings');
      this.skipSpace();
      if (this.text[this.pos] !== ':') this.fail("expected ':'");
      this.pos++;
      dict[key] = this.parseValue();
      this.skipSpace();
      if (this.text[this.pos] === ',') this.pos++;
      else if (this.text[this.pos] !== '}') this.fail("expected ',' or '}'");
    }
  }
}

function decodeLatin1(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 4096) text += String.fromCharCode(...bytes.subarray(i, i + 4096));
  return text;
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new DatasetFormatError('npy', 'version 3 header is not valid UTF-8', { cause });
  }
}

function decodeData(bytes: Uint8Array, dtype: NpyDtype, littleEndian: boolean, count: number): NpyData {
  const byteLength = count * ITEM_SIZE[dtype];
  // slice() copies into a fresh, aligned buffer that the result owns.
  if (littleEndian === HOST_LITTLE_ENDIAN || ITEM_SIZE[dtype] === 1) {
    const buffer = bytes.slice(0, byteLength).buffer;
    switch (dtype) {
      case 'b1':
      case 'u1':
        return new Uint8Array(buffer);
      case 'i1':
        return new Int8Array(buffer);
      case 'u2':
        return new Uint16Array(buffer);
      case 'i2':
        return new Int16Array(buffer);
      case 'u4':
        return new Uint32Array(buffer);
      case 'i4':
        return new Int32Array(buffer);
      case 'f4':
        return new Float32Array(buffer);
      case 'f8':
        return new Float64Array(buffer);
      case 'i8':
        return new BigInt64Array(buffer);
      case 'u8':
        return new BigUint64Array(buffer);
    }
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, byteLength);
  const le = littleEndian;
  const fill = <A extends { [i: number]: number | bigint }>(out: A, size: number, get: (offset: number) => number | bigint): A => {
    for (let i = 0; i < count; i++) out[i] = get(i * size);
    return out;
  };
  switch (dtype) {
    case 'u2':
      return fill(new Uint16Array(count), 2, (o) => view.getUint16(o, le));
    case 'i2':
      return fill(new Int16Array(count), 2, (o) => view.getInt16(o, le));
    case 'u4':
      return fill(new Uint32Array(count), 4, (o) => view.getUint32(o, le));
    case 'i4':
      return fill(new Int32Array(count), 4, (o) => view.getInt32(o, le));
    case 'f4':
      return fill(new Float32Array(count), 4, (o) => view.getFloat32(o, le));
    case 'f8':
      return fill(new Float64Array(count), 8, (o) => view.getFloat64(o, le));
    case 'i8':
      return fill(new BigInt64Array(count), 8, (o) => view.getBigInt64(o, le));
    default:
      return fill(new BigUint64Array(count), 8, (o) => view.getBigUint64(o, le));
  }
}

/** Reorders a column-major array of the given shape into row-major order. */
function fortranToC<T extends NpyData>(source: T, shape: readonly number[]): T {
  const out = new (source.constructor as new (n: number) => T)(source.length);
  const rank = shape.length;
  // Column-major strides: the first index varies fastest.
  const strides = new Array<number>(rank);
  let stride = 1;
  for (let d = 0; d < rank; d++) {
    strides[d] = stride;
    stride *= shape[d];
  }
  const index = new Array<number>(rank).fill(0);
  let sourceOffset = 0;
  for (let i = 0; i < out.length; i++) {
    (out as { [i: number]: unknown })[i] = source[sourceOffset];
    // Advance the row-major multi-index (last index fastest), updating the column-major offset.
    for (let d = rank - 1; d >= 0; d--) {
      index[d]++;
      sourceOffset += strides[d];
      if (index[d] < shape[d]) break;
      sourceOffset -= strides[d] * shape[d];
      index[d] = 0;
    }
  }
  return out;
}

const DTYPE_OF: Array<[new (...args: never[]) => NpyData, NpyDtype]> = [
  [Uint8Array, 'u1'],
  [Int8Array, 'i1'],
  [Uint16Array, 'u2'],
  [Int16Array, 'i2'],
  [Uint32Array, 'u4'],
  [Int32Array, 'i4'],
  [Float32Array, 'f4'],
  [Float64Array, 'f8'],
  [BigInt64Array, 'i8'],
  [BigUint64Array, 'u8'],
];

/**
 * Encodes a C-ordered little-endian `.npy` file. Version 1 unless the header needs more than
 * 65535 bytes (then 2); pass `version: 3` for a UTF-8 header.
 */
export function encodeNpy(data: NpyData, shape: readonly number[], options: { version?: 1 | 2 | 3 } = {}): Uint8Array {
  checkKnownOptions('options', options, ['version']);
  if (options?.version !== undefined) checkInteger('version', options.version, 1, 3);
  options ??= {};
  const entry = DTYPE_OF.find(([ctor]) => data instanceof ctor);
  if (!entry) throw new DatasetFormatError('npy', 'data must be a typed array');
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new DatasetFormatError('npy', `shape (${shape.join(', ')}) holds ${count} elements but data has ${data.length}`);
  const itemSize = ITEM_SIZE[entry[1]];
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${itemSize === 1 ? '|' : '<'}${entry[1]}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const dictBytes = new TextEncoder().encode(dict);
  let version = options.version ?? 1;
  if (version === 1 && dictBytes.length + 11 > 0xffff) version = 2;
  const preamble = version === 1 ? 10 : 12;
  // Pad with spaces so the data starts on a 64-byte boundary, ending the header with '\n'.
  const headerLength = Math.ceil((preamble + dictBytes.length + 1) / 64) * 64 - preamble;
  const out = new Uint8Array(preamble + headerLength + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, headerLength, true);
  else view.setUint32(8, headerLength, true);
  out.fill(0x20, preamble, preamble + headerLength - 1);
  out.set(dictBytes, preamble);
  out[preamble + headerLength - 1] = 0x0a;
  const body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (HOST_LITTLE_ENDIAN || itemSize === 1) out.set(body, preamble + headerLength);
  else throw new DatasetFormatError('npy', 'encoding on big-endian hosts is not supported');
  return out;
}
