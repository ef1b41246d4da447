/**
 * A Grad-CAM viewer: a small SimpleConvNet classifier is trained in the page (WebGPU, Adam,
 * cross-entropy) on MNIST digits coloured as Biased-MNIST at ρ, then @fairgpu/metrics' gradCam
 * explains its prediction on held-out images (coloured at ρ = 0.1, so most of them have a colour
 * that does not match their digit) and heatmapMass gives the share of each map on the digit's
 * strokes. A model that reads the background colour (large ρ) puts its mass off the digit.
 *
 * The network is the CLI's quick-protocol SimpleConvNet (docs/training.md); Grad-CAM explains its
 * second block ('extracter.5', 7×7 maps) by default, as the CLI does for this network (its last
 * block is 4×4: docs/metrics.md).
 */
import { createLoader, digitMask, normalizeImages, type BiasedMnist } from '@fairgpu/datasets';
import { gradCam, heatmapMass, overlayHeatmap } from '@fairgpu/metrics';
import { Adam, manualSeed, SimpleConvNet } from '@fairgpu/nn';
import { crossEntropy, memory, noGrad, scope, tensor } from '@fairgpu/tensor';
import { groupedAccuracy, type GroupedAccuracy } from '../shared/analysis.ts';
import { colour, conflictingCount, imageChw, loadMnistSubset } from '../shared/data.ts';
import { byId, exampleResult, finish, nextFrame, numberParam, percent, setStatus, showError, startRuns, stringParam } from '../shared/page.ts';
import { drawLossCurve, imageCanvas, PALETTE_NAMES, rgbaOf } from '../shared/plots.ts';
import { adapterName, openWebGpu, showNoWebGpu } from '../shared/webgpu.ts';

const result = exampleResult('grad-cam');
const PURPOSE = 'trains a small digit classifier on coloured MNIST in the page and shows where it looks (Grad-CAM heatmaps).';

const RHOS = ['0.1', '0.5', '0.9', '0.99', '0.997'] as const;
const LAYERS = ['extracter.5', 'extracter.8', 'extracter'] as const;
const LAYER_SIDES: Record<(typeof LAYERS)[number], string> = { 'extracter.5': '7×7', 'extracter.8': '4×4', extracter: '4×4, last block' };

interface Config {
  rho: number;
  trainSize: number;
  epochs: number;
  batch: number;
  lr: number;
  seed: number;
  layer: (typeof LAYERS)[number];
  /** Held-out images whose maps are averaged for the mean digit mass. */
  massImages: number;
  /** Held-out images shown in the grid (the first of the mass images). */
  gridImages: number;
}

/** Defaults sized for a software adapter (about a minute on SwiftShader); a GPU gets more images and epochs. */
function configFromUrl(software: boolean): Config {
  return {
    rho: Number(stringParam('rho', RHOS, '0.99')),
    trainSize: numberParam('train', software ? 512 : 2048, 64, 2048),
    epochs: numberParam('epochs', software ? 3 : 10, 1, 50),
    batch: numberParam('batch', 64, 8, 256),
    lr: numberParam('lr', 0.002, 1e-5, 1),
    seed: numberParam('seed', 0, 0, 1_000_000),
    layer: stringParam('layer', LAYERS, 'extracter.5'),
    massImages: numberParam('mass', software ? 128 : 512, 16, 512),
    gridImages: numberParam('grid', 16, 1, 64),
  };
}

function readControls(): Config {
  const v = (id: string) => Number(byId<HTMLInputElement>(id).value);
  return {
    rho: Number(byId<HTMLSelectElement>('rho').value),
    trainSize: Math.round(v('train')),
    epochs: Math.round(v('epochs')),
    batch: Math.round(v('batch')),
    lr: v('lr'),
    seed: Math.round(v('seed')),
    layer: byId<HTMLSelectElement>('layer').value as Config['layer'],
    massImages: Math.round(v('mass')),
    gridImages: Math.round(v('grid')),
  };
}

function writeControls(c: Config): void {
  byId<HTMLSelectElement>('rho').value = String(c.rho);
  byId<HTMLSelectElement>('layer').value = c.layer;
  const set = (id: string, value: number) => (byId<HTMLInputElement>(id).value = String(value));
  set('train', c.trainSize);
  set('epochs', c.epochs);
  set('batch', c.batch);
  set('lr', c.lr);
  set('seed', c.seed);
  set('mass', c.massImages);
  set('grid', c.gridImages);
}

/** Predicted class of every image of `set` in eval mode, without a graph. */
async function predict(net: SimpleConvNet, set: BiasedMnist, batch: number): Promise<Int32Array> {
  const n = set.labels.length;
  const out = new Int32Array(n);
  for (let from = 0; from < n; from += batch) {
    const indices = Array.from({ length: Math.min(batch, n - from) }, (_, k) => from + k);
    await scope(async () => {
      const x = tensor(normalizeImages(set, { indices }), [indices.length, 3, set.height, set.width]);
      const logits = await noGrad(() => net.forward(x)).toArray();
      for (let k = 0; k < indices.length; k++) {
        let best = 0;
        for (let c = 1; c < 10; c++) if (logits[k * 10 + c] > logits[k * 10 + best]) best = c;
        out[from + k] = best;
      }
    });
  }
  return out;
}

interface CamCell {
  index: number;
  label: number;
  bias: number;
  predicted: number;
  mass: number | null;
}

function drawGrid(set: BiasedMnist, maps: Float32Array, cells: CamCell[]): void {
  const pixels = set.height * set.width;
  const grid = byId('cams');
  grid.replaceChildren();
  cells.forEach((c, k) => {
    const card = document.createElement('div');
    card.className = c.predicted === c.label ? 'cam' : 'cam wrong';
    const pair = document.createElement('div');
    pair.className = 'pair';
    pair.append(
      imageCanvas(rgbaOf(set.images, c.index, pixels), set.width, set.height, 2.5),
      imageCanvas(overlayHeatmap(imageChw(set, c.index), maps.subarray(k * pixels, (k + 1) * pixels), { alpha: 0.5 }), set.width, set.height, 2.5),
    );
    const caption = document.createElement('div');
    caption.innerHTML =
      `digit <b>${c.label}</b> on ${PALETTE_NAMES[c.bias]}${c.label === c.bias ? ' (aligned)' : ''}<br>` +
      `predicted <b>${c.predicted}</b>${c.predicted === c.label ? '' : ' ✗'}${c.predicted === c.bias && c.predicted !== c.label ? ' = the colour’s digit' : ''}<br>` +
      `digit mass <b>${c.mass === null ? '– (empty map)' : percent(c.mass)}</b>`;
    card.append(pair, caption);
    grid.append(card);
  });
}

async function run(config: Config): Promise<void> {
  const t0 = performance.now();
  const memoryBefore = memory().tensors;
  setStatus('loading MNIST…');
  const [trainSource, testSource] = await Promise.all([loadMnistSubset('train', config.trainSize), loadMnistSubset('test', config.massImages)]);
  const trainSet = colour(trainSource, config.rho, config.seed);
  const testSet = colour(testSource, 0.1, config.seed, 1);
  byId('data').textContent =
    `${trainSet.labels.length} training images at ρ = ${config.rho} (${conflictingCount(trainSet)} bias-conflicting: colour ≠ digit); ` +
    `Grad-CAM on ${testSet.labels.length} held-out images at ρ = 0.1 (${conflictingCount(testSet)} bias-conflicting).`;

  manualSeed(config.seed);
  const net = new SimpleConvNet({ kernelSize: 3, channels: [8, 16, 16, 32], strides: [2, 2, 2, 1], numClasses: 10 });
  const opt = new Adam(net.parameters(), { lr: config.lr, weightDecay: 1e-4 });
  const loader = createLoader(trainSet, { batchSize: config.batch, seed: config.seed, dropLast: true, prefetch: 0 });
  const steps = loader.batchesPerEpoch;
  const curve: { x: number; y: number }[] = [];
  let images = 0;
  let trainMs = 0;
  try {
    for (let epoch = 0; epoch < config.epochs; epoch++) {
      for (let index = 0; index < steps; index++) {
        const b = loader.batch(epoch, index);
        const ts = performance.now();
        const loss = await scope(async () => {
          const l = crossEntropy(net.forward(tensor(b.images, b.shape)), tensor(b.labels, [b.size], { dtype: 'i32' }));
          await l.backward();
          opt.step();
          opt.zeroGrad();
          return l.item();
        });
        trainMs += performance.now() - ts;
        images += b.size;
        const step = epoch * steps + index + 1;
        curve.push({ x: step, y: loss });
        byId('step').textContent =
          `step ${step} / ${steps * config.epochs}: cross-entropy ${loss.toFixed(4)} · ${(b.size / ((performance.now() - ts) / 1000)).toFixed(0)} images/s`;
        drawLossCurve(byId('loss-curve'), [{ name: 'cross-entropy', points: curve }], 'Training loss, every step');
        setStatus(`training: epoch ${epoch + 1} / ${config.epochs}`);
        await nextFrame();
      }
    }

    setStatus('Grad-CAM on the held-out images…');
    net.eval();
    // Passes in training-batch chunks: the kernels are specialised per shape, so the forward pipelines compiled for training are reused.
    const predictions = await predict(net, testSet, config.batch);
    const accuracy = groupedAccuracy(predictions, testSet.labels, testSet.biasLabels);
    const pixels = testSet.height * testSet.width;
    const n = testSet.labels.length;
    const maps = new Float32Array(n * pixels);
    for (let from = 0; from < n; from += config.batch) {
      const indices = Array.from({ length: Math.min(config.batch, n - from) }, (_, k) => from + k);
      maps.set(
        await scope(async () => {
          const x = tensor(normalizeImages(testSet, { indices }), [indices.length, 3, testSet.height, testSet.width]);
          return (await gradCam(net, x, { layer: config.layer })).toArray();
        }),
        from * pixels,
      );
      await nextFrame();
    }
    const mask = new Uint8Array(n * pixels);
    let digitPixels = 0;
    for (let i = 0; i < n; i++) {
      const m = digitMask(testSet, i);
      mask.set(m, i * pixels);
      for (const v of m) digitPixels += v;
    }
    const masses = await heatmapMass(maps, mask, [n, testSet.height, testSet.width]);
    const cells: CamCell[] = Array.from({ length: Math.min(config.gridImages, n) }, (_, i) => ({
      index: i,
      label: testSet.labels[i],
      bias: testSet.biasLabels[i],
      predicted: predictions[i],
      mass: masses[i],
    }));
    drawGrid(testSet, maps, cells);
    const nonEmpty = masses.filter((m): m is number => m !== null);
    const meanMass = nonEmpty.length ? nonEmpty.reduce((a, b) => a + b, 0) / nonEmpty.length : null;
    const byGroup = (aligned: boolean) => {
      const m = masses.filter((v, i) => v !== null && (testSet.labels[i] === testSet.biasLabels[i]) === aligned) as number[];
      return m.length ? m.reduce((a, b) => a + b, 0) / m.length : null;
    };
    const digitArea = digitPixels / (n * pixels);
    showSummary(accuracy, meanMass, nonEmpty.length, n, digitArea, config);
    result.metrics = {
      config,
      steps: curve.length,
      loss: curve.map((p) => p.y),
      lossFirst3: mean(curve.slice(0, 3).map((p) => p.y)),
      lossLast3: mean(curve.slice(-3).map((p) => p.y)),
      accuracy,
      masses,
      meanDigitMass: meanMass,
      meanDigitMassAligned: byGroup(true),
      meanDigitMassConflicting: byGroup(false),
      nonEmptyMaps: nonEmpty.length,
      digitArea,
      grid: cells,
      mapRange: mapRange(maps),
      imagesPerSecond: images / (trainMs / 1000),
      runSeconds: (performance.now() - t0) / 1000,
    };
  } finally {
    net.dispose();
    opt.dispose();
  }
  result.metrics.tensorsLeft = memory().tensors - memoryBefore;
}

function mean(a: number[]): number {
  return a.reduce((s, v) => s + v, 0) / a.length;
}

function mapRange(maps: Float32Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of maps) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return [lo, hi];
}

function showSummary(a: GroupedAccuracy, meanMass: number | null, nonEmpty: number, n: number, digitArea: number, config: Config): void {
  byId('summary').innerHTML = `
    <table>
      <caption>Held-out images at ρ = 0.1 (${a.counts.total}: ${a.counts.aligned} bias-aligned, ${a.counts.conflicting} bias-conflicting); model trained at ρ = ${config.rho}</caption>
      <tbody>
        <tr><th>accuracy: all / bias-aligned / bias-conflicting</th><td>${percent(a.accuracy)} / ${percent(a.aligned)} / ${percent(a.conflicting)}</td></tr>
        <tr><th>mean Grad-CAM mass on the digit's strokes (layer ${config.layer}, ${LAYER_SIDES[config.layer]})</th><td><b>${percent(meanMass)}</b> over ${nonEmpty} / ${n} maps that are not all zero</td></tr>
        <tr><th>the strokes' share of the image (what a map spread evenly would get)</th><td>${percent(digitArea)}</td></tr>
      </tbody>
    </table>`;
}

async function main(): Promise<void> {
  const webgpu = await openWebGpu();
  if (!webgpu.ok) {
    showNoWebGpu(result, webgpu.reason, PURPOSE);
    return;
  }
  result.adapter = adapterName(webgpu.gpu);
  result.isSoftware = webgpu.gpu.adapterInfo.isSoftware;
  byId('adapter').textContent =
    `WebGPU adapter: ${result.adapter}${result.isSoftware ? ' (a software adapter: slow, so the sizes are small; a GPU gets larger defaults)' : ''}`;
  const config = configFromUrl(result.isSoftware);
  writeControls(config);
  startRuns(result, config, readControls, run);
}

main().catch((e: unknown) => {
  const why = e instanceof Error ? (e.stack ?? e.message) : String(e);
  finish(result, 'error', why);
  showError(why);
});
