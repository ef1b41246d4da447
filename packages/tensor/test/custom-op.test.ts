import { describe, expect, it } from 'vitest';
import { cpuBackend, customOp, pickForBackend, scope, tensor, type Backend, type CustomOpDefinition, type Tensor } from '../src/index.ts';
import { elementCount } from '../src/internal.ts';

/** out = scale · x + bias (bias optional), typed attrs and named inputs. */
const affine: CustomOpDefinition<{ scale: number }, { x: Tensor; bias?: Tensor }> = {
  name: 'affine',
  gpu() {
    throw new Error('CPU-only test op');
  },
  cpu({ x, bias }, _out, { scale }) {
    return x.values.map((v, i) => scale * v + (bias ? bias.values[i] : 0));
  },
  vjp(g, { inputs: { bias }, attrs }) {
    return { x: g.mul(attrs.scale), bias: bias ? g : undefined };
  },
};

/** The legacy positional form still runs. */
const legacyDouble: CustomOpDefinition = {
  name: 'legacyDouble',
  gpu() {
    throw new Error('CPU-only test op');
  },
  cpu([x]) {
    return (x as { values: Float64Array }).values.map((v) => 2 * v);
  },
  vjp(g) {
    return [g.mul(2)];
  },
};

describe('typed custom ops', () => {
  it('take named inputs, leave absent optional inputs out and return gradients by name', async () => {
    await scope(async () => {
      const device = cpuBackend();
      const x = tensor([1, 2, 3], [3], { device, requiresGrad: true });
      const b = tensor([10, 20, 30], [3], { device, requiresGrad: true });
      const y = customOp(affine, { x, bias: b }, { shape: [3], dtype: 'f32' }, { scale: 3 });
      expect(Array.from(await y.toArray())).toEqual([13, 26, 39]);
      await y.sum().backward();
      expect(Array.from(await x.grad!.toArray())).toEqual([3, 3, 3]);
      expect(Array.from(await b.grad!.toArray())).toEqual([1, 1, 1]);
      const z = customOp(affine, { x }, { shape: [3], dtype: 'f32' }, { scale: 2 });
      expect(Array.from(await z.toArray())).toEqual([2, 4, 6]);
      expect(elementCount(x.view('test', 'x'))).toBe(3);
    });
  });

  it('keep the positional form working', async () => {
    await scope(async () => {
      const x = tensor([1, -2], [2], { device: cpuBackend(), requiresGrad: true });
      const y = customOp(legacyDouble, [x], { shape: [2], dtype: 'f32' }, {}, ['x']);
      await y.sum().backward();
      expect(Array.from(await y.toArray())).toEqual([2, -4]);
      expect(Array.from(await x.grad!.toArray())).toEqual([2, 2]);
    });
  });
});

describe('pickForBackend', () => {
  const fake = (isSoftware: boolean, dispatchesKernels: boolean) => ({ capabilities: { isSoftware, dispatchesKernels } }) as Backend;
  const choices = { software: 's', hardware: 'h' };
  it('picks per backend class, the reference defaulting to software', () => {
    expect(cpuBackend().capabilities).toEqual({ isSoftware: true, dispatchesKernels: false });
    expect(pickForBackend(cpuBackend(), choices)).toBe('s');
    expect(pickForBackend(cpuBackend(), { ...choices, reference: 'r' })).toBe('r');
    expect(pickForBackend(fake(true, true), { ...choices, reference: 'r' })).toBe('s');
    expect(pickForBackend(fake(false, true), { ...choices, reference: 'r' })).toBe('h');
  });
});
