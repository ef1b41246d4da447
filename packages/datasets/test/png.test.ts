import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deflateSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { decodePng, encodePng, readPngSize } from '../src/png.ts';
import { parseBiasFileName } from '../src/bias-folders.ts';
import { readBiasFolderDataset } from '../src/node-files.ts';
import { createLoader } from '../src/loader.ts';
import { DatasetFormatError } from '../src/errors.ts';

function patternImage(width: number, height: number, seed: number): { width: number; height: number; rgb: Uint8Array } {
  const rgb = Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * 31 + seed * 17) & 255);
  return { width, height, rgb };
}

function setCrc(bytes: Uint8Array, chunkStart: number): void {
  // Recompute a chunk's CRC after editing it, so the edit reaches our checks rather than pngjs's CRC check.
  const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(chunkStart, false);
  let crc = 0xffffffff;
  for (let i = chunkStart + 4; i < chunkStart + 8 + length; i++) {
    crc ^= bytes[i];
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(chunkStart + 8 + length, (crc ^ 0xffffffff) >>> 0, false);
}

describe('PNG decoding', () => {
  it('round-trips RGB pixels and expands greyscale', () => {
    const image = patternImage(5, 3, 1);
    const decoded = decodePng(encodePng(image));
    expect(decoded.width).toBe(5);
    expect(decoded.height).toBe(3);
    expect([...decoded.rgb]).toEqual([...image.rgb]);

    const grey = new PNG({ width: 2, height: 1, colorType: 0, inputColorType: 0, inputHasAlpha: false } as never);
    grey.data = Buffer.from([10, 200]);
    const greyBytes = new Uint8Array(PNG.sync.write(grey, { colorType: 0, inputColorType: 0, inputHasAlpha: false } as never));
    expect([...decodePng(greyBytes).rgb]).toEqual([10, 10, 10, 200, 200, 200]);
  });

  it('rejects absurd IHDR sizes before decoding', () => {
    const bytes = encodePng(patternImage(2, 2, 0)).slice();
    new DataView(bytes.buffer).setUint32(16, 0x7fffffff, false);
    new DataView(bytes.buffer).setUint32(20, 0x7fffffff, false);
    setCrc(bytes, 8);
    expect(readPngSize(bytes)).toEqual({ width: 0x7fffffff, height: 0x7fffffff });
    expect(() => decodePng(bytes)).toThrow(/more than maxPixels/);
  });

  it('refuses an interlaced PNG whose data inflates far beyond its declared size', () => {
    // 16×16 RGB Adam7 image (under 1.6 kB raw) whose IDAT inflates to 64 MB of zeros.
    const chunk = (type: string, data: Uint8Array): Uint8Array => {
      const out = new Uint8Array(12 + data.length);
      new DataView(out.buffer).setUint32(0, data.length, false);
      out.set(
        [...type].map((ch) => ch.charCodeAt(0)),
        4,
      );
      out.set(data, 8);
      setCrc(out, 0);
      return out;
    };
    const ihdr = new Uint8Array(13);
    new DataView(ihdr.buffer).setUint32(0, 16, false);
    new DataView(ihdr.buffer).setUint32(4, 16, false);
    ihdr.set([8, 2, 0, 0, 1], 8); // depth 8, RGB, deflate, adaptive filter, Adam7
    const bomb = new Uint8Array(deflateSync(new Uint8Array(64 << 20)));
    const file = Uint8Array.from([
      0x89,
      0x50,
      0x4e,
      0x47,
      0x0d,
      0x0a,
      0x1a,
      0x0a,
      ...chunk('IHDR', ihdr),
      ...chunk('IDAT', bomb),
      ...chunk('IEND', new Uint8Array(0)),
    ]);
    expect(file.length).toBeLessThan(100_000);
    expect(() => decodePng(file)).toThrow(/does not inflate within/);

    // A genuine interlaced image still decodes: 1×1 has a single Adam7 pass of one row.
    new DataView(ihdr.buffer).setUint32(0, 1, false);
    new DataView(ihdr.buffer).setUint32(4, 1, false);
    const tiny = Uint8Array.from([
      0x89,
      0x50,
      0x4e,
      0x47,
      0x0d,
      0x0a,
      0x1a,
      0x0a,
      ...chunk('IHDR', ihdr),
      ...chunk('IDAT', new Uint8Array(deflateSync(Uint8Array.of(0, 10, 20, 30)))),
      ...chunk('IEND', new Uint8Array(0)),
    ]);
    expect([...decodePng(tiny).rgb]).toEqual([10, 20, 30]);
  });

  it('turns pngjs failures into DatasetFormatError', () => {
    const good = encodePng(patternImage(4, 4, 2));
    const badCrc = good.slice();
    badCrc[30] ^= 0xff; // inside IHDR, CRC not updated
    expect(() => decodePng(badCrc)).toThrow(DatasetFormatError);
    expect(() => decodePng(good.subarray(0, good.length - 20))).toThrow(DatasetFormatError);
    expect(() => decodePng(Uint8Array.of(1, 2, 3))).toThrow(/too short/);
    const notPng = good.slice();
    notPng[1] = 0;
    expect(() => decodePng(notPng)).toThrow(/bad signature/);
  });
});

describe('Corrupted CIFAR-10 / bFFHQ folders', () => {
  const root = mkdtempSync(join(tmpdir(), 'fairgpu-bias-folder-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const files: Array<[string, number]> = [
    ['align/0/0_0_0.png', 1],
    ['align/0/1_0_0.png', 2],
    ['align/1/2_1_1.png', 3],
    ['conflict/0/3_0_1.png', 4],
    ['conflict/1/4_1_0.png', 5],
  ];
  for (const [path, seed] of files) {
    mkdirSync(join(root, 'data', path, '..'), { recursive: true });
    writeFileSync(join(root, 'data', path), encodePng(patternImage(4, 3, seed)));
  }
  mkdirSync(join(root, 'test'), { recursive: true });
  writeFileSync(join(root, 'test', '7_1_0.png'), encodePng(patternImage(4, 3, 9)));
  writeFileSync(join(root, 'test', 'notes.txt'), 'ignored');

  it('parses _<label>_<bias>.png names', () => {
    expect(parseBiasFileName('00123_4_7.png')).toEqual({ label: 4, bias: 7 });
    expect(() => parseBiasFileName('img.png')).toThrow(DatasetFormatError);
  });

  it('reads align/ and conflict/ in sorted order with labels, bias labels and pixels', () => {
    const set = readBiasFolderDataset(join(root, 'data'));
    expect(set.length).toBe(5);
    expect(set.paths).toEqual(files.map(([p]) => p));
    expect([...set.labels]).toEqual([0, 0, 1, 0, 1]);
    expect([...set.biasLabels]).toEqual([0, 0, 1, 1, 0]);
    expect(set.subsets).toEqual(['align', 'align', 'align', 'conflict', 'conflict']);
    expect([...set.images.subarray(3 * 36, 4 * 36)]).toEqual([...patternImage(4, 3, 4).rgb]);
    // Works with the loader: 4×3 RGB images, NCHW batches.
    const batch = createLoader(set, { batchSize: 5, sampler: 'sequential' }).batch(0, 0);
    expect(batch.shape).toEqual([5, 3, 3, 4]);
    expect(batch.images[0]).toBeCloseTo((set.images[0] / 255 - 0.5) / 0.5, 6);
  });

  it('reads a flat test folder and rejects inconsistent folders', () => {
    const flat = readBiasFolderDataset(join(root, 'test'));
    expect(flat.length).toBe(1);
    expect(flat.labels[0]).toBe(1);
    expect(flat.subsets).toEqual(['']);

    const bad = join(root, 'bad');
    mkdirSync(join(bad, 'align', '2'), { recursive: true });
    writeFileSync(join(bad, 'align', '2', '0_1_1.png'), encodePng(patternImage(2, 2, 0)));
    expect(() => readBiasFolderDataset(bad)).toThrow(/disagrees with class folder 2/);
    rmSync(join(bad, 'align', '2'), { recursive: true });
    mkdirSync(join(bad, 'align', '1'), { recursive: true });
    writeFileSync(join(bad, 'align', '1', '0_1_1.png'), encodePng(patternImage(2, 2, 0)));
    writeFileSync(join(bad, 'align', '1', '1_1_1.png'), encodePng(patternImage(3, 2, 0)));
    expect(() => readBiasFolderDataset(bad)).toThrow(/is 3×2, but/);
    writeFileSync(join(bad, 'align', '1', '1_1_1.png'), Uint8Array.of(1, 2, 3));
    expect(() => readBiasFolderDataset(bad)).toThrow(DatasetFormatError);
  });
});
