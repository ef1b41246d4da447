/**
 * The ImageFolder reader on generated trees of PNG and JPEG files: class numbering, sorted order,
 * resizing (shorter side + centre crop), and typed errors for broken, oversized or mismatched files.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { afterAll, describe, expect, it } from 'vitest';
import { DatasetArgumentError, DatasetFormatError } from '../src/errors.ts';
import { decodeJpeg, readImageFolder, readJpegSize } from '../src/image-folder.ts';
import { encodePng } from '../src/png.ts';
import { resizeImage } from '../src/resize.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function rgb(width: number, height: number, f: (x: number, y: number, c: number) => number): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < 3; c++) out[(y * width + x) * 3 + c] = f(x, y, c);
  return out;
}

function encodeJpeg(width: number, height: number, pixels: Uint8Array, quality = 95): Uint8Array {
  const rgba = new Uint8Array(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    rgba.set(pixels.subarray(3 * p, 3 * p + 3), 4 * p);
    rgba[4 * p + 3] = 255;
  }
  return new Uint8Array(jpeg.encode({ width, height, data: rgba }, quality).data);
}

function tree(): string {
  const root = mkdtempSync(join(tmpdir(), 'fairgpu-imagefolder-'));
  dirs.push(root);
  return root;
}

describe('decodeJpeg', () => {
  it('decodes RGB within JPEG error and reads the frame size', () => {
    const pixels = rgb(16, 8, (x, y, c) => (c === 0 ? 200 : c === 1 ? 16 * y : 10 * x));
    const bytes = encodeJpeg(16, 8, pixels);
    expect(readJpegSize(bytes)).toEqual({ width: 16, height: 8 });
    const image = decodeJpeg(bytes);
    expect(image.width).toBe(16);
    expect(image.height).toBe(8);
    let err = 0;
    for (let i = 0; i < pixels.length; i++) err += Math.abs(image.rgb[i] - pixels[i]);
    expect(err / pixels.length).toBeLessThan(6);
  });

  it('refuses oversized frames before decoding and wraps decoder failures', () => {
    const bytes = encodeJpeg(
      64,
      64,
      rgb(64, 64, () => 128),
    );
    expect(() => decodeJpeg(bytes, { maxPixels: 1000 })).toThrow(/declares 64×64 pixels, more than maxPixels = 1000/);
    // A lying frame header: 60000 × 60000.
    const big = bytes.slice();
    const sof = [...big.keys()].find((i) => big[i] === 0xff && big[i + 1] === 0xc0)!;
    big.set([0xea, 0x60, 0xea, 0x60], sof + 5);
    expect(() => decodeJpeg(big)).toThrow(DatasetFormatError);
    expect(() => decodeJpeg(big)).toThrow(/60000×60000/);
    expect(() => decodeJpeg(bytes.subarray(0, bytes.length / 2))).toThrow(DatasetFormatError);
    expect(() => decodeJpeg(Uint8Array.of(1, 2, 3, 4))).toThrow(/no SOI marker/);
    expect(() => decodeJpeg(bytes, { maxMemoryMB: 0 })).toThrow(DatasetArgumentError);
  });
});

describe('readImageFolder', () => {
  it('numbers classes in sorted folder order, reads files sorted, PNG and JPEG alike', () => {
    const root = tree();
    for (const c of ['zebra', 'ant', 'moth']) mkdirSync(join(root, c));
    mkdirSync(join(root, 'moth', 'nested'));
    const red = rgb(4, 3, (_x, _y, c) => (c === 0 ? 255 : 0));
    writeFileSync(join(root, 'zebra', 'b.png'), encodePng({ width: 4, height: 3, rgb: red }));
    writeFileSync(join(root, 'zebra', 'a.PNG'), encodePng({ width: 4, height: 3, rgb: rgb(4, 3, (x) => 60 * x) }));
    writeFileSync(
      join(root, 'ant', 'x.jpg'),
      encodeJpeg(
        4,
        3,
        rgb(4, 3, () => 100),
      ),
    );
    writeFileSync(
      join(root, 'moth', 'nested', 'y.jpeg'),
      encodeJpeg(
        4,
        3,
        rgb(4, 3, () => 30),
      ),
    );
    writeFileSync(join(root, 'moth', 'notes.txt'), 'ignored');
    writeFileSync(join(root, 'README'), 'not a class');
    const set = readImageFolder(root);
    expect(set.classNames).toEqual(['ant', 'moth', 'zebra']);
    expect(set.paths).toEqual(['ant/x.jpg', 'moth/nested/y.jpeg', 'zebra/a.PNG', 'zebra/b.png']);
    expect([...set.labels]).toEqual([0, 1, 2, 2]);
    expect(set).toMatchObject({ length: 4, height: 3, width: 4, channels: 3 });
    // zebra/b.png is pure red, HWC.
    expect([...set.images.subarray(3 * 36, 3 * 36 + 6)]).toEqual([255, 0, 0, 255, 0, 0]);
    expect(Math.abs(set.images[0] - 100)).toBeLessThanOrEqual(3);
    const only = readImageFolder(root, { classes: ['zebra', 'ant'] });
    expect([...only.labels]).toEqual([0, 0, 1]);
    expect(only.classNames).toEqual(['zebra', 'ant']);
  });

  it('resizes the shorter side to size (PIL bilinear) and centre-crops, like Resize(size) + CenterCrop(size)', () => {
    const root = tree();
    mkdirSync(join(root, 'c'));
    const wide = rgb(40, 20, (x, y, c) => (x * 6 + y * 3 + c * 50) & 255);
    const tall = rgb(9, 27, (x, y) => (x * 20 + y * 9) & 255);
    writeFileSync(join(root, 'c', '1.png'), encodePng({ width: 40, height: 20, rgb: wide }));
    writeFileSync(join(root, 'c', '2.png'), encodePng({ width: 9, height: 27, rgb: tall }));
    expect(() => readImageFolder(root)).toThrow(/c\/2.png is 9×27 but c\/1.png is 40×20; pass size/);
    const set = readImageFolder(root, { size: 10 });
    expect(set).toMatchObject({ height: 10, width: 10, length: 2 });
    // 40×20 → 20×10, then columns 5…14.
    const small = resizeImage({ width: 40, height: 20, channels: 3, pixels: wide }, 20, 10);
    for (let y = 0; y < 10; y++) expect([...set.images.subarray(y * 30, y * 30 + 30)]).toEqual([...small.subarray((y * 20 + 5) * 3, (y * 20 + 15) * 3)]);
    // 9×27 → 10×30, then rows 10…19.
    const up = resizeImage({ width: 9, height: 27, channels: 3, pixels: tall }, 10, 30);
    expect([...set.images.subarray(300, 600)]).toEqual([...up.subarray(10 * 30, 20 * 30)]);
  });

  it('reports broken files by path and bad layouts or options by name', () => {
    const root = tree();
    mkdirSync(join(root, 'a'));
    writeFileSync(join(root, 'a', 'ok.png'), encodePng({ width: 2, height: 2, rgb: new Uint8Array(12) }));
    writeFileSync(join(root, 'a', 'zz.jpg'), Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 0, 4, 1, 2));
    expect(() => readImageFolder(root)).toThrow(DatasetFormatError);
    expect(() => readImageFolder(root)).toThrow(/a\/zz.jpg: jpeg: /);
    rmSync(join(root, 'a', 'zz.jpg'));
    writeFileSync(join(root, 'a', 'big.png'), encodePng({ width: 30, height: 30, rgb: new Uint8Array(2700) }));
    expect(() => readImageFolder(root, { maxPixels: 100 })).toThrow(/a\/big.png: png: IHDR declares 30×30/);
    expect(() => readImageFolder(root, { maxFiles: 1 })).toThrow(/more than maxFiles = 1/);
    expect(() => readImageFolder(root, { classes: ['b'] })).toThrow(/class folder .*b does not exist/);
    expect(() => readImageFolder(root, { size: 0 })).toThrow(DatasetArgumentError);
    expect(() => readImageFolder(root, { sise: 3 } as never)).toThrow(/did you mean 'size'/);
    const flat = tree();
    writeFileSync(join(flat, 'x.png'), encodePng({ width: 2, height: 2, rgb: new Uint8Array(12) }));
    expect(() => readImageFolder(flat)).toThrow(/no class sub-directories/);
    mkdirSync(join(flat, 'empty'));
    expect(() => readImageFolder(flat)).toThrow(/no .png, .jpg or .jpeg files/);
    expect(() => readImageFolder(join(flat, 'missing'))).toThrow(/is not a directory/);
  });
});
