/**
 * Fuzzing the CIFAR and JPEG readers as fuzz.test.ts does the IDX / .npy / PNG ones: 3,000 CIFAR-10
 * + 2,000 CIFAR-100 + 1,500 JPEG malformed inputs. Each must parse into something consistent with
 * its byte length or throw a DatasetFormatError; no other exception, no hang.
 */
import fc from 'fast-check';
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { encodeCifar10Batch, encodeCifar100File, readCifar10Batch, readCifar100File, syntheticCifarImages } from '../src/cifar.ts';
import { DatasetFormatError } from '../src/errors.ts';
import { decodeJpeg } from '../src/image-folder.ts';

function outcome(read: () => unknown): 'ok' | 'typed' {
  try {
    read();
    return 'ok';
  } catch (error) {
    if (error instanceof DatasetFormatError) return 'typed';
    throw error;
  }
}

/** Truncations, appended bytes, overwritten label bytes (a label byte is the first of each record), byte flips anywhere, or noise. */
function mutations(valid: Uint8Array, recordBytes: number, labelBytes: number) {
  const records = valid.length / recordBytes;
  return fc.oneof(
    fc.integer({ min: 0, max: valid.length - 1 }).map((n) => ({ bytes: valid.slice(0, n), mustFail: true })),
    fc.uint8Array({ minLength: 1, maxLength: recordBytes - 1 }).map((extra) => ({ bytes: Uint8Array.of(...valid, ...extra), mustFail: true })),
    fc.tuple(fc.integer({ min: 0, max: records - 1 }), fc.integer({ min: 0, max: labelBytes - 1 }), fc.integer({ min: 0, max: 255 })).map(([r, k, v]) => {
      const bytes = valid.slice();
      bytes[r * recordBytes + k] = v;
      return { bytes, mustFail: false };
    }),
    fc.tuple(fc.integer({ min: 0, max: valid.length - 1 }), fc.integer({ min: 0, max: 255 })).map(([at, v]) => {
      const bytes = valid.slice();
      bytes[at] = v;
      return { bytes, mustFail: false };
    }),
    fc.uint8Array({ maxLength: 7000 }).map((bytes) => ({ bytes, mustFail: false })),
  );
}

describe('image reader fuzzing', () => {
  const images = syntheticCifarImages({ classes: 10, perClass: 1, seed: 5 }).images.subarray(0, 3 * 3072);

  it('CIFAR-10: 3,000 malformed inputs give only typed errors; accepted labels are < 10', () => {
    const valid = encodeCifar10Batch({ images, labels: [1, 9, 0] });
    let typed = 0;
    fc.assert(
      fc.property(mutations(valid, 3073, 1), ({ bytes, mustFail }) => {
        const result = outcome(() => {
          const r = readCifar10Batch(bytes);
          if (r.count * 3073 !== bytes.length || r.images.length !== r.count * 3072) throw new Error('count disagrees with length');
          if (r.labels.some((l) => l > 9)) throw new Error('label out of range accepted');
        });
        if (result === 'typed') typed++;
        if (mustFail) expect(result).toBe('typed');
      }),
      { numRuns: 3000, seed: 11 },
    );
    expect(typed).toBeGreaterThan(1000);
  });

  it('CIFAR-100: 2,000 malformed inputs give only typed errors; accepted labels are in range', () => {
    const valid = encodeCifar100File({ images, labels: [99, 0, 50], coarseLabels: [19, 0, 10] });
    let typed = 0;
    fc.assert(
      fc.property(mutations(valid, 3074, 2), ({ bytes, mustFail }) => {
        const result = outcome(() => {
          const r = readCifar100File(bytes);
          if (r.count * 3074 !== bytes.length) throw new Error('count disagrees with length');
          if (r.labels.some((l) => l > 99) || r.coarseLabels!.some((l) => l > 19)) throw new Error('label out of range accepted');
        });
        if (result === 'typed') typed++;
        if (mustFail) expect(result).toBe('typed');
      }),
      { numRuns: 2000, seed: 12 },
    );
    expect(typed).toBeGreaterThan(700);
  });

  it('JPEG: 1,500 malformed inputs give only typed errors', () => {
    const rgba = new Uint8Array(12 * 10 * 4).map((_, i) => (i * 37) & 255);
    const valid = new Uint8Array(jpeg.encode({ width: 12, height: 10, data: rgba }, 80).data);
    const anywhere = fc.tuple(fc.integer({ min: 2, max: valid.length - 1 }), fc.integer({ min: 0, max: 255 })).map(([at, v]) => {
      const bytes = valid.slice();
      bytes[at] = v;
      return { bytes };
    });
    const truncated = fc.integer({ min: 0, max: valid.length - 1 }).map((n) => ({ bytes: valid.slice(0, n) }));
    const noise = fc.uint8Array({ maxLength: 512 }).map((b) => ({ bytes: Uint8Array.of(0xff, 0xd8, ...b) }));
    let typed = 0;
    fc.assert(
      fc.property(fc.oneof(anywhere, truncated, noise), ({ bytes }) => {
        const result = outcome(() => {
          const image = decodeJpeg(bytes, { maxPixels: 1 << 16, maxMemoryMB: 16 });
          if (image.rgb.length !== image.width * image.height * 3) throw new Error('rgb length disagrees with size');
        });
        if (result === 'typed') typed++;
      }),
      { numRuns: 1500, seed: 13 },
    );
    expect(typed).toBeGreaterThan(300);
  });
});
