/**
 * What the seed shows about each trained Biased-MNIST model, beyond its accuracy:
 *   - per-cell accuracy (`groupAccuracy`) on the ρ = 0.1 test set;
 *   - Grad-CAM on bias-conflicting test images (colour ≠ digit), and the share of each map's mass
 *     on digit pixels (`heatmapMass`): the vanilla model looks at the background colour, a debiased
 *     one at the digit;
 *   - the FairKL diagnostic (`similarityDistributions`) of the test set's bottleneck features;
 *   - with `privacy`, the attribute-inference attack of the ICCVW 2021 study: a probe trained on
 *     the frozen bottleneck of the ρ = 0.999 training set predicts the colour of the ρ = 0.1 test set,
 *     and the Gaussian fit of the first principal component per colour (`@fairgpu/privacy`'s
 *     `leakageReport`, over every model at once).
 * Per model the host keeps only small arrays; `writeDiagnosticFigures` draws every model side by side.
 */
import { join } from 'node:path';
import { digitMask, normalizeImages, type BiasedMnist } from '@fairgpu/datasets/node';
import {
  gradCam,
  gradCamFigure,
  groupAccuracyComparisonFigure,
  heatmapMass,
  similarityDistributions,
  similarityHistogramComparisonFigure,
  type GroupAccuracy,
  type SimilarityDistributions,
} from '@fairgpu/metrics';
import { writeFigure } from '@fairgpu/metrics/node';
import { leakageReport, type LeakageReport } from '@fairgpu/privacy';
import { scope, tensor } from '@fairgpu/tensor';
import { embedSet, type Evaluation, type ModelKey, type TrainedModel } from './job.ts';

export interface DiagnosticsOptions {
  /** Bias-conflicting test images shown in the Grad-CAM grid (one per class first); default 8. */
  gradcamImages: number;
  /** Bias-conflicting test images whose maps' digit mass is averaged; default 512. */
  massImages: number;
  /** Batch size of the evaluation passes. */
  batch: number;
  /** The encoder layer Grad-CAM explains, a path inside the SimpleConvNet (`'extracter'` = its last block). */
  gradcamLayer: string;
}

export const DEFAULT_DIAGNOSTICS: DiagnosticsOptions = { gradcamImages: 8, massImages: 512, batch: 256, gradcamLayer: 'extracter' };

export interface ModelDiagnostics {
  key: ModelKey;
  name: string;
  groups: GroupAccuracy;
  gradcam: { indices: number[]; maps: Float32Array; predictions: number[] };
  /**
   * Mean share of the Grad-CAM mass on digit pixels over the `count` conflicting images whose map
   * is not all zero (`null` when every map is: a collapsed model explains nothing), and the digit
   * pixels' share of the image.
   */
  digitMass: { mean: number | null; count: number; digitArea: number };
  similarity: SimilarityDistributions;
  embeddings?: PrivacyEmbeddings;
}

/** The frozen bottleneck of the probe training set (ρ = 0.999) and of the test set, kept for the privacy report. */
export interface PrivacyEmbeddings {
  train: Float32Array;
  test: Float32Array;
  dim: number;
}

export interface PrivacyOptions {
  /** MLP probe epochs; 0 skips the MLP probe. */
  mlpEpochs: number;
  seed: number;
}

/** The conflicting test images of the grid: the first of each class, then the next ones in order. */
export function conflictingIndices(set: BiasedMnist, count: number): number[] {
  const conflicting = Array.from(set.labels.keys()).filter((i) => set.labels[i] !== set.biasLabels[i]);
  const firstPerClass = new Map<number, number>();
  for (const i of conflicting) if (!firstPerClass.has(set.labels[i])) firstPerClass.set(set.labels[i], i);
  const first = [...firstPerClass.entries()].sort((a, b) => a[0] - b[0]).map(([, i]) => i);
  const rest = conflicting.filter((i) => !first.includes(i));
  return [...first, ...rest].slice(0, count);
}

/**
 * The diagnostics of one trained model from its test-set pass (`evaluation`: predictions and
 * bottleneck features, computed once by the job): cell accuracies, similarity distributions, and
 * Grad-CAM over the first `massImages` conflicting test images — the grid shows the first
 * `gradcamImages` of those maps. With `probeTrain`, also the bottleneck of the probe training set.
 */
export async function diagnose(
  model: TrainedModel,
  test: BiasedMnist,
  evaluation: Evaluation,
  options: DiagnosticsOptions = DEFAULT_DIAGNOSTICS,
  probeTrain?: BiasedMnist,
): Promise<ModelDiagnostics> {
  model.classifier.eval();
  try {
    const { predictions, features, dim, groups } = evaluation;
    const embeddings = probeTrain ? { train: (await embedSet(model, probeTrain, options.batch)).features, test: features, dim } : undefined;
    const similarity = await scope(async () =>
      similarityDistributions(tensor(features, [test.labels.length, dim]), { labels: test.labels, biasLabels: test.biasLabels }),
    );

    const pixels = test.height * test.width;
    // The grid's images are the first of the mass images (conflictingIndices keeps its order), so
    // one Grad-CAM pass serves both.
    const layer = model.encoderPath ? `${model.encoderPath}.${options.gradcamLayer}` : options.gradcamLayer;
    const indices = conflictingIndices(test, Math.max(options.massImages, options.gradcamImages));
    const maps = new Float32Array(indices.length * pixels);
    for (let from = 0; from < indices.length; from += 64) {
      const chunk = indices.slice(from, from + 64);
      maps.set(
        await scope(async () => {
          const x = tensor(normalizeImages(test, { indices: chunk }), [chunk.length, 3, test.height, test.width]);
          return (await gradCam(model.classifier, x, { layer })).toArray();
        }),
        from * pixels,
      );
    }
    const shown = indices.slice(0, options.gradcamImages);
    const massCount = Math.min(options.massImages, indices.length);
    const mask = new Uint8Array(massCount * pixels);
    for (let k = 0; k < massCount; k++) mask.set(digitMask(test, indices[k]), k * pixels);
    let digitPixels = 0;
    for (const v of mask) digitPixels += v;
    const shares = (await heatmapMass(maps.subarray(0, massCount * pixels), mask, [massCount, test.height, test.width])).filter((v): v is number => v !== null);
    return {
      key: model.key,
      name: model.name,
      groups,
      gradcam: { indices: shown, maps: maps.slice(0, shown.length * pixels), predictions: shown.map((i) => predictions[i]) },
      digitMass: {
        mean: shares.length ? shares.reduce((a, b) => a + b, 0) / shares.length : null,
        count: shares.length,
        digitArea: digitPixels / (massCount * pixels),
      },
      similarity,
      ...(embeddings ? { embeddings } : {}),
    };
  } finally {
    model.classifier.train();
  }
}

/**
 * The ICCVW 2021 attack on every model that kept its embeddings: linear and MLP probes trained on
 * the frozen bottleneck of the ρ = 0.999 training set predict the colour (bias label) of the
 * ρ = 0.1 test set, and the test embeddings' first principal component gets a Gaussian fit per
 * colour (`leakageReport` of @fairgpu/privacy; `writeLeakageReport` writes it).
 */
export async function privacyReport(results: ModelDiagnostics[], probeTrain: BiasedMnist, test: BiasedMnist, options: PrivacyOptions): Promise<LeakageReport> {
  return scope(async () =>
    leakageReport({
      models: results
        .filter((r) => r.embeddings)
        .map((r) => ({
          name: r.name,
          trainEmbeddings: tensor(r.embeddings!.train, [probeTrain.labels.length, r.embeddings!.dim]),
          testEmbeddings: tensor(r.embeddings!.test, [test.labels.length, r.embeddings!.dim]),
        })),
      attribute: { name: 'colour', train: probeTrain.biasLabels, test: test.biasLabels },
      mlp: options.mlpEpochs > 0 ? { epochs: options.mlpEpochs, seed: options.seed } : false,
      label: (g) => `colour ${g}`,
    }),
  );
}

/** The Grad-CAM grid, the similarity histograms and the per-cell accuracy bars of every model, as PNG + SVG + JSON. */
export async function writeDiagnosticFigures(results: ModelDiagnostics[], test: BiasedMnist, outDir: string): Promise<string[]> {
  if (results.length === 0) return [];
  const { height, width } = test;
  const shown = results[0].gradcam.indices;
  const images = new Float32Array(shown.length * 3 * height * width);
  // Displayed in [0, 1]: mean 0, std 1 turns the bytes into v/255.
  normalizeImages(test, { indices: shown, mean: [0, 0, 0], std: [1, 1, 1], out: images });
  const figures = [
    gradCamFigure({
      name: 'grad-cam',
      title: `Grad-CAM on bias-conflicting test images (colour ≠ digit), ρ = 0.1 test set`,
      height,
      width,
      rows: results.map((r) => ({
        label: r.name,
        images,
        maps: r.gradcam.maps,
        captions: r.gradcam.predictions.map((p, k) => `pred ${p} (digit ${test.labels[shown[k]]})`),
      })),
    }),
    similarityHistogramComparisonFigure(
      results.map((r) => ({ title: r.name, distributions: r.similarity })),
      {
        name: 'similarity',
        title: 'Cosine similarities of test-set bottleneck features: positive/negative × bias-aligned/conflicting pairs',
        // The point is each panel's own ordering (do s+ aligned and s+ conflicting overlap?); a shared
        // y axis would flatten a debiased model's spread-out histograms next to vanilla's spikes.
        sharedY: false,
      },
    ),
    groupAccuracyComparisonFigure(
      results.map((r) => ({ name: r.name, result: r.groups })),
      {
        name: 'group-accuracy',
        title: 'Accuracy per (digit, colour) cell of the ρ = 0.1 test set',
      },
    ),
  ];
  const written: string[] = [];
  for (const f of figures) {
    const paths = await writeFigure(f, outDir);
    written.push(...Object.values(paths).filter((p): p is string => typeof p === 'string'));
  }
  return written;
}

export function figuresDir(runDir: string): string {
  return join(runDir, 'figures');
}
