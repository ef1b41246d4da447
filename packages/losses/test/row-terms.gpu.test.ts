import { afterAll, describe, expect, it } from 'vitest';
import { cpuBackend, gradcheck, scope, tensor, type Device, type Tensor } from '@fairgpu/tensor';
import { STAT, STATS_COLUMNS } from '@fairgpu/kernels';
import { column } from '../src/common.ts';
import { reduce } from '../src/reducer.ts';
import { rowTermsMean } from '../src/row-terms.ts';
import { expectClose, gpuOrSkip, randomData } from './helpers.ts';

/**
 * The fused mean of ε-SupInfoNCE's per-anchor terms (one dispatch each way) against the composite
 * contrastive.ts builds from the same statistics table: column slices, −scale·(a − b)/max(n, 1),
 * then the meanAll or meanValid reduction. Rows with no positives (n = 0) and one positive (n = 1,
 * max's tie) are included; more rows than the forward's 64 lanes.
 */
const gpu = await gpuOrSkip();
afterAll(() => gpu?.destroy());

const scale = 1.7;

function composite(stats: Tensor, valid: boolean): Tensor {
  const count = column(stats, STAT.countPos);
  const terms = column(stats, STAT.sumPosLogit).sub(column(stats, STAT.epsOut)).div(count.maximum(1)).mul(-scale);
  return reduce(valid ? { kind: 'meanValid', terms, valid: count.gt(0) } : { kind: 'meanAll', terms });
}

function table(rows: number): number[] {
  const data = randomData(rows * STATS_COLUMNS, rows);
  for (let r = 0; r < rows; r++) data[r * STATS_COLUMNS + STAT.countPos] = r % 5; // 0, 1 (the tie), 2, 3, 4
  return data;
}

function run(device: Device, rows: number, valid: boolean, fused: boolean) {
  return scope(async () => {
    const stats = tensor(table(rows), [rows, STATS_COLUMNS], { device, requiresGrad: true });
    const loss = fused ? rowTermsMean(stats, { a: STAT.sumPosLogit, b: STAT.epsOut, n: STAT.countPos, scale, valid }) : composite(stats, valid);
    await loss.mul(0.75).backward();
    return { loss: Array.from(await loss.toArray()), grad: Array.from(await stats.grad!.toArray()) };
  });
}

describe('fused ε-SupInfoNCE term mean', () => {
  for (const rows of [1, 10, 200]) {
    for (const valid of [false, true]) {
      const name = `${rows} rows, ${valid ? 'meanValid' : 'meanAll'}`;
      it(`matches the composite on the float64 CPU backend: ${name}`, async () => {
        const ref = await run(cpuBackend(), rows, valid, false);
        const got = await run(cpuBackend(), rows, valid, true);
        expectClose(got.loss, ref.loss, { rtol: 1e-12, atol: 1e-12 }, 'loss');
        expectClose(got.grad, ref.grad, { rtol: 1e-12, atol: 1e-12 }, 'grad');
      });
      it.runIf(gpu)(`matches the composite's float64 values on the GPU: ${name}`, async () => {
        const ref = await run(cpuBackend(), rows, valid, false);
        const got = await run(gpu!, rows, valid, true);
        expectClose(got.loss, ref.loss, { rtol: 1e-5, atol: 1e-6 }, 'loss');
        expectClose(got.grad, ref.grad, { rtol: 1e-5, atol: 1e-7 }, 'grad');
      });
    }
  }
  it('gradient against finite differences (float64), away from max’s kink', async () => {
    const data = table(6).map((v, i) => (i % STATS_COLUMNS === STAT.countPos ? 2 + (i % 3) : v));
    const r = await gradcheck(
      (s) => rowTermsMean(s, { a: STAT.sumPosLogit, b: STAT.epsOut, n: STAT.countPos, scale, valid: false }),
      [{ data, shape: [6, STATS_COLUMNS] }],
      {
        rtol: 1e-6,
        atol: 1e-8,
      },
    );
    expect(r.ok, `max abs error ${r.maxAbsError}`).toBe(true);
  });
});
