import { describe, expect, it } from 'vitest';
import {
  cpuBackend,
  customOp,
  customOpOutputs,
  pickForBackend,
  scope,
  tensor,
  type Backend,
  type CustomOpDefinition,
  type MultiOutputOpDefinition,
  type Tensor,
} from '../src/index.ts';
import { elementCount, fillMarker } from '../src/internal.ts';
import { setDispatchListener } from '../src/dispatch.ts';

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

describe('fillMarker (kernel templates)', () => {
  it("replaces the marker's line with the lines given, indented", () => {
    expect(fillMarker('a\n  // {{BODY}}: what goes here\nb', 'BODY', ['x = 1;', 'y = 2;'], '  ')).toBe('a\n  x = 1;\n  y = 2;\nb');
  });
  it('rejects a template where the marker is missing or mentioned twice (a comment naming it would take the fill)', () => {
    expect(() => fillMarker('a\nb', 'BODY', ['x'])).toThrowError(/\{\{BODY\}\} must occur exactly once.*found 0/);
    expect(() => fillMarker('// fills {{BODY}} below\n// {{BODY}}', 'BODY', ['x'])).toThrowError(/found 2/);
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

describe('needsGrad', () => {
  it('tells VJPs which inputs get a gradient, so unused gradients are never computed', async () => {
    const seen: Record<string, boolean | undefined>[] = [];
    const probe: CustomOpDefinition<object, { x: Tensor; w: Tensor }> = {
      name: 'probe',
      gpu() {
        throw new Error('CPU-only test op');
      },
      cpu({ x, w }) {
        return x.values.map((v, i) => v * w.values[i]);
      },
      vjp(g, { inputs: { x, w }, needsGrad }) {
        seen.push({ ...needsGrad });
        return { x: needsGrad?.x === false ? null : g.mul(w), w: needsGrad?.w === false ? null : g.mul(x) };
      },
    };
    const ops: string[] = [];
    const previous = setDispatchListener((op) => ops.push(op));
    try {
      await scope(async () => {
        const device = cpuBackend();
        const x = tensor([1, 2, 3, 4, 5, 6], [2, 3], { device });
        const w = tensor([1, 0, 2, 1, 0, 1], [3, 2], { device, requiresGrad: true });
        ops.length = 0;
        await x.matmul(w).sum().backward();
        // Forward product + the weight gradient only: x's gradient (a second product) is skipped.
        expect(ops.filter((o) => o === 'matmul')).toHaveLength(2);
        expect(Array.from(await w.grad!.toArray())).toEqual([5, 5, 7, 7, 9, 9]);
        const v = tensor([2, 2, 2], [3], { device, requiresGrad: true });
        await customOp(probe, { x: tensor([1, 2, 3], [3], { device }), w: v }, { shape: [3], dtype: 'f32' }, {})
          .sum()
          .backward();
        expect(seen).toEqual([{ x: false, w: true }]);
        expect(Array.from(await v.grad!.toArray())).toEqual([1, 2, 3]);
      });
    } finally {
      setDispatchListener(previous);
    }
  });
});

/** Row sums and row maxima of x [R, C] (and their count as i32), three outputs of one op. */
const rowStats: MultiOutputOpDefinition<{ offset: number }, { x: Tensor }, 'sum' | 'max' | 'count'> = {
  name: 'rowStats',
  gpu() {
    throw new Error('CPU-only test op');
  },
  cpu({ x }, outs, { offset }) {
    const [rows, cols] = x.shape;
    const sum = new Float64Array(rows);
    const max = new Float64Array(rows).fill(-Infinity);
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) {
        sum[r] += x.values[r * cols + c] + offset;
        max[r] = Math.max(max[r], x.values[r * cols + c]);
      }
    return { sum, max, count: new Float64Array(outs.count.shape[0]).fill(cols + 0.7) };
  },
};

describe('multi-output custom ops', () => {
  it('return one tensor per output, in one dispatch, none requiring grad', async () => {
    const ops: string[] = [];
    const previous = setDispatchListener((op) => ops.push(op));
    try {
      await scope(async () => {
        const device = cpuBackend();
        const x = tensor([1, 5, 2, -1, 0, 3], [2, 3], { device, requiresGrad: true });
        const out = customOpOutputs(
          rowStats,
          { x },
          { sum: { shape: [2], dtype: 'f32' }, max: { shape: [2], dtype: 'f32' }, count: { shape: [2], dtype: 'i32' } },
          { offset: 1 },
        );
        expect(ops).toEqual(['custom:rowStats']);
        expect(Object.keys(out)).toEqual(['sum', 'max', 'count']);
        expect(Array.from(await out.sum.toArray())).toEqual([11, 5]);
        expect(Array.from(await out.max.toArray())).toEqual([5, 3]);
        expect(out.count.dtype).toBe('i32');
        expect(Array.from(await out.count.toArray())).toEqual([3, 3]);
        expect([out.sum.requiresGrad, out.max.requiresGrad, out.count.requiresGrad]).toEqual([false, false, false]);
      });
    } finally {
      setDispatchListener(previous);
    }
  });

  it('reject a cpu() result of the wrong size, naming the output', async () => {
    const short: MultiOutputOpDefinition<object, { x: Tensor }, 'a' | 'b'> = {
      name: 'short',
      gpu() {},
      cpu({ x }) {
        return { a: x.values.slice(), b: new Float64Array(1) };
      },
    };
    await scope(async () => {
      const x = tensor([1, 2], [2], { device: cpuBackend() });
      expect(() => customOpOutputs(short, { x }, { a: { shape: [2], dtype: 'f32' }, b: { shape: [2], dtype: 'f32' } }, {})).toThrow(
        /output 'b' of shape \[2\]/,
      );
      expect(() => customOpOutputs(short, { x }, {} as never, {})).toThrow(/outs/);
    });
  });
});
