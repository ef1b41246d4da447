/**
 * `npm run bench [-- <suite>] [--json] [--sizes 256,1024] [--batch N (train)] [--vs-torch (train)]`: prints one table per suite with the
 * adapter name. Suites: tensor (default), kernels, losses, train (`--allow-slow` runs kernels sizes estimated
 * over ten minutes instead of printing the estimate). Each suite measures its baseline in the same run;
 * `train --vs-torch` times the same SimpleConvNet steps in PyTorch on the CPU (tools/bench/torch_train_step.py).
 */
import { parseArgs } from 'node:util';
import { benchTensor, type Row } from '../../packages/cli/src/bench/tensor.ts';
import { benchTrain, benchTrainVsTorch } from '../../packages/cli/src/bench/train.ts';
import { benchKernels, formatKernelRows } from './kernels.ts';
import { benchLosses } from '../../packages/cli/src/bench/losses.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    json: { type: 'boolean', default: false },
    sizes: { type: 'string' },
    batch: { type: 'string' },
    'allow-slow': { type: 'boolean', default: false },
    'vs-torch': { type: 'boolean', default: false },
  },
});
const suite = positionals[0] ?? 'tensor';
const sizes = values.sizes?.split(',').map(Number);

function printTable(title: string, adapter: string, rows: Row[]): void {
  console.log(`\n${title} — adapter: ${adapter}`);
  const lines = rows.map((r) => [
    r.case,
    `${r.value.toFixed(r.value < 10 ? 2 : 1)} ${r.unit}`,
    r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}× vs ${r.baseline}`,
  ]);
  const widths = [0, 1, 2].map((i) => Math.max(...lines.map((l) => l[i].length), 4));
  for (const l of lines) console.log(l.map((c, i) => c.padEnd(widths[i])).join('  │  '));
}

try {
  if (suite === 'tensor') {
    const { adapter, rows } = await benchTensor({ sizes });
    if (values.json) for (const r of rows) console.log(JSON.stringify({ suite, adapter, ...r }));
    else printTable('fairgpu tensor benchmarks', adapter, rows);
  } else if (suite === 'losses') {
    const { adapter, rows } = await benchLosses({ sizes });
    if (values.json) for (const r of rows) console.log(JSON.stringify({ suite, adapter, ...r }));
    else printTable('fairgpu loss benchmarks (forward + backward)', adapter, rows);
  } else if (suite === 'kernels') {
    const { adapter, rows } = await benchKernels({ sizes, allowSlow: values['allow-slow'], log: values.json ? undefined : (l) => console.error(l) });
    if (values.json)
      for (const r of rows)
        console.log(JSON.stringify({ case: r.case, M: r.M, d: r.d, impl: r.impl, ms: r.ms, peakBytes: r.peakBytes, ...(r.note ? { note: r.note } : {}) }));
    else {
      console.log(`\nfairgpu kernels benchmarks — adapter: ${adapter}`);
      for (const line of formatKernelRows(rows)) console.log(line);
    }
  } else if (suite === 'train') {
    const batch = values.batch === undefined ? undefined : Number(values.batch);
    if (batch !== undefined && !(Number.isInteger(batch) && batch > 0)) throw new Error(`--batch: expected a positive integer, got '${values.batch}'`);
    const log = values.json ? undefined : (l: string) => console.error(l);
    const { adapter, rows } = values['vs-torch'] ? await benchTrainVsTorch({ compareBlocked: true, log }) : await benchTrain({ batch, log });
    if (values.json) for (const r of rows) console.log(JSON.stringify({ suite, adapter, ...r }));
    else
      printTable(
        values['vs-torch']
          ? 'fairgpu vs PyTorch CPU: SimpleConvNet Adam + cross-entropy step'
          : 'fairgpu nn training benchmarks (conv2d, SimpleConvNet SGD step)',
        adapter,
        rows,
      );
  } else {
    console.error(`unknown suite '${suite}' (available: tensor, losses, kernels, train)`);
    process.exitCode = 2;
  }
} finally {
  // dawn.node keeps the process alive while its GPU object is referenced: exit explicitly.
  process.exit(process.exitCode ?? 0);
}
