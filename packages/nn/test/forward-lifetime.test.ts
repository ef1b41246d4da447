import { describe, expect, it } from 'vitest';
import { memory, randn, type Device, type Tensor } from '@fairgpu/tensor';
import { BatchNorm1d, Dropout, LeakyReLU, Linear, MLP, ProjectionHead, ReLU, Sequential, SimpleConvNet, type Module } from '../src/index.ts';

/**
 * Memory rule 3 for modules: with no scope open, a forward pass whose output the caller disposes
 * by hand (after a backward or not) leaves no tensor behind — a module's intermediates do not
 * hold the graph (docs/architecture.md). Counted with memory().tensors on the CPU backend.
 */
const device: Device = 'cpu';

const cases: [string, () => Module, number[]][] = [
  ['Linear', () => new Linear(6, 4, { device }), [5, 6]],
  ['Sequential(Linear, ReLU, Linear)', () => new Sequential(new Linear(6, 8, { device }), new ReLU(), new Linear(8, 3, { device })), [5, 6]],
  ['MLP with batch norm', () => new MLP(6, [8, 8], 3, { device, batchNorm: true }), [5, 6]],
  ['ProjectionHead', () => new ProjectionHead(6, 4, { device }), [5, 6]],
  ['BatchNorm1d', () => new BatchNorm1d(6, { device }), [5, 6]],
  ['LeakyReLU', () => new LeakyReLU(0.1), [5, 6]],
  ['Dropout (training)', () => new Dropout(0.5, { seed: 1 }), [5, 6]],
  ['SimpleConvNet', () => new SimpleConvNet({ device, kernelSize: 3, channels: [2, 3, 3, 4], strides: [2, 2, 1, 1] }), [2, 3, 8, 8]],
];

describe('module forward without a scope, output disposed by hand', () => {
  for (const [name, make, shape] of cases) {
    it(`${name}: no tensor left, with and without backward`, async () => {
      const m = make();
      const x = randn(shape, { device, seed: 3, requiresGrad: true });
      const before = memory(device).tensors;
      for (let i = 0; i < 3; i++) {
        const y: Tensor = m.forward(x);
        y.dispose();
      }
      expect(memory(device).tensors, 'forward only').toBe(before);
      for (let i = 0; i < 2; i++) {
        const y: Tensor = m.forward(x);
        const l = y.mean();
        await l.backward();
        l.dispose();
        y.dispose();
        x.zeroGrad();
        for (const p of m.parameters()) p.zeroGrad();
      }
      expect(memory(device).tensors, 'forward + backward').toBe(before);
      x.dispose();
      m.dispose();
    });
  }
});
