import { describe, expect, it } from 'vitest';
import { encodeIdxU8, readIdx, readIdxImages, readIdxLabels } from '../src/idx.ts';
import { DatasetFormatError } from '../src/errors.ts';

function bigEndianIdx(typeCode: number, dims: number[], body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + body.length);
  const view = new DataView(out.buffer);
  out[2] = typeCode;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(body, 4 + 4 * dims.length);
  return out;
}

describe('IDX reader', () => {
  it('reads images and labels written by encodeIdxU8', () => {
    const pixels = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => i);
    const images = readIdxImages(encodeIdxU8([2, 3, 4], pixels));
    expect(images).toMatchObject({ count: 2, rows: 3, cols: 4 });
    expect([...images.pixels]).toEqual([...pixels]);
    expect([...readIdxLabels(encodeIdxU8([3], Uint8Array.of(0, 9, 4)), 10)]).toEqual([0, 9, 4]);
  });

  it('decodes big-endian multi-byte types', () => {
    const body = new Uint8Array(8);
    new DataView(body.buffer).setInt32(0, -5, false);
    new DataView(body.buffer).setFloat32(4, 1.5, false);
    expect([...readIdx(bigEndianIdx(0x0c, [2], body)).data]).toEqual([-5, new DataView(body.buffer).getInt32(4, false)]);
    const f = readIdx(bigEndianIdx(0x0d, [1], body.subarray(4))).data;
    expect(f).toBeInstanceOf(Float32Array);
    expect(f[0]).toBeCloseTo(1.5, 6);
  });

  it('rejects wrong magic, truncation, lying headers and trailing bytes with typed errors', () => {
    const good = encodeIdxU8([2, 2, 2], new Uint8Array(8));
    const cases: Array<[Uint8Array, RegExp]> = [
      [Uint8Array.of(1, 0, 8, 3, ...good.subarray(4)), /bad magic/],
      [Uint8Array.of(0, 0, 0x0a, 1, 0, 0, 0, 0), /bad magic/],
      [good.subarray(0, 3), /shorter than the 4-byte magic/],
      [good.subarray(0, 10), /truncated header/],
      [good.subarray(0, good.length - 1), /needing more than/],
      [Uint8Array.of(...good, 0), /trailing bytes/],
      [bigEndianIdx(0x08, [0xffffffff, 0xffffffff, 0xffffffff], new Uint8Array(4)), /needing more than/],
    ];
    for (const [bytes, message] of cases) {
      expect(() => readIdx(bytes)).toThrow(DatasetFormatError);
      expect(() => readIdx(bytes)).toThrow(message);
    }
  });

  it('checks the image/label magic numbers, expected sizes and label range', () => {
    const labels = encodeIdxU8([2], Uint8Array.of(1, 12));
    const images = encodeIdxU8([1, 2, 2], new Uint8Array(4));
    expect(() => readIdxImages(labels)).toThrow(/expected image magic 0x00000803/);
    expect(() => readIdxLabels(images)).toThrow(/expected label magic 0x00000801/);
    expect(() => readIdxImages(images, { rows: 28 })).toThrow(/rows is 2, expected 28/);
    expect(() => readIdxLabels(labels, 10)).toThrow(/label\[1\] = 12/);
  });
});
