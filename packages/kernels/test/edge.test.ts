import { describe, expect, it } from 'vitest';
import { cpuBackend, gradcheck, isFairgpuError, memory, tensor } from '@fairgpu/tensor';
import { contrastiveRowStats, cosineSimilarity, l2Normalize, pairMoments, STAT } from '../src/index.ts';
import { kernelErrorCases, otherDevice } from './edge.ts';

const cpu = cpuBackend();
const other = otherDevice();

describe('kernels: bad inputs throw typed errors and leak nothing (CPU)', () => {
  it.each(kernelErrorCases.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    const inputs = c.inputs(cpu, other);
    const before = [memory(cpu), memory(other)];
    let error: unknown;
    try {
      c.run(...inputs);
    } catch (e) {
      error = e;
    }
    expect(error, 'it must throw').toBeInstanceOf(c.error);
    expect(isFairgpuError(error)).toBe(true);
    expect((error as Error).message).toMatch(c.message);
    const after = [memory(cpu), memory(other)];
    for (const k of [0, 1])
      expect({ tensors: after[k].tensors, bytes: after[k].bytesInUse }).toEqual({ tensors: before[k].tensors, bytes: before[k].bytesInUse });
    for (const t of inputs) t.dispose();
  });
});

describe('kernels: a zero row gives finite values and gradients (float64 finite differences)', () => {
  // Row 0 is zero: l2Normalize maps it to 0 with gradient g / 1e-12 (torch's F.normalize). The
  // finite-difference step for that row must stay below eps (1e-14 ≪ 1e-12) — x/eps is linear there.
  const data = [0, 0, 0, 0.3, -1.2, 2, 1.1, 0.4, -0.7, -0.2, 0.9, 0.5];
  const labels = [0, 1, 0, 1];

  async function checkZeroRow(fn: (x: ReturnType<typeof tensor>) => ReturnType<typeof tensor>): Promise<void> {
    const x = tensor(data, [4, 3], { device: cpu, requiresGrad: true });
    const loss = fn(x);
    await loss.backward();
    const analytic = Array.from(cpu.values(x.grad!.view('t', 'g').storage));
    expect(analytic.every(Number.isFinite)).toBe(true);
    const evalAt = (values: number[]) => {
      const t = tensor(values, [4, 3], { device: cpu });
      const out = fn(t);
      const v = cpu.values(out.view('t', 'o').storage)[0];
      out.dispose();
      t.dispose();
      return v;
    };
    for (let i = 0; i < data.length; i++) {
      const h = i < 3 ? 1e-14 : 1e-6;
      const plus = [...data];
      plus[i] += h;
      const minus = [...data];
      minus[i] -= h;
      const numeric = (evalAt(plus) - evalAt(minus)) / (2 * h);
      expect(Math.abs(analytic[i] - numeric), `element ${i}: ${analytic[i]} vs ${numeric}`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(numeric)));
    }
    loss.dispose();
    x.dispose();
  }

  it('l2Normalize', () =>
    checkZeroRow((x) =>
      l2Normalize(x)
        .mul(tensor([1, 2, 3, -1, 0.5, 2, 1, 1, 1, 0, -2, 1], [4, 3], { device: cpu }))
        .sum(),
    ));
  it('cosineSimilarity', () =>
    checkZeroRow((x) =>
      cosineSimilarity(x)
        .mul(
          tensor(
            Array.from({ length: 16 }, (_, i) => Math.cos(i)),
            [4, 4],
            { device: cpu },
          ),
        )
        .sum(),
    ));
  for (const impl of ['composite', 'fused'] as const) {
    it(`contrastiveRowStats (${impl})`, () =>
      checkZeroRow((x) => {
        const st = contrastiveRowStats(l2Normalize(x), { temperature: 0.5, labels: tensor(labels, [4], { device: cpu, dtype: 'i32' }), impl });
        // The columns are shifted by the detached row max: differentiate shift-free combinations
        // (lseAll + rowMax, lsePos + rowMax, lseNeg + rowMax, sumPosLogit + countPos·rowMax).
        const col = (c: number) => st.slice([0, c], [4, c + 1]);
        const rowMax = col(STAT.rowMax);
        const parts = [
          col(STAT.lseAll).add(rowMax),
          col(STAT.lsePos).add(rowMax).mul(0.7),
          col(STAT.lseNeg).add(rowMax).mul(-0.4),
          col(STAT.sumPosLogit).add(col(STAT.countPos).mul(rowMax)).mul(1.3),
        ];
        return parts
          .reduce((acc, p) => acc.add(p))
          .mul(tensor([1, -0.5, 2, 0.3], [4, 1], { device: cpu }))
          .sum();
      }));
    it(`pairMoments (${impl})`, () =>
      checkZeroRow((x) => {
        const l = tensor(labels, [4], { device: cpu, dtype: 'i32' });
        const m = pairMoments(l2Normalize(x), {
          temperature: 0.5,
          labels: l,
          biasLabels: tensor([0, 0, 1, 1], [4], { device: cpu, dtype: 'i32' }),
          pairs: 'upper',
          impl,
        });
        return m.mul(tensor([0, 1, -1, 0, 2, 1, 0, 1, 1, 0, -1, 2], [4, 3], { device: cpu })).sum();
      }));
  }

  it('gradcheck of cosineSimilarity away from the zero row is unchanged', async () => {
    const r = await gradcheck((x) => cosineSimilarity(x).sum(), [{ data: data.slice(3), shape: [3, 3] }]);
    expect(r.ok).toBe(true);
  });
});
