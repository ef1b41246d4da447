/**
 * generic-vision without a GPU: how --dataset / --data reach the config (and the usage errors when
 * they are missing or misplaced), the presets, the published constants, the SupCon learning-rate
 * schedule, and the smoke protocol's generated CIFAR files read back through the CIFAR readers.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { SGD } from '@fairgpu/nn';
import { cpuBackend, tensor } from '@fairgpu/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config.ts';
import { PROTOCOL_NAMES } from '../src/experiment.ts';
import { genericVisionConfigSchema, PROTOCOLS, PUBLISHED_TOP1 } from '../src/experiments/generic-vision/config.ts';
import { loadVisionData } from '../src/experiments/generic-vision/data.ts';
import { SupConSchedule } from '../src/experiments/generic-vision/training.ts';
import { main } from '../src/main.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function cli(...argv: string[]) {
  let out = '';
  let err = '';
  const stream = (append: (s: string) => void) =>
    new Writable({
      write(chunk, _enc, done) {
        append(chunk.toString());
        done();
      },
    });
  const code = await main(argv, { stdout: stream((s) => (out += s)), stderr: stream((s) => (err += s)), env: { NO_COLOR: '1' } });
  return { code, stdout: out, stderr: err };
}

describe('generic-vision flags and config', () => {
  it('gpu / full / quick without --data are usage errors naming the flag; smoke generates its data', async () => {
    for (const protocol of ['gpu', 'full', 'quick']) {
      const r = await cli('run', 'generic-vision', '--protocol', protocol, '--dataset', 'cifar100');
      expect(r.code, protocol).toBe(2);
      expect(r.stderr).toMatch(/^error: config: data: CIFAR-100 is read from files: pass --data <dir> \(the CIFAR-100 binary version: train.bin, test.bin\)/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect((await cli('run', 'generic-vision')).stderr).toMatch(/pass --data <dir>.*data_batch_1.bin/);
    expect((await cli('run', 'generic-vision', '--protocol', 'smoke', '--dataset', 'imagenet100')).stderr).toMatch(/ImageNet-100 has no generated stand-in/);
    expect(() => resolveConfig(genericVisionConfigSchema, PROTOCOLS.smoke, {})).not.toThrow();
  });

  it('--dataset and --data are --set dataset / data; other experiments refuse them; bad names are named', async () => {
    const bad = await cli('run', 'generic-vision', '--protocol', 'smoke', '--dataset', 'mnist');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/config: dataset: .*"cifar10"\|"cifar100"\|"imagenet100"/);
    const other = await cli('run', 'biased-mnist', '--protocol', 'smoke', '--data', '/tmp');
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/--data: experiment 'biased-mnist' takes no --data/);
    const resumed = await cli('run', 'generic-vision', '--resume', '/tmp/x', '--data', '/tmp');
    expect(resumed.stderr).toMatch(/--data: --resume continues a run with its saved config/);
    // A path that parses as JSON stays a string.
    const c = resolveConfig(genericVisionConfigSchema, PROTOCOLS.gpu, { sets: [`data=${JSON.stringify('123')}`, 'dataset="cifar100"'] });
    expect(c.data).toBe('123');
    expect(c.dataset).toBe('cifar100');
    expect((await cli('config', 'generic-vision', '--protocol', 'smoke', '--set', 'model.widht=8')).stderr).toMatch(/config: model: unknown key 'widht'/);
  });

  it('presets: full is the SupCon recipe at ResNet-18 width 64; smoke is width-reduced on generated images', () => {
    for (const p of PROTOCOL_NAMES) expect(() => genericVisionConfigSchema.parse({ ...PROTOCOLS[p], data: PROTOCOLS[p].data ?? '/data' }), p).not.toThrow();
    const f = PROTOCOLS.full;
    expect(f.model.width).toBe(64);
    expect(f.contrastive).toMatchObject({
      epochs: 1000,
      batch: 1024,
      lr: 0.5,
      momentum: 0.9,
      weightDecay: 1e-4,
      warmupEpochs: 10,
      temperature: { supcon: 0.1, simclr: 0.5 },
    });
    expect(f.ce).toMatchObject({ epochs: 500, batch: 1024, lr: 0.8 });
    expect(f.linear).toMatchObject({ epochs: 100, batch: 512, lr: 5, augment: true });
    expect(PROTOCOLS.smoke.model.width).toBeLessThan(64);
    expect(PROTOCOLS.smoke.data).toBeNull();
    // The published table (spec: published-results.md).
    expect(PUBLISHED_TOP1.cifar10).toEqual({ simclr: 93.6, ce: 94.73, 'max-margin': 92.4, supcon: 95.64, 'eps-supinfonce': 96.14 });
    expect(PUBLISHED_TOP1.cifar100).toEqual({ simclr: 70.7, ce: 73.43, 'max-margin': 70.5, supcon: 75.41, 'eps-supinfonce': 76.04 });
    expect(PUBLISHED_TOP1.imagenet100).toEqual({ ce: 82.1, supcon: 81.99, 'eps-supinfonce': 83.3 });
  });
});

describe('SupConSchedule', () => {
  it('warms up linearly from 0.01 to the cosine, then anneals to lr·1e-3 (the SupCon code’s adjust/warmup rules, per step)', () => {
    const p = tensor([1, 2], [2], { device: cpuBackend(), requiresGrad: true });
    const opt = new SGD([p], { lr: 0.5 });
    const total = 1000;
    const warm = 100;
    const s = new SupConSchedule(opt, total, warm);
    const etaMin = 0.5e-3;
    const cosine = (t: number) => etaMin + ((0.5 - etaMin) * (1 + Math.cos((Math.PI * t) / total))) / 2;
    expect(opt.lr).toBeCloseTo(0.01, 12);
    expect(s.lrAt(50)).toBeCloseTo(0.01 + 0.5 * (cosine(100) - 0.01), 12);
    expect(s.lrAt(100)).toBeCloseTo(cosine(100), 12);
    expect(s.lrAt(total)).toBeCloseTo(etaMin, 12);
    expect(s.lrAt(total + 50)).toBeCloseTo(etaMin, 12);
    for (let t = 0; t < 3; t++) s.step();
    expect(opt.lr).toBeCloseTo(s.lrAt(3), 12);
    const plain = new SupConSchedule(new SGD([p], { lr: 0.05 }), 10, 0);
    expect(plain.lrAt(0)).toBeCloseTo(0.05, 12);
    expect(plain.lrAt(5)).toBeCloseTo(0.05e-3 + ((0.05 - 0.05e-3) * 1) / 2, 12);
    p.dispose();
  });
});

describe('smoke data', () => {
  it('writes the generated images as the binary distribution and reads them back (CIFAR-10 and CIFAR-100)', () => {
    const run = mkdtempSync(join(tmpdir(), 'fairgpu-gv-data-'));
    dirs.push(run);
    const ten = loadVisionData(genericVisionConfigSchema.parse(PROTOCOLS.smoke), run);
    expect(readdirSync(join(run, 'generated-cifar10')).sort()).toEqual([
      'data_batch_1.bin',
      'data_batch_2.bin',
      'data_batch_3.bin',
      'data_batch_4.bin',
      'data_batch_5.bin',
      'test_batch.bin',
    ]);
    expect(ten).toMatchObject({ classes: 10, source: 'generated' });
    expect(ten.train.length).toBe(100);
    expect(ten.test.length).toBe(50);
    expect(ten.train.images.length).toBe(100 * 3072);
    const counts = new Array(10).fill(0);
    for (const l of ten.train.labels) counts[l]++;
    expect(counts).toEqual(new Array(10).fill(10));
    // Same seed, same bytes on a second read (a resumed run).
    expect(loadVisionData(genericVisionConfigSchema.parse(PROTOCOLS.smoke), run).train.images).toEqual(ten.train.images);
    const hundred = loadVisionData(genericVisionConfigSchema.parse({ ...PROTOCOLS.smoke, dataset: 'cifar100' }), run);
    expect(readdirSync(join(run, 'generated-cifar100')).sort()).toEqual(['test.bin', 'train.bin']);
    expect(hundred.classes).toBe(100);
    expect(hundred.train.length).toBe(100);
    expect(hundred.test.length).toBe(50);
    expect(hundred.summary).toMatch(/train 100 of 1000, test 50 of 500, 100 classes/);
  });
});
