import { describe, expect, it } from 'vitest';
import { encodeNpy, readNpy } from '../src/npy.ts';
import type { NpyData } from '../src/npy.ts';
import { DatasetFormatError } from '../src/errors.ts';

/** Builds a .npy file by hand, as numpy would write it, with any header text. */
function handMade(header: string, body: Uint8Array, version = 1): Uint8Array {
  const headerBytes = new TextEncoder().encode(header + '\n');
  const preamble = version === 1 ? 10 : 12;
  const out = new Uint8Array(preamble + headerBytes.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  if (version === 1) new DataView(out.buffer).setUint16(8, headerBytes.length, true);
  else new DataView(out.buffer).setUint32(8, headerBytes.length, true);
  out.set(headerBytes, preamble);
  out.set(body, preamble + headerBytes.length);
  return out;
}

describe('.npy reader', () => {
  const arrays: Array<[string, NpyData]> = [
    ['u1', Uint8Array.of(0, 1, 255, 7, 8, 9)],
    ['i1', Int8Array.of(-128, 1, 127, 0, -1, 5)],
    ['u2', Uint16Array.of(0, 65535, 3, 4, 5, 6)],
    ['i2', Int16Array.of(-32768, 32767, 3, 4, 5, 6)],
    ['u4', Uint32Array.of(0, 4294967295, 3, 4, 5, 6)],
    ['i4', Int32Array.of(-2147483648, 2147483647, 3, 4, 5, 6)],
    ['f4', Float32Array.of(0.5, -1.25, 3, 4, 5, 6)],
    ['f8', Float64Array.of(Math.PI, -1e300, 3, 4, 5, 6)],
    ['i8', BigInt64Array.of(-(2n ** 63n), 2n ** 63n - 1n, 3n, 4n, 5n, 6n)],
  ];

  for (const version of [1, 2, 3] as const) {
    it(`round-trips every dtype through a version ${version} header`, () => {
      for (const [dtype, data] of arrays) {
        const parsed = readNpy(encodeNpy(data, [2, 3], { version }));
        expect(parsed.dtype).toBe(dtype);
        expect(parsed.shape).toEqual([2, 3]);
        expect(parsed.data.constructor).toBe(data.constructor);
        expect([...parsed.data]).toEqual([...data]);
      }
    });
  }

  it('reads big-endian data and 0-d / empty arrays', () => {
    const body = new Uint8Array(8);
    new DataView(body.buffer).setFloat32(0, 2.5, false);
    new DataView(body.buffer).setInt32(4, -7, false);
    const f = readNpy(handMade("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", body.subarray(0, 4)));
    expect(f.data[0]).toBeCloseTo(2.5, 6);
    const i = readNpy(handMade("{'descr': '>i4', 'fortran_order': False, 'shape': (1,), }", body.subarray(4)));
    expect(i.data[0]).toBe(-7);
    const scalar = readNpy(handMade("{'descr': '<u1', 'fortran_order': False, 'shape': (), }", Uint8Array.of(42)));
    expect(scalar.shape).toEqual([]);
    expect([...scalar.data]).toEqual([42]);
    expect(readNpy(handMade("{'descr': '<f8', 'fortran_order': False, 'shape': (0, 5), }", new Uint8Array(0))).data.length).toBe(0);
  });

  it('transposes Fortran-ordered arrays into C order', () => {
    // numpy: a = np.arange(6).reshape(2, 3); np.asfortranarray(a) is stored as 0 3 1 4 2 5.
    const stored = readNpy(handMade("{'descr': '|u1', 'fortran_order': True, 'shape': (2, 3), }", Uint8Array.of(0, 3, 1, 4, 2, 5)));
    expect(stored.wasFortranOrder).toBe(true);
    expect([...stored.data]).toEqual([0, 1, 2, 3, 4, 5]);
    // 3-D: C-order value at (i, j, k) = 100i + 10j + k; Fortran storage puts i fastest.
    const shape = [2, 3, 4];
    const fortran: number[] = [];
    for (let k = 0; k < 4; k++) for (let j = 0; j < 3; j++) for (let i = 0; i < 2; i++) fortran.push(100 * i + 10 * j + k);
    const body = new Uint8Array(Int16Array.from(fortran).buffer);
    const cube = readNpy(handMade(`{'descr': '<i2', 'fortran_order': True, 'shape': (${shape.join(', ')}), }`, body));
    const expected: number[] = [];
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) expected.push(100 * i + 10 * j + k);
    expect([...cube.data]).toEqual(expected);
  });

  it('rejects malformed files with typed errors that name the problem', () => {
    const good = encodeNpy(Float32Array.of(1, 2, 3), [3]);
    const cases: Array<[Uint8Array, RegExp]> = [
      [good.subarray(0, 5), /shorter than the 10-byte preamble/],
      [Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x58, 1, 0, 0, 0), /bad magic/],
      [Uint8Array.of(...good.subarray(0, 6), 9, 0, ...good.subarray(8)), /unsupported format version 9/],
      [good.subarray(0, good.length - 1), /needs more than the 11 data bytes/],
      [Uint8Array.of(...good, 0), /needs 12 data bytes but the file has 13/],
      [handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", new Uint8Array(4)), /needs more than the 4 data bytes/],
      [handMade("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(16)), /unsupported dtype '<c16'/],
      [handMade("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4)), /'descr'/],
      [handMade("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,), }", new Uint8Array(4)), /'fortran_order'/],
      [handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", new Uint8Array(4)), /'shape'/],
      [handMade("{'descr': '<f4', 'fortran_order': False, }", new Uint8Array(4)), /'shape'.*missing/],
      [handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", new Uint8Array(4)), /malformed header/],
      [handMade('('.repeat(50) + ')'.repeat(50), new Uint8Array(0)), /nesting too deep/],
    ];
    for (const [bytes, message] of cases) {
      expect(() => readNpy(bytes)).toThrow(DatasetFormatError);
      expect(() => readNpy(bytes)).toThrow(message);
    }
    // A v1 header length that points past the end of the file.
    const lying = good.slice();
    new DataView(lying.buffer).setUint16(8, 60_000, true);
    expect(() => readNpy(lying)).toThrow(/runs past the end/);
  });
});
