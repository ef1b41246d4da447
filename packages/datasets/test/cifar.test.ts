/**
 * CIFAR-10 / CIFAR-100 binary readers on generated files in the documented layout
 * (https://www.cs.toronto.edu/~kriz/cifar.html): label byte(s), then R, G, B planes of 32×32
 * row-major bytes. Records are built byte by byte here, independently of the encoder.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CIFAR10_CLASS_NAMES,
  CIFAR10_RECORD_BYTES,
  CIFAR100_RECORD_BYTES,
  assembleCifar,
  encodeCifar10Batch,
  encodeCifar100File,
  readCifar10Batch,
  readCifar100File,
  syntheticCifarImages,
} from '../src/cifar.ts';
import { readCifar10, readCifar100 } from '../src/cifar-files.ts';
import { DatasetArgumentError, DatasetFormatError } from '../src/errors.ts';
import { createLoader } from '../src/loader.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A record by the spec: label byte(s), then pixel (c, y, x) at 1024·c + 32·y + x, here value f(r, c, y, x). */
function record(labels: number[], value: (c: number, y: number, x: number) => number): Uint8Array {
  const out = new Uint8Array(labels.length + 3072);
  out.set(labels, 0);
  for (let c = 0; c < 3; c++) for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) out[labels.length + 1024 * c + 32 * y + x] = value(c, y, x);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

describe('CIFAR-10 records', () => {
  it('places plane c, row y, column x at HWC (y·32 + x)·3 + c, or CHW 1024·c + 32·y + x', () => {
    const value = (r: number) => (c: number, y: number, x: number) => (r * 31 + c * 101 + y * 7 + x * 3) & 255;
    const bytes = concat([record([3], value(0)), record([9], value(1))]);
    const hwc = readCifar10Batch(bytes);
    expect(hwc.count).toBe(2);
    expect([...hwc.labels]).toEqual([3, 9]);
    const chw = readCifar10Batch(bytes, { layout: 'chw' });
    for (let r = 0; r < 2; r++) {
      for (const [c, y, x] of [
        [0, 0, 0],
        [1, 5, 17],
        [2, 31, 31],
        [0, 31, 0],
        [2, 0, 31],
      ]) {
        expect(hwc.images[r * 3072 + (y * 32 + x) * 3 + c]).toBe(value(r)(c, y, x));
        expect(chw.images[r * 3072 + 1024 * c + 32 * y + x]).toBe(value(r)(c, y, x));
      }
    }
    // A single bright pixel: red plane, row 2, column 30 → HWC pixel (2, 30), channel 0 only.
    const one = readCifar10Batch(record([0], (c, y, x) => (c === 0 && y === 2 && x === 30 ? 255 : 0)));
    const lit = [...one.images.keys()].filter((i) => one.images[i] !== 0);
    expect(lit).toEqual([(2 * 32 + 30) * 3]);
  });

  it('encodeCifar10Batch writes the documented layout (round trip, both layouts)', () => {
    const { images, labels } = syntheticCifarImages({ classes: 10, perClass: 2, seed: 1 });
    const bytes = encodeCifar10Batch({ images, labels });
    expect(bytes.length).toBe(20 * CIFAR10_RECORD_BYTES);
    expect(bytes[CIFAR10_RECORD_BYTES]).toBe(labels[1]);
    // Record 0's green plane, row 4, column 9 is HWC byte (4·32 + 9)·3 + 1 of image 0.
    expect(bytes[1 + 1024 + 4 * 32 + 9]).toBe(images[(4 * 32 + 9) * 3 + 1]);
    const back = readCifar10Batch(bytes);
    expect(back.images).toEqual(images);
    expect([...back.labels]).toEqual([...labels]);
    const chw = readCifar10Batch(bytes, { layout: 'chw' });
    expect(encodeCifar10Batch({ images: chw.images, layout: 'chw', labels })).toEqual(bytes);
  });

  it('rejects truncated files, CIFAR-100 files, empty files, labels ≥ 10 and record-count mismatches with typed errors', () => {
    const good = concat([record([1], () => 7), record([2], () => 9)]);
    const cases: Array<[Uint8Array, RegExp]> = [
      [good.subarray(0, good.length - 1), /not a whole number of 3073-byte records: 1 records and 3072 bytes left over \(truncated/],
      [new Uint8Array(2 * CIFAR100_RECORD_BYTES), /a CIFAR-100 file\?/],
      [new Uint8Array(0), /empty/],
      [concat([record([1], () => 0), record([10], () => 0)]), /record 1: label 10 is not below 10/],
    ];
    for (const [bytes, message] of cases) {
      expect(() => readCifar10Batch(bytes, { source: 'data_batch_1.bin' })).toThrow(DatasetFormatError);
      expect(() => readCifar10Batch(bytes, { source: 'data_batch_1.bin' })).toThrow(message);
    }
    expect(() => readCifar10Batch(good, { source: 'data_batch_1.bin' })).not.toThrow();
    expect(() => readCifar10Batch(good, { records: 10000 })).toThrow(/holds 2 records, expected 10000/);
    expect(() => readCifar10Batch(good, { layout: 'nhwc' as 'hwc' })).toThrow(DatasetArgumentError);
    expect(() => readCifar10Batch(good, { layuot: 'chw' } as never)).toThrow(/did you mean 'layout'/);
    expect(() => readCifar10Batch([1, 2, 3] as unknown as Uint8Array)).toThrow(/Uint8Array/);
    expect(() => encodeCifar10Batch({ images: new Uint8Array(3072), labels: [11] })).toThrow(/labels\[0\]/);
    expect(() => encodeCifar10Batch({ images: new Uint8Array(3071), labels: [1] })).toThrow(/images/);
  });
});

describe('CIFAR-100 records', () => {
  it('reads the coarse then the fine label byte and the same pixel layout', () => {
    const value = (c: number, y: number, x: number) => (c * 80 + y * 2 + x) & 255;
    const r = readCifar100File(concat([record([19, 99], value), record([0, 42], () => 3)]));
    expect([...r.labels]).toEqual([99, 42]);
    expect([...r.coarseLabels!]).toEqual([19, 0]);
    expect(r.images[(7 * 32 + 11) * 3 + 2]).toBe(value(2, 7, 11));
    expect(r.images[3072 + 100]).toBe(3);
  });

  it('round-trips through encodeCifar100File and validates both labels', () => {
    const { images, labels } = syntheticCifarImages({ classes: 100, perClass: 1, seed: 2 });
    const coarseLabels = Int32Array.from(labels, (l) => l % 20);
    const bytes = encodeCifar100File({ images, labels, coarseLabels });
    expect(bytes[0]).toBe(coarseLabels[0]);
    expect(bytes[1]).toBe(labels[0]);
    const back = readCifar100File(bytes);
    expect(back.images).toEqual(images);
    expect([...back.coarseLabels!]).toEqual([...coarseLabels]);
    expect(() => readCifar100File(record([20, 1], () => 0))).toThrow(/coarse label 20 is not below 20/);
    expect(() => readCifar100File(record([1, 100], () => 0))).toThrow(/fine label 100 is not below 100/);
    expect(() => readCifar100File(new Uint8Array(3 * CIFAR10_RECORD_BYTES))).toThrow(/a CIFAR-10 file\?/);
    expect(() => encodeCifar100File({ images, labels })).toThrow(/coarseLabels/);
    expect(() => encodeCifar100File({ images, labels, coarseLabels: [1] })).toThrow(/expected 100 labels/);
  });
});

describe('CIFAR directories (Node)', () => {
  function cifar10Dir(perBatch: number, subfolder?: string): { root: string; labels: number[] } {
    const root = mkdtempSync(join(tmpdir(), 'fairgpu-cifar10-'));
    dirs.push(root);
    const dir = subfolder ? join(root, subfolder) : root;
    mkdirSync(dir, { recursive: true });
    const labels: number[] = [];
    for (let b = 1; b <= 6; b++) {
      const recs = Array.from({ length: perBatch }, (_, i) => {
        const label = (b * 3 + i) % 10;
        if (b <= 5) labels.push(label);
        return record([label], (c) => (b * 40 + c) & 255);
      });
      writeFileSync(join(dir, b <= 5 ? `data_batch_${b}.bin` : 'test_batch.bin'), concat(recs));
    }
    return { root, labels };
  }

  it('reads the five training batches in order and the test batch, from the folder or its parent', () => {
    const { root, labels } = cifar10Dir(3, 'cifar-10-batches-bin');
    const train = readCifar10(root, { split: 'train' });
    expect(train.length).toBe(15);
    expect([...train.labels]).toEqual(labels);
    expect(train.biasLabels).toEqual(train.labels);
    expect(train.files.map((f) => f.name)).toEqual(['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin']);
    // Image 3 (batch 2): channel c of every pixel is (2·40 + c).
    expect([...train.images.subarray(3 * 3072, 3 * 3072 + 3)]).toEqual([80, 81, 82]);
    expect(train.classNames).toEqual(CIFAR10_CLASS_NAMES);
    const test = readCifar10(join(root, 'cifar-10-batches-bin'), { split: 'test' });
    expect(test.length).toBe(3);
    expect(test.split).toBe('test');
    // The dataset feeds the loader directly.
    const batch = createLoader(train, { batchSize: 5, twoViews: true, augment: { randomResizedCrop: true, grayscale: 0.5 } }).batch(0, 0);
    expect(batch.shape).toEqual([10, 3, 32, 32]);
  });

  it('reads batches.meta.txt names, and says what is missing or malformed', () => {
    const { root } = cifar10Dir(2);
    writeFileSync(join(root, 'batches.meta.txt'), `${['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'].join('\n')}\n\n`);
    expect(readCifar10(root, { split: 'test' }).classNames[9]).toBe('j');
    writeFileSync(join(root, 'batches.meta.txt'), 'a\nb\n');
    expect(() => readCifar10(root, { split: 'test' })).toThrow(/batches.meta.txt: 2 names, expected 10/);
    rmSync(join(root, 'batches.meta.txt'));
    rmSync(join(root, 'data_batch_4.bin'));
    expect(() => readCifar10(root, { split: 'train' })).toThrow(/data_batch_4.bin is missing/);
    writeFileSync(join(root, 'data_batch_4.bin'), new Uint8Array(100));
    expect(() => readCifar10(root, { split: 'train' })).toThrow(/data_batch_4.bin: 100 bytes is not a whole number/);
    const empty = mkdtempSync(join(tmpdir(), 'fairgpu-cifar-empty-'));
    dirs.push(empty);
    expect(() => readCifar10(empty, { split: 'train' })).toThrow(/no test_batch.bin in .*expected the binary version's data_batch_1.bin/);
    mkdirSync(join(empty, 'cifar-10-batches-py'));
    writeFileSync(join(empty, 'cifar-10-batches-py', 'data_batch_1'), 'pickle');
    expect(() => readCifar10(empty, { split: 'train' })).toThrow(/Python \(pickle\) version/);
    expect(() => readCifar10(join(empty, 'nope'), { split: 'train' })).toThrow(/is not a directory/);
    expect(() => readCifar10(root, { split: 'val' as 'train' })).toThrow(DatasetArgumentError);
    expect(() => readCifar10(root, undefined as never)).toThrow(/split/);
  });

  it('reads CIFAR-100 train.bin / test.bin with both label kinds and the label-name files', () => {
    const root = mkdtempSync(join(tmpdir(), 'fairgpu-cifar100-'));
    dirs.push(root);
    const dir = join(root, 'cifar-100-binary');
    mkdirSync(dir);
    writeFileSync(join(dir, 'train.bin'), concat([record([4, 30], () => 1), record([7, 77], () => 2), record([4, 31], () => 3)]));
    writeFileSync(
      join(dir, 'test.bin'),
      record([19, 99], () => 4),
    );
    writeFileSync(join(dir, 'coarse_label_names.txt'), Array.from({ length: 20 }, (_, k) => `super${k}`).join('\n'));
    const train = readCifar100(root, { split: 'train' });
    expect([...train.labels]).toEqual([30, 77, 31]);
    expect([...train.coarseLabels!]).toEqual([4, 7, 4]);
    expect(train.coarseClassNames![7]).toBe('super7');
    expect(train.classNames[77]).toBe('class 77');
    expect(readCifar100(dir, { split: 'test' }).images[0]).toBe(4);
    // CIFAR-10 batches are not CIFAR-100 files.
    writeFileSync(join(dir, 'test.bin'), concat([record([1], () => 0), record([2], () => 0), record([3], () => 0)]));
    expect(() => readCifar100(root, { split: 'test' })).toThrow(/test.bin: .*a CIFAR-10 file\?/);
  });

  it('assembleCifar checks its parts', () => {
    const r = readCifar10Batch(record([1], () => 0));
    expect(() => assembleCifar('cifar100', 'train', [{ name: 'x', records: r }])).toThrow(/not cifar100 records/);
    expect(() => assembleCifar('cifar10', 'train', [])).toThrow(/at least one file/);
    expect(() =>
      assembleCifar('cifar10', 'train', [
        {
          name: 'x',
          records: readCifar10Batch(
            record([1], () => 0),
            { layout: 'chw' },
          ),
        },
      ]),
    ).toThrow(/layout 'hwc'/);
  });
});

describe('syntheticCifarImages', () => {
  it('is deterministic, balanced and uses the whole byte range', () => {
    const a = syntheticCifarImages({ classes: 10, perClass: 5, seed: 3 });
    const b = syntheticCifarImages({ classes: 10, perClass: 5, seed: 3 });
    expect(a.images).toEqual(b.images);
    expect(a.images).not.toEqual(syntheticCifarImages({ classes: 10, perClass: 5, seed: 4 }).images);
    const counts = new Array(10).fill(0);
    for (const l of a.labels) counts[l]++;
    expect(counts).toEqual(new Array(10).fill(5));
    const min = a.images.reduce((m, v) => Math.min(m, v), 255);
    const max = a.images.reduce((m, v) => Math.max(m, v), 0);
    expect(min).toBeLessThan(40);
    expect(max).toBeGreaterThan(215);
    expect(() => syntheticCifarImages({ classes: 1, perClass: 5, seed: 0 })).toThrow(/classes/);
    expect(() => syntheticCifarImages({ classes: 10, perClass: 5, seed: 0.5 })).toThrow(/seed/);
  });
});
