/**
 * Fuzzing the byte readers with fast-check: 4,000 IDX + 4,000 .npy + 2,500 PNG = 10,500
 * generated malformed inputs. Every one must either parse into something consistent with its
 * byte length or throw a DatasetFormatError; no other exception, no hang, no huge allocation.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encodeIdxU8, readIdx } from '../src/idx.ts';
import { encodeNpy, readNpy } from '../src/npy.ts';
import { decodePng, encodePng } from '../src/png.ts';
import { DatasetFormatError } from '../src/errors.ts';

/** Runs `read`; returns 'ok' or 'typed', and fails the property on any other exception. */
function outcome(read: () => unknown): 'ok' | 'typed' {
  try {
    read();
    return 'ok';
  } catch (error) {
    if (error instanceof DatasetFormatError) return 'typed';
    throw error;
  }
}

/** A valid file mangled by one of: truncation, byte overwrites in the header, a random u32 in the header, appended bytes, or pure noise. */
function malformed(valid: Uint8Array, headerSize: number): fc.Arbitrary<{ bytes: Uint8Array; mustFail: boolean }> {
  return fc.oneof(
    fc.integer({ min: 0, max: valid.length - 1 }).map((n) => ({ bytes: valid.slice(0, n), mustFail: true })),
    fc.uint8Array({ minLength: 1, maxLength: 8 }).map((extra) => ({ bytes: Uint8Array.of(...valid, ...extra), mustFail: true })),
    fc.tuple(fc.integer({ min: 0, max: headerSize - 1 }), fc.uint8Array({ minLength: 1, maxLength: 6 })).map(([at, patch]) => {
      const bytes = valid.slice();
      bytes.set(patch.subarray(0, bytes.length - at), at);
      return { bytes, mustFail: false };
    }),
    fc.tuple(fc.integer({ min: 0, max: headerSize - 4 }), fc.integer({ min: 0, max: 0xffffffff })).map(([at, value]) => {
      const bytes = valid.slice();
      new DataView(bytes.buffer).setUint32(at, value, false);
      return { bytes, mustFail: false };
    }),
    fc.uint8Array({ maxLength: 256 }).map((bytes) => ({ bytes, mustFail: false })),
  );
}

describe('reader fuzzing', () => {
  it('IDX: 4,000 malformed inputs give only typed errors', () => {
    const valid = encodeIdxU8(
      [3, 4, 5],
      Uint8Array.from({ length: 60 }, (_, i) => i),
    );
    let typed = 0;
    fc.assert(
      fc.property(malformed(valid, 16), ({ bytes, mustFail }) => {
        const result = outcome(() => {
          const parsed = readIdx(bytes);
          // Whatever parses must account for every byte.
          const count = parsed.dims.reduce((a, b) => a * b, 1);
          if (parsed.data.length !== count) throw new Error('data length disagrees with dims');
        });
        if (result === 'typed') typed++;
        if (mustFail) expect(result).toBe('typed');
      }),
      { numRuns: 4000, seed: 1 },
    );
    expect(typed).toBeGreaterThan(3000);
  });

  it('npy: 4,000 malformed inputs give only typed errors', () => {
    const valid = encodeNpy(
      Float32Array.from({ length: 12 }, (_, i) => i),
      [3, 4],
    );
    const headerSize = valid.length - 48;
    // Also mutate inside the dict text, where a byte flip yields odd Python literals.
    const textual = fc
      .tuple(fc.integer({ min: 10, max: headerSize - 1 }), fc.constantFrom(...'{}()[],:\'" 0123456789-TrueFalsN<>|fiuc'.split('')))
      .map(([at, ch]) => {
        const bytes = valid.slice();
        bytes[at] = ch.charCodeAt(0);
        return { bytes, mustFail: false };
      });
    let typed = 0;
    fc.assert(
      fc.property(fc.oneof(malformed(valid, headerSize), textual), ({ bytes, mustFail }) => {
        const result = outcome(() => {
          const parsed = readNpy(bytes);
          const count = parsed.shape.reduce((a, b) => a * b, 1);
          if (parsed.data.length !== count) throw new Error('data length disagrees with shape');
        });
        if (result === 'typed') typed++;
        if (mustFail) expect(result).toBe('typed');
      }),
      { numRuns: 4000, seed: 2 },
    );
    expect(typed).toBeGreaterThan(2500);
  });

  it('PNG: 2,500 malformed inputs give only typed errors', () => {
    const valid = encodePng({ width: 6, height: 5, rgb: Uint8Array.from({ length: 90 }, (_, i) => (i * 13) & 255) });
    // Mutations anywhere in the file (not only the header): pngjs's chunk and zlib paths get exercised.
    const anywhere = fc.tuple(fc.integer({ min: 8, max: valid.length - 1 }), fc.integer({ min: 0, max: 255 })).map(([at, value]) => {
      const bytes = valid.slice();
      bytes[at] = value;
      return { bytes, mustFail: false };
    });
    let typed = 0;
    fc.assert(
      fc.property(fc.oneof(malformed(valid, 33), anywhere), ({ bytes, mustFail }) => {
        const result = outcome(() => {
          const image = decodePng(bytes, { maxPixels: 1 << 16 });
          if (image.rgb.length !== image.width * image.height * 3) throw new Error('rgb length disagrees with size');
        });
        if (result === 'typed') typed++;
        // A PNG with bytes appended after IEND is still a valid PNG, so only truncation must fail.
        if (mustFail && bytes.length < valid.length) expect(result).toBe('typed');
      }),
      { numRuns: 2500, seed: 3 },
    );
    expect(typed).toBeGreaterThan(2000);
  });
});
