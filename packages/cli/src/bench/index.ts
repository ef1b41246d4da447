/**
 * `fairgpu bench [suite]`: one table per suite with the adapter's name; every row's ratio is
 * against a baseline measured in the same run (never a number remembered from elsewhere).
 * The repository's `npm run bench -- kernels` adds the TensorFlow.js comparison (a dev dependency).
 */
import { benchLosses } from './losses.ts';
import { benchTensor, type Row } from './tensor.ts';
import { benchTrain, benchTrainVsTorch } from './train.ts';

export const BENCH_SUITES = ['tensor', 'losses', 'train'] as const;

export function formatBenchTable(title: string, adapter: string, rows: Row[]): string[] {
  const lines = rows.map((r) => [
    r.case,
    `${r.value.toFixed(r.value < 10 ? 2 : 1)} ${r.unit}`,
    r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}× vs ${r.baseline}`,
  ]);
  const widths = [0, 1, 2].map((i) => Math.max(...lines.map((l) => l[i].length), 4));
  return [
    `\n${title} — adapter: ${adapter}`,
    ...lines.map((l) =>
      l
        .map((c, i) => c.padEnd(widths[i]))
        .join('  │  ')
        .trimEnd(),
    ),
  ];
}

/** Runs a suite; resolves to the exit code (2 for an unknown suite). */
export async function runBench(
  suite: string,
  options: { json?: boolean; sizes?: number[]; batch?: number; vsTorch?: boolean },
  out: (line: string) => void,
  err: (line: string) => void,
): Promise<number> {
  const titles: Record<string, string> = {
    tensor: 'fairgpu tensor benchmarks',
    losses: 'fairgpu loss benchmarks (forward + backward)',
    train: options.vsTorch
      ? 'fairgpu vs PyTorch CPU: SimpleConvNet Adam + cross-entropy step'
      : 'fairgpu nn training benchmarks (conv2d, SimpleConvNet SGD step)',
  };
  if (!(BENCH_SUITES as readonly string[]).includes(suite)) {
    err(`error: unknown bench suite '${suite}' (known: ${BENCH_SUITES.join(', ')})`);
    return 2;
  }
  if (options.sizes?.some((s) => !Number.isInteger(s) || s <= 0)) {
    err(`error: --sizes must be positive integers separated by commas`);
    return 2;
  }
  const log = options.json ? undefined : err;
  const { adapter, rows } =
    suite === 'tensor'
      ? await benchTensor({ sizes: options.sizes })
      : suite === 'losses'
        ? await benchLosses({ sizes: options.sizes })
        : options.vsTorch
          ? await benchTrainVsTorch({ compareBlocked: true, log })
          : await benchTrain({ batch: options.batch, log });
  if (options.json) for (const r of rows) out(JSON.stringify({ suite, adapter, ...r }));
  else for (const line of formatBenchTable(titles[suite], adapter, rows)) out(line);
  return 0;
}
