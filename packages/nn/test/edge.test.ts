import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cpuBackend, InvalidArgumentError, memory, tensor } from '@fairgpu/tensor';
import { Adam, decodeSafetensors, encodeSafetensors, Linear, Sequential, ReLU, StepLR, type HostArray } from '../src/index.ts';
import { loadCheckpoint, saveCheckpoint, writeFileAtomic } from '../src/node.ts';
import { errorCases, expectErrorCase, file } from './edge.ts';

const cpu = cpuBackend();

describe('bad input is a typed error that names the argument, with memory() at its baseline (float64 CPU)', () => {
  for (const c of errorCases()) {
    it(c.name, async () => {
      const start = memory(cpu);
      await expectErrorCase(c, cpu);
      // setup's own tensors are freed by its dispose too.
      expect(memory(cpu).tensors).toBe(start.tensors);
    });
  }
});

describe('the valid forms around those edges still work', () => {
  it('loadStateDict takes host arrays (typed, number[], HostArray) and keeps identity', async () => {
    const lin = new Linear(3, 2, { device: cpu });
    const w = lin.weight;
    lin.loadStateDict({ weight: Float32Array.from([1, 2, 3, 4, 5, 6]), bias: { dtype: 'f32', shape: [2], data: Float32Array.from([0.5, -1]) } });
    expect(lin.weight).toBe(w);
    expect(Array.from(await lin.weight.toArray())).toEqual([1, 2, 3, 4, 5, 6]);
    lin.loadStateDict(new Map([['bias', [7, 8]]]), { strict: false });
    expect(Array.from(await lin.bias!.toArray())).toEqual([7, 8]);
    lin.dispose();
  });

  it('safetensors whose tensors tile the data (zero-size ones included) decode; our encoder writes such files', () => {
    const ok = decodeSafetensors(
      file(
        {
          a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
          e: { dtype: 'F32', shape: [0], data_offsets: [4, 4] },
          b: { dtype: 'I32', shape: [1], data_offsets: [4, 8] },
        },
        new Uint8Array(8),
      ),
    );
    expect([...ok.tensors.keys()]).toEqual(['a', 'e', 'b']);
    const tensors = new Map<string, HostArray>([
      ['x', { dtype: 'f32', shape: [0], data: new Float32Array(0) }],
      ['y', { dtype: 'i32', shape: [2], data: Int32Array.from([1, 2]) }],
    ]);
    expect(Array.from(decodeSafetensors(encodeSafetensors(tensors)).tensors.get('y')!.data)).toEqual([1, 2]);
  });

  it('an F64 value at the f32 maximum still narrows', () => {
    const data = new Uint8Array(8);
    new DataView(data.buffer).setFloat64(0, 3.4028234663852886e38, true);
    expect(decodeSafetensors(file({ a: { dtype: 'F64', shape: [1], data_offsets: [0, 8] } }, data)).tensors.get('a')!.data[0]).toBe(3.4028234663852886e38);
  });
});

describe('files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fairgpu-nn-edge-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writeFileAtomic removes its temporary file when the write fails', () => {
    // The target is a non-empty directory: the rename fails after the temp file was written.
    const target = join(dir, 'occupied');
    mkdirSync(target);
    writeFileSync(join(target, 'keep'), 'x');
    expect(() => writeFileAtomic(target, new Uint8Array([1, 2, 3]))).toThrow();
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect(() => writeFileAtomic(join(dir, 'bad'), 42 as never)).toThrow(InvalidArgumentError);
    expect(readdirSync(dir).sort()).toEqual(['occupied']);
  });

  it('loadCheckpoint validates every part before loading any, and frees the file tensors', async () => {
    const make = () => new Sequential(new Linear(2, 2, { device: cpu }), new ReLU());
    const a = make();
    a.loadStateDict({ '0.weight': [1, 2, 3, 4], '0.bias': [5, 6] });
    const path = join(dir, 'run.safetensors');
    await saveCheckpoint(path, { models: { a }, position: { epoch: 1, index: 0, globalStep: 3 } });
    const b = make();
    b.loadStateDict({ '0.weight': [0, 0, 0, 0], '0.bias': [0, 0] });
    const p = b.parameters();
    const opt = new Adam(p, { lr: 0.1 });
    const sched = new StepLR(opt, 2);
    const before = memory(cpu);
    // The model part would load, but the optimizer is missing from the file: nothing may change.
    expect(() => loadCheckpoint(path, { models: { a: b }, optimizers: { opt } })).toThrow(/optimizer is missing from the checkpoint/);
    expect(() => loadCheckpoint(path, { models: { a: b }, schedulers: { sched } })).toThrow(/scheduler is missing/);
    expect(() => loadCheckpoint(path, { model: { a: b } } as never)).toThrow(/unknown option 'model' \(did you mean 'models'\?\)/);
    expect(Array.from(await b.stateDict().get('0.weight')!.toArray())).toEqual([0, 0, 0, 0]);
    expect(memory(cpu).tensors).toBe(before.tensors);
    await expect(saveCheckpoint(join(dir, 'x.safetensors'), { models: { a }, positon: {} } as never)).rejects.toThrow(/unknown option 'positon'/);
    expect(loadCheckpoint(path, { models: { a: b } })).toEqual({ position: { epoch: 1, index: 0, globalStep: 3 }, extra: null });
    expect(Array.from(await b.stateDict().get('0.weight')!.toArray())).toEqual([1, 2, 3, 4]);
    for (const m of [a, b]) m.dispose();
    opt.dispose();
    expect(tensor([1], [1], { device: cpu }).size).toBe(1);
  });
});
