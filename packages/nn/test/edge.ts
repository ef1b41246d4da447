import { expect } from 'vitest';
import {
  CpuBackend,
  DeviceMismatchError,
  DisposedTensorError,
  DtypeMismatchError,
  InvalidArgumentError,
  memory,
  NonFiniteError,
  ShapeMismatchError,
  tensor,
  type Backend,
  type Tensor,
} from '@fairgpu/tensor';
import {
  Adam,
  AdamW,
  AvgPool2d,
  BatchNorm1d,
  BatchNorm2d,
  conv2d,
  Conv2d,
  CosineAnnealingLR,
  decodeSafetensors,
  Dropout,
  LinearWarmup,
  Linear,
  maxPool2d,
  MaxPool2d,
  MLP,
  ProjectionHead,
  ResNet18,
  SafetensorsError,
  safetensorsToStateDict,
  SGD,
  SimpleConvNet,
  StepLR,
  trainLoop,
  uniformInit,
  type LoopOptions,
} from '../src/index.ts';

/**
 * Bad input and numerical edges of @fairgpu/nn, one row each: the action must throw `error` with a
 * message matching `message` (which names the argument and the rule), leave memory() where it was
 * before the action, and leave the objects it was given unchanged (`unchanged`, read after the
 * error). `setup` builds what the action needs before the baseline is taken; `dispose` frees it.
 */
export interface ErrorCase {
  name: string;
  setup?(device: Backend): Fixture;
  error: new (...args: never[]) => Error;
  message: RegExp;
}

export interface Fixture {
  act(): unknown;
  /** Throws (via expect) when the state the action was given changed. */
  unchanged?(): Promise<void> | void;
  dispose?(): void;
}

/**
 * Runs one row on `device`: the action throws `c.error` matching `c.message`, memory() is back at
 * the baseline taken after setup, and the fixture's state is unchanged (shared by the CPU and GPU
 * suites).
 */
export async function expectErrorCase(c: ErrorCase, device: Backend): Promise<void> {
  const fixture = c.setup?.(device) ?? { act: () => undefined };
  const before = memory(device);
  let error: unknown = null;
  try {
    await fixture.act();
  } catch (e) {
    error = e;
  }
  expect(error, 'no error was thrown').toBeInstanceOf(c.error);
  expect((error as Error).message).toMatch(c.message);
  const after = memory(device);
  expect({ tensors: after.tensors, bytesInUse: after.bytesInUse }).toEqual({ tensors: before.tensors, bytesInUse: before.bytesInUse });
  await fixture.unchanged?.();
  fixture.dispose?.();
}

/** A second CPU backend: tensors on it are on "another device" for the unit tests. */
export const otherDevice = new CpuBackend();

const read = async (t: Tensor) => Array.from(await t.toArray());

function assertEqual(actual: unknown, expected: unknown, what: string): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) throw new Error(`${what} changed: ${JSON.stringify(expected)} → ${JSON.stringify(actual)}`);
}

/** A Linear(3, 2) with known weights and a snapshot check of them. */
function linear(device: Backend) {
  const lin = new Linear(3, 2, { device });
  lin.loadStateDict({ weight: [1, 2, 3, 4, 5, 6], bias: [0.5, -1] });
  return {
    lin,
    async unchanged() {
      assertEqual(await read(lin.weight), [1, 2, 3, 4, 5, 6], 'weight');
      assertEqual(await read(lin.bias!), [0.5, -1], 'bias');
    },
  };
}

const construct =
  (act: (device: Backend) => unknown) =>
  (device: Backend): Fixture => ({ act: () => act(device) });

/** A safetensors file from a header object and data bytes, exactly as given. */
export function file(header: unknown, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

function loop(device: Backend, overrides: Partial<LoopOptions<number>> & Record<string, unknown>): LoopOptions<number> {
  return {
    epochs: 2,
    stepsPerEpoch: 3,
    batchSize: 1,
    logEvery: 1,
    batch: (_e, i) => i,
    step: (b) => tensor([b], [], { device }).mul(2),
    ...overrides,
  } as LoopOptions<number>;
}

export function errorCases(): ErrorCase[] {
  return [
    // Unknown option keys: a typed error naming the key, suggesting the known one, listing them all.
    {
      name: 'Linear misspelt option',
      setup: construct((device) => new Linear(3, 2, { device, bais: false } as never)),
      error: InvalidArgumentError,
      message: /Linear: argument 'options' unknown option 'bais' \(did you mean 'bias'\?\); known options: device, rng, bias/,
    },
    {
      name: 'Conv2d misspelt option',
      setup: construct((device) => new Conv2d(3, 4, 3, { device, strid: 2 } as never)),
      error: InvalidArgumentError,
      message: /Conv2d: .*unknown option 'strid' \(did you mean 'stride'\?\)/,
    },
    {
      name: 'BatchNorm2d misspelt option',
      setup: construct((device) => new BatchNorm2d(4, { device, momentun: 0.5 } as never)),
      error: InvalidArgumentError,
      message: /BatchNorm2d: .*unknown option 'momentun'.*known options: eps, momentum, affine, device/,
    },
    {
      name: 'BatchNorm1d misspelt option',
      setup: construct((device) => new BatchNorm1d(4, { device, affline: false } as never)),
      error: InvalidArgumentError,
      message: /BatchNorm1d: .*'affline'/,
    },
    {
      name: 'Dropout misspelt option',
      setup: construct(() => new Dropout(0.5, { sead: 1 } as never)),
      error: InvalidArgumentError,
      message: /Dropout: .*unknown option 'sead'/,
    },
    {
      name: 'Dropout NaN seed',
      setup: construct(() => new Dropout(0.5, { seed: NaN })),
      error: InvalidArgumentError,
      message: /Dropout: argument 'options.seed' must be an integer, got NaN/,
    },
    {
      name: 'MaxPool2d misspelt option',
      setup: construct(() => new MaxPool2d(2, { strides: 2 } as never)),
      error: InvalidArgumentError,
      message: /MaxPool2d: .*unknown option 'strides' \(did you mean 'stride'\?\)/,
    },
    {
      name: 'AvgPool2d bad stride',
      setup: construct(() => new AvgPool2d(2, { stride: 0 })),
      error: InvalidArgumentError,
      message: /AvgPool2d: argument 'stride'/,
    },
    {
      name: 'SimpleConvNet misspelt option',
      setup: construct((device) => new SimpleConvNet({ device, numClass: 2 } as never)),
      error: InvalidArgumentError,
      message: /SimpleConvNet: .*'numClass' \(did you mean 'numClasses'\?\)/,
    },
    {
      name: 'SimpleConvNet negative numClasses',
      setup: construct((device) => new SimpleConvNet({ device, channels: [2], numClasses: -1 })),
      error: InvalidArgumentError,
      message: /SimpleConvNet: argument 'options.numClasses'/,
    },
    {
      name: 'SimpleConvNet bad last stride allocates nothing',
      setup: construct((device) => new SimpleConvNet({ device, channels: [2, 2, 2], strides: [1, 1, 0] })),
      error: InvalidArgumentError,
      message: /SimpleConvNet: argument 'options.strides\[2\]' must be a positive integer, got 0/,
    },
    {
      name: 'MLP bad last width allocates nothing',
      setup: construct((device) => new MLP(4, [8, 8], 0, { device })),
      error: InvalidArgumentError,
      message: /MLP: argument 'outFeatures'/,
    },
    {
      name: 'ProjectionHead bad output width allocates nothing',
      setup: construct((device) => new ProjectionHead(8, 0, { device })),
      error: InvalidArgumentError,
      message: /ProjectionHead: argument 'outFeatures'/,
    },
    {
      name: 'ResNet18 bad numClasses allocates nothing',
      setup: construct((device) => new ResNet18({ device, width: 2, numClasses: 1.5 })),
      error: InvalidArgumentError,
      message: /ResNet18: argument 'options.numClasses'/,
    },
    {
      name: 'MLP misspelt option',
      setup: construct((device) => new MLP(4, [8], 2, { device, batchnorm: true } as never)),
      error: InvalidArgumentError,
      message: /MLP: .*'batchnorm' \(did you mean 'batchNorm'\?\)/,
    },
    {
      name: 'ProjectionHead misspelt option',
      setup: construct((device) => new ProjectionHead(8, 4, { devices: device } as never)),
      error: InvalidArgumentError,
      message: /ProjectionHead: .*'devices'/,
    },
    {
      name: 'ResNet18 misspelt option',
      setup: construct((device) => new ResNet18({ device, widht: 8 } as never)),
      error: InvalidArgumentError,
      message: /ResNet18: .*'widht' \(did you mean 'width'\?\)/,
    },
    {
      name: 'uniformInit misspelt option',
      setup: construct((device) => uniformInit([2], 1, { device, rgn: null } as never)),
      error: InvalidArgumentError,
      message: /uniformInit: .*'rgn'/,
    },
    {
      name: 'uniformInit NaN bound',
      setup: construct((device) => uniformInit([2], NaN, { device })),
      error: InvalidArgumentError,
      message: /uniformInit: argument 'bound'/,
    },
    {
      name: 'conv2d misspelt option',
      setup: (device) => {
        const x = tensor(new Float32Array(2 * 3 * 4 * 4), [2, 3, 4, 4], { device });
        const w = tensor(new Float32Array(4 * 3 * 3 * 3), [4, 3, 3, 3], { device });
        return { act: () => conv2d(x, w, null, { pading: 1 } as never), dispose: () => [x, w].forEach((t) => t.dispose()) };
      },
      error: InvalidArgumentError,
      message: /conv2d: .*'pading' \(did you mean 'padding'\?\)/,
    },
    {
      name: 'maxPool2d misspelt option',
      setup: (device) => {
        const x = tensor(new Float32Array(16), [1, 1, 4, 4], { device });
        return { act: () => maxPool2d(x, 2, { paddin: 0 } as never), dispose: () => x.dispose() };
      },
      error: InvalidArgumentError,
      message: /maxPool2d: .*'paddin'/,
    },
    {
      name: 'SGD misspelt option',
      setup: (device) => param(device, (p) => new SGD([p], { lr: 0.1, momentun: 0.9 } as never)),
      error: InvalidArgumentError,
      message: /SGD: .*'momentun' \(did you mean 'momentum'\?\); known options: lr, fused, momentum, dampening, weightDecay, nesterov/,
    },
    {
      name: 'SGD without options',
      setup: (device) => param(device, (p) => new SGD([p], undefined as never)),
      error: InvalidArgumentError,
      message: /SGD: argument 'options' must be an object with at least lr/,
    },
    {
      name: 'Adam misspelt option',
      setup: (device) => param(device, (p) => new Adam([p], { lr: 0.1, weight_decay: 0.1 } as never)),
      error: InvalidArgumentError,
      message: /Adam: .*'weight_decay'.*known options: lr, fused, betas, eps, weightDecay/,
    },
    {
      name: 'AdamW misspelt option',
      setup: (device) => param(device, (p) => new AdamW([p], { beta: [0.9, 0.99] } as never)),
      error: InvalidArgumentError,
      message: /AdamW: .*'beta' \(did you mean 'betas'\?\)/,
    },
    {
      name: 'Adam fused not a boolean',
      setup: (device) => param(device, (p) => new Adam([p], { fused: 'no' as never })),
      error: InvalidArgumentError,
      message: /Adam: argument 'fused' must be a boolean/,
    },
    {
      name: 'Adam infinite eps',
      setup: (device) => param(device, (p) => new Adam([p], { eps: Infinity })),
      error: InvalidArgumentError,
      message: /Adam: argument 'eps'/,
    },
    {
      name: 'trainLoop misspelt option',
      setup: (device) => ({ act: () => trainLoop(loop(device, { logevery: 5 })) }),
      error: InvalidArgumentError,
      message: /trainLoop: .*'logevery' \(did you mean 'logEvery'\?\)/,
    },
    {
      name: 'trainLoop NaN maxSteps',
      setup: (device) => ({ act: () => trainLoop(loop(device, { maxSteps: NaN })) }),
      error: InvalidArgumentError,
      message: /trainLoop: argument 'options.maxSteps'/,
    },
    {
      name: 'trainLoop fractional start',
      setup: (device) => ({ act: () => trainLoop(loop(device, { start: { epoch: 0.5, index: 0, globalStep: 0 } })) }),
      error: InvalidArgumentError,
      message: /trainLoop: argument 'options.start'/,
    },

    // Optimizers and schedules: no NaN learning rate, no partial step.
    {
      name: 'optimizer lr set to NaN after construction',
      setup: (device) => {
        const p = tensor([1, 2], [2], { device, requiresGrad: true });
        const opt = new SGD([p], { lr: 0.1 });
        return {
          act: () => {
            opt.lr = NaN;
          },
          unchanged: () => assertEqual(opt.lr, 0.1, 'lr'),
          dispose: () => p.dispose(),
        };
      },
      error: InvalidArgumentError,
      message: /SGD: argument 'lr' must be a finite number ≥ 0, got NaN/,
    },
    {
      name: 'optimizer step with a gradient on another device updates nothing',
      setup: (device) => {
        const a = tensor([1, 2], [2], { device, requiresGrad: true });
        const b = tensor([3], [1], { device, requiresGrad: true });
        const opt = new SGD([a, b], { lr: 0.5, momentum: 0.9 });
        a.grad = tensor([1, 1], [2], { device });
        b.grad = tensor([1], [1], { device: otherDevice });
        return {
          act: () => opt.step(),
          async unchanged() {
            assertEqual(await read(a), [1, 2], 'params[0]');
            assertEqual(opt.stepCount, 0, 'stepCount');
            assertEqual(opt.stateDict().tensors.size, 0, 'optimizer state');
          },
          dispose: () => {
            b.grad?.dispose();
            b.grad = null;
            [a, b].forEach((t) => t.dispose());
          },
        };
      },
      error: DeviceMismatchError,
      message: /SGD\.step: device mismatch in 'params\[1\]\.grad'/,
    },
    {
      name: 'optimizer step with a gradient of the wrong shape',
      setup: (device) => {
        const a = tensor([1, 2], [2], { device, requiresGrad: true });
        const opt = new Adam([a], { lr: 0.5 });
        a.grad = tensor([1, 1, 1], [3], { device });
        return { act: () => opt.step(), unchanged: async () => assertEqual(await read(a), [1, 2], 'params[0]'), dispose: () => a.dispose() };
      },
      error: ShapeMismatchError,
      message: /Adam\.step: shape mismatch in 'params\[0\]\.grad'/,
    },
    {
      name: 'optimizer loadStateDict with a NaN lr keeps the old state',
      setup: (device) => {
        const p = tensor([1, 2], [2], { device, requiresGrad: true });
        const opt = new SGD([p], { lr: 0.1, momentum: 0.9 });
        p.grad = tensor([1, 1], [2], { device });
        opt.step();
        const saved = opt.stateDict();
        const copy = new Map([...saved.tensors].map(([k, t]) => [k, t.mul(3)]));
        return {
          act: () => opt.loadStateDict({ tensors: copy, scalars: { lr: NaN, step: 1 } }),
          async unchanged() {
            assertEqual(await read(opt.stateDict().tensors.get('state.0.momentum_buffer')!), [1, 1], 'momentum_buffer');
            assertEqual(opt.lr, 0.1, 'lr');
          },
          dispose: () => {
            for (const t of copy.values()) t.dispose();
            opt.dispose();
            p.dispose();
          },
        };
      },
      error: InvalidArgumentError,
      message: /SGD\.loadStateDict: argument 'scalars\.lr'/,
    },
    {
      name: 'optimizer loadStateDict with a state name of another optimizer',
      setup: (device) => {
        const p = tensor([1, 2], [2], { device, requiresGrad: true });
        const opt = new SGD([p], { lr: 0.1, momentum: 0.9 });
        const t = tensor([1, 1], [2], { device });
        return {
          act: () => opt.loadStateDict({ tensors: new Map([['state.0.exp_avg', t]]), scalars: { lr: 0.1, step: 1 } }),
          dispose: () => [p, t].forEach((x) => x.dispose()),
        };
      },
      error: InvalidArgumentError,
      message: /SGD\.loadStateDict: argument 'state\.0\.exp_avg' is not a state key of this optimizer \(state\.<0\.\.0>\.<momentum_buffer>\)/,
    },
    {
      name: 'scheduler whose schedule gives NaN changes nothing',
      setup: (device) => {
        const p = tensor([1], [1], { device, requiresGrad: true });
        const opt = new SGD([p], { lr: 1 });
        const s = new LinearWarmup(opt, 1, () => NaN);
        return {
          act: () => s.step(),
          unchanged() {
            assertEqual(s.lastStep, 0, 'lastStep');
            assertEqual(opt.lr, 0.1, 'lr');
          },
          dispose: () => p.dispose(),
        };
      },
      error: InvalidArgumentError,
      message: /LinearWarmup: argument 'lr' schedule gives NaN at step 1/,
    },
    {
      name: 'CosineAnnealingLR infinite etaMin',
      setup: (device) => param(device, (p) => new CosineAnnealingLR(new SGD([p], { lr: 1 }), 4, Infinity)),
      error: InvalidArgumentError,
      message: /CosineAnnealingLR: argument 'etaMin'/,
    },
    {
      name: 'scheduler loadStateDict misspelt key',
      setup: (device) => param(device, (p) => new StepLR(new SGD([p], { lr: 1 }), 2).loadStateDict({ lastStep: 1, last_step: 2 } as never)),
      error: InvalidArgumentError,
      message: /StepLR\.loadStateDict: .*'last_step'/,
    },

    // loadStateDict: validated as a whole before anything is copied.
    {
      name: 'loadStateDict: a DeviceMismatchError on bias leaves weight unchanged',
      setup: (device) => {
        const { lin, unchanged } = linear(device);
        const w = tensor([9, 9, 9, 9, 9, 9], [2, 3], { device });
        const b = tensor([9, 9], [2], { device: otherDevice });
        return {
          act: () => lin.loadStateDict({ weight: w, bias: b }),
          unchanged,
          dispose: () => {
            lin.dispose();
            w.dispose();
            b.dispose();
          },
        };
      },
      error: DeviceMismatchError,
      message: /loadStateDict: device mismatch in 'bias'/,
    },
    {
      name: 'loadStateDict: a dtype error on bias leaves weight unchanged',
      setup: (device) => {
        const { lin, unchanged } = linear(device);
        return {
          act: () => lin.loadStateDict({ weight: new Float32Array(6).fill(9), bias: Int32Array.from([1, 2]) }),
          unchanged,
          dispose: () => lin.dispose(),
        };
      },
      error: DtypeMismatchError,
      message: /loadStateDict: dtype mismatch in 'bias': expected f32, got i32/,
    },
    {
      name: 'loadStateDict(null)',
      setup: (device) => {
        const { lin, unchanged } = linear(device);
        return { act: () => lin.loadStateDict(null as never), unchanged, dispose: () => lin.dispose() };
      },
      error: InvalidArgumentError,
      message: /loadStateDict: argument 'state' must be a Map or an object of tensors \/ host arrays, got null/,
    },
    {
      name: 'loadStateDict: a host array of the wrong length',
      setup: (device) => {
        const { lin, unchanged } = linear(device);
        return { act: () => lin.loadStateDict({ weight: new Float32Array(5), bias: new Float32Array(2) }), unchanged, dispose: () => lin.dispose() };
      },
      error: ShapeMismatchError,
      message: /loadStateDict: shape mismatch in 'weight': has 5 values, the target \[2, 3\] holds 6/,
    },
    {
      name: 'loadStateDict: a NaN in a host array names the key',
      setup: (device) => {
        const { lin, unchanged } = linear(device);
        return { act: () => lin.loadStateDict({ weight: new Float32Array(6), bias: Float32Array.from([0, NaN]) }), unchanged, dispose: () => lin.dispose() };
      },
      error: NonFiniteError,
      message: /loadStateDict: argument 'bias' contains NaN at flat index 1/,
    },
    {
      name: 'loadStateDict: an f64 host value beyond the f32 range',
      setup: (device) => {
        const { lin, unchanged } = linear(device);
        return { act: () => lin.loadStateDict({ weight: Float64Array.from([0, 0, 0, 0, 0, 1e39]), bias: [0, 0] }), unchanged, dispose: () => lin.dispose() };
      },
      error: NonFiniteError,
      message: /loadStateDict: argument 'weight' value 1e\+39 at flat index 5 is beyond the f32 range/,
    },
    {
      name: 'loadStateDict: a value that is not a tensor or host array',
      setup: (device) => {
        const { lin, unchanged } = linear(device);
        return { act: () => lin.loadStateDict({ weight: 'w' as never, bias: [0, 0] }), unchanged, dispose: () => lin.dispose() };
      },
      error: InvalidArgumentError,
      message: /loadStateDict: argument 'weight' must be a Tensor, a HostArray/,
    },
    {
      name: 'loadStateDict: a disposed source tensor',
      setup: (device) => {
        const { lin, unchanged } = linear(device);
        const w = tensor(new Float32Array(6), [2, 3], { device });
        w.dispose();
        return { act: () => lin.loadStateDict({ weight: w, bias: [0, 0] }), unchanged, dispose: () => lin.dispose() };
      },
      error: DisposedTensorError,
      message: /loadStateDict: argument 'weight' is a disposed tensor/,
    },
    {
      name: 'loadStateDict misspelt option',
      setup: (device) => {
        const { lin, unchanged } = linear(device);
        return { act: () => lin.loadStateDict({ bias: [0, 0] }, { stict: false } as never), unchanged, dispose: () => lin.dispose() };
      },
      error: InvalidArgumentError,
      message: /loadStateDict: .*'stict' \(did you mean 'strict'\?\)/,
    },

    // Forward validation names the layer's argument, before anything is allocated.
    {
      name: 'Linear.forward of a 1-D input names x',
      setup: (device) => {
        const { lin } = linear(device);
        const x = tensor([1, 2, 3], [3], { device });
        return {
          act: () => lin.forward(x),
          dispose: () => {
            lin.dispose();
            x.dispose();
          },
        };
      },
      error: ShapeMismatchError,
      message: /Linear: shape mismatch in 'x': must have rank ≥ 2/,
    },
    {
      name: 'Linear.forward of an input on another device names x',
      setup: (device) => {
        const { lin } = linear(device);
        const x = tensor([1, 2, 3], [1, 3], { device: otherDevice });
        return {
          act: () => lin.forward(x),
          dispose: () => {
            lin.dispose();
            x.dispose();
          },
        };
      },
      error: DeviceMismatchError,
      message: /Linear: device mismatch in 'x'/,
    },
    {
      name: 'Linear.forward of an i32 input names x',
      setup: (device) => {
        const { lin } = linear(device);
        const x = tensor([1, 2, 3], [1, 3], { device, dtype: 'i32' });
        return {
          act: () => lin.forward(x),
          dispose: () => {
            lin.dispose();
            x.dispose();
          },
        };
      },
      error: DtypeMismatchError,
      message: /Linear: dtype mismatch in 'x': must be f32, got i32/,
    },
    {
      name: 'Conv2d.forward of a non-tensor names x',
      setup: (device) => {
        const conv = new Conv2d(1, 1, 1, { device });
        return { act: () => conv.forward([1, 2] as never), dispose: () => conv.dispose() };
      },
      error: InvalidArgumentError,
      message: /Conv2d: argument 'x' must be a Tensor, got object/,
    },
    {
      name: 'BatchNorm2d.forward of a rank-2 input names x',
      setup: (device) => {
        const bn = new BatchNorm2d(3, { device });
        const x = tensor(new Float32Array(6), [2, 3], { device });
        return {
          act: () => bn.forward(x),
          dispose: () => {
            bn.dispose();
            x.dispose();
          },
        };
      },
      error: ShapeMismatchError,
      message: /BatchNorm2d: shape mismatch in 'x'/,
    },
    {
      name: 'BatchNorm1d without affine: one value per channel in training',
      setup: (device) => {
        const bn = new BatchNorm1d(3, { device, affine: false });
        const x = tensor(new Float32Array(3), [1, 3], { device });
        return {
          act: () => bn.forward(x),
          dispose: () => {
            bn.dispose();
            x.dispose();
          },
        };
      },
      error: InvalidArgumentError,
      message: /BatchNorm1d: argument 'x' needs more than one value per channel/,
    },
    {
      name: 'Dropout.forward of a disposed tensor names x',
      setup: (device) => {
        const d = new Dropout(0.5);
        const x = tensor([1], [1], { device });
        x.dispose();
        return { act: () => d.forward(x) };
      },
      error: DisposedTensorError,
      message: /Dropout: argument 'x' is a disposed tensor/,
    },

    // safetensors: the reference reader's rules, and no silent narrowing.
    {
      name: 'safetensors: F64 value beyond f32 is an error, not Infinity',
      setup: () => {
        const data = new Uint8Array(16);
        new DataView(data.buffer).setFloat64(0, 0.5, true);
        new DataView(data.buffer).setFloat64(8, 1e39, true);
        return { act: () => decodeSafetensors(file({ a: { dtype: 'F64', shape: [2], data_offsets: [0, 16] } }, data)) };
      },
      error: SafetensorsError,
      message: /'a' F64 value 1e\+39 at flat index 1 is beyond the f32 range/,
    },
    {
      name: 'safetensors: trailing bytes after the last tensor',
      setup: construct(() => decodeSafetensors(file({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32Bytes([1, 2])))),
      error: SafetensorsError,
      message: /4 trailing bytes after the last tensor/,
    },
    {
      name: 'safetensors: trailing bytes without any tensor',
      setup: construct(() => decodeSafetensors(file({}, new Uint8Array(3)))),
      error: SafetensorsError,
      message: /3 trailing bytes/,
    },
    {
      name: 'safetensors: a gap between tensors',
      setup: construct(() =>
        decodeSafetensors(
          file({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, f32Bytes([1, 2, 3])),
        ),
      ),
      error: SafetensorsError,
      message: /'b' data_offsets \[8, 12\] leave a gap of 4 bytes after offset 4/,
    },
    {
      name: 'safetensors: the first tensor does not start at 0',
      setup: construct(() => decodeSafetensors(file({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f32Bytes([1, 2])))),
      error: SafetensorsError,
      message: /'a' data_offsets \[4, 8\] leave a gap of 4 bytes after offset 0/,
    },
    {
      name: 'safetensors: a NaN in the file names the key and creates no tensor',
      setup: (device) => ({
        act: () =>
          safetensorsToStateDict(
            file(
              { 'fc.weight': { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, 'fc.bias': { dtype: 'F32', shape: [1], data_offsets: [4, 8] } },
              f32Bytes([1, NaN]),
            ),
            device,
          ),
      }),
      error: NonFiniteError,
      message: /safetensorsToStateDict: argument 'fc\.bias' contains NaN at flat index 0/,
    },

    // The training loop frees its running loss when a step throws, and checks what step returns.
    {
      name: 'trainLoop: a step that throws on step 4 leaves memory flat',
      setup: (device) => ({
        act: () =>
          trainLoop(
            loop(device, {
              step: (b, pos) => {
                if (pos.globalStep === 4) throw new RangeError('boom');
                return tensor([b], [], { device }).mul(2);
              },
            }),
          ),
      }),
      error: RangeError,
      message: /boom/,
    },
    {
      name: 'trainLoop: step returns a non-scalar',
      setup: (device) => ({ act: () => trainLoop(loop(device, { step: () => tensor([1, 2], [2], { device }) })) }),
      error: InvalidArgumentError,
      message: /trainLoop: argument 'options.step' must return a scalar loss, got shape \[2\]/,
    },
    {
      name: 'trainLoop: step returns a number',
      setup: (device) => ({ act: () => trainLoop(loop(device, { step: () => 1 as never })) }),
      error: InvalidArgumentError,
      message: /trainLoop: argument 'options.step' must return the loss tensor, got number/,
    },
    {
      name: 'trainLoop: onProgress that throws leaves memory flat',
      setup: (device) => ({
        act: () =>
          trainLoop(
            loop(device, {
              onProgress: (e) => {
                if (e.type === 'step' && e.globalStep === 2) throw new RangeError('progress');
              },
            }),
          ),
      }),
      error: RangeError,
      message: /progress/,
    },
  ];
}

/** A parameter for optimizer / scheduler constructors; the action is `make(p)`. */
function param(device: Backend, make: (p: Tensor) => unknown): Fixture {
  const p = tensor([1, 2], [2], { device, requiresGrad: true });
  return { act: () => make(p), dispose: () => p.dispose() };
}
