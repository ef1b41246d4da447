import { afterAll, describe, expect, it } from 'vitest';
import { cpuBackend, type Device } from '../src/index.ts';
import * as T from '../src/index.ts';
import {
  matmulPlanar,
  matmulSplitSource,
  matmulTextureSource,
  setSoftwareMatmul,
  splitPlan,
  textureOrientation,
  textureWorkgroup,
} from '../src/gpu/kernels/index.ts';
import { expectClose, gpuOrSkip, make, randomData, recordDispatches } from './helpers.ts';

/**
 * matmul-texture (software adapters: A packed into 64 KiB uniform windows, B copied into an
 * rgba32float texture read four floats per texel) against the float64 reference, on shapes that
 * take each branch: B row-major ('n' texels) and transposed ('k' texels), one and several windows,
 * K split into chunks added onto C, ragged M, N ≡ 4 (mod 8), narrow N on small workgroups, and the
 * products it must leave to the other kernels.
 */
const gpu = await gpuOrSkip();
afterAll(() => gpu?.destroy());

describe('matmul-texture plan', () => {
  const strided = (m: number, n: number, k: number, transB: boolean) => ({
    m,
    n,
    k,
    aRow: k,
    aCol: 1,
    bRow: transB ? 1 : n,
    bCol: transB ? k : 1,
  });
  it('reads B as texels only when the layout is 4-aligned', () => {
    expect(textureOrientation(strided(32, 1024, 7, false))).toBe('n');
    expect(textureOrientation(strided(32, 144, 2048, true))).toBe('k');
    expect(textureOrientation(strided(32, 1022, 8, false))).toBeNull();
    expect(textureOrientation(strided(32, 144, 2046, true))).toBeNull();
  });
  it('shrinks the workgroup until a dispatch has 8 workgroups, down to 8 lanes', () => {
    expect(textureWorkgroup(2646, 1)).toBe(64);
    expect(textureWorkgroup(18, 1)).toBe(8);
    expect(textureWorkgroup(98, 2)).toBe(32);
  });
  it('unrolls the block, one texel per 4 columns (n) or per column and 4 k steps (k)', () => {
    const n = matmulTextureSource(32, 8, 'n', 64);
    expect(n.match(/texel\(tk/g)?.length).toBe(2);
    expect(n.match(/fma\(/g)?.length).toBe(256);
    const k = matmulTextureSource(16, 8, 'k', 8);
    expect(k.match(/texel\(tc/g)?.length).toBe(8);
    expect(k.match(/fma\(/g)?.length).toBe(16 * 8 * 4);
    expect(k).toContain('const KSTEP: u32 = 4u;');
    expect(k).toContain('const WG: u32 = 8u;');
    const split = matmulSplitSource(8, 8, 16);
    expect(split.match(/texel_[ab]\(t[ab]/g)?.length).toBe(16);
    expect(split.match(/fma\(/g)?.length).toBe(8 * 8 * 4);
  });
  it('splits K into chunks of a multiple of 4, none shorter than 256, up to 256 working invocations', () => {
    for (const [m, n, k] of [
      [8, 27, 25088],
      [32, 144, 2048],
      [16, 148, 1024],
      [128, 3136, 21168],
    ]) {
      const plan = splitPlan(m, n, k);
      expect(plan.chunk % 4, `${m}x${n}x${k}`).toBe(0);
      expect(plan.splits * plan.chunk).toBeGreaterThanOrEqual(k);
      expect((plan.splits - 1) * plan.chunk).toBeLessThan(k);
      if (plan.splits > 1) expect(plan.chunk).toBeGreaterThanOrEqual(256);
      expect(plan.blocks).toBe(plan.columns * plan.splits * Math.ceil(m / 8));
      if (plan.splits > 1) expect((plan.blocks / plan.splits) * (plan.splits - 1)).toBeLessThan(256);
    }
    // The first layer's weight gradient: 4 column blocks, so 64 chunks of 392 keep 256 lanes busy.
    expect(splitPlan(8, 27, 25088)).toMatchObject({ splits: 64, chunk: 392, columns: 4, blocks: 256 });
    expect(splitPlan(128, 3136, 21168).splits).toBe(1);
  });
});

describe.runIf(gpu?.adapterInfo.isSoftware)('matmul-texture agrees with the float64 reference', () => {
  it('both orientations, windows, split K, ragged edges, narrow N', async () => {
    const ctx = await T.initGpu({ matmulKernel: 'blocked', setDefault: false });
    const recorded = recordDispatches(ctx.backend);
    const labels = recorded.labels;
    const pinned = setSoftwareMatmul('texture');
    try {
      for (const [a, b, ta, tb, kernel, plan] of [
        [[5, 64], [64, 1100], false, false, 'n', 'one window, rows padded (R = 8), N ≡ 4 (mod 8)'],
        [[16, 72], [1024, 72], false, true, 'k', 'one window, B transposed (k texels)'],
        [[600, 33], [600, 2048], true, false, 'n', 'split K (kc 512 at R = 32), A transposed, ragged M'],
        [[70, 1032], [1500, 1032], false, true, 'k', 'k texels, split K, three row blocks'],
        [[600, 40], [40, 1036], false, false, 'n', 'two windows of 12 tiles (19 row blocks)'],
        [[32, 2048], [144, 2048], false, true, 'split', 'a weight gradient (narrow N, long K): split K in one dispatch, both operands as texels'],
        [[8, 25088], [27, 25088], false, true, 'split', "the first layer's weight gradient: 8 × 27, K = 25,088"],
        [[16, 1024], [148, 1024], false, true, 'split', 'one K chunk but three workgroups: split too'],
        [[21, 1536], [44, 1536], false, true, 'split', 'split K over ragged row blocks (21 rows: 3) and columns (44: 6 blocks)'],
        [[16, 256], [144, 256], false, true, 'k', 'a short K stays unsplit (8-lane workgroups)'],
        [[32, 3136], [32, 784], true, false, 'n', 'an input gradient: tall M, many windows'],
      ] as const) {
        labels.length = 0;
        const run = (device: Device) =>
          T.tidy(() => {
            const size = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);
            const x = make(randomData(size(a), 3), a, device);
            const y = make(randomData(size(b), 4), b, device);
            return T.matmulTransposed(x, y, ta, tb);
          });
        const ref = await run(cpuBackend()).toArray();
        const got = await run(ctx).toArray();
        expect(
          labels.some((l) =>
            kernel === 'split' ? l.startsWith('matmul-texture-split') : l.startsWith('matmul-texture-') && !l.includes('split') && l.endsWith(kernel),
          ),
          `${plan}: ran ${labels.join(', ')}`,
        ).toBe(true);
        expectClose(got, ref, { rtol: 1e-4, atol: 2e-4 }, plan);
      }
      // Products it leaves: too small, or B not 4-aligned (they take the other kernels and still agree).
      for (const [a, b, plan] of [
        [[128, 32], [32, 10], 'too small'],
        [[40, 300], [300, 1031], 'N not a multiple of 4'],
      ] as const) {
        labels.length = 0;
        const run = (device: Device) => T.tidy(() => make(randomData(a[0] * a[1], 5), a, device).matmul(make(randomData(b[0] * b[1], 6), b, device)));
        const ref = await run(cpuBackend()).toArray();
        const got = await run(ctx).toArray();
        expect(
          labels.some((l) => l.startsWith('matmul-texture')),
          plan,
        ).toBe(false);
        expectClose(got, ref, { rtol: 1e-4, atol: 2e-4 }, plan);
      }
      // A product after another of a different size class reuses nothing stale.
      const x = T.randn([64, 512], { device: ctx, seed: 7 });
      const y = T.randn([512, 2048], { device: ctx, seed: 8 });
      const z = T.randn([512, 64], { device: ctx, seed: 9 });
      const first = x.matmul(y);
      const second = x.matmul(z.matmul(x).matmul(y));
      const firstAgain = await first.toArray();
      setSoftwareMatmul('blocked');
      const firstBlocked = await x.matmul(y).toArray();
      const secondBlocked = await x.matmul(z.matmul(x).matmul(y)).toArray();
      setSoftwareMatmul('texture');
      expectClose(firstAgain, firstBlocked, { rtol: 1e-4, atol: 1e-3 }, 'texture vs blocked, first');
      expectClose(await second.toArray(), secondBlocked, { rtol: 1e-3, atol: 1e-2 }, 'texture vs blocked, chained');
      for (const t of [x, y, z, first, second]) t.dispose();
    } finally {
      setSoftwareMatmul(pinned);
      recorded.restore();
      ctx.destroy();
    }
  });
});

/**
 * matmulPlanar: C = A·B with one operand or C planar ([B, R, P]: column n = b·P + q at
 * b·R·P + r·P + q), through a custom op whose gpu() calls it, against float64 products written
 * out here. Ragged rows and column blocks (N ≡ 4 mod 8), two k chunks with a bias, a transposed A,
 * a planar C whose planes are not a multiple of 4 floats, and the split-K weight-gradient shape.
 */
describe.runIf(gpu?.adapterInfo.isSoftware)('matmulPlanar', () => {
  type Case = { name: string; m: number; n: number; k: number; plane: number; role: 'out' | 'b' | 'a'; label: string };
  const cases: Case[] = [
    { name: 'planar C with a bias, two k chunks, ragged M and N', m: 40, n: 36, k: 600, plane: 12, role: 'out', label: 'matmul-texture-32x8n-planar' },
    { name: 'planar C of planes of 7 floats (scalar stores)', m: 20, n: 28, k: 50, plane: 7, role: 'out', label: 'matmul-texture-16x8n-planar' },
    { name: 'planar B, A transposed', m: 20, n: 40, k: 33, plane: 8, role: 'b', label: 'matmul-texture-16x8n-planar' },
    { name: 'planar A along K (split K), B as [N, K]', m: 6, n: 27, k: 640, plane: 16, role: 'a', label: 'matmul-texture-split-8x8-planar' },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const { m, n, k, plane, role } = c;
      const batches = role === 'a' ? k / plane : n / plane;
      // Logical A [M, K], B [K, N] in float64; the stored layouts follow the role.
      const A = randomData(m * k, 11);
      const B = randomData(k * n, 12);
      const bias = randomData(m, 13);
      const stored = { a: A, b: B };
      if (role === 'a') {
        stored.a = new Array(m * k);
        for (let i = 0; i < m; i++) for (let kk = 0; kk < k; kk++) stored.a[Math.floor(kk / plane) * m * plane + i * plane + (kk % plane)] = A[i * k + kk];
        stored.b = new Array(k * n);
        for (let kk = 0; kk < k; kk++) for (let j = 0; j < n; j++) stored.b[j * k + kk] = B[kk * n + j];
      } else if (role === 'b') {
        stored.a = new Array(m * k);
        for (let i = 0; i < m; i++) for (let kk = 0; kk < k; kk++) stored.a[kk * m + i] = A[i * k + kk];
        stored.b = new Array(k * n);
        for (let kk = 0; kk < k; kk++) for (let j = 0; j < n; j++) stored.b[Math.floor(j / plane) * k * plane + kk * plane + (j % plane)] = B[kk * n + j];
      }
      const expected = new Array(m * n).fill(0);
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let acc = role === 'out' ? bias[i] : 0;
          for (let kk = 0; kk < k; kk++) acc += A[i * k + kk] * B[kk * n + j];
          expected[role === 'out' ? Math.floor(j / plane) * m * plane + i * plane + (j % plane) : i * n + j] = acc;
        }
      const op: T.CustomOpDefinition<object, { a: T.Tensor; b: T.Tensor; bias: T.Tensor }> = {
        name: 'planarProbe',
        gpu(rec, inputs, _out, dst) {
          const [a, b] = [T.bufferOf(inputs.a), T.bufferOf(inputs.b)];
          const product =
            role === 'out'
              ? { m, n, k, a, b, outPlane: plane, bias: T.bufferOf(inputs.bias) }
              : role === 'b'
                ? { m, n, k, a, b, transA: true, bPlane: plane }
                : { m, n, k, a, b, transB: true, aPlane: plane };
          if (!matmulPlanar(rec, dst, product)) throw new Error('matmulPlanar encoded nothing');
        },
        cpu() {
          return Float64Array.from(expected);
        },
      };
      const recorded = recordDispatches(gpu!.backend);
      try {
        const got = await T.tidy(() =>
          T.customOp(
            op,
            { a: make(stored.a, [stored.a.length], gpu!), b: make(stored.b, [stored.b.length], gpu!), bias: make(bias, [m], gpu!) },
            { shape: [m * n], dtype: 'f32' },
            {},
          ),
        ).toArray();
        expect(recorded.labels).toContain(c.label);
        expect(batches).toBe(Math.floor(batches));
        expectClose(Array.from(got), expected, { rtol: 1e-4, atol: 2e-4 }, c.name);
      } finally {
        recorded.restore();
      }
    });
  }
});
