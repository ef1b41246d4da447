import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { crossEntropy, InvalidArgumentError, memory, Rng, scope, tensor } from '@fairgpu/tensor';
import { gpuOrSkip, expectClose } from '@fairgpu/tensor/testing';
import { Adam, manualSeed, safetensorsToStateDict, SimpleConvNet } from '@fairgpu/nn';
import { gradCam, heatmapMass } from '../src/gradcam.ts';

const gpu = await gpuOrSkip();
afterAll(() => gpu?.destroy());

const fixtureDir = new URL('./fixtures/gradcam/', import.meta.url);
const fixture = JSON.parse(readFileSync(new URL('gradcam.json', fixtureDir), 'utf8')) as {
  config: { kernelSize: number; channels: number[]; strides: number[]; numClasses: number; side: number; batch: number };
  input: number[];
  targets: number[];
  maps: number[];
  predicted: number[];
  mapsPredicted: number[];
};

function fixtureModel(): SimpleConvNet {
  const c = fixture.config;
  const net = new SimpleConvNet({ kernelSize: c.kernelSize, channels: c.channels, strides: c.strides, numClasses: c.numClasses, device: gpu! });
  const { tensors } = safetensorsToStateDict(new Uint8Array(readFileSync(new URL('simple-convnet.safetensors', fixtureDir))), gpu!);
  net.loadStateDict(tensors);
  for (const t of tensors.values()) t.dispose();
  return net.eval();
}

describe.runIf(gpu)('gradCam', () => {
  it("equals PyTorch's float64 Grad-CAM of the same SimpleConvNet (safetensors weights) within 1e-4", async () => {
    const net = fixtureModel();
    const { side, batch } = fixture.config;
    const before = memory(gpu!).tensors;
    const x = tensor(fixture.input, [batch, 3, side, side], { device: gpu! });
    const given = await gradCam(net, x, { layer: 'extracter', targets: fixture.targets });
    expect(given.shape).toEqual([batch, side, side]);
    expectClose(await given.toArray(), fixture.maps, { rtol: 1e-4, atol: 1e-4 }, 'given targets');
    const predicted = await gradCam(net, x, { layer: 'extracter' });
    expectClose(await predicted.toArray(), fixture.mapsPredicted, { rtol: 1e-4, atol: 1e-4 }, 'predicted targets');
    // No gradient reached the parameters, and nothing leaked but the two results.
    expect(net.parameters().every((p) => p.grad === null && p.requiresGrad)).toBe(true);
    x.dispose();
    given.dispose();
    predicted.dispose();
    expect(memory(gpu!).tensors).toBe(before);
    net.dispose();
  });

  it('puts ≥ 80 % of the mass on the only region that carries the class signal', async () => {
    // 32×32 noise images; class 1 has a bright 5×5 patch somewhere inside the top-left 16×16
    // quadrant, class 0 has none: only that quadrant carries the class signal. The patch keeps 2
    // pixels from the quadrant's edge; the last block's receptive field (9×9) blurs it by 4.
    const side = 32;
    const plane = 3 * side * side;
    const make = (n: number, seed: number) => {
      const rng = new Rng(seed);
      const images = new Float32Array(n * plane);
      const labels = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        labels[i] = i % 2;
        for (let p = 0; p < plane; p++) images[i * plane + p] = 0.15 * rng.normal();
        if (labels[i]) {
          const y0 = 2 + rng.int(8);
          const x0 = 2 + rng.int(8);
          for (let c = 0; c < 3; c++) for (let y = y0; y < y0 + 5; y++) for (let x = x0; x < x0 + 5; x++) images[((i * 3 + c) * side + y) * side + x] += 0.8;
        }
      }
      return { images, labels };
    };
    manualSeed(5);
    const net = new SimpleConvNet({ kernelSize: 3, channels: [8, 8, 16, 16], strides: [1, 1, 1, 1], numClasses: 2, device: gpu! });
    const opt = new Adam(net.parameters(), { lr: 0.01 });
    const train = make(512, 1);
    for (let step = 0; step < 120; step++) {
      const from = (step % 16) * 32;
      await scope(async () => {
        const x = tensor(train.images.subarray(from * plane, (from + 32) * plane), [32, 3, side, side], { device: gpu! });
        const y = tensor(train.labels.subarray(from, from + 32), [32], { device: gpu!, dtype: 'i32' });
        await crossEntropy(net.forward(x), y).backward();
        opt.step();
        opt.zeroGrad();
      });
    }
    net.eval();
    const test = make(16, 2);
    const positives = Array.from({ length: 8 }, (_, k) => 2 * k + 1);
    const images = new Float32Array(positives.length * plane);
    positives.forEach((i, k) => images.set(test.images.subarray(i * plane, (i + 1) * plane), k * plane));
    const x = tensor(images, [positives.length, 3, side, side], { device: gpu! });
    const logits = await net.forward(x).toArray();
    const correct = positives.filter((_, k) => logits[2 * k + 1] > logits[2 * k]).length;
    expect(correct).toBeGreaterThanOrEqual(7);
    const maps = await gradCam(net, x, { layer: 'extracter', targets: positives.map(() => 1) });
    const quadrant = Array.from({ length: side * side }, (_, p) => (Math.floor(p / side) < 16 && p % side < 16 ? 1 : 0));
    const mass = await heatmapMass(maps, quadrant);
    const mean = mass.reduce<number>((s, m) => s + (m ?? 0), 0) / mass.length;
    expect(mean).toBeGreaterThanOrEqual(0.8);
    x.dispose();
    maps.dispose();
    net.dispose();
    opt.dispose();
  });

  it('rejects a wrong layer, targets or input with typed errors naming the argument', async () => {
    const net = fixtureModel();
    const { side, batch } = fixture.config;
    const x = tensor(fixture.input, [batch, 3, side, side], { device: gpu! });
    await expect(gradCam(net, x, { layer: 'extractor' })).rejects.toThrow(/options\.layer.*'extractor' is not a module path.*'extracter'/);
    await expect(gradCam(net, x, { layer: 'fc' })).rejects.toThrow(/must output \[B, K, h, w\]/);
    await expect(gradCam(net, x, { layer: 'extracter', targets: [0, 1] })).rejects.toThrow(/options\.targets.*2 entries for a batch of 4/);
    await expect(gradCam(net, x, { layer: 'extracter', targets: [0, 1, 2, 9] })).rejects.toThrow(/options\.targets.*\[3\] = 9 is not a class/);
    await expect(gradCam(net, x, { layer: 'extracter', targets: [0, 1, 2, -1] })).rejects.toThrow(InvalidArgumentError);
    await expect(gradCam(net, x.reshape([batch, 3 * side * side]), { layer: 'extracter' })).rejects.toThrow(/input.*\[B, C, H, W\]/);
    // A failed call leaves the model unhooked and its parameters trainable.
    expect(Object.hasOwn(net.extracter, 'forward')).toBe(false);
    expect(net.parameters().every((p) => p.requiresGrad && p.grad === null)).toBe(true);
    x.dispose();
    net.dispose();
  });
});
