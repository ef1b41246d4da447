import { describe, expect, it } from 'vitest';
import { cpuBackend, gather, gradcheck, InvalidArgumentError, isFairgpuError, memory, normalize, tensor, zeros } from '../src/index.ts';
import { errorCases } from './edge.ts';

const cpu = cpuBackend();

describe('bad inputs throw a typed error naming the argument, and leak nothing (CPU)', () => {
  it.each(errorCases.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    const inputs = c.inputs?.(cpu) ?? [];
    const before = memory(cpu);
    let error: unknown;
    try {
      c.run(cpu, ...inputs);
    } catch (e) {
      error = e;
    }
    expect(error, 'it must throw').toBeInstanceOf(c.error);
    expect(isFairgpuError(error)).toBe(true);
    expect((error as Error).message).toMatch(c.message);
    const after = memory(cpu);
    expect(after.tensors, 'tensors').toBe(before.tensors);
    expect(after.bytesInUse, 'bytes').toBe(before.bytesInUse);
    for (const t of inputs) t.dispose();
  });
});

describe('valid edges still work', () => {
  it('i32 integers at the range ends, Int32Array data, seeds that are integers', async () => {
    const t = tensor([-(2 ** 31), 2 ** 31 - 1, 0], [3], { device: cpu, dtype: 'i32' });
    expect(Array.from(await t.toArray())).toEqual([-(2 ** 31), 2 ** 31 - 1, 0]);
    t.dispose();
    const g = gather(tensor([1, 2, 3], [3], { device: cpu }), 0, tensor([2, 0], [2], { device: cpu, dtype: 'i32' }));
    expect(Array.from(await g.toArray())).toEqual([3, 1]);
    g.dispose();
  });

  it('an index computed on the device (no host range) is still checked on the CPU', () => {
    const x = tensor([1, 2, 3], [3], { device: cpu });
    const idx = tensor([1, 2], [2], { device: cpu, dtype: 'i32' }).add(2); // [3, 4]: computed
    const before = memory(cpu);
    expect(() => gather(x, 0, idx)).toThrowError(/gather: argument 'index' must hold indices in \[0, 3\).*\[3, 4\]/);
    expect(memory(cpu).tensors).toBe(before.tensors);
    x.dispose();
    idx.dispose();
  });
});

describe("normalize at ‖x‖ = 0: x / max(‖x‖, eps) with PyTorch's finite gradient", () => {
  it('a zero row normalises to 0 and its gradient is g / eps (float64)', async () => {
    const x = tensor([0, 0, 0, 3, 4, 0], [2, 3], { device: cpu, requiresGrad: true });
    const w = tensor([1, 2, 3, 4, 5, 6], [2, 3], { device: cpu });
    const y = normalize(x, -1);
    Array.from(await y.toArray()).forEach((v, k) => expect(v).toBeCloseTo([0, 0, 0, 0.6, 0.8, 0][k], 6));
    const loss = y.mul(w).sum();
    await loss.backward();
    const g = Array.from(cpu.values(x.grad!.view('t', 'g').storage));
    // Zero row: d(x/eps)/dx = w / eps (what torch.nn.functional.normalize gives).
    expect(g.slice(0, 3)).toEqual([1e12, 2e12, 3e12]);
    // Row [3, 4, 0]: (w − z (z·w)) / ‖x‖ with z = [0.6, 0.8, 0], z·w = 6.4.
    const z = [0.6, 0.8, 0];
    const expected = [4, 5, 6].map((wk, k) => (wk - z[k] * 6.4) / 5);
    g.slice(3).forEach((v, k) => expect(v).toBeCloseTo(expected[k], 12));
    for (const t of [x, w, y, loss]) t.dispose();
  });

  it('gradcheck: rows below eps (step inside the linear regime), rows above, the zero row', async () => {
    const eps = 1e-3;
    const fn = (x: ReturnType<typeof tensor>) =>
      normalize(x, -1, eps)
        .mul(tensor([1, -2, 3, 0.5, 1.5, -1, 2, 1, -0.5], [3, 3], { device: cpu }))
        .sum();
    // The zero row and a row of norm 5e-4 < eps: x / eps is linear there, and a 1e-6 step stays below eps.
    const r = await gradcheck(fn, [{ data: [0, 0, 0, 3e-4, 4e-4, 0, 0.3, -1.2, 2], shape: [3, 3] }], { eps: 1e-7, rtol: 1e-6, atol: 1e-6 });
    expect(r.ok, `max abs error ${r.maxAbsError}`).toBe(true);
    expect(r.analytic[0].every(Number.isFinite)).toBe(true);
  });

  it('the default eps 1e-12 survives in f32-sized rows too (no NaN from sqrt at 0)', async () => {
    const x = zeros([4, 5], { device: cpu, requiresGrad: true });
    const loss = normalize(x).sum();
    await loss.backward();
    expect(cpu.values(x.grad!.view('t', 'g').storage).every(Number.isFinite)).toBe(true);
    loss.dispose();
    x.dispose();
  });

  it('a bad eps leaves no tensors behind', () => {
    const x = tensor([1, 2], [1, 2], { device: cpu });
    const before = memory(cpu);
    expect(() => normalize(x, -1, -1)).toThrowError(InvalidArgumentError);
    expect(memory(cpu)).toEqual(before);
    x.dispose();
  });
});
