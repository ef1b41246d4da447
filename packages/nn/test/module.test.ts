import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, keep, ShapeMismatchError, tensor } from '@fairgpu/tensor';
import { BatchNorm2d, Conv2d, Dropout, LeakyReLU, Linear, manualSeed, MLP, ProjectionHead, ReLU, ResNet18, Sequential, SimpleConvNet } from '../src/index.ts';
import { expectClose } from './helpers.ts';

const device = 'cpu' as const;

describe('modules', () => {
  it('SimpleConvNet state-dict keys follow the reference code (extracter.N.*, fc.*)', () => {
    const net = new SimpleConvNet({ device });
    const keys = [...net.stateDict().keys()];
    expect(keys.slice(0, 7)).toEqual([
      'extracter.0.weight',
      'extracter.0.bias',
      'extracter.1.weight',
      'extracter.1.bias',
      'extracter.1.running_mean',
      'extracter.1.running_var',
      'extracter.1.num_batches_tracked',
    ]);
    expect(keys.at(-1)).toBe('fc.bias');
    expect(net.stateDict().get('extracter.9.weight')!.shape).toEqual([128, 64, 7, 7]);
    expect(net.parameters()).toHaveLength(4 * 4 + 2);
    expect(() => new SimpleConvNet({ kernelSize: 4 })).toThrow(InvalidArgumentError);
  });

  it('ResNet-18 (CIFAR stem) has torchvision names and parameter count', () => {
    const net = new ResNet18({ device, width: 8 });
    const keys = [...net.stateDict().keys()];
    for (const k of [
      'conv1.weight',
      'bn1.running_var',
      'layer1.0.conv1.weight',
      'layer2.0.downsample.0.weight',
      'layer2.0.downsample.1.num_batches_tracked',
      'layer4.1.bn2.bias',
      'fc.weight',
    ]) {
      expect(keys).toContain(k);
    }
    expect(keys).not.toContain('layer1.0.downsample.0.weight');
    expect(net.stateDict().get('conv1.weight')!.shape).toEqual([8, 3, 3, 3]);
    // torchvision resnet18 at width 64 has 11,173,962 parameters with 10 classes; width 8 scales it.
    const count = net.parameters().reduce((n, p) => n + p.size, 0);
    const full = new ResNet18({ device }).parameters().reduce((n, p) => n + p.size, 0);
    expect(full).toBe(11_173_962);
    expect(count).toBeLessThan(full);
  }, 30_000);

  it('PyTorch default init bounds: kaiming_uniform(a=√5) → U(±1/√fan_in), biases U(±1/√fan_in)', async () => {
    manualSeed(0);
    const conv = new Conv2d(4, 6, 3, { device });
    const w = Array.from(await conv.weight.toArray());
    const bound = 1 / Math.sqrt(4 * 9);
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.9 * bound);
    manualSeed(0);
    const again = Array.from(await new Conv2d(4, 6, 3, { device }).weight.toArray());
    expect(again).toEqual(w);
  });

  it('Linear computes x Wᵀ + b; Sequential/MLP/ProjectionHead compose with PyTorch keys', async () => {
    const lin = new Linear(3, 2, { device });
    lin.loadStateDict({ weight: tensor([1, 2, 3, 4, 5, 6], [2, 3], { device }), bias: tensor([0.5, -1], [2], { device }) });
    expectClose(await lin.forward(tensor([1, 0, -1], [1, 3], { device })).toArray(), [-1.5, -3]);
    expect([...new MLP(4, [8], 2, { device }).stateDict().keys()]).toEqual(['layers.0.weight', 'layers.0.bias', 'layers.2.weight', 'layers.2.bias']);
    expect([...new ProjectionHead(8, 4, { device }).stateDict().keys()]).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    expect(() => lin.forward(tensor([1, 2], [1, 2], { device }))).toThrow(ShapeMismatchError);
  });

  it('loadStateDict checks keys, shapes and dtypes, and keeps parameter identity', () => {
    const a = new Sequential(new Linear(2, 2, { device }), new ReLU());
    const w = a.stateDict().get('0.weight')!;
    expect(() => a.loadStateDict({})).toThrow(/missing \[0.weight, 0.bias\]/);
    expect(() => a.loadStateDict({ '0.weight': tensor([1, 2], [2], { device }), '0.bias': tensor([1, 2], [2], { device }) })).toThrow(ShapeMismatchError);
    a.loadStateDict(new Sequential(new Linear(2, 2, { device }), new ReLU()).stateDict());
    expect(a.stateDict().get('0.weight')).toBe(w);
    a.loadStateDict({ '0.bias': tensor([1, 2], [2], { device }) }, { strict: false });
  });

  it('train()/eval() switch every submodule; Dropout and LeakyReLU behave as PyTorch', async () => {
    const drop = new Dropout(0.5, { seed: 1 });
    const net = new Sequential(new BatchNorm2d(1, { device }), drop);
    net.eval();
    expect(drop.training).toBe(false);
    const x = tensor([1, 2, 3, 4], [4], { device });
    expect(Array.from(await drop.forward(x).toArray())).toEqual([1, 2, 3, 4]);
    net.train();
    const y = Array.from(await drop.forward(x).toArray());
    expect(y.every((v, i) => v === 0 || v === 2 * (i + 1))).toBe(true);
    expectClose(await new LeakyReLU(0.1).forward(tensor([-2, 3], [2], { device })).toArray(), [-0.2, 3]);
  });
});

describe('forward hooks', () => {
  it('see input and output, can replace the output, and cost nothing once removed', async () => {
    manualSeed(3);
    const net = new Sequential(new Linear(4, 3, { device }), new ReLU(), new Linear(3, 2, { device }));
    const x = tensor([[1, -2, 0.5, 3]], [1, 4], { device });
    const plain = await net.forward(x).toArray();
    const relu = net.getSubmodule('1');
    const seen: number[][] = [];
    const handle = relu.registerForwardHook((module, input, output) => {
      expect(module).toBe(relu);
      expect(input.shape).toEqual([1, 3]);
      seen.push(output.shape as number[]);
    });
    expectClose(await net.forward(x).toArray(), plain, { rtol: 1e-12, atol: 1e-12 });
    expect(seen).toEqual([[1, 3]]);
    // A replacing hook: the rest of the model sees its value.
    const zero = relu.registerForwardHook((_m, _i, output) => output.mul(0));
    const bias = await net.getSubmodule('2').stateDict().get('bias')!.toArray();
    expectClose(await net.forward(x).toArray(), bias, { rtol: 1e-12, atol: 1e-12 });
    zero.remove();
    zero.remove();
    handle.remove();
    expect(Object.hasOwn(relu, 'forward')).toBe(false);
    expectClose(await net.forward(x).toArray(), plain, { rtol: 1e-12, atol: 1e-12 });
    expect(seen).toHaveLength(2);
  });

  it('a detached replacement captures the gradient at that layer', async () => {
    manualSeed(4);
    const net = new Sequential(new Linear(3, 3, { device }), new ReLU(), new Linear(3, 1, { device }));
    let captured: import('@fairgpu/tensor').Tensor | undefined;
    const handle = net.getSubmodule('1').registerForwardHook((_m, _i, out) => (captured = keep(out.detach().requiresGrad_())));
    // keep(): Sequential runs its children in a tidy, which frees intermediates when it returns.
    const y = net.forward(tensor([[0.3, -0.1, 0.7]], [1, 3], { device }));
    await y.backward();
    handle.remove();
    // d y / d relu-output = the last layer's weight row.
    const w = await net.getSubmodule('2').stateDict().get('weight')!.toArray();
    expectClose(await captured!.grad!.toArray(), w, { rtol: 1e-12, atol: 1e-12 });
  });

  it('getSubmodule names the missing path and lists the paths', () => {
    const net = new SimpleConvNet({ device, channels: [2, 2, 2, 2], kernelSize: 3 });
    expect(net.getSubmodule('extracter')).toBe(net.extracter);
    expect(() => net.getSubmodule('extractor')).toThrow(/'extractor' is not a module path.*'extracter'/);
    expect(() => net.registerForwardHook(42 as never)).toThrow(InvalidArgumentError);
  });
});
