/**
 * The main job's two quick training steps (tools/cli's biased-mnist job, QUICK protocol), built
 * from a given set of libraries so that tools can time this checkout's packages or another
 * checkout's (step-ab.ts loads both):
 *  - 'ce': SimpleConvNet, Adam (lr 1e-3, wd 1e-4) + cross-entropy;
 *  - 'fairkl': the tanh-last encoder with SGD on α·ε-SupInfoNCE + λ·FairKL (released variants),
 *    and a linear classifier on its detached, normalised features with Adam.
 * `mark` is awaited after each phase (profile-step.ts syncs there); the step returns its loss.
 */
import type * as Losses from '@fairgpu/losses';
import type * as Nn from '@fairgpu/nn';
import type * as TensorLib from '@fairgpu/tensor';
import type { Tensor } from '@fairgpu/tensor';
import type { QUICK } from '../../packages/cli/src/experiments/biased-mnist/config.ts';

export interface StepLibraries {
  T: typeof TensorLib;
  N: typeof Nn;
  L: typeof Losses;
  quick: typeof QUICK;
}

export type Phase = 'forward' | 'loss' | 'backward' | 'optimizer';

export interface QuickBatch {
  labels: Int32Array;
  biasLabels: Int32Array;
}

export interface QuickModel {
  /** One step on images x [B, 3, 28, 28]; `y` is the labels as an i32 tensor (made from batch.labels when absent). */
  step(x: Tensor, batch: QuickBatch, mark?: (phase: Phase) => Promise<void>, y?: Tensor): Promise<Tensor>;
  dispose(): void;
}

export function quickModel(
  kind: 'ce' | 'fairkl',
  libs: StepLibraries,
  shape: { kernelSize: number; channels: readonly number[]; strides: readonly number[] },
): QuickModel {
  const { T, N, L } = libs;
  const noMark = async () => {};
  const labelsOf = (batch: QuickBatch, y?: Tensor) => y ?? T.tensor(batch.labels, [batch.labels.length], { dtype: 'i32' });
  if (kind === 'ce') {
    N.manualSeed(0);
    const net = new N.SimpleConvNet(shape);
    const opt = new N.Adam(net.parameters(), { lr: 1e-3, weightDecay: 1e-4 });
    return {
      dispose: () => {
        net.dispose();
        opt.dispose();
      },
      async step(x, batch, mark = noMark, y) {
        const logits = net.forward(x);
        await mark('forward');
        const loss = T.crossEntropy(logits, labelsOf(batch, y));
        await mark('loss');
        await loss.backward();
        await mark('backward');
        opt.step();
        opt.zeroGrad();
        await mark('optimizer');
        return loss;
      },
    };
  }
  N.manualSeed(1);
  const f = libs.quick.fairkl;
  const encoder = new N.SimpleConvNet({ ...shape, tanhLast: true, numClasses: 0 });
  const classifier = new N.Linear(encoder.featureDim, 10);
  const opt = new N.SGD(encoder.parameters(), { lr: f.lr, momentum: f.momentum, weightDecay: f.weightDecay });
  const clfOpt = new N.Adam(classifier.parameters(), { lr: f.classifierLr });
  return {
    dispose: () => {
      encoder.dispose();
      classifier.dispose();
      opt.dispose();
      clfOpt.dispose();
    },
    async step(x, batch, mark = noMark, y) {
      const features = encoder.features(x);
      await mark('forward');
      const contrastive = L.epsSupInfoNCE(features, batch, { temperature: f.temperature, epsilon: f.epsilon, variant: 'released' });
      const fair = L.fairKL(features, batch, { temperature: f.fairklTemperature, variant: 'released' });
      const ce = T.crossEntropy(classifier.forward(features.detach().normalize(-1)), labelsOf(batch, y));
      const total = contrastive.mul(f.alpha).add(fair.mul(f.lambda)).add(ce);
      await mark('loss');
      await total.backward();
      await mark('backward');
      opt.step();
      clfOpt.step();
      opt.zeroGrad();
      clfOpt.zeroGrad();
      await mark('optimizer');
      return total;
    },
  };
}
