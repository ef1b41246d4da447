import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/main.ts';
import { deepMerge, parseSet, resolveConfig, UsageError } from '../src/config.ts';
import { colorEnabled, createDisplay } from '../src/display.ts';
import { EXPERIMENTS } from '../src/experiments/index.ts';
import { PROTOCOL_NAMES } from '../src/experiment.ts';
import { figure, paragraph, table } from '../src/report/blocks.ts';
import { reportToMarkdown } from '../src/report/markdown.ts';
import { reportToHtml } from '../src/report/html.ts';
import { tableToText } from '../src/report/terminal.ts';

function sink() {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += chunk.toString();
      done();
    },
  }) as Writable & { isTTY?: boolean };
  return { stream, text: () => text };
}

async function cli(...argv: string[]) {
  const out = sink();
  const err = sink();
  const code = await main(argv, { stdout: out.stream, stderr: err.stream, env: { NO_COLOR: '1' } });
  return { code, stdout: out.text(), stderr: err.text() };
}

describe('fairgpu command line (no GPU needed)', () => {
  it('--help on the program and on every command exits 0 and names the command', async () => {
    const top = await cli('--help');
    expect(top.code).toBe(0);
    for (const c of ['run', 'list', 'config', 'train', 'eval', 'gradcam', 'privacy', 'report', 'bench', 'doctor']) expect(top.stdout).toContain(c);
    for (const c of ['run', 'train', 'eval', 'gradcam', 'privacy', 'report', 'bench', 'doctor', 'config']) {
      const r = await cli(c, '--help');
      expect(r.code, c).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`Usage: fairgpu ${c}`));
    }
    expect((await cli('--version')).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('bad usage exits 2 with one error line naming the flag, argument or key', async () => {
    const cases: [string[], RegExp][] = [
      [['run', 'nope'], /unknown experiment 'nope'/],
      [['run', 'biased-mnist', '--bogus'], /unknown option '--bogus'/],
      [['run', 'biased-mnist', '--protocol', 'fast'], /--protocol.*'fast'.*smoke, quick, gpu, full/],
      [['frobnicate'], /unknown command 'frobnicate'/],
      [['config', 'biased-mnist', '--set', 'fairkl.lamda=3'], /config: fairkl: unknown key 'lamda'/],
      [['config', 'biased-mnist', '--set', 'fairkl.lambda=-1'], /config: fairkl\.lambda: .*>=0/],
      [['config', 'biased-mnist', '--set', 'rhos=[0.99,0.99]'], /config: rhos: must not repeat/],
      [['config', 'biased-mnist', '--set', 'models=["ce","vit"]'], /config: models\.1: /],
      [
        ['config', 'biased-mnist', '--set', 'privacy.enabled=true', '--set', 'diagnostics=false'],
        /config: privacy\.enabled: privacy\.enabled needs diagnostics/,
      ],
      [['config', 'biased-mnist', '--set', 'nokey'], /--set: expected key=value/],
      [['config', 'brain-age', '--set', 'seed=-1'], /config: seed: /],
      [['privacy', '/nonexistent/ce.ckpt.safetensors'], /checkpoint: '\/nonexistent\/ce\.ckpt\.safetensors' does not exist/],
      [['report', '/nonexistent-run'], /report: '\/nonexistent-run' has no report\.json/],
      [['run', 'biased-mnist', '--config', '/nonexistent.json'], /--config: cannot read '\/nonexistent\.json': ENOENT/],
      [['privacy', 'x', '--mlp-epochs', '1.5'], /--mlp-epochs must be a non-negative integer, got '1\.5'/],
      [['bench', 'nope'], /unknown bench suite 'nope'/],
      [['train', '--model', 'vit'], /--model: expected one of ce, end, supinfonce, fairkl, got 'vit'/],
      [['eval', '/tmp'], /checkpoint: 'tmp' is not a Biased-MNIST model checkpoint/],
    ];
    for (const [argv, message] of cases) {
      const r = await cli(...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr, argv.join(' ')).toMatch(message);
      expect(
        r.stderr.split('\n').filter((l) => l.startsWith('error:')),
        argv.join(' '),
      ).toHaveLength(1);
    }
  });

  it('a bad --config file names the file and the key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fairgpu-cli-'));
    writeFileSync(join(dir, 'bad.json'), '{ "epochs": 0 }');
    writeFileSync(join(dir, 'broken.json'), '{ epochs: ');
    // `run` validates the config before it starts the adapter.
    const bad = await cli('run', 'biased-mnist', '--config', join(dir, 'bad.json'));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: config: epochs: Too small/);
    const r = await cli('run', 'biased-mnist', '--config', join(dir, 'broken.json'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/broken\.json' is not valid JSON/);
  });

  it('config prints the resolved preset (overrides applied) and a JSON Schema', async () => {
    const r = await cli('config', 'biased-mnist', '--protocol', 'smoke', '--set', 'fairkl.lambda=7', '--set', 'rhos=[0.99,0.997]');
    expect(r.code).toBe(0);
    const config = JSON.parse(r.stdout);
    expect(config.fairkl.lambda).toBe(7);
    expect(config.rhos).toEqual([0.99, 0.997]);
    expect(config.fairkl.temperature).toBe(EXPERIMENTS['biased-mnist'].protocols.smoke.fairkl.temperature);
    const schema = JSON.parse((await cli('config', 'biased-mnist', '--schema')).stdout);
    expect(schema.type).toBe('object');
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties)).toContain('rhos');
  });

  it('list names every experiment', async () => {
    const r = await cli('list');
    for (const name of Object.keys(EXPERIMENTS)) expect(r.stdout).toContain(name);
  });

  it('every experiment preset validates against its own schema', () => {
    for (const e of Object.values(EXPERIMENTS)) {
      // Presets that read the user's files (generic-vision's `data`) are valid once --data names a directory.
      const sets = (p: (typeof PROTOCOL_NAMES)[number]) => ((e.protocols[p] as { data?: unknown }).data === null ? ['data="/data"'] : []);
      for (const p of PROTOCOL_NAMES) expect(() => resolveConfig(e.schema, e.protocols[p], { sets: sets(p) }), `${e.name} ${p}`).not.toThrow();
    }
  });
});

describe('config overrides', () => {
  it('parseSet reads JSON values and falls back to strings; deepMerge replaces arrays and merges objects', () => {
    expect(parseSet('a.b=3')).toEqual({ a: { b: 3 } });
    expect(parseSet('a=[1,2]')).toEqual({ a: [1, 2] });
    expect(parseSet('layer=extracter.5')).toEqual({ layer: 'extracter.5' });
    expect(parseSet('x=true')).toEqual({ x: true });
    expect(() => parseSet('=3')).toThrow(UsageError);
    expect(() => parseSet('a..b=3')).toThrow(/not a key path/);
    expect(deepMerge({ a: { b: 1, c: 2 }, l: [1, 2, 3] }, { a: { b: 5 }, l: [9] })).toEqual({ a: { b: 5, c: 2 }, l: [9] });
  });
});

describe('display', () => {
  it('NO_COLOR and non-TTY streams turn colour off; FORCE_COLOR turns it on', () => {
    expect(colorEnabled({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled({ isTTY: false }, {})).toBe(false);
    expect(colorEnabled({ isTTY: true }, { TERM: 'xterm' })).toBe(true);
    expect(colorEnabled({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true);
  });

  it('--json writes one parseable event per line and nothing else on stdout', () => {
    const out = sink();
    const d = createDisplay({ json: true, stdout: out.stream, env: {} });
    d.log('hello');
    d.progress('model', { type: 'epoch', epoch: 0, epochs: 2, meanLoss: 1.5, lr: 0.1, seconds: 2, imagesPerSecond: 100 });
    d.event('model', { unbiased: 0.5 });
    const lines = out
      .text()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.type)).toEqual(['log', 'epoch', 'model']);
    expect(lines[1]).toMatchObject({ task: 'model', meanLoss: 1.5, epoch: 0 });
  });

  it('plain mode prints epoch lines and log lines, no escape codes without colour', () => {
    const out = sink();
    const d = createDisplay({ stdout: out.stream, env: { NO_COLOR: '1' } });
    d.progress('m', { type: 'step', epoch: 0, index: 1, stepsPerEpoch: 2, globalStep: 1, totalSteps: 2, loss: 1, lr: 0.1, imagesPerSecond: 5 });
    d.progress('m', { type: 'epoch', epoch: 0, epochs: 1, meanLoss: 0.25, lr: 0.1, seconds: 1, imagesPerSecond: 5 });
    d.log('done');
    expect(out.text()).toBe('m: epoch 1/1 mean loss 0.2500, 1.0 s, 5 images/s\ndone\n');
    expect(d.mode).toBe('plain');
  });
});

describe('report renderers', () => {
  const sections = [
    {
      title: 'Results',
      blocks: [
        paragraph('**bold** and `code` <script>'),
        table(
          ['model', 'acc'],
          [
            ['a|b', '50.0'],
            ['c', 'n/a'],
          ],
          { caption: 'cap', notes: ['note'] },
        ),
        figure('figures/missing.png', 'a missing figure'),
      ],
    },
  ];

  it('markdown escapes table pipes and links figures relatively', () => {
    const md = reportToMarkdown('T', sections);
    expect(md).toContain('# T\n\n## Results');
    expect(md).toContain('| a\\|b | 50.0 |');
    expect(md).toContain('](figures/missing.png)');
  });

  it('html is self-contained: escaped text, inline markup, a figure that is missing is named, present ones inlined as data URLs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fairgpu-report-'));
    const html = reportToHtml('T', sections, dir);
    expect(html).toContain('<strong>bold</strong> and <code>code</code> &lt;script&gt;');
    expect(html).not.toContain('<script>');
    expect(html).toContain('figure not found: <code>figures/missing.png</code>');
    const png = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
    writeFileSync(join(dir, 'x.png'), png);
    const withFigure = reportToHtml('T', [{ title: 'F', blocks: [figure('x.png', 'cap')] }], dir);
    expect(withFigure).toContain(`src="data:image/png;base64,${png.toString('base64')}"`);
    expect(withFigure).not.toMatch(/src="(?!data:)/);
  });

  it('terminal tables pad columns to the widest cell', () => {
    const text = tableToText(
      table(
        ['m', 'value'],
        [
          ['long name', '1'],
          ['x', '22.5'],
        ],
      ),
    );
    const lines = text.split('\n');
    expect(lines[0]).toBe('m          │  value');
    expect(lines[2]).toBe('long name  │  1');
    expect(lines[3]).toBe('x          │  22.5');
  });
});
