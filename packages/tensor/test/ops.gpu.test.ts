import { afterAll, describe, expect, it } from 'vitest';
import { cpuBackend, noGrad, tidy, type Device, type Tensor } from '../src/index.ts';
import * as T from '../src/index.ts';
import { expectClose, gpuOrSkip, make, randomData, type Tolerance } from './helpers.ts';

/**
 * Every primitive (and the composites) on the GPU against the float64 CPU reference: forward
 * values, and gradients of a random projection of the output. Shapes include broadcasting, size-1
 * axes and sizes that are not multiples of the kernels' tiles.
 */
const gpu = await gpuOrSkip();
afterAll(() => gpu?.destroy());

interface Case {
  name: string;
  shapes: (readonly number[])[];
  kind?: 'normal' | 'positive' | 'int';
  fn: (...xs: Tensor[]) => Tensor;
  tol?: Tolerance;
  /** Inputs that are i32 index tensors built by `index` instead of random data. */
  index?: (device: Device) => Tensor;
  noGrad?: boolean;
}

const cases: Case[] = [];
for (const op of ['neg', 'exp', 'tanh', 'sigmoid', 'relu', 'sin', 'cos', 'abs'] as const) {
  cases.push({ name: op, shapes: [[7, 13]], fn: (x) => x[op]() });
}
for (const op of ['log', 'sqrt', 'recip'] as const) cases.push({ name: op, shapes: [[5, 11]], kind: 'positive', fn: (x) => x[op]() });
cases.push({ name: 'sign/floor (forward only)', shapes: [[9]], fn: (x) => x.sign().add(x.floor()), noGrad: true });
for (const op of ['add', 'sub', 'mul', 'maximum', 'minimum'] as const) {
  cases.push({
    name: `${op} broadcast`,
    shapes: [
      [3, 1, 5],
      [4, 1],
    ],
    fn: (a, b) => a[op](b),
  });
  cases.push({
    name: `${op} same shape`,
    shapes: [
      [6, 7],
      [6, 7],
    ],
    fn: (a, b) => a[op](b),
  });
}
cases.push({
  name: 'add per-channel bias (NCHW + [C, 1, 1])',
  shapes: [
    [2, 3, 4, 5],
    [3, 1, 1],
  ],
  fn: (a, b) => a.add(b),
});
cases.push({
  name: 'mul trailing broadcast ([2, 3, 4, 5] * [4, 5])',
  shapes: [
    [2, 3, 4, 5],
    [4, 5],
  ],
  fn: (a, b) => a.mul(b),
});
cases.push({ name: 'where with mixed broadcasts', shapes: [[1, 3, 1, 5], [2, 1, 4, 1], [5]], fn: (c, a, b) => T.where(c.gt(0), a, b) });
cases.push({
  name: 'div broadcast',
  shapes: [
    [2, 3, 4],
    [3, 1],
  ],
  kind: 'positive',
  fn: (a, b) => a.div(b),
});
cases.push({ name: 'pow tensor exponent', shapes: [[4, 5], [5]], kind: 'positive', fn: (a, b) => a.pow(b) });
cases.push({ name: 'pow scalar', shapes: [[4, 5]], fn: (a) => a.pow(2).add(a.abs().pow(1.5)) });
cases.push({ name: 'scalar ops', shapes: [[10]], fn: (a) => a.mul(3).add(1).sub(0.5).div(2) });
cases.push({ name: 'comparisons (forward only)', shapes: [[4, 6], [6]], fn: (a, b) => a.lt(b).add(a.ge(b)).add(a.eq(a)).add(b.gt(0)), noGrad: true });
cases.push({ name: 'where', shapes: [[5, 4], [5, 4], [4]], fn: (c, a, b) => T.where(c.gt(0), a, b) });
for (const [shape, axis, keepdim] of [
  [[7, 9], 1, false],
  [[7, 9], 0, true],
  [[3, 4, 5], [0, 2], false],
  [[2, 3, 4, 5], [1, 2], true],
  [[6, 5], undefined, false],
  [[3000], 0, false],
  [[5, 2500], 1, true],
  [[2048, 3], 0, false],
] as const) {
  cases.push({
    name: `sum ${JSON.stringify(shape)} axis ${JSON.stringify(axis)}`,
    shapes: [shape],
    fn: (x) => x.sum(axis as never, keepdim),
    tol: { rtol: 1e-5, atol: 5e-5 },
  });
  cases.push({ name: `max ${JSON.stringify(shape)} axis ${JSON.stringify(axis)}`, shapes: [shape], fn: (x) => x.max(axis as never, keepdim) });
}
for (const [a, b] of [
  [
    [1, 1],
    [1, 1],
  ],
  [
    [5, 7],
    [7, 3],
  ],
  [
    [33, 65],
    [65, 17],
  ],
  [
    [4, 9, 6],
    [6, 11],
  ],
  [
    [2, 3, 5, 4],
    [3, 4, 7],
  ],
  [
    [3, 1, 5, 4],
    [2, 4, 6],
  ],
] as const) {
  cases.push({ name: `matmul ${JSON.stringify(a)} @ ${JSON.stringify(b)}`, shapes: [a, b], fn: (x, y) => x.matmul(y), tol: { rtol: 1e-5, atol: 2e-5 } });
}
cases.push({
  name: 'matmul transposed operands',
  shapes: [
    [6, 5],
    [7, 6],
  ],
  fn: (x, y) => T.matmulTransposed(x, y, true, true),
  tol: { atol: 2e-5 },
});
cases.push({ name: 'reshape + permute', shapes: [[2, 3, 4]], fn: (x) => x.permute([2, 0, 1]).reshape([4, 6]).mul(2) });
cases.push({ name: 'transpose', shapes: [[5, 3]], fn: (x) => x.transpose().mul(x.transpose()) });
cases.push({ name: 'expand', shapes: [[3, 1]], fn: (x) => x.expand([2, 3, 4]) });
cases.push({ name: 'slice with steps', shapes: [[9, 8]], fn: (x) => x.slice([1, 0], [8, 7], [3, 2]) });
cases.push({ name: 'slice negative bounds', shapes: [[6, 5]], fn: (x) => x.slice([-4, 1], [-1]) });
cases.push({
  name: 'pad',
  shapes: [[3, 4]],
  fn: (x) =>
    x.pad(
      [
        [1, 2],
        [0, 3],
      ],
      0.5,
    ),
});
cases.push({
  name: 'concat',
  shapes: [
    [2, 3],
    [4, 3],
    [1, 3],
  ],
  fn: (a, b, c) => T.concat([a, b, c], 0),
});
cases.push({
  name: 'concat axis 1',
  shapes: [
    [2, 3],
    [2, 1],
  ],
  fn: (a, b) => T.concat([a, b], 1),
});
cases.push({
  name: 'gather',
  shapes: [[4, 5]],
  index: (device) => make([0, 4, 2, 2, 1, 3, 0, 0], [4, 2], device, { dtype: 'i32' }),
  fn: (x, idx) => x.gather(1, idx),
});
cases.push({
  name: 'gather axis 0 (rows)',
  shapes: [[5, 3]],
  index: (device) => make([4, 0, 0, 1, 2, 2, 3, 3, 1], [3, 3], device, { dtype: 'i32' }),
  fn: (x, idx) => x.gather(0, idx),
});
cases.push({ name: 'logsumexp', shapes: [[6, 9]], fn: (x) => x.mul(10).logsumexp(1) });
cases.push({ name: 'softmax / logSoftmax', shapes: [[4, 7]], fn: (x) => x.softmax(-1).add(x.logSoftmax(0)) });
cases.push({ name: 'normalize', shapes: [[5, 8]], fn: (x) => x.normalize(-1) });
cases.push({ name: 'mean / variance', shapes: [[6, 4]], fn: (x) => x.mean(0).add(x.variance(0)) });
cases.push({ name: 'min / clamp', shapes: [[3, 8]], fn: (x) => x.min(1, true).add(x.clamp(-0.5, 0.5)) });
cases.push({
  name: 'crossEntropy',
  shapes: [[4, 5]],
  index: (device) => make([1, 0, 4, 2], [4], device, { dtype: 'i32' }),
  fn: (x, t) => T.crossEntropy(x, t),
});

async function runCase(c: Case, device: Device, seed: number) {
  return T.scope(async () => {
    const inputs = c.shapes.map((shape, i) =>
      make(
        randomData(
          shape.reduce((p, d) => p * d, 1),
          seed + i,
          c.kind,
        ),
        shape,
        device,
        { requiresGrad: !c.noGrad },
      ),
    );
    const extra = c.index ? [c.index(device)] : [];
    const out = c.fn(...inputs, ...extra);
    const values = Float64Array.from(await out.toArray());
    if (c.noGrad) return { values, grads: [] as (Float64Array | null)[] };
    const weights = make(randomData(out.size, seed + 99), out.shape, device);
    const loss = out.mul(weights).sum();
    await loss.backward();
    const grads = await Promise.all(inputs.map(async (x) => (x.grad ? Float64Array.from(await x.grad.toArray()) : null)));
    for (const x of inputs) x.zeroGrad();
    return { values, grads };
  });
}

describe.runIf(gpu)('GPU primitives and composites agree with the float64 reference', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const before = gpu!.memory();
      const ref = await runCase(c, cpuBackend(), 11);
      const got = await runCase(c, gpu!, 11);
      expectClose(got.values, ref.values, c.tol, `${c.name} forward`);
      got.grads.forEach((g, i) => {
        expect(g === null).toBe(ref.grads[i] === null);
        if (g && ref.grads[i]) expectClose(g, ref.grads[i]!, c.tol ?? { rtol: 1e-5, atol: 1e-5 }, `${c.name} grad ${i}`);
      });
      const after = gpu!.memory();
      expect(after.tensors).toBe(before.tensors);
      expect(after.bytesInUse).toBe(before.bytesInUse);
    });
  }

  it('keeps finite sentinels: logsumexp of rows with -1e30 entries and a single valid entry', async () => {
    const data = [-1e30, 3, -1e30, -1e30, 1e3, 999, -1e30, -1e30, -1e30];
    const values = await noGrad(() => tidy(() => make(data, [3, 3], gpu!).logsumexp(1))).toArray();
    expectClose(values, [3, 1000 + Math.log1p(Math.exp(-1)), -1e30 + Math.log(3)], { rtol: 1e-6 });
  });

  it('runs i32 elementwise, reductions and casts', async () => {
    const x = make([3, -7, 2, 9, -1, 0], [2, 3], gpu!, { dtype: 'i32' });
    expect([...(await x.add(2).toArray())]).toEqual([5, -5, 4, 11, 1, 2]);
    expect([...(await x.sum(1).toArray())]).toEqual([-2, 8]);
    expect([...(await x.max(0).toArray())]).toEqual([9, -1, 2]);
    expect([...(await x.div(2).toArray())]).toEqual([1, -3, 1, 4, 0, 0]);
    expect([...(await x.cast('f32').mul(0.5).toArray())]).toEqual([1.5, -3.5, 1, 4.5, -0.5, 0]);
    expect([...(await make([1.7, -1.7, 2.5], [3], gpu!).cast('i32').toArray())]).toEqual([1, -1, 2]);
    expect([...(await x.eq(2).toArray())]).toEqual([0, 0, 1, 0, 0, 0]);
    x.dispose();
  });

  it('handles large element counts past one 65,535-workgroup row', async () => {
    const n = 65535 * 64 + 1000;
    const out = await T.scope(async () => (await T.ones([n], { device: gpu! }).mul(2).sum().toArray())[0]);
    expect(out).toBe(2 * n);
  });
});

describe.runIf(gpu)('every matmul kernel variant agrees with the reference', () => {
  // The adapter picks one variant; force each so all are tested wherever the suite runs.
  for (const kind of ['blocked', 'tiled'] as const) {
    it(`${kind}: plain, transposed, batched, broadcast, ragged and split-K shapes`, async () => {
      const ctx = await T.initGpu({ matmulKernel: kind, setDefault: false });
      try {
        for (const [a, b, ta, tb] of [
          [[33, 65], [65, 17], false, false],
          [[64, 64], [64, 128], false, false],
          [[6, 5], [7, 6], true, true],
          [[2, 9, 8], [8, 12], false, false],
          [[3, 1, 5, 4], [2, 6, 4], false, true],
          [[70, 3], [70, 66], true, false],
          // Long K with few output blocks: the blocked kernel splits K and sums the partial products.
          [[5, 2000], [2000, 7], false, false],
          [[2000, 9], [3, 2000], true, true],
          [[2, 3, 1100], [2, 1100, 4], false, false],
        ] as const) {
          const run = (device: Device) =>
            T.tidy(() => {
              const x = make(
                randomData(
                  a.reduce((p: number, d: number) => p * d, 1),
                  1,
                ),
                a,
                device,
              );
              const y = make(
                randomData(
                  b.reduce((p: number, d: number) => p * d, 1),
                  2,
                ),
                b,
                device,
              );
              return T.matmulTransposed(x, y, ta, tb);
            });
          const ref = await run(cpuBackend()).toArray();
          expectClose(await run(ctx).toArray(), ref, { rtol: 1e-5, atol: 5e-5 }, `${kind} ${JSON.stringify([a, b, ta, tb])}`);
        }
      } finally {
        ctx.destroy();
      }
    });
  }
});
