import { describe, expect, it } from 'vitest';
import { cpuBackend, tensor } from '@fairgpu/tensor';
import { decodeSafetensors, encodeSafetensors, SafetensorsError, safetensorsToStateDict, stateDictToSafetensors, type HostArray } from '../src/index.ts';

/** A file from a header object and data bytes, exactly as given (for hostile inputs). */
function file(header: unknown, data: Uint8Array = new Uint8Array(0), lengthOverride?: bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('safetensors', () => {
  it('round-trips f32 and i32 tensors with metadata; data is 8-byte aligned', () => {
    const tensors = new Map<string, HostArray>([
      ['layer1.0.weight', { dtype: 'f32', shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-7, -0]) }],
      ['bn.num_batches_tracked', { dtype: 'i32', shape: [], data: Int32Array.from([7]) }],
    ]);
    const bytes = encodeSafetensors(tensors, { note: 'x' });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const back = decodeSafetensors(bytes);
    expect(back.metadata).toEqual({ note: 'x' });
    expect([...back.tensors.keys()]).toEqual(['layer1.0.weight', 'bn.num_batches_tracked']);
    expect(Array.from(back.tensors.get('layer1.0.weight')!.data)).toEqual(Array.from(tensors.get('layer1.0.weight')!.data));
    expect(back.tensors.get('bn.num_batches_tracked')).toEqual({ dtype: 'i32', shape: [], data: Int32Array.from([7]) });
  });

  it('reads I64 (PyTorch num_batches_tracked) and F64, narrowing with a range check', () => {
    const data = new Uint8Array(16);
    new DataView(data.buffer).setBigInt64(0, 123n, true);
    new DataView(data.buffer).setFloat64(8, 0.25, true);
    const t = decodeSafetensors(
      file({ a: { dtype: 'I64', shape: [], data_offsets: [0, 8] }, b: { dtype: 'F64', shape: [1], data_offsets: [8, 16] } }, data),
    ).tensors;
    expect(Array.from(t.get('a')!.data)).toEqual([123]);
    expect(Array.from(t.get('b')!.data)).toEqual([0.25]);
    new DataView(data.buffer).setBigInt64(0, 2n ** 40n, true);
    expect(() => decodeSafetensors(file({ a: { dtype: 'I64', shape: [], data_offsets: [0, 8] } }, data.subarray(0, 8)))).toThrow(SafetensorsError);
  });

  it('state dicts go through tensors on any device', async () => {
    const device = cpuBackend();
    const state = new Map([
      ['w', tensor([1, 2, 3, 4], [2, 2], { device })],
      ['n', tensor([5], [], { device, dtype: 'i32' })],
    ]);
    const { tensors } = safetensorsToStateDict(await stateDictToSafetensors(state), device);
    expect(tensors.get('w')!.shape).toEqual([2, 2]);
    expect(Array.from(await tensors.get('w')!.toArray())).toEqual([1, 2, 3, 4]);
    expect(tensors.get('n')!.dtype).toBe('i32');
  });

  const f32 = (n: number) => new Uint8Array(4 * n);
  const hostile: [string, () => Uint8Array, RegExp][] = [
    ['shorter than 8 bytes', () => new Uint8Array(5), /shorter than the 8-byte/],
    ['header length beyond the file (no giant allocation)', () => file({}, new Uint8Array(0), 2n ** 62n), /exceeds the/],
    ['header not JSON', () => file('{"a": '), /not valid UTF-8 JSON/],
    ['header not an object', () => file([1, 2]), /must be a JSON object/],
    ['unknown dtype', () => file({ a: { dtype: 'Q8', shape: [1], data_offsets: [0, 4] } }, f32(1)), /unknown dtype/],
    ['negative / fractional shape', () => file({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, f32(1)), /shape must be/],
    ['offsets past the data', () => file({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, f32(2)), /outside the 8 data bytes/],
    ['reversed offsets', () => file({ a: { dtype: 'F32', shape: [0], data_offsets: [4, 0] } }, f32(1)), /outside/],
    ['byte length ≠ shape × itemsize', () => file({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, f32(2)), /byte length 8/],
    ['huge shape against a small range', () => file({ a: { dtype: 'F32', shape: [2 ** 30, 2 ** 30, 2 ** 30], data_offsets: [0, 8] } }, f32(2)), /byte length/],
    [
      'overlapping tensors',
      () => file({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, f32(3)),
      /overlaps/,
    ],
    ['metadata that is not strings', () => file({ __metadata__: { a: 1 } }), /must be a string/],
    ['offsets not integers', () => file({ a: { dtype: 'F32', shape: [1], data_offsets: [0, '4'] } }, f32(1)), /data_offsets/],
  ];
  for (const [name, make, message] of hostile) {
    it(`rejects a hostile file: ${name}`, () => {
      expect(() => decodeSafetensors(make())).toThrow(SafetensorsError);
      expect(() => decodeSafetensors(make())).toThrow(message);
    });
  }
});
