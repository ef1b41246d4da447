import { afterAll, describe, expect, it } from 'vitest';
import {
  bufferOf,
  cpuBackend,
  customOp,
  customOpOutputs,
  grid1d,
  ParamWriter,
  scope,
  tensor,
  type CustomOpDefinition,
  type Device,
  type MultiOutputOpDefinition,
  type StorageView,
  type Tensor,
} from '../src/index.ts';
import { expectClose, gpuOrSkip } from './helpers.ts';

const gpu = await gpuOrSkip();
afterAll(() => gpu?.destroy());

/** out = scale · x², a toy fused op exercising the extension point end to end. */
const scaledSquare: CustomOpDefinition = {
  name: 'scaledSquare',
  gpu(rec, [x], out, dst, attrs) {
    const n = (x as StorageView).shape.reduce((p, d) => p * d, 1);
    const params = new ParamWriter().u(0, n).f(1, attrs.scale as number);
    const source = `struct P { n: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) w: vec3<u32>) {
  let i = g.x + g.y * w.x * 64u;
  if (i < p.n) { y[i] = p.scale * x[i] * x[i]; }
}`;
    rec.dispatch('scaled-square', source, params.buffer, [bufferOf(x as StorageView), dst], grid1d(n));
  },
  cpu([x], _out, attrs) {
    const { values } = x as { values: Float64Array };
    return values.map((v) => (attrs.scale as number) * v * v);
  },
  vjp(g, { inputs: [x], attrs }) {
    return [g.mul(x).mul(2 * (attrs.scale as number))];
  },
};

async function run(device: Device) {
  return scope(async () => {
    const x = tensor([1, -2, 3, 0.5], [2, 2], { device, requiresGrad: true });
    const y = customOp(scaledSquare, [x], { shape: x.shape, dtype: 'f32' }, { scale: 3 }, ['x']);
    await y
      .mul(tensor([1, 2, 3, 4], [2, 2], { device }))
      .sum()
      .backward();
    return { y: Array.from(await y.toArray()), g: Array.from(await x.grad!.toArray()) };
  });
}

describe.runIf(gpu)('custom ops', () => {
  it('run their GPU kernel and CPU reference, and differentiate through their VJP', async () => {
    const ref = await run(cpuBackend());
    const got = await run(gpu!);
    expect(ref.y).toEqual([3, 12, 27, 0.75]);
    expect(ref.g).toEqual([6, -24, 54, 12]);
    expectClose(got.y, ref.y);
    expectClose(got.g, ref.g);
  });
});

/** doubled = 2·x and shifted = x + 1 from one kernel: the multi-output path end to end. */
const twoWays: MultiOutputOpDefinition<object, { x: Tensor }, 'doubled' | 'shifted'> = {
  name: 'twoWays',
  gpu(rec, { x }, outs) {
    const n = x.shape.reduce((p, d) => p * d, 1);
    const source = `struct P { n: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> doubled: array<f32>;
@group(0) @binding(3) var<storage, read_write> shifted: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) w: vec3<u32>) {
  let i = g.x + g.y * w.x * 64u;
  if (i < p.n) { doubled[i] = 2.0 * x[i]; shifted[i] = x[i] + 1.0; }
}`;
    rec.dispatch('two-ways', source, new ParamWriter().u(0, n).buffer, [bufferOf(x), outs.doubled, outs.shifted], grid1d(n));
  },
  cpu({ x }) {
    return { doubled: x.values.map((v) => 2 * v), shifted: x.values.map((v) => v + 1) };
  },
};

describe.runIf(gpu)('multi-output custom ops', () => {
  it('write every output from one kernel, as the CPU reference', async () => {
    const values = Array.from({ length: 300 }, (_, i) => Math.sin(i));
    const run = (device: Device) =>
      scope(async () => {
        // A stale pooled buffer first: the outputs must not depend on what it held.
        await tensor(
          values.map(() => 7),
          [300],
          { device },
        )
          .add(1)
          .toArray();
        const out = customOpOutputs(
          twoWays,
          { x: tensor(values, [300], { device }) },
          { doubled: { shape: [300], dtype: 'f32' }, shifted: { shape: [300], dtype: 'f32' } },
          {},
        );
        return { doubled: Array.from(await out.doubled.toArray()), shifted: Array.from(await out.shifted.toArray()) };
      });
    const ref = await run(cpuBackend());
    const got = await run(gpu!);
    expectClose(got.doubled, ref.doubled);
    expectClose(got.shifted, ref.shifted);
    expect(ref.shifted[1]).toBeCloseTo(Math.sin(1) + 1, 6);
  });
});
