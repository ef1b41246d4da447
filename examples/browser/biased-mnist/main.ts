/**
 * Biased-MNIST in the page: a SimpleConvNet-sized encoder trained on WebGPU with a supervised
 * contrastive loss (ε-SupInfoNCE or SupCon) plus FairKL, on a few hundred MNIST digits coloured at
 * ρ (@fairgpu/datasets' colourBiasMnist). Live: the loss of every step. After each epoch: a PCA of
 * the held-out embeddings (coloured by digit or by background colour) and k-NN / linear accuracy on
 * the held-out images whose colour matches their digit (bias-aligned) or not (bias-conflicting).
 *
 * The network is the CLI's quick-protocol encoder (docs/training.md: 3×3, channels 8/16/16/32,
 * strides 2/2/2/1, Tanh last), trained with Adam. Its accuracy is read off the frozen, L2-normalised
 * embeddings: 5-NN on the training embeddings after every epoch, and at the end a linear probe
 * (multinomial logistic regression, @fairgpu/privacy's attributeProbe with the digit as the
 * attribute). Everything shown is computed here.
 */
import { createLoader, normalizeImages, type BiasedMnist, type HostBatch } from '@fairgpu/datasets';
import { epsSupInfoNCE, fairKL, supcon } from '@fairgpu/losses';
import { Adam, manualSeed, SimpleConvNet } from '@fairgpu/nn';
import { attributeProbe } from '@fairgpu/privacy';
import { memory, noGrad, scope, tensor, type Tensor } from '@fairgpu/tensor';
import { groupedAccuracy, knnPredict, project2d, type GroupedAccuracy, type Projection } from '../shared/analysis.ts';
import { colour, conflictingCount, loadMnistSubset } from '../shared/data.ts';
import { byId, exampleResult, finish, nextFrame, numberParam, percent, setStatus, showError, startRuns, stringParam } from '../shared/page.ts';
import { CLASS_COLOURS, drawLossCurve, drawScatter, PALETTE_NAMES, rgbCss } from '../shared/plots.ts';
import { adapterName, openWebGpu, showNoWebGpu } from '../shared/webgpu.ts';

const result = exampleResult('biased-mnist');
const PURPOSE = 'trains a small convolutional encoder on Biased-MNIST with a contrastive loss and FairKL, in the page, and plots the embeddings it learns.';

const LOSSES = ['eps-supinfonce', 'supcon'] as const;
type LossName = (typeof LOSSES)[number];
const RHOS = ['0.9', '0.95', '0.99', '0.997'] as const;

interface Config {
  rho: number;
  loss: LossName;
  lambda: number;
  trainSize: number;
  testSize: number;
  epochs: number;
  batch: number;
  lr: number;
  seed: number;
}

/** Defaults sized for a software adapter (Chromium's SwiftShader: under a minute there); a GPU gets more images and epochs. */
function configFromUrl(software: boolean): Config {
  return {
    rho: Number(stringParam('rho', RHOS, '0.95')),
    loss: stringParam('loss', LOSSES, 'eps-supinfonce'),
    lambda: numberParam('lambda', 1, 0, 100),
    trainSize: numberParam('train', software ? 384 : 2048, 64, 2048),
    testSize: numberParam('test', software ? 256 : 512, 32, 512),
    epochs: numberParam('epochs', software ? 3 : 10, 1, 50),
    batch: numberParam('batch', 64, 16, 256),
    lr: numberParam('lr', 0.002, 1e-5, 1),
    seed: numberParam('seed', 0, 0, 1_000_000),
  };
}

function readControls(): Config {
  const v = (id: string) => Number(byId<HTMLInputElement>(id).value);
  return {
    rho: Number(byId<HTMLSelectElement>('rho').value),
    loss: byId<HTMLSelectElement>('loss').value as LossName,
    lambda: v('lambda'),
    trainSize: Math.round(v('train')),
    testSize: Math.round(v('test')),
    epochs: Math.round(v('epochs')),
    batch: Math.round(v('batch') / 4) * 4,
    lr: v('lr'),
    seed: Math.round(v('seed')),
  };
}

function writeControls(c: Config): void {
  byId<HTMLSelectElement>('rho').value = String(c.rho);
  byId<HTMLSelectElement>('loss').value = c.loss;
  const set = (id: string, value: number) => (byId<HTMLInputElement>(id).value = String(value));
  set('lambda', c.lambda);
  set('train', c.trainSize);
  set('test', c.testSize);
  set('epochs', c.epochs);
  set('batch', c.batch);
  set('lr', c.lr);
  set('seed', c.seed);
}

/** One pass over `set` without a graph, in eval mode (BatchNorm running statistics): L2-normalised features [n, d]. */
async function embed(encoder: SimpleConvNet, set: BiasedMnist, batch: number): Promise<{ features: Float32Array; dim: number }> {
  const n = set.labels.length;
  const dim = encoder.featureDim;
  const features = new Float32Array(n * dim);
  encoder.eval();
  try {
    for (let from = 0; from < n; from += batch) {
      const indices = Array.from({ length: Math.min(batch, n - from) }, (_, k) => from + k);
      await scope(async () => {
        const x = tensor(normalizeImages(set, { indices }), [indices.length, 3, set.height, set.width]);
        const f = noGrad(() => encoder.features(x).normalize(-1));
        features.set(await f.toArray(), from * dim);
      });
    }
  } finally {
    encoder.train();
  }
  return { features, dim };
}

/** Linear probe: logistic regression on the frozen training embeddings → predicted digits of the held-out ones. */
async function linearProbe(train: { features: Float32Array; dim: number }, trainSet: BiasedMnist, test: { features: Float32Array }, testSet: BiasedMnist) {
  return scope(async () => {
    const r = await attributeProbe({
      trainEmbeddings: tensor(train.features, [trainSet.labels.length, train.dim]),
      trainAttribute: trainSet.labels,
      testEmbeddings: tensor(test.features, [testSet.labels.length, train.dim]),
      testAttribute: testSet.labels,
      probe: 'linear',
      maxIterations: 200,
    });
    return { predictions: r.predictions, trainAccuracy: r.trainAccuracy, iterations: r.linear?.iterations ?? 0 };
  });
}

interface EpochReport {
  epoch: number;
  /** The linear probe runs after the last epoch only. */
  linear: GroupedAccuracy | null;
  knn: GroupedAccuracy;
  pca: Projection;
}

let projection: { pca: Projection; test: BiasedMnist } | null = null;

function colourBy(): 'class' | 'bias' {
  return byId<HTMLInputElement>('colour-bias').checked ? 'bias' : 'class';
}

function drawPca(): void {
  if (!projection) return;
  const { pca, test } = projection;
  const n = test.labels.length;
  const x = Array.from({ length: n }, (_, i) => pca.scores[2 * i]);
  const y = Array.from({ length: n }, (_, i) => pca.scores[2 * i + 1]);
  // The held-out set is coloured at ρ = 0.1: the few images whose colour matches their digit get a ring.
  const ring = Array.from({ length: n }, (_, i) => (test.labels[i] === test.biasLabels[i] ? 1 : 0));
  const byBias = colourBy() === 'bias';
  drawScatter(byId('pca'), {
    x,
    y,
    colours: Array.from({ length: n }, (_, i) => (byBias ? rgbCss(test.palette[test.biasLabels[i]]) : CLASS_COLOURS[test.labels[i]])),
    legend: Array.from({ length: 10 }, (_, k) => ({
      colour: byBias ? rgbCss(test.palette[k]) : CLASS_COLOURS[k],
      text: byBias ? `colour ${k} (${PALETTE_NAMES[k]})` : `digit ${k}`,
    })),
    xLabel: `PC1 (${percent(pca.ratio[0])} of the variance)`,
    yLabel: `PC2 (${percent(pca.ratio[1])})`,
    ring: byBias ? undefined : ring,
    ringLabel: byBias ? undefined : 'colour = digit',
  });
}

function accuracyRow(name: string, g: GroupedAccuracy): string {
  return `<tr><th>${name}</th><td>${percent(g.accuracy)}</td><td>${percent(g.aligned)}</td><td>${percent(g.conflicting)}</td></tr>`;
}

function showAccuracy(r: EpochReport, epochs: number): void {
  const counts = r.knn.counts;
  const linear = r.linear
    ? accuracyRow('linear probe (logistic regression)', r.linear)
    : '<tr><th>linear probe</th><td colspan="3">after the last epoch</td></tr>';
  byId('accuracy').innerHTML = `
    <table>
      <caption>Digit accuracy on the held-out images, coloured at ρ = 0.1 (${counts.total}: ${counts.aligned} bias-aligned, ${counts.conflicting} bias-conflicting), after epoch ${r.epoch + 1} / ${epochs}</caption>
      <thead><tr><th>from the frozen embeddings</th><th>all</th><th>bias-aligned</th><th>bias-conflicting</th></tr></thead>
      <tbody>${accuracyRow('5-NN on the training embeddings', r.knn)}${linear}</tbody>
    </table>`;
}

async function train(config: Config): Promise<void> {
  const t0 = performance.now();
  const memoryBefore = memory().tensors;
  setStatus('loading MNIST…');
  const [trainSource, testSource] = await Promise.all([loadMnistSubset('train', config.trainSize), loadMnistSubset('test', config.testSize)]);
  const trainSet = colour(trainSource, config.rho, config.seed);
  // The held-out images are coloured at ρ = 0.1 (Biased-MNIST's unbiased test protocol), on their own random stream.
  const testSet = colour(testSource, 0.1, config.seed, 1);
  byId('data').textContent =
    `${trainSet.labels.length} training images at ρ = ${config.rho} (${conflictingCount(trainSet)} bias-conflicting: colour ≠ digit), ` +
    `${testSet.labels.length} held-out images at ρ = 0.1.`;

  manualSeed(config.seed);
  const encoder = new SimpleConvNet({ kernelSize: 3, channels: [8, 16, 16, 32], strides: [2, 2, 2, 1], tanhLast: true, numClasses: 0 });
  const opt = new Adam(encoder.parameters(), { lr: config.lr, weightDecay: 1e-4 });
  // m-per-class batches (4 images per digit): every anchor has positives, which SupCon requires.
  const loader = createLoader(trainSet, { batchSize: config.batch, seed: config.seed, sampler: { kind: 'm-per-class', m: 4 }, prefetch: 0 });
  const steps = loader.batchesPerEpoch;
  const lossName = config.loss === 'supcon' ? 'SupCon' : 'ε-SupInfoNCE';
  const curves = { total: [] as { x: number; y: number }[], contrastive: [] as { x: number; y: number }[], fairkl: [] as { x: number; y: number }[] };
  const reports: EpochReport[] = [];
  let probe: Awaited<ReturnType<typeof linearProbe>> | null = null;
  // Seconds per phase (the first step includes compiling every shader it uses).
  const timings = { firstStep: 0, steps: 0, evaluation: 0, probe: 0 };
  let images = 0;
  let trainMs = 0;
  try {
    for (let epoch = 0; epoch < config.epochs; epoch++) {
      for (let index = 0; index < steps; index++) {
        const b: HostBatch = loader.batch(epoch, index);
        const ts = performance.now();
        const values = await scope(async () => {
          const x = tensor(b.images, b.shape);
          const features = encoder.features(x);
          const labels = { labels: b.labels, biasLabels: b.biasLabels };
          const con: Tensor =
            config.loss === 'supcon'
              ? supcon(features, labels, { temperature: 0.1 })
              : epsSupInfoNCE(features, labels, { temperature: 0.1, epsilon: 0.1, variant: 'released' });
          const fair = fairKL(features, labels, { variant: 'released' });
          const total = con.add(fair.mul(config.lambda));
          await total.backward();
          opt.step();
          opt.zeroGrad();
          const [t, c, f] = await Promise.all([total.item(), con.item(), fair.item()]);
          return { t, c, f };
        });
        trainMs += performance.now() - ts;
        if (epoch === 0 && index === 0) timings.firstStep = (performance.now() - ts) / 1000;
        else timings.steps += (performance.now() - ts) / 1000;
        images += b.size;
        const step = epoch * steps + index + 1;
        curves.total.push({ x: step, y: values.t });
        curves.contrastive.push({ x: step, y: values.c });
        curves.fairkl.push({ x: step, y: values.f });
        byId('step').textContent =
          `step ${step} / ${steps * config.epochs}: loss ${values.t.toFixed(4)} = ${lossName} ${values.c.toFixed(4)} + ${config.lambda} × FairKL ${values.f.toFixed(4)}` +
          ` · ${(b.size / ((performance.now() - ts) / 1000)).toFixed(0)} images/s`;
        drawLossCurve(
          byId('loss-curve'),
          [
            { name: `${lossName} + λ·FairKL`, points: curves.total },
            { name: lossName, points: curves.contrastive },
            { name: 'FairKL', points: curves.fairkl },
          ],
          'Training loss, every step',
        );
        setStatus(`training: epoch ${epoch + 1} / ${config.epochs}`);
        await nextFrame();
      }
      setStatus(`epoch ${epoch + 1}: embedding the held-out images, PCA, k-NN…`);
      const te0 = performance.now();
      // The training batch size: the kernels are specialised per shape, so this reuses the forward pipelines already compiled.
      const [tr, te] = [await embed(encoder, trainSet, config.batch), await embed(encoder, testSet, config.batch)];
      const pca = await project2d(te.features, testSet.labels.length, te.dim);
      const knn = knnPredict(tr.features, trainSet.labels, te.features, te.dim, 5);
      const report: EpochReport = { epoch, linear: null, knn: groupedAccuracy(knn, testSet.labels, testSet.biasLabels), pca };
      projection = { pca, test: testSet };
      drawPca();
      showAccuracy(report, config.epochs);
      timings.evaluation += (performance.now() - te0) / 1000;
      await nextFrame();
      if (epoch === config.epochs - 1) {
        setStatus('linear probe on the frozen embeddings…');
        const tp0 = performance.now();
        probe = await linearProbe(tr, trainSet, te, testSet);
        timings.probe = (performance.now() - tp0) / 1000;
        report.linear = groupedAccuracy(probe.predictions, testSet.labels, testSet.biasLabels);
        showAccuracy(report, config.epochs);
      }
      reports.push(report);
    }
  } finally {
    encoder.dispose();
    opt.dispose();
  }
  const last = reports[reports.length - 1];
  const first = curves.total.slice(0, Math.min(3, curves.total.length));
  const tail = curves.total.slice(-Math.min(3, curves.total.length));
  const mean = (a: { y: number }[]) => a.reduce((s, p) => s + p.y, 0) / a.length;
  result.metrics = {
    config,
    steps: curves.total.length,
    loss: curves.total.map((p) => p.y),
    contrastiveLoss: curves.contrastive.map((p) => p.y),
    fairklLoss: curves.fairkl.map((p) => p.y),
    lossFirst3: mean(first),
    lossLast3: mean(tail),
    pcaRatio: last.pca.ratio,
    linear: last.linear,
    linearProbe: probe && { trainAccuracy: probe.trainAccuracy, iterations: probe.iterations },
    knn: last.knn,
    knnByEpoch: reports.map((r) => r.knn),
    trainConflicting: conflictingCount(trainSet),
    imagesPerSecond: images / (trainMs / 1000),
    timings,
    runSeconds: (performance.now() - t0) / 1000,
    tensorsLeft: memory().tensors - memoryBefore,
  };
  setStatus('done');
  byId('summary').textContent =
    `Done in ${((performance.now() - t0) / 1000).toFixed(1)} s: loss ${mean(first).toFixed(3)} (first 3 steps) → ${mean(tail).toFixed(3)} (last 3); ` +
    `held-out bias-conflicting accuracy ${percent(last.knn.conflicting)} (5-NN), ${percent(last.linear?.conflicting)} (linear probe). ` +
    `Time: first step ${timings.firstStep.toFixed(1)} s (it compiles the shaders), the other ${curves.total.length - 1} steps ${timings.steps.toFixed(1)} s, ` +
    `embeddings + PCA + k-NN ${timings.evaluation.toFixed(1)} s, linear probe ${timings.probe.toFixed(1)} s.`;
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
  byId('colour-class').addEventListener('change', drawPca);
  byId('colour-bias').addEventListener('change', drawPca);
  const config = configFromUrl(result.isSoftware);
  writeControls(config);
  startRuns(result, config, readControls, train);
}

main().catch((e: unknown) => {
  const why = e instanceof Error ? (e.stack ?? e.message) : String(e);
  finish(result, 'error', why);
  showError(why);
});
