/**
 * Drives the brain-age experiment without the runner (until `fairgpu run brain-age` exists):
 *   EGL_PLATFORM=surfaceless npx tsx --conditions=@fairgpu/source packages/cli/test/run-brain-age.ts [protocol] [runDir] [--resume]
 *   (--config='<json>' deep-merges overrides into the preset, e.g. --config='{"methods":["l1"]}')
 * Prints the log lines, one line per epoch, the report's tables and the wall time; writes results.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initGpu } from '@fairgpu/tensor';
import { brainAge } from '../src/experiments/brain-age/index.ts';
import { PROTOCOL_NAMES, type ProtocolName } from '../src/experiment.ts';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const protocol = (args[0] ?? 'quick') as ProtocolName;
if (!PROTOCOL_NAMES.includes(protocol)) throw new Error(`protocol must be one of ${PROTOCOL_NAMES.join(', ')}`);
const runDir = args[1] ?? join('runs', `brain-age-${protocol}`);
mkdirSync(runDir, { recursive: true });
const gpu = await initGpu();
const t0 = performance.now();
try {
  const override = process.argv.find((a) => a.startsWith('--config='));
  const merge = (a: unknown, b: unknown): unknown =>
    b && typeof b === 'object' && !Array.isArray(b) && a && typeof a === 'object' && !Array.isArray(a)
      ? Object.fromEntries(
          [...new Set([...Object.keys(a), ...Object.keys(b)])].map((k) => [
            k,
            k in b ? merge((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]) : (a as Record<string, unknown>)[k],
          ]),
        )
      : b;
  const config = brainAge.schema.parse(
    override ? merge(brainAge.protocols[protocol], JSON.parse(override.slice('--config='.length))) : brainAge.protocols[protocol],
  );
  console.log(brainAge.describe(config, protocol));
  const out = await brainAge.run({
    gpu,
    protocol,
    config,
    runDir,
    resume: process.argv.includes('--resume'),
    log: (line) => console.log(line),
    progress: (task, e) => {
      if (e.type === 'epoch') console.log(`  ${task} epoch ${e.epoch + 1}/${e.epochs}: loss ${e.meanLoss.toFixed(4)} (${e.seconds.toFixed(1)} s)`);
    },
    event: () => {},
  });
  const seconds = (performance.now() - t0) / 1000;
  for (const s of out.sections) {
    for (const b of s.blocks) {
      if (b.kind === 'table') {
        console.log(`\n${b.caption ?? ''}\n| ${b.header.join(' | ')} |\n|${b.header.map(() => '---').join('|')}|`);
        for (const r of b.rows) console.log(`| ${r.join(' | ')} |`);
      } else if (b.kind === 'paragraph') console.log(`\n${b.text}`);
    }
  }
  console.log(`\n${out.headline}\nwall time ${seconds.toFixed(1)} s`);
  writeFileSync(join(runDir, 'results.json'), JSON.stringify({ protocol, config, seconds, results: out.results }, null, 2) + '\n');
} finally {
  gpu.destroy();
}
process.exit(0);
