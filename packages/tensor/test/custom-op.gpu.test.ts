import { afterAll, describe, expect, it } from 'vitest';
import { bufferOf, cpuBackend, customOp, grid1d, ParamWriter, scope, tensor, type CustomOpDefinition, type Device, type StorageView } from '../src/index.ts';
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
