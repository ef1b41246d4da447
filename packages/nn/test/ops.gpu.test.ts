import { afterAll, describe, expect, it } from 'vitest';
import { cpuBackend, gradcheck, noGrad, scope, tensor, type Device, type Tensor } from '@fairgpu/tensor';
import { setSoftwareMatmul } from '@fairgpu/tensor/internal';
import {
  avgPool2d,
  BatchNorm2d,
  col2im,
  Conv2d,
  conv2d,
  globalAvgPool2d,
  im2col,
  linear,
  LINEAR_SMALL_MACS,
  manualSeed,
  maxPool2d,
  ReLU,
  Sequential,
  type ConvAlgorithm,
  type Geometry,
} from '../src/index.ts';
import { expectClose, gpuOrSkip, randomData, recordDispatches } from './helpers.ts';

const gpu = await gpuOrSkip();
afterAll(() => gpu?.destroy());

/** Output and input gradients of fn(inputs)·seedGrad on a device. */
async function run(device: Device, fn: (...x: Tensor[]) => Tensor, inputs: { data: number[]; shape: number[] }[], seed: number) {
  return scope(async () => {
    const xs = inputs.map((i) => tensor(i.data, i.shape, { device, requiresGrad: true }));
    const y = fn(...xs);
    const w = tensor(randomData(y.size, seed), y.shape, { device });
    await y.mul(w).sum().backward();
    return { y: Array.from(await y.toArray()), grads: await Promise.all(xs.map(async (x) => Array.from(await x.grad!.toArray()))) };
  });
}

async function compare(fn: (...x: Tensor[]) => Tensor, inputs: { data: number[]; shape: number[] }[], tol = { rtol: 1e-4, atol: 1e-4 }) {
  const ref = await run(cpuBackend(), fn, inputs, 99);
  const got = await run(gpu!, fn, inputs, 99);
  expectClose(got.y, ref.y, tol, 'output');
  got.grads.forEach((g, i) => expectClose(g, ref.grads[i], tol, `grad ${i}`));
}

const input = (shape: number[], seed: number) => ({
  data: randomData(
    shape.reduce((p, d) => p * d, 1),
    seed,
  ),
  shape,
});

const convCases = [
  { name: '3×3 pad 1', x: [2, 3, 7, 9], w: [5, 3, 3, 3], stride: 1, padding: 1 },
  { name: '5×3 stride 2 pad (2,1), odd sizes', x: [1, 2, 9, 7], w: [6, 2, 5, 3], stride: 2, padding: [2, 1] as [number, number] },
  { name: '7×7 pad 3 (SimpleConvNet)', x: [2, 3, 8, 8], w: [4, 3, 7, 7], stride: 1, padding: 3 },
  { name: '1×1 stride 2 (ResNet shortcut)', x: [2, 4, 5, 5], w: [3, 4, 1, 1], stride: 2, padding: 0 },
  // A window narrower than its stride leaves input pixels no column reads (col2im writes 0 there).
  { name: '2×3 stride (3, 2) pad (0, 1)', x: [2, 3, 10, 11], w: [4, 3, 2, 3], stride: [3, 2] as [number, number], padding: [0, 1] as [number, number] },
  // Inputs past TEXEL_INPUT_MIN_FLOATS: on software adapters im2col/col2im read them as texels and
  // the products take matmul-texture.
  { name: '3×3 stride 2 pad 1, 8 × 3 × 28 × 28 (texel inputs)', x: [8, 3, 28, 28], w: [8, 3, 3, 3], stride: 2, padding: 1 },
  { name: '7×7 pad 3, 6 × 4 × 28 × 28 (texel inputs)', x: [6, 4, 28, 28], w: [8, 4, 7, 7], stride: 1, padding: 3 },
  // 7 × 7 outputs of 18,816 floats: the bias gradient's channel sum reads texel windows.
  { name: '3×3 stride 2 pad 1 to 7 × 7, 48 × 8 × 14 × 14 (texel windows)', x: [48, 8, 14, 14], w: [8, 8, 3, 3], stride: 2, padding: 1 },
  // K = 16·49 = 784 against 32-row tiles: the forward product runs in two k chunks, the second
  // adding onto the first's planar output (which holds the bias).
  { name: '7×7 pad 3, 32 ← 16 channels (two k chunks)', x: [1, 16, 8, 8], w: [32, 16, 7, 7], stride: 1, padding: 3 },
];

describe.runIf(gpu)('conv2d and pooling on the GPU vs the float64 reference', () => {
  for (const algorithm of ['im2col', 'direct'] as ConvAlgorithm[]) {
    for (const c of convCases) {
      it(`conv2d ${algorithm}: ${c.name}`, async () => {
        await compare((x, w, b) => conv2d(x, w, b, { stride: c.stride, padding: c.padding, algorithm }), [input(c.x, 1), input(c.w, 2), input([c.w[0]], 3)]);
      });
    }
  }
  it.runIf(gpu?.adapterInfo.isSoftware)('im2col and col2im read large inputs as texels on software adapters', async () => {
    const be = gpu!.backend;
    const sources = new Map<string, string>();
    const original = be.dispatch.bind(be);
    be.dispatch = (label, source, ...rest) => {
      sources.set(label, source);
      original(label, source, ...rest);
    };
    try {
      await run(gpu!, (x, w) => conv2d(x, w, null, { padding: 1, algorithm: 'im2col' }), [input([8, 3, 28, 28], 4), input([8, 3, 3, 3], 5)], 6);
    } finally {
      be.dispatch = original;
    }
    expect(sources.get('im2col')).toContain('x_texels');
    expect(sources.get('col2im')).toContain('cols_texels');
  });
  it('im2col and col2im in both column layouts, in their row modes (vec4 and float stores) and not', async () => {
    // On software adapters im2col fills rows of Wo ≥ 3 four columns at a time (mode 1), with vec4
    // stores when Wo % 4 = 0 (the first case) and float stores otherwise; Wo = 2 takes the
    // one-element path (0). col2im sums input rows 4·sw·m pixels at a time (mode 1), vec4 stores
    // when W % 4 = 0.
    const geometries: [number[], Geometry][] = [
      [[2, 3, 8, 8], { batch: 2, c: 3, h: 8, w: 8, kh: 3, kw: 3, sh: 2, sw: 2, ph: 1, pw: 1, ho: 4, wo: 4, co: 3 }],
      [[4, 2, 14, 14], { batch: 4, c: 2, h: 14, w: 14, kh: 3, kw: 3, sh: 2, sw: 2, ph: 1, pw: 1, ho: 7, wo: 7, co: 2 }],
      [[2, 2, 7, 5], { batch: 2, c: 2, h: 7, w: 5, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, ho: 7, wo: 5, co: 2 }],
      [[2, 3, 8, 8], { batch: 2, c: 3, h: 8, w: 8, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, ho: 8, wo: 8, co: 3 }],
      [[2, 2, 4, 4], { batch: 2, c: 2, h: 4, w: 4, kh: 3, kw: 3, sh: 2, sw: 2, ph: 1, pw: 1, ho: 2, wo: 2, co: 2 }],
      [[1, 2, 9, 13], { batch: 1, c: 2, h: 9, w: 13, kh: 2, kw: 5, sh: 3, sw: 3, ph: 0, pw: 2, ho: 3, wo: 4, co: 2 }],
    ];
    const be = gpu!.backend;
    const modes = new Set<string>();
    const original = be.dispatch.bind(be);
    be.dispatch = (label, source, params, ...rest) => {
      if (label === 'im2col' || label === 'col2im') modes.add(`${label} ${new Uint32Array(params)[14]}`);
      original(label, source, params, ...rest);
    };
    try {
      for (const [shape, g] of geometries) {
        for (const layout of ['batch', 'wide'] as const) {
          modes.clear();
          await compare((x) => im2col(x, g, layout), [input(shape, 30)]);
          const cols = g.batch * g.c * g.kh * g.kw * g.ho * g.wo;
          const colShape = layout === 'wide' ? [g.c * g.kh * g.kw, g.batch * g.ho * g.wo] : [g.batch, g.c * g.kh * g.kw, g.ho * g.wo];
          await compare((c) => col2im(c, g, layout), [{ data: randomData(cols, 31), shape: colShape }]);
          // Each compare runs the op and its VJP (the other one).
          if (gpu!.adapterInfo.isSoftware) expect([...modes].sort()).toEqual(['col2im 1', `im2col ${g.wo >= 3 ? 1 : 0}`]);
        }
      }
    } finally {
      be.dispatch = original;
    }
  });
  it('conv2d im2col without a bias (the output transpose adds nothing)', async () => {
    await compare((x, w) => conv2d(x, w, null, { padding: 1, algorithm: 'im2col' }), [input([2, 3, 7, 9], 1), input([5, 3, 3, 3], 2)]);
  });
  it('max pooling (3×3 stride 2 pad 1, with ties) and average pooling', async () => {
    const ties = input([2, 3, 7, 6], 4);
    ties.data = ties.data.map((v) => Math.round(v * 2) / 2); // many exact ties
    await compare((x) => maxPool2d(x, 3, { stride: 2, padding: 1 }), [ties]);
    await compare((x) => maxPool2d(x, 2), [input([1, 2, 5, 5], 5)]);
    await compare((x) => avgPool2d(x, [3, 2], { stride: [2, 1], padding: [1, 0] }), [input([2, 2, 7, 5], 6)]);
    await compare((x) => globalAvgPool2d(x), [input([2, 3, 3, 5], 7)]);
  });
  it('max pooling gives a tie to the first maximum only (PyTorch)', async () => {
    const x = tensor([1, 1, 1, 1], [1, 1, 2, 2], { device: gpu!, requiresGrad: true });
    await maxPool2d(x, 2).sum().backward();
    expect(Array.from(await x.grad!.toArray())).toEqual([1, 0, 0, 0]);
  });
  it('BatchNorm2d training forward/backward and running statistics', async () => {
    const fn = (device: Device) =>
      scope(async () => {
        const bn = new BatchNorm2d(3, { device });
        const x = tensor(
          randomData(2 * 3 * 5 * 3, 8).map((v, i) => v * (1 + (i % 3)) + 0.5),
          [2, 3, 5, 3],
          { device, requiresGrad: true },
        );
        const y = bn.forward(x);
        await y
          .mul(tensor(randomData(y.size, 9), y.shape, { device }))
          .sum()
          .backward();
        const out = {
          y: Array.from(await y.toArray()),
          g: Array.from(await x.grad!.toArray()),
          rm: Array.from(await bn.runningMean.toArray()),
          rv: Array.from(await bn.runningVar.toArray()),
          nbt: Array.from(await bn.numBatchesTracked.toArray()),
        };
        bn.eval();
        const e = Array.from(await bn.forward(x).toArray());
        // Without gradients, eval takes the per-channel kernel instead of the broadcasting composite.
        const fast = Array.from(await noGrad(() => bn.forward(x)).toArray());
        bn.dispose();
        return { ...out, e, fast };
      });
    const ref = await fn(cpuBackend());
    const got = await fn(gpu!);
    expectClose(got.fast, got.e, { rtol: 1e-5, atol: 1e-5 }, 'fast eval');
    expect(got.nbt).toEqual([1]);
    for (const k of ['y', 'g', 'rm', 'rv', 'e', 'fast', 'nbt'] as const) expectClose(got[k], ref[k], { rtol: 1e-4, atol: 1e-4 }, k);
  });
  it('BatchNorm2d, max pooling and global average pooling on inputs of 16384 floats (texels on software adapters)', async () => {
    // Every f32 input of the BatchNorm kernels, both max-pooling kernels and the global pool's
    // forward is 8 × 8 × 16 × 16 = 16384 floats (TEXEL_INPUT_MIN_FLOATS).
    const bns: BatchNorm2d[] = [];
    const fn = (x: Tensor, w: Tensor, b: Tensor) => {
      const bn = new BatchNorm2d(8, { device: x.backend });
      bns.push(bn);
      const y = bn.forward(conv2d(x, w, b, { padding: 1, algorithm: 'im2col' }));
      return maxPool2d(y, 3, { stride: 1, padding: 1 }).add(globalAvgPool2d(y).reshape([8, 8, 1, 1]));
    };
    const be = gpu!.backend;
    const sources = new Map<string, string[]>();
    const original = be.dispatch.bind(be);
    be.dispatch = (label, source, ...rest) => {
      sources.set(label, [...(sources.get(label) ?? []), source]);
      original(label, source, ...rest);
    };
    try {
      await compare(fn, [input([8, 8, 16, 16], 20), input([8, 8, 3, 3], 21), input([8], 22)]);
    } finally {
      be.dispatch = original;
      for (const bn of bns) bn.dispose();
    }
    if (gpu!.adapterInfo.isSoftware) {
      const bn = ['batchnorm-stats', 'channel-linear', 'batchnorm-backward'];
      // The global pool's backward reads the [8, 8] gradient from storage; its forward reads texels.
      for (const label of [...bn, 'maxpool2d', 'maxpool2d-grad', 'global-avg-pool']) {
        expect(
          sources.get(label)?.some((s) => s.includes('_texels')),
          label,
        ).toBe(true);
      }
      // Planes of 256 floats: the per-channel maps read and write whole texels (vec4 outputs).
      for (const label of ['channel-linear', 'batchnorm-backward']) expect(sources.get(label)?.[0], label).toContain('array<vec4<f32>>');
      for (const label of ['batchnorm-stats', 'batchnorm-backward'])
        expect(sources.get(label)?.[0], label).toMatch(/texels: u32,[\s\S]*const p = Params\([^)]*, 1u\);/);
      // The convolution's three products read and write NCHW in place (planes of 256 floats): no transposes.
      expect(sources.has('conv-output-transpose')).toBe(false);
      const planarProducts = [...sources.entries()].filter(([l]) => /^matmul-texture-\d+x8n-planar$/.test(l)).flatMap(([, v]) => v);
      expect(planarProducts).toHaveLength(2); // the forward (planar C with the bias) and the column gradient (planar B)
      expect(sources.get('matmul-texture-split-8x8-planar')).toHaveLength(1);
      // The bias gradient (channel sums of g) rides on the weight gradient's last pass.
      expect(sources.get('split-reduce-row-sums')).toHaveLength(1);
      expect(sources.has('channel-sum')).toBe(false);
    }
  });
  it.runIf(gpu?.adapterInfo.isSoftware)('the wide im2col product falls back to a plain product and transposes (texel inputs)', async () => {
    // With matmul-blocked forced (as on hardware adapters; planes of 49 floats do this for the
    // gradient products only) the products run on [Co, B·P] matrices and the conv output
    // transpose converts each way, reading texels here.
    const be = gpu!.backend;
    const labels = new Map<string, string[]>();
    const original = be.dispatch.bind(be);
    be.dispatch = (label, source, ...rest) => {
      labels.set(label, [...(labels.get(label) ?? []), source]);
      original(label, source, ...rest);
    };
    const previous = setSoftwareMatmul('blocked');
    try {
      await compare((x, w, b) => conv2d(x, w, b, { padding: 1, algorithm: 'im2col' }), [input([8, 8, 16, 16], 23), input([8, 8, 3, 3], 24), input([8], 25)]);
      await compare(
        (x, w, b) => conv2d(x, w, b, { stride: 2, padding: 1, algorithm: 'im2col' }),
        [input([2, 3, 9, 7], 26), input([4, 3, 3, 3], 27), input([4], 28)],
      );
    } finally {
      setSoftwareMatmul(previous);
      be.dispatch = original;
    }
    // Forward (with the bias) and the gradient's transpose back, once per product that reads it.
    expect(labels.get('conv-output-transpose')?.some((s) => s.includes('src_texels'))).toBe(true);
    expect([...labels.keys()].some((l) => l.includes('planar'))).toBe(false);
  });
});

describe.runIf(gpu)('BatchNorm fused with a following ReLU (Sequential)', () => {
  /**
   * Output, input and parameter gradients, running statistics and both eval paths of
   * Sequential(BatchNorm2d, ReLU) on a device; `hook` watches the ReLU (which turns the fusion off).
   */
  const fn = (device: Device, shape: number[], hook: boolean) =>
    scope(async () => {
      const bn = new BatchNorm2d(shape[1], { device });
      const relu = new ReLU();
      const hooked: number[] = [];
      const handle = hook ? relu.registerForwardHook((_m, _x, y) => void hooked.push(y.size)) : null;
      const net = new Sequential(bn, relu);
      const size = shape.reduce((p, d) => p * d, 1);
      // Shifted per channel so that a good share of the pre-activations is negative.
      const x = tensor(
        randomData(size, 30).map((v, i) => v * 2 - 0.3 * (Math.floor(i / (size / shape[0] / shape[1])) % shape[1])),
        shape,
        { device, requiresGrad: true },
      );
      const y = net.forward(x);
      await y
        .mul(tensor(randomData(y.size, 31), y.shape, { device }))
        .sum()
        .backward();
      const out = {
        y: Array.from(await y.toArray()),
        g: Array.from(await x.grad!.toArray()),
        gw: Array.from(await bn.weight!.grad!.toArray()),
        gb: Array.from(await bn.bias!.grad!.toArray()),
        rm: Array.from(await bn.runningMean.toArray()),
        rv: Array.from(await bn.runningVar.toArray()),
      };
      net.eval();
      const e = Array.from(await net.forward(x).toArray());
      const fast = Array.from(await noGrad(() => net.forward(x)).toArray());
      handle?.remove();
      net.dispose();
      return { ...out, e, fast, hooked };
    });
  for (const [name, shape] of [
    ['small', [3, 4, 5, 3]],
    ['16384 floats (texels on software adapters)', [8, 8, 16, 16]],
    // Planes of 49 floats share their end texels with their neighbours.
    ['7 × 7 planes, 18,816 floats (texel windows on software adapters)', [48, 8, 7, 7]],
  ] as const) {
    it(`matches relu(batchnorm(x)) on the float64 reference and unfused on the GPU: ${name}`, async () => {
      const recorded = recordDispatches(gpu!.backend);
      const { labels } = recorded;
      let fused: Awaited<ReturnType<typeof fn>>;
      try {
        fused = await fn(gpu!, [...shape], false);
      } finally {
        recorded.restore();
      }
      const ref = await fn(cpuBackend(), [...shape], false);
      const unfused = await fn(gpu!, [...shape], true);
      // Training runs no ReLU kernel of its own, forward (relu) or backward (gt mask, product); the
      // one relu is eval with gradients enabled (the differentiable composite).
      expect(labels.filter((l) => /^(relu|gt)\[/.test(l))).toEqual([labels.find((l) => l.startsWith('relu['))]);
      expect(labels.filter((l) => l.startsWith('relu[')).length).toBe(1);
      // The backward: one kernel for the sums and dx on software adapters, else two.
      const backward = gpu!.adapterInfo.isSoftware ? ['batchnorm-backward'] : ['batchnorm-grad-sums', 'batchnorm-input-grad'];
      for (const label of backward) expect(labels).toContain(label);
      if (gpu!.adapterInfo.isSoftware) expect(labels.some((l) => l === 'batchnorm-grad-sums' || l === 'batchnorm-input-grad')).toBe(false);
      if (gpu!.adapterInfo.isSoftware && shape[2] * shape[3] === 49) {
        // planeTexels mode 2 (the last Params value) in both training kernels.
        for (const label of ['batchnorm-stats', 'batchnorm-backward'])
          expect(recorded.sources[labels.indexOf(label)], label).toMatch(/const p = Params\([^)]*, 2u\);/);
      }
      expect(unfused.hooked.length).toBe(3); // the hook saw each forward (train, eval, eval without grad)
      expect(fused.y.some((v) => v === 0) && fused.y.some((v) => v > 0)).toBe(true);
      for (const k of ['y', 'g', 'gw', 'gb', 'rm', 'rv', 'e', 'fast'] as const) {
        expectClose(fused[k], ref[k], { rtol: 1e-4, atol: 1e-4 }, `${k} vs float64`);
        expectClose(fused[k], unfused[k], { rtol: 1e-5, atol: 1e-5 }, `${k} vs unfused`);
      }
    });
  }
});

describe.runIf(gpu)("BatchNorm2d → ReLU → Conv2d fused into the convolution's im2col (Sequential)", () => {
  /**
   * Output, input and all parameter gradients and the running statistics of Sequential(BatchNorm2d,
   * ReLU, Conv2d(im2col)) in training mode on a device; `hook` watches the convolution (which
   * turns this fusion off and leaves BatchNorm + ReLU fused).
   */
  const fn = (device: Device, shape: number[], stride: number, hook: boolean) =>
    scope(async () => {
      manualSeed(3);
      const bn = new BatchNorm2d(shape[1], { device });
      const conv = new Conv2d(shape[1], 5, 3, { device, padding: 1, stride, algorithm: 'im2col' });
      const handle = hook ? conv.registerForwardHook(() => {}) : null;
      const net = new Sequential(bn, new ReLU(), conv);
      const size = shape.reduce((p, d) => p * d, 1);
      const plane = size / shape[0] / shape[1];
      const x = tensor(
        randomData(size, 40).map((v, i) => v * 2 - 0.3 * (Math.floor(i / plane) % shape[1])),
        shape,
        { device, requiresGrad: true },
      );
      const y = net.forward(x);
      await y
        .mul(tensor(randomData(y.size, 41), y.shape, { device }))
        .sum()
        .backward();
      const read = async (t: Tensor) => Array.from(await t.toArray());
      const out = {
        y: await read(y),
        g: await read(x.grad!),
        gw: await read(bn.weight!.grad!),
        gb: await read(bn.bias!.grad!),
        cw: await read(conv.weight.grad!),
        cb: await read(conv.bias!.grad!),
        rm: await read(bn.runningMean),
        rv: await read(bn.runningVar),
      };
      handle?.remove();
      net.dispose();
      return out;
    });
  for (const [name, shape, stride] of [
    ['small, stride 2', [3, 4, 5, 3], 2],
    ['16384 floats (texel inputs), stride 1', [8, 8, 16, 16], 1],
    ['7 × 7 outputs (row taps with float stores), stride 2', [4, 3, 14, 14], 2],
  ] as const) {
    it(`matches the float64 reference and the unfused layers: ${name}`, async () => {
      const recorded = recordDispatches(gpu!.backend);
      const { labels } = recorded;
      let fused: Awaited<ReturnType<typeof fn>>;
      try {
        fused = await fn(gpu!, [...shape], stride, false);
      } finally {
        recorded.restore();
      }
      const ref = await fn(cpuBackend(), [...shape], stride, false);
      const unfusedRef = await fn(cpuBackend(), [...shape], stride, true);
      const unfused = await fn(gpu!, [...shape], stride, true);
      // The normalisation is applied by im2col: no channel-linear pass in training.
      expect(labels).not.toContain('channel-linear');
      expect(labels).toContain('im2col');
      for (const k of ['y', 'g', 'gw', 'gb', 'cw', 'cb', 'rm', 'rv'] as const) {
        expectClose(ref[k], unfusedRef[k], { rtol: 1e-10, atol: 1e-10 }, `${k}: fused vs unfused float64`);
        expectClose(fused[k], ref[k], { rtol: 1e-4, atol: 1e-4 }, `${k} vs float64`);
        expectClose(fused[k], unfused[k], { rtol: 1e-4, atol: 1e-5 }, `${k} vs unfused`);
      }
    });
  }
});

describe.runIf(gpu)('linear (F.linear) on the GPU vs the float64 reference', () => {
  const cases = [
    // The quick network's classifier head: the fused kernels, inputs a multiple of 4 (texel reads).
    { name: 'classifier head 128 × 32 → 10', x: [128, 32], out: 10, bias: true, fused: true },
    { name: 'odd sizes, no bias', x: [7, 5], out: 3, bias: false, fused: true },
    { name: 'rank 3 input [4, 6, 12] → 9', x: [4, 6, 12], out: 9, bias: true, fused: true },
    // Inputs of 16384+ floats: texel inputs on software adapters.
    { name: '512 × 32 → 8 (texel inputs)', x: [512, 32], out: 8, bias: true, fused: true },
    { name: 'past LINEAR_SMALL_MACS: matmul + add', x: [64, 48], out: 64, bias: true, fused: false },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const inputs = c.x[c.x.length - 1];
      const macs = (c.x.reduce((p, d) => p * d, 1) / inputs) * inputs * c.out;
      expect(macs <= LINEAR_SMALL_MACS).toBe(c.fused);
      const args = [input(c.x, 40), input([c.out, inputs], 41), ...(c.bias ? [input([c.out], 42)] : [])];
      const recorded = recordDispatches(gpu!.backend);
      try {
        await compare((x, w, b) => linear(x, w, b ?? null), args, { rtol: 1e-5, atol: 1e-5 });
      } finally {
        recorded.restore();
      }
      expect(recorded.labels.includes('linear') && recorded.labels.includes('linear-backward')).toBe(c.fused);
      if (c.fused) expect(recorded.labels.filter((l) => l.startsWith('matmul'))).toEqual([]);
    });
  }
  it('skips nothing it must compute: only the weight gradient of a detached input', async () => {
    const ref = await scope(async () => {
      const x = tensor(input([6, 8], 43).data, [6, 8], { device: cpuBackend() });
      const w = tensor(input([4, 8], 44).data, [4, 8], { device: cpuBackend(), requiresGrad: true });
      await linear(x, w).square().sum().backward();
      return Array.from(await w.grad!.toArray());
    });
    const got = await scope(async () => {
      const x = tensor(input([6, 8], 43).data, [6, 8], { device: gpu! });
      const w = tensor(input([4, 8], 44).data, [4, 8], { device: gpu!, requiresGrad: true });
      await linear(x, w).square().sum().backward();
      expect(x.grad).toBeFalsy();
      return Array.from(await w.grad!.toArray());
    });
    expectClose(got, ref, { rtol: 1e-5, atol: 1e-5 }, 'weight grad');
  });
});

describe('finite differences (float64 CPU reference)', () => {
  it('conv2d, both algorithms, stride/padding/odd sizes', async () => {
    for (const algorithm of ['im2col', 'direct'] as ConvAlgorithm[]) {
      const r = await gradcheck(
        (x, w, b) => conv2d(x, w, b, { stride: 2, padding: [1, 2], algorithm }).square(),
        [input([2, 2, 5, 4], 10), input([3, 2, 3, 2], 11), input([3], 12)],
        { rtol: 1e-5, atol: 1e-6 },
      );
      expect(r.ok, `${algorithm}: max abs error ${r.maxAbsError}`).toBe(true);
    }
  });
  it('pooling and batch norm', async () => {
    const checks = [
      await gradcheck((x) => maxPool2d(x, 3, { stride: 2, padding: 1 }).square(), [input([1, 2, 5, 5], 13)]),
      await gradcheck((x) => avgPool2d(x, 2, { stride: 1 }).square(), [input([1, 2, 3, 4], 14)]),
      await gradcheck((x) => globalAvgPool2d(x).square(), [input([2, 3, 2, 3], 16)]),
      await gradcheck((x, w, b) => linear(x, w, b).square(), [input([3, 5], 17), input([4, 5], 18), input([4], 19)]),
      await gradcheck(
        (x) => {
          const bn = new BatchNorm2d(2, { device: 'cpu' });
          const y = bn.forward(x).mul(x.sin());
          bn.dispose();
          return y;
        },
        [input([3, 2, 2, 3], 15)],
      ),
      // The fused ReLU: the pre-activations stay away from 0 by more than the step (the seed's data
      // is fixed), so the finite differences see no kink.
      await gradcheck(
        (x) => {
          const bn = new BatchNorm2d(2, { device: 'cpu' });
          const y = bn.forwardRelu(x).mul(x.sin());
          bn.dispose();
          return y;
        },
        [input([3, 2, 2, 3], 15)],
      ),
    ];
    for (const r of checks) expect(r.ok, `max abs error ${r.maxAbsError}`).toBe(true);
  });
});
