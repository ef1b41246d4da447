import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memory, Rng, tensor, type Tensor } from '@fairgpu/tensor';
import { Linear } from '@fairgpu/nn';
import { leakageReport, writeLeakageReport } from '../src/node.ts';

/** n samples, d features; the attribute (4 groups) shifts feature 0 by `leak` per group. */
function data(n: number, d: number, leak: number, seed: number) {
  const rng = new Rng(seed);
  const x = new Float32Array(n * d);
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    a[i] = i % 4;
    for (let j = 0; j < d; j++) x[i * d + j] = rng.normal();
    x[i * d] += leak * a[i];
  }
  return { x, a };
}

const out = mkdtempSync(join(tmpdir(), 'fairgpu-privacy-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('leakageReport + writeLeakageReport (float64 CPU backend)', () => {
  it('the single-model form { encoder, train, test, attribute } is the one-model report', async () => {
    const d = 4;
    const tr = data(160, d, 3, 5);
    const te = data(80, d, 3, 6);
    const encoder = (x: Tensor) => x.mul(2);
    const batches = (src: { x: Float32Array; a: Int32Array }, n: number) => [
      { x: tensor(src.x.subarray(0, n * d), [n, d], { device: 'cpu' }), attribute: src.a.subarray(0, n) },
    ];
    const single = await leakageReport({ encoder, train: batches(tr, 160), test: batches(te, 80), attribute: { name: 'site' }, name: 'enc', mlp: false });
    const nested = await leakageReport({
      models: [{ name: 'enc', encoder, train: batches(tr, 160), test: batches(te, 80) }],
      attribute: { name: 'site' },
      mlp: false,
    });
    expect(single.attribute).toBe('site');
    expect(single.models.map((m) => m.name)).toEqual(['enc']);
    expect(single.models[0].linear!.accuracy).toBe(nested.models[0].linear!.accuracy);
    expect(single.models[0].linear!.accuracy).toBeGreaterThan(0.8);
    const unnamed = await leakageReport({ encoder, train: batches(tr, 160), test: batches(te, 80), mlp: false, gaussian: false });
    expect(unnamed.models[0].name).toBe('model');
  });

  it('precomputed embeddings and a frozen encoder over batches; files written atomically', async () => {
    const d = 6;
    const tr = data(240, d, 3, 1);
    const te = data(120, d, 3, 2);
    const privTr = data(240, d, 0, 3);
    const privTe = data(120, d, 0, 4);
    const before = memory('cpu').tensors;
    const leakyTrain = tensor(tr.x, [240, d], { device: 'cpu' });
    const leakyTest = tensor(te.x, [120, d], { device: 'cpu' });
    // An encoder: a Linear module in train mode (restored after), fed batches of 50 from host data.
    const encoder = new Linear(d, 4, { device: 'cpu', rng: new Rng(9) });
    function* batches(src: { x: Float32Array; a: Int32Array }, n: number): Generator<{ x: Tensor; attribute: Int32Array }> {
      for (let s = 0; s < n; s += 50) {
        const e = Math.min(n, s + 50);
        yield { x: tensor(src.x.subarray(s * d, e * d), [e - s, d], { device: 'cpu' }), attribute: src.a.subarray(s, e) };
      }
    }
    const report = await leakageReport({
      models: [
        { name: 'leaky', trainEmbeddings: leakyTrain, testEmbeddings: leakyTest },
        { name: 'private', encoder, train: batches(privTr, 240), test: batches(privTe, 120) },
      ],
      attribute: { name: 'colour', train: tr.a, test: te.a },
      mlp: { hidden: 16, epochs: 3, batchSize: 64, seed: 1 },
    });
    expect(encoder.training).toBe(true);
    const [leaky, priv] = report.models;
    expect(leaky.linear!.accuracy).toBeGreaterThan(0.8);
    expect(priv.linear!.accuracy).toBeLessThan(0.45);
    expect(priv.chance).toBe(0.25);
    expect(priv.nTrain).toBe(240);
    expect(priv.dim).toBe(4);
    expect(leaky.gaussian!.summary.meanBhattacharyya).toBeLessThan(priv.gaussian!.summary.meanBhattacharyya);
    expect(priv.gaussian!.summary.meanBhattacharyya).toBeGreaterThan(0.95);
    expect(leaky.mlp!.fit.steps).toBe(3 * 4);
    expect(report.figures.map((f) => f.name)).toEqual(['gaussian-leakage']);
    leakyTrain.dispose();
    leakyTest.dispose();
    encoder.dispose();
    expect(memory('cpu').tensors).toBe(before);

    const written = await writeLeakageReport(report, out);
    const json = JSON.parse(readFileSync(written.json, 'utf8'));
    expect(json.attribute).toBe('colour');
    expect(json.models[1].name).toBe('private');
    expect(json.figures).toEqual(['gaussian-leakage']);
    const md = readFileSync(written.markdown, 'utf8');
    expect(md).toContain('| model | linear probe acc | MLP acc | balanced acc | chance | Bhattacharyya |');
    expect(md).toMatch(/\| private \| \d+\.\d\d % \| \d+\.\d\d % \| \d+\.\d\d % \| 25\.00 % \| 0\.9\d+ \|/);
    expect(existsSync(join(out, 'gaussian-leakage.png'))).toBe(true);
    expect(existsSync(join(out, 'gaussian-leakage.svg'))).toBe(true);
    expect(readdirSync(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('argument checks name the model', async () => {
    const x = tensor([1, 2, 3, 4, 5, 6, 7, 8], [4, 2], { device: 'cpu' });
    await expect(leakageReport({ models: [] })).rejects.toMatchObject({ argument: 'models' });
    await expect(leakageReport({ encoder: (t: Tensor) => t, train: [] })).rejects.toMatchObject({ argument: 'test' });
    await expect(leakageReport({ encoder: (t: Tensor) => t, train: [], test: [], models: [] })).rejects.toMatchObject({ argument: 'encoder' });
    await expect(leakageReport({ models: [{ name: 'a', trainEmbeddings: x, testEmbeddings: x }] })).rejects.toMatchObject({
      argument: 'models[0].trainAttribute',
    });
    await expect(
      leakageReport({
        models: [
          { name: 'a', trainEmbeddings: x, testEmbeddings: x },
          { name: 'a', trainEmbeddings: x, testEmbeddings: x },
        ],
      }),
    ).rejects.toMatchObject({ argument: 'models[1].name' });
    await expect(leakageReport({ models: [{ name: 'e', encoder: (t: Tensor) => t, train: 5 as never, test: [] }] })).rejects.toMatchObject({
      argument: 'models[0].train',
    });
    await expect(writeLeakageReport({} as never, out)).rejects.toMatchObject({ argument: 'report' });
    x.dispose();
  });
});
