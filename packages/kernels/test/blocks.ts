import { readdirSync, readFileSync } from 'node:fs';
import { scope, tensor, type Device, type Tensor } from '@fairgpu/tensor';
import { cosineSimilarity, l2Normalize, maskedLogSumExp, softmaxCrossEntropy } from '../src/index.ts';
import { expectSpecClose, expectSpecGrad } from './helpers.ts';

/** The shared block vectors (copied into fixtures/), run on any device. */
export interface BlockVector {
  name: string;
  loss: string;
  features: number[][];
  mask?: number[][];
  labels?: number[];
  upstream_grad?: number[] | number[][];
  expected_output?: number[] | number[][];
  expected_loss: number;
  expected_grad: number[][];
}

const dir = new URL('./fixtures/', import.meta.url);
export const BLOCKS: BlockVector[] = readdirSync(dir)
  .filter((f) => /_block_.*\.json$/.test(f))
  .sort()
  .map((f) => JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as BlockVector);

export async function checkBlock(v: BlockVector, device: Device): Promise<void> {
  const rows = v.features.length;
  const cols = v.features[0].length;
  await scope(async () => {
    const x = tensor(v.features.flat(), [rows, cols], { device, requiresGrad: true });
    let out: Tensor;
    if (v.loss === 'l2_normalize') out = l2Normalize(x);
    else if (v.loss === 'cosine_similarity') out = cosineSimilarity(x);
    else if (v.loss === 'masked_logsumexp') out = maskedLogSumExp(x, tensor(v.mask!.flat(), [rows, cols], { device }));
    else if (v.loss === 'softmax_cross_entropy') out = softmaxCrossEntropy(x, tensor(v.labels!, [rows], { device, dtype: 'i32' }));
    else throw new Error(`unknown block ${v.loss}`);
    if (v.upstream_grad) {
      const w = (v.upstream_grad as number[] | number[][]).flat();
      const loss = out.mul(tensor(w, out.shape, { device })).sum();
      expectSpecClose(Array.from(await out.toArray()), (v.expected_output as number[] | number[][]).flat(), `${v.name} output`);
      expectSpecClose([await loss.item()], [v.expected_loss], `${v.name} loss`);
      await loss.backward();
    } else {
      expectSpecClose([await out.item()], [v.expected_loss], `${v.name} loss`);
      await out.backward();
    }
    expectSpecGrad(Array.from(await x.grad!.toArray()), v.expected_grad.flat(), `${v.name} grad`);
  });
}
