import { afterAll, describe, expect, it } from 'vitest';
import { cpuBackend, type Device, type Tensor } from '../src/index.ts';
import * as T from '../src/index.ts';
import { bufferOf, grid1d, TEXEL_INPUT_MIN_FLOATS } from '../src/gpu/kernels/index.ts';
import { packU32 } from '../src/internal.ts';
import { expectClose, gpuOrSkip, make, randomData, recordDispatches } from './helpers.ts';

/**
 * Kernels whose f32 inputs go through f32Input: past TEXEL_INPUT_MIN_FLOATS floats, software
 * adapters read them as texels of an rgba32float copy. Elementwise ops in every operand mode
 * (same shape, broadcast, one element, scalar, an i32 partner), reductions over each axis run and
 * a two-pass long axis, each against the float64 reference, with the texture path asserted; and
 * the backend's reuse of a buffer's texel copy until something writes the buffer.
 */
const gpu = await gpuOrSkip();
afterAll(() => gpu?.destroy());

/** Each case on the float64 reference and on the GPU, compared within `tol`. */
async function compareCases(cases: readonly [string, (d: Device) => Tensor][], tol: { rtol: number; atol: number }): Promise<void> {
  for (const [name, f] of cases) {
    const ref = await T.tidy(() => f(cpuBackend())).toArray();
    const got = await T.tidy(() => f(gpu!)).toArray();
    expectClose(got, ref, tol, name);
  }
}

describe.runIf(gpu)('texel inputs agree with the float64 reference', () => {
  it('elementwise and reductions over inputs past the texel threshold', async () => {
    const be = gpu!.backend;
    const recorded = recordDispatches(be);
    const sources = recorded.sources;
    const rows = 200;
    const cols = 103; // 20,600 floats: past the threshold
    expect(rows * cols).toBeGreaterThan(TEXEL_INPUT_MIN_FLOATS);
    const cases: [string, (d: Device) => Tensor][] = [];
    const x = (d: Device) => make(randomData(rows * cols, 1), [rows, cols], d);
    const y = (d: Device) => make(randomData(rows * cols, 2), [rows, cols], d);
    cases.push(['add, same shapes', (d) => x(d).add(y(d))]);
    cases.push(['mul, broadcast row', (d) => x(d).mul(make(randomData(cols, 3), [cols], d))]);
    cases.push(['sub, broadcast column', (d) => x(d).sub(make(randomData(rows, 4), [rows, 1], d))]);
    cases.push(['div by one element', (d) => x(d).div(make([1.5], [1], d).add(1))]);
    cases.push(['gt against a scalar, then where', (d) => T.where(x(d).gt(0), y(d), -1)]);
    cases.push(['exp', (d) => x(d).exp()]);
    cases.push([
      'f32 + i32 cast',
      (d) =>
        x(d).add(
          make(
            Array.from({ length: rows * cols }, (_, i) => i % 7),
            [rows, cols],
            d,
            { dtype: 'i32' },
          ).cast('f32'),
        ),
    ]);
    cases.push(['sum axis 0', (d) => x(d).sum(0)]);
    cases.push(['sum axis 1', (d) => x(d).sum(1)]);
    cases.push(['max axis 1', (d) => x(d).max(1)]);
    cases.push(['sum of all (two passes)', (d) => x(d).sum()]);
    cases.push(['sum of a long axis (chunked)', (d) => make(randomData(3 * 9000, 5), [3, 9000], d).sum(1)]);
    try {
      await compareCases(cases, { rtol: 1e-5, atol: 1e-4 });
    } finally {
      recorded.restore();
    }
    if (gpu!.adapterInfo.isSoftware) {
      expect(sources.some((s) => s.includes('in0_texels') && s.includes('in1_texels'))).toBe(true);
      expect(sources.some((s) => s.includes('src_texels'))).toBe(true);
      // The texel textures are idle pooled memory: counted in bytesPooled (4096 texels × 16 B per row, ≥ 2 rows here).
      expect(be.memory().bytesPooled).toBeGreaterThanOrEqual(2 * 4096 * 16);
    }
  });

  it('the whole-texel elementwise kernel: every operand mode, small and large, and its fallbacks', async () => {
    const be = gpu!.backend;
    const recorded = recordDispatches(be);
    const large = [130, 128]; // 16,640 floats: texels
    const small = [6, 10]; // 60 floats: storage, read four at a time
    const odd = [7, 5]; // 35 floats: not a multiple of 4, the general kernel
    const cases: [string, number[], (d: Device, shape: number[]) => Tensor][] = [];
    const x = (d: Device, shape: number[], seed = 1) => make(randomData(shape[0] * shape[1], seed), shape, d);
    for (const shape of [large, small, odd]) {
      const tag = shape.join('×');
      cases.push([`add ${tag}`, shape, (d, s) => x(d, s).add(x(d, s, 2))]);
      cases.push([`three operands (clamp by tensors) ${tag}`, shape, (d, s) => T.minimum(T.maximum(x(d, s), x(d, s, 2)), x(d, s, 3).add(1))]);
      cases.push([`mul by a scalar ${tag}`, shape, (d, s) => x(d, s).mul(-2.5)]);
      cases.push([`scalar minus tensor ${tag}`, shape, (d, s) => T.sub(3, x(d, s))]);
      cases.push([`div by a one-element tensor ${tag}`, shape, (d, s) => x(d, s).div(make([1.5], [1], d))]);
      cases.push([`gt a scalar ${tag}`, shape, (d, s) => x(d, s).gt(0.1)]);
      cases.push([`sigmoid ${tag}`, shape, (d, s) => x(d, s).mul(8).sigmoid()]);
      cases.push([`pow with integral exponent ${tag}`, shape, (d, s) => T.pow(x(d, s), 3)]);
      cases.push([`cast to i32 ${tag}`, shape, (d, s) => x(d, s).mul(10).cast('i32')]);
    }
    try {
      for (const [name, shape, f] of cases) {
        const ref = await T.tidy(() => f(cpuBackend(), shape)).toArray();
        const got = await T.tidy(() => f(gpu!, shape)).toArray();
        expect(got.constructor, name).toBe(ref.constructor);
        expectClose(got, ref, { rtol: 1e-5, atol: 1e-5 }, name);
      }
    } finally {
      recorded.restore();
    }
    if (gpu!.adapterInfo.isSoftware) {
      // Labels carry the operand modes: t texture, b storage, s scalar, 1 one-element tensor, z absent.
      expect(recorded.labels).toContain('add[ttz]');
      expect(recorded.labels).toContain('add[bbz]');
      expect(recorded.labels).toContain('mul[tsz]');
      expect(recorded.labels).toContain('div[b1z]');
      expect(recorded.labels).toContain('cast[tzz]');
      // 35 floats go through the general kernel (modes in digits).
      expect(recorded.labels).toContain('add[003]');
    }
  });

  it('broadcasting elementwise ops on the 3-D dispatch grid (no index division) and past it', async () => {
    const be = gpu!.backend;
    const recorded = recordDispatches(be);
    const cases: [string, (d: Device) => Tensor][] = [
      ['bias add [256, 128] + [128]', (d) => make(randomData(256 * 128, 1), [256, 128], d).add(make(randomData(128, 2), [128], d))],
      ['column [300, 7] * [300, 1]', (d) => make(randomData(2100, 3), [300, 7], d).mul(make(randomData(300, 4), [300, 1], d))],
      ['[4, 5, 6] − [5, 1] (3 axes)', (d) => make(randomData(120, 5), [4, 5, 6], d).sub(make(randomData(5, 6), [5, 1], d))],
      ['NCHW + [C, 1, 1]', (d) => make(randomData(2 * 3 * 4 * 5, 7), [2, 3, 4, 5], d).add(make(randomData(3, 8), [3, 1, 1], d))],
      ['4 merged axes (the general kernel)', (d) => make(randomData(2 * 3 * 4 * 5, 9), [2, 3, 4, 5], d).add(make(randomData(3 * 5, 10), [3, 1, 5], d))],
      ['outer axis past the grid [70000, 2] + [2]', (d) => make(randomData(140000, 11), [70000, 2], d).div(make([2, 4], [2], d))],
      ['where with a broadcast condition', (d) => T.where(make(randomData(7, 12), [7], d).gt(0), make(randomData(35, 13), [5, 7], d), 0.5)],
      ['i32 + broadcast i32', (d) => make([1, 2, 3, 4, 5, 6], [2, 3], d, { dtype: 'i32' }).add(make([10, 20, 30], [3], d, { dtype: 'i32' }))],
    ];
    try {
      await compareCases(cases, { rtol: 1e-6, atol: 1e-6 });
    } finally {
      recorded.restore();
    }
    expect(recorded.sources.some((s) => s.includes('const GRID = true;'))).toBe(true);
    expect(recorded.sources.some((s) => s.includes('const GRID = false;') && s.includes('broadcast_index(i, p.strides1)'))).toBe(true);
  });
});

describe.runIf(gpu?.adapterInfo.isSoftware)('texel copies are reused until their buffer changes', () => {
  it('one copy for several readers; a new one after a read_write dispatch, an assign, a host write or a release', async () => {
    const be = gpu!.backend;
    const shape = [200, 103]; // 20,600 floats: read as texels
    const n = shape[0] * shape[1];
    const tol = { rtol: 1e-6, atol: 1e-6 };
    const a = randomData(n, 21);
    const b = randomData(n, 22);
    const x = make(a, shape, gpu!);
    /** x·3 + 1 on the GPU against `values`, and the texel copies that took. */
    const check = async (t: Tensor, values: readonly number[], name: string) => {
      const before = be.stats.texelCopies;
      const y = t.mul(3);
      const z = t.add(1);
      expectClose(
        await y.toArray(),
        values.map((v) => v * 3),
        tol,
        `${name}: x·3`,
      );
      expectClose(
        await z.toArray(),
        values.map((v) => v + 1),
        tol,
        `${name}: x + 1`,
      );
      y.dispose();
      z.dispose();
      return be.stats.texelCopies - before;
    };
    // Two kernels read x: one copy, and none the second time round.
    expect(await check(x, a, 'fresh')).toBe(1);
    expect(await check(x, a, 'again')).toBe(0);
    // A dispatch binding x's buffer read_write (what the optimizers' in-place updates do).
    const overwrite =
      '@group(0) @binding(0) var<uniform> p: vec4<u32>;\n@group(0) @binding(1) var<storage, read_write> out: array<f32>;\n' +
      '@compute @workgroup_size(64)\nfn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) w: vec3<u32>) {\n' +
      '  let i = g.x + g.y * w.x * 64u;\n  if (i < p.x) { out[i] = f32(i % 5u); }\n}\n';
    be.dispatch('test-overwrite', overwrite, packU32([n]), [bufferOf(x.view('test', 'x'))], grid1d(n));
    expect(
      await check(
        x,
        Array.from({ length: n }, (_, i) => i % 5),
        'after a read_write dispatch',
      ),
    ).toBe(1);
    // assign copies another buffer into x's.
    const source = make(b, shape, gpu!);
    x.assign(source);
    expect(await check(x, b, 'after assign')).toBe(1);
    // Disposing and uploading again reuses pooled buffers; the copy must follow the new values.
    x.dispose();
    source.dispose();
    const c = randomData(n, 23);
    const fresh = make(c, shape, gpu!);
    expect(await check(fresh, c, 'a buffer from the pool')).toBe(1);
    fresh.dispose();
  });
});

describe.runIf(gpu?.adapterInfo.isSoftware)('texel copies under a small cache', () => {
  it('a kernel with several texel inputs keeps each its own texture when the cache drops the older copies', async () => {
    // maxPooledBytes 256 KiB: the cache holds 128 KiB of textures, one 2-row texture (20,600
    // floats); `where` takes three inputs' copies before it dispatches, each dropping the one before.
    const small = await T.initGpu({ maxPooledBytes: 2 ** 18, setDefault: false });
    try {
      const n = 20600;
      const shape = [200, 103];
      const a = randomData(n, 31);
      const b = randomData(n, 32);
      const c = randomData(n, 33);
      const cond = make(c, shape, small).gt(0);
      const got = await T.where(cond, make(a, shape, small), make(b, shape, small)).toArray();
      expectClose(
        got,
        c.map((v, i) => (v > 0 ? a[i] : b[i])),
        { rtol: 1e-6, atol: 1e-6 },
        'where',
      );
      expect(small.backend.stats.texelCopies).toBeGreaterThanOrEqual(2);
    } finally {
      small.destroy();
    }
  });
});
