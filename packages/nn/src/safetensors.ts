/**
 * safetensors (https://github.com/huggingface/safetensors) on bytes: an 8-byte little-endian
 * header length N, N bytes of JSON `{ name: { dtype, shape, data_offsets: [begin, end] }, … }`
 * (optional `__metadata__` of strings), then the data. Keys are PyTorch's state-dict keys, so files
 * load with `safetensors.torch.load_file` and `model.load_state_dict` unchanged.
 *
 * Decoding treats the file as hostile: header length against the file size (before any
 * allocation), JSON shape, dtypes, integer shapes, byte length = shape × itemsize, and — as the
 * reference reader — tensors that tile the data exactly (no gap, no overlap, no trailing bytes).
 * F64 values are narrowed to f32 only when they fit (a finite value never becomes ±Infinity).
 * Every violation is a `SafetensorsError`; values are read only once the whole header is valid.
 */
import { FairgpuError } from '@fairgpu/tensor';

export class SafetensorsError extends FairgpuError {
  constructor(detail: string) {
    super(`safetensors: ${detail}`);
  }
}

export type SafetensorsDtype = 'F32' | 'I32' | 'I64' | 'F64' | 'F16' | 'BF16' | 'U8' | 'I8' | 'BOOL' | 'I16' | 'U16' | 'U32' | 'U64';
const ITEMSIZE: Record<SafetensorsDtype, number> = { F64: 8, I64: 8, U64: 8, F32: 4, I32: 4, U32: 4, F16: 2, BF16: 2, I16: 2, U16: 2, U8: 1, I8: 1, BOOL: 1 };

/** One host array: f32 or i32 values (I64/F64 files are narrowed on read, range-checked). */
export interface HostArray {
  dtype: 'f32' | 'i32';
  shape: number[];
  data: Float32Array | Int32Array;
}

/** Largest header accepted (the format's own limit is 100 MB). */
const MAX_HEADER = 100_000_000;

export function encodeSafetensors(tensors: ReadonlyMap<string, HostArray>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) {
    for (const [k, v] of Object.entries(metadata)) if (typeof v !== 'string') throw new SafetensorsError(`metadata '${k}' must be a string`);
    header.__metadata__ = metadata;
  }
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === '__metadata__') throw new SafetensorsError(`'__metadata__' is not a tensor name`);
    const n = t.shape.reduce((p, d) => p * d, 1);
    if (n !== t.data.length) throw new SafetensorsError(`'${name}' has ${t.data.length} values for shape [${t.shape.join(', ')}]`);
    header[name] = { dtype: t.dtype === 'f32' ? 'F32' : 'I32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data starts 8-byte aligned (the reference writer does too).
  json += ' '.repeat((8 - ((8 + new TextEncoder().encode(json).length) % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const t of tensors.values()) {
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}

export interface DecodedSafetensors {
  tensors: Map<string, HostArray>;
  metadata: Record<string, string>;
}

export function decodeSafetensors(bytes: Uint8Array): DecodedSafetensors {
  if (!(bytes instanceof Uint8Array)) throw new SafetensorsError('input must be a Uint8Array');
  if (bytes.length < 8) throw new SafetensorsError(`file of ${bytes.length} bytes is shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(bytes.length - 8)) throw new SafetensorsError(`header length ${n64} exceeds the ${bytes.length - 8} bytes after it`);
  const n = Number(n64);
  if (n > MAX_HEADER) throw new SafetensorsError(`header length ${n} exceeds ${MAX_HEADER}`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new SafetensorsError(`header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) throw new SafetensorsError('header must be a JSON object');
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const ranges: [number, number, string][] = [];
  const pending: [string, string, number[], number, number][] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (!entry || typeof entry !== 'object' || Array.isArray(entry)) throw new SafetensorsError('__metadata__ must be an object of strings');
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== 'string') throw new SafetensorsError(`__metadata__.${k} must be a string`);
        metadata[k] = v;
      }
      continue;
    }
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) throw new SafetensorsError(`'${name}' must be an object`);
    const { dtype, shape, data_offsets: offsets } = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof dtype !== 'string' || !(dtype in ITEMSIZE)) throw new SafetensorsError(`'${name}' has unknown dtype ${JSON.stringify(dtype)}`);
    if (dtype !== 'F32' && dtype !== 'I32' && dtype !== 'I64' && dtype !== 'F64')
      throw new SafetensorsError(`'${name}' has dtype ${dtype}; supported: F32, I32, I64, F64`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw new SafetensorsError(`'${name}' shape must be non-negative integers, got ${JSON.stringify(shape)}`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw new SafetensorsError(`'${name}' data_offsets must be two non-negative integers, got ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > dataLength) throw new SafetensorsError(`'${name}' data_offsets [${begin}, ${end}] outside the ${dataLength} data bytes`);
    const itemsize = ITEMSIZE[dtype as SafetensorsDtype];
    // Multiply step by step against the actual byte length so a hostile shape cannot overflow.
    let count = 1;
    for (const d of shape as number[]) {
      count *= d;
      if (count * itemsize > end - begin && d !== 0) break;
    }
    if (count * itemsize !== end - begin)
      throw new SafetensorsError(`'${name}' byte length ${end - begin} ≠ shape [${(shape as number[]).join(', ')}] × ${itemsize}`);
    ranges.push([begin, end, name]);
    pending.push([name, dtype, [...(shape as number[])], begin, count]);
  }
  // As the reference reader (Metadata::validate, read_metadata): sorted by offsets, the tensors
  // tile the data exactly — the first starts at 0, each starts where the previous ends, the last
  // ends at the end of the file. Gaps, overlaps and trailing bytes are all rejected.
  ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let expected = 0;
  let previous = '';
  for (const [begin, end, name] of ranges) {
    if (begin < expected) throw new SafetensorsError(`'${name}' overlaps '${previous}' (data_offsets [${begin}, ${end}], '${previous}' ends at ${expected})`);
    if (begin > expected)
      throw new SafetensorsError(`'${name}' data_offsets [${begin}, ${end}] leave a gap of ${begin - expected} bytes after offset ${expected}`);
    expected = end;
    previous = name;
  }
  if (expected !== dataLength)
    throw new SafetensorsError(`${dataLength - expected} trailing bytes after the last tensor (the data ends at ${expected} of ${dataLength})`);
  const tensors = new Map<string, HostArray>();
  for (const [name, dtype, shape, begin, count] of pending) {
    tensors.set(name, { dtype: dtype === 'F32' || dtype === 'F64' ? 'f32' : 'i32', shape, data: readValues(name, dtype, bytes, dataStart + begin, count) });
  }
  return { tensors, metadata };
}

function readValues(name: string, dtype: string, bytes: Uint8Array, at: number, count: number): Float32Array | Int32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, count * ITEMSIZE[dtype as SafetensorsDtype]);
  if (dtype === 'F32') {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
    return out;
  }
  if (dtype === 'F64') {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      const v = view.getFloat64(8 * i, true);
      out[i] = v;
      // Narrowing must not invent infinities: a finite value beyond ±3.4028235e38 is an error.
      if (Number.isFinite(v) && !Number.isFinite(out[i])) throw new SafetensorsError(`'${name}' F64 value ${v} at flat index ${i} is beyond the f32 range`);
    }
    return out;
  }
  const out = new Int32Array(count);
  if (dtype === 'I32') {
    for (let i = 0; i < count; i++) out[i] = view.getInt32(4 * i, true);
    return out;
  }
  for (let i = 0; i < count; i++) {
    const v = view.getBigInt64(8 * i, true);
    if (v > 2147483647n || v < -2147483648n) throw new SafetensorsError(`'${name}' I64 value ${v} does not fit i32`);
    out[i] = Number(v);
  }
  return out;
}
