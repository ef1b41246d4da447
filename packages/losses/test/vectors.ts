import { readFileSync } from 'node:fs';
import { InvalidArgumentError, tensor, tidy, type Device, type Tensor } from '@fairgpu/tensor';
import { contrastiveRowStats, pairMoments } from '@fairgpu/kernels';
import { cosineSimilarity, l2Normalize, lossRegistry, maskedLogSumExp, softmaxCrossEntropy, type Impl, type LossBatch } from '../src/index.ts';

/** The reference vectors (spec/losses.md, "Test-vector format"), copied into fixtures/. */
export interface Vector {
  name: string;
  loss: string;
  params: Record<string, number | string | boolean>;
  features: number[][];
  labels?: number[];
  bias_labels?: number[];
  targets?: number[];
  mask?: number[][];
  upstream_grad?: number[] | number[][];
  expected_loss: number | null;
  expected_grad: number[][] | null;
  expected_output?: number[] | number[][];
  expected_nonfinite?: string;
  notes?: string;
}

const fixtures = new URL('./fixtures/', import.meta.url);

export function loadVectors(manifest = 'manifest.json'): Vector[] {
  const list = JSON.parse(readFileSync(new URL(manifest, fixtures), 'utf8')) as { file: string }[];
  return list.map((e) => JSON.parse(readFileSync(new URL(e.file, fixtures), 'utf8')) as Vector);
}

/** Spec tolerance: |got − exp| ≤ 1e-4·max(1, |exp|). */
export function lossTolerance(expected: number): number {
  return 1e-4 * Math.max(1, Math.abs(expected));
}

/** Spec tolerance: max|g − g_exp| ≤ 1e-4·max(1, max|g_exp|). */
export function maxGradError(got: ArrayLike<number>, expected: readonly number[]): { err: number; tol: number } {
  let err = 0;
  let mx = 0;
  for (let i = 0; i < expected.length; i++) {
    err = Math.max(err, Math.abs(got[i] - expected[i]));
    if (!Number.isFinite(got[i])) err = Infinity;
    mx = Math.max(mx, Math.abs(expected[i]));
  }
  return { err, tol: 1e-4 * Math.max(1, mx) };
}

const num = (v: unknown) => v as number;

/** The vector's batch: per-sample arrays (validated on the host) and n_views. */
export function batchOf(v: Vector): LossBatch {
  return {
    ...(v.labels ? { labels: v.labels } : {}),
    ...(v.bias_labels ? { biasLabels: v.bias_labels } : {}),
    ...(v.targets ? { targets: v.targets } : {}),
    ...(v.params.n_views !== undefined ? { nViews: num(v.params.n_views) } : {}),
  };
}

/** The vector's loss as a call through `lossRegistry` (snake_case params → camelCase options). */
export function lossOf(v: Vector, impl: Impl): (x: Tensor) => Tensor {
  const p = v.params;
  const variant = (p.variant as string | undefined) ?? 'released';
  const common = { variant, impl };
  const temp = { temperature: p.temperature, ...(p.base_temperature !== undefined ? { baseTemperature: p.base_temperature } : {}) };
  const batch = batchOf(v);
  const fairklOptions = (temperature: unknown) => ({
    ...common,
    temperature,
    ...(p.kld !== undefined ? { kld: p.kld } : {}),
    ...(p.symmetric !== undefined ? { symmetric: p.symmetric } : {}),
    ...(p.variance_eps !== undefined ? { varianceEps: p.variance_eps } : {}),
  });
  const eps = { ...(p.epsilon !== undefined ? { epsilon: p.epsilon } : {}), ...(p.log_eps !== undefined ? { logEps: p.log_eps } : {}) };
  const kernel = { kernel: p.kernel, sigma: p.sigma, ...(p.delta_reduction !== undefined ? { deltaReduction: p.delta_reduction } : {}) };
  const R = lossRegistry;
  switch (v.loss) {
    case 'supcon':
      return (x) => R.supcon(x, batch, { ...common, ...temp });
    case 'nt_xent':
      return (x) => R['nt-xent'](x, batch, { ...common, ...temp });
    case 'eps_supinfonce':
      return (x) => R['eps-supinfonce'](x, batch, { ...common, ...temp, ...eps });
    case 'eps_supinfonce_in':
      return (x) => R['eps-supinfonce'](x, batch, { ...common, ...temp, ...eps, form: 'in' });
    case 'eps_supcon':
      return (x) => R['eps-supcon'](x, batch, { ...common, ...temp, ...eps });
    case 'fairkl':
      return (x) => R.fairkl(x, batch, fairklOptions(p.temperature)).mul(num(p.lambd ?? 1));
    case 'eps_supinfonce_fairkl':
      return (x) =>
        R['eps-supinfonce'](x, batch, { ...common, ...temp, ...eps })
          .mul(num(p.alpha))
          .add(R.fairkl(x, batch, fairklOptions(p.fairkl_temperature)).mul(num(p.lambd)));
    case 'kernel_yaware':
      return (x) => R['y-aware'](x, batch, { ...common, ...temp, ...kernel });
    case 'kernel_expw':
      return (x) => R['l-exp'](x, batch, { ...common, ...temp, ...kernel });
    case 'kernel_thr':
      return (x) => R['l-thr'](x, batch, { ...common, ...temp, ...kernel });
    case 'end':
      return (x) => R.end(x, batch, { ...common, alpha: p.alpha, beta: p.beta });
    default:
      throw new Error(`vector ${v.name}: unknown loss '${v.loss}'`);
  }
}

/** Block vectors: out = block(x); loss = Σ W ⊙ out (W = upstream_grad), or the block's own scalar. */
export function blockOf(v: Vector, device: Device): { run: (x: Tensor) => Tensor; scalar: (out: Tensor) => Tensor } {
  const weighted = (out: Tensor) => out.mul(tensor((v.upstream_grad as (number | number[])[]).flat(), out.shape, { device })).sum();
  switch (v.loss) {
    case 'l2_normalize':
      return { run: (x) => l2Normalize(x), scalar: weighted };
    case 'cosine_similarity':
      return { run: (x) => cosineSimilarity(x), scalar: weighted };
    case 'masked_logsumexp':
      return { run: (x) => maskedLogSumExp(x, tensor(v.mask!.flat(), [v.mask!.length, v.mask![0].length], { device })), scalar: weighted };
    case 'softmax_cross_entropy':
      return { run: (x) => softmaxCrossEntropy(x, tensor(v.labels!, [v.labels!.length], { device, dtype: 'i32' })), scalar: (out) => out.reshape([]) };
    default:
      throw new Error(`vector ${v.name}: unknown block '${v.loss}'`);
  }
}

export const isBlock = (v: Vector) => ['l2_normalize', 'cosine_similarity', 'masked_logsumexp', 'softmax_cross_entropy'].includes(v.loss);

/**
 * Whether @fairgpu/kernels' fused statistics exist in this build (they landed after the composite
 * path). Only the kernels' own "not available" refusal counts as absent; any other error is
 * rethrown, so a broken fused path fails the suite instead of skipping it.
 */
export function fusedAvailable(device: Device): boolean {
  return tidy(() => {
    const z = tensor([1, 0, 0, 1], [2, 2], { device });
    const labels = tensor([0, 0], [2], { device, dtype: 'i32' });
    try {
      contrastiveRowStats(z, { temperature: 1, labels, impl: 'fused' });
      pairMoments(z, { temperature: 1, labels, biasLabels: labels, pairs: 'all', impl: 'fused' });
      return true;
    } catch (e) {
      if (e instanceof InvalidArgumentError && e.argument === 'impl' && /not available/.test(e.message)) return false;
      throw e;
    }
  });
}

/** Runs one vector on `device`: the loss value and d loss / d features. */
export async function runVector(v: Vector, device: Device, impl: Impl): Promise<{ loss: number; grad: Float32Array; output?: Float32Array }> {
  const M = v.features.length;
  const d = v.features[0].length;
  const x = tensor(v.features.flat(), [M, d], { device, requiresGrad: true });
  try {
    let output: Float32Array | undefined;
    let loss: Tensor;
    if (isBlock(v)) {
      const b = blockOf(v, device);
      const out = b.run(x);
      if (v.expected_output) output = (await out.toArray()) as Float32Array;
      loss = b.scalar(out);
    } else {
      loss = lossOf(v, impl)(x);
    }
    const value = await loss.item();
    await loss.backward();
    const grad = (await x.grad!.toArray()) as Float32Array;
    return { loss: value, grad, output };
  } finally {
    x.dispose();
  }
}
