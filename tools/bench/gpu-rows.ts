/**
 * Issue 16's GPU rows in one run, for a machine lent by the `device` tool (no network there):
 *  - the SimpleConvNet training benchmark at batch 256 (`npm run bench -- train --batch 256`:
 *    conv2d forward rates and the SGD step of the published k = 7 network; goal ≥ 5,000 images/s);
 *  - the fused contrastive forward + backward at M = 4,096 and 65,536, d = 128 (`npm run bench --
 *    kernels`, fused only; goal ≤ 0.3 s at 65,536).
 * Prints JSON lines and writes them to `$OUT/gpu-rows.jsonl` when OUT is set. `--quick` shrinks
 * both (batch 8, M = 1,024) to check the kit on a software adapter.
 *
 * Built into a self-contained kit (this file bundled, dawn.node, a Node binary) by
 * tools/bench/gpu-kit.sh; docs/training.md ("GPU rows") has the device command.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchTrain } from '../../packages/cli/src/bench/train.ts';
import { benchKernels } from './kernels.ts';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const out = process.env.OUT ? join(process.env.OUT, 'gpu-rows.jsonl') : null;
const emit = (record: object) => {
  const line = JSON.stringify(record);
  console.log(line);
  if (out) appendFileSync(out, `${line}\n`);
};

try {
  const t0 = performance.now();
  const train = await benchTrain({ batch: values.quick ? 8 : 256, log: (l) => console.error(l) });
  for (const r of train.rows) emit({ suite: 'train', adapter: train.adapter, ...r });
  const kernels = await benchKernels({ sizes: values.quick ? [1024] : [4096, 65536], skipTfjs: true, log: (l) => console.error(l) });
  for (const r of kernels.rows.filter((row) => row.impl === 'fused')) emit({ suite: 'kernels', adapter: kernels.adapter, ...r });
  emit({ done: true, seconds: (performance.now() - t0) / 1000 });
} finally {
  // dawn.node keeps the process alive while its GPU object is referenced: exit explicitly.
  process.exit(process.exitCode ?? 0);
}
