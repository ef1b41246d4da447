/**
 * Attribute-inference probes on frozen embeddings: multinomial logistic regression (scikit-learn's
 * objective, L-BFGS over device-computed loss and gradient) or a one-hidden-layer MLP (Adam), then
 * accuracy, balanced accuracy and per-group accuracy on held-out embeddings next to chance.
 */
import { argmaxRows } from '@fairgpu/metrics';
import { Adam, MLP } from '@fairgpu/nn';
import {
  concat,
  crossEntropy,
  DeviceMismatchError,
  gather,
  InvalidArgumentError,
  logSoftmax,
  matmulTransposed,
  noGrad,
  Rng,
  scope,
  ShapeMismatchError,
  tensor,
  tidy,
  type Tensor,
} from '@fairgpu/tensor';
import { lbfgs, type LbfgsStop } from './lbfgs.ts';
import { checkEmbeddings, checkFinite, distinct, positiveInteger, positiveNumber, readAttribute, type AttributeLike } from './validate.ts';

export interface LinearProbeOptions {
  /** Inverse L2 strength, scikit-learn's C (default 1): minimises Σᵢ lossᵢ + ½‖W‖²/C, bias not penalised. */
  C?: number;
  /** Stop when max |∇| of the mean objective (mean loss + ½‖W‖²/(C·n)) ≤ tol (default 1e-6). */
  tol?: number;
  /** L-BFGS iteration cap (default 1000). */
  maxIterations?: number;
}

export interface MlpProbeOptions {
  /** Hidden width (default 128). */
  hidden?: number;
  /** Passes over the training set (default 50). */
  epochs?: number;
  /** Minibatch size (default 256; the last batch of an epoch may be smaller). */
  batchSize?: number;
  /** Adam learning rate (default 1e-3). */
  lr?: number;
  /** Adam's L2 weight decay (default 1e-4, scikit-learn MLPClassifier's alpha). */
  weightDecay?: number;
  /** Seeds the initialisation and the minibatch order (default 0). */
  seed?: number;
}

export interface AttributeProbeOptions extends LinearProbeOptions, MlpProbeOptions {
  trainEmbeddings: Tensor;
  trainAttribute: AttributeLike;
  testEmbeddings: Tensor;
  testAttribute: AttributeLike;
  /** 'linear' (default) or 'mlp'. */
  probe?: 'linear' | 'mlp';
  /** Standardise with the training set's mean and std (ddof 0) first (default true). */
  standardize?: boolean;
}

export interface GroupAccuracy {
  group: number;
  count: number;
  accuracy: number;
}

export interface GroupScores {
  /** Share of test samples whose group is predicted. */
  accuracy: number;
  /** Mean over the groups present in the test set of each group's accuracy (recall). */
  balancedAccuracy: number;
  /** The majority group's share of the test set (accuracy of always guessing it). */
  chance: number;
  /** Groups of the test set in ascending order. */
  perGroup: GroupAccuracy[];
}

export interface ProbeResult extends GroupScores {
  probe: 'linear' | 'mlp';
  trainAccuracy: number;
  /** The training set's groups, ascending: row i of the probe's output is classes[i]. */
  classes: number[];
  /** Predicted group per test sample. */
  predictions: Int32Array;
  nTrain: number;
  nTest: number;
  dim: number;
  /** Linear probe: coefficients on the standardised features ([K·d] row-major, one row per class), intercepts, optimiser record. */
  linear?: {
    coef: Float64Array;
    intercept: Float64Array;
    loss: number;
    gradMax: number;
    iterations: number;
    evaluations: number;
    stop: LbfgsStop;
    converged: boolean;
  };
  /** MLP probe: steps taken and the mean training loss of the last epoch. */
  mlp?: { steps: number; lastEpochLoss: number; hidden: number; epochs: number };
}

const OP = 'attributeProbe';

/**
 * Trains a probe to predict a private attribute from frozen embeddings and scores it on held-out
 * embeddings. Lower accuracy (closer to `chance`) = more private.
 *
 * @example
 * const r = await attributeProbe({ trainEmbeddings, trainAttribute: colours, testEmbeddings, testAttribute, probe: 'linear' });
 * r.accuracy; r.balancedAccuracy; r.chance; r.perGroup;
 */
export async function attributeProbe(options: AttributeProbeOptions): Promise<ProbeResult> {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError(OP, 'options', 'must be an object');
  const train = checkEmbeddings(OP, 'trainEmbeddings', options.trainEmbeddings);
  const test = checkEmbeddings(OP, 'testEmbeddings', options.testEmbeddings);
  const [n, d] = train.shape;
  const nTest = test.shape[0];
  if (test.shape[1] !== d) throw new ShapeMismatchError(OP, 'testEmbeddings', `has ${test.shape[1]} features, trainEmbeddings ${d}`);
  if (test.backend !== train.backend)
    throw new DeviceMismatchError(OP, 'testEmbeddings', `is on ${test.backend.name}, trainEmbeddings on ${train.backend.name}`);
  if (n < 2) throw new InvalidArgumentError(OP, 'trainEmbeddings', `needs at least 2 rows, got ${n}`);
  if (nTest < 1) throw new InvalidArgumentError(OP, 'testEmbeddings', 'has no rows');
  const probe = options.probe ?? 'linear';
  if (probe !== 'linear' && probe !== 'mlp') throw new InvalidArgumentError(OP, 'probe', `must be 'linear' or 'mlp', got ${String(probe)}`);
  const C = positiveNumber(OP, 'C', options.C ?? 1);
  const tol = positiveNumber(OP, 'tol', options.tol ?? 1e-6);
  const maxIterations = positiveInteger(OP, 'maxIterations', options.maxIterations ?? 1000);
  const hidden = positiveInteger(OP, 'hidden', options.hidden ?? 128);
  const epochs = positiveInteger(OP, 'epochs', options.epochs ?? 50);
  const batchSize = positiveInteger(OP, 'batchSize', options.batchSize ?? 256);
  const lr = positiveNumber(OP, 'lr', options.lr ?? 1e-3);
  const weightDecay = positiveNumber(OP, 'weightDecay', options.weightDecay ?? 1e-4, true);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new InvalidArgumentError(OP, 'seed', `must be an integer, got ${String(seed)}`);
  const standardize = options.standardize ?? true;

  const yTrainRaw = await readAttribute(OP, 'trainAttribute', options.trainAttribute, n);
  const yTestRaw = await readAttribute(OP, 'testAttribute', options.testAttribute, nTest);
  const classes = distinct(yTrainRaw);
  if (classes.length < 2) throw new InvalidArgumentError(OP, 'trainAttribute', `must contain at least 2 groups, has only ${classes.join(', ')}`);
  const index = new Map(classes.map((c, i) => [c, i]));
  const unseen = distinct(yTestRaw).filter((g) => !index.has(g));
  if (unseen.length) {
    throw new InvalidArgumentError(
      OP,
      'testAttribute',
      `has group(s) ${unseen.join(', ')} that trainAttribute never contains (train groups: ${classes.join(', ')}); a probe cannot predict them`,
    );
  }
  const yTrain = yTrainRaw.map((v) => index.get(v)!);
  const K = classes.length;
  const device = train.backend;

  return scope(async () => {
    const xTrain = train.detach();
    const xTest = test.detach();
    const trainMean = xTrain.mean(0);
    const mu = await trainMean.toArray();
    checkFinite(OP, 'trainEmbeddings', mu, 'the mean of column');
    checkFinite(OP, 'testEmbeddings', await xTest.sum(0).toArray(), 'the sum of column');
    let xs = xTrain;
    let xt = xTest;
    if (standardize) {
      const variance = await xTrain.variance(0, { correction: 0 }).toArray();
      checkFinite(OP, 'trainEmbeddings', variance, 'the variance of column');
      // scikit-learn's StandardScaler: a constant feature gets scale 1. In float32 a constant
      // column's two-pass variance is rounding noise of order (eps·|mean|)².
      const scale = Float32Array.from(variance, (v, j) => (v <= (64 * 2 ** -24 * Math.abs(mu[j])) ** 2 || v === 0 ? 1 : Math.sqrt(v)));
      const s = tensor(scale, [d], { device });
      xs = xTrain.sub(trainMean).div(s);
      xt = xTest.sub(trainMean).div(s);
    }
    let predict: (x: Tensor) => Tensor;
    let linear: ProbeResult['linear'];
    let mlp: ProbeResult['mlp'];
    let cleanup = () => {};
    if (probe === 'linear') {
      const fit = await fitLogistic(xs, yTrain, K, C, tol, maxIterations);
      linear = fit.record;
      const w = tensor(Float32Array.from(fit.record.coef), [K, d], { device });
      const b = tensor(Float32Array.from(fit.record.intercept), [K], { device });
      predict = (x) => matmulTransposed(x, w, false, true).add(b);
    } else {
      const fit = await fitMlp(xs, yTrain, K, { hidden, epochs, batchSize, lr, weightDecay, seed });
      mlp = fit.record;
      fit.model.eval();
      predict = (x) => fit.model.forward(x);
      cleanup = () => {
        fit.model.dispose();
        fit.optimizer.dispose();
      };
    }
    try {
      const trainPred = await predictClasses(predict, xs, K);
      let correct = 0;
      for (let i = 0; i < n; i++) if (trainPred[i] === yTrain[i]) correct++;
      const testPred = await predictClasses(predict, xt, K);
      const predictions = testPred.map((c) => classes[c]);
      return {
        probe,
        ...groupScores(predictions, yTestRaw),
        trainAccuracy: correct / n,
        classes,
        predictions,
        nTrain: n,
        nTest,
        dim: d,
        ...(linear ? { linear } : {}),
        ...(mlp ? { mlp } : {}),
      };
    } finally {
      cleanup();
    }
  });
}

/** Accuracy, balanced accuracy (scikit-learn's balanced_accuracy_score), chance and per-group accuracy. */
export function groupScores(predictions: ArrayLike<number>, truth: ArrayLike<number>): GroupScores {
  if (predictions.length !== truth.length)
    throw new InvalidArgumentError('groupScores', 'predictions', `has ${predictions.length} values, truth ${truth.length}`);
  if (truth.length === 0) throw new InvalidArgumentError('groupScores', 'truth', 'is empty');
  const stats = new Map<number, { count: number; correct: number }>();
  let correct = 0;
  for (let i = 0; i < truth.length; i++) {
    const s = stats.get(truth[i]) ?? { count: 0, correct: 0 };
    s.count++;
    if (predictions[i] === truth[i]) {
      s.correct++;
      correct++;
    }
    stats.set(truth[i], s);
  }
  const perGroup = [...stats.entries()].sort((a, b) => a[0] - b[0]).map(([group, s]) => ({ group, count: s.count, accuracy: s.correct / s.count }));
  return {
    accuracy: correct / truth.length,
    balancedAccuracy: perGroup.reduce((a, g) => a + g.accuracy, 0) / perGroup.length,
    chance: Math.max(...perGroup.map((g) => g.count)) / truth.length,
    perGroup,
  };
}

/** Row-wise argmax (first maximum, as numpy) of predict(x), in chunks of 8192 rows. */
async function predictClasses(predict: (x: Tensor) => Tensor, x: Tensor, K: number): Promise<Int32Array> {
  const n = x.shape[0];
  const out = new Int32Array(n);
  const chunk = 8192;
  for (let start = 0; start < n; start += chunk) {
    const end = Math.min(n, start + chunk);
    const logits = tidy(() => noGrad(() => predict(start === 0 && end === n ? x : x.slice([start, 0], [end, x.shape[1]]))));
    const v = await logits.toArray();
    logits.dispose();
    out.set(argmaxRows(v, end - start, K), start);
  }
  return out;
}

/**
 * Multinomial logistic regression: minimises mean_i(−log softmax(W·xᵢ + b)_{yᵢ}) + ½‖W‖²/(C·n),
 * which is scikit-learn's `C·Σ loss + ½‖W‖²` divided by C·n (same minimiser). W has one row per
 * class (K rows, also for K = 2, as scikit-learn's multinomial fit). Loss and gradient on the
 * device, one readback per evaluation; the per-sample log-probabilities are summed in float64.
 */
async function fitLogistic(xs: Tensor, y: Int32Array, K: number, C: number, gtol: number, maxIterations: number) {
  const [n, d] = xs.shape;
  const device = xs.backend;
  const onehotHost = new Float32Array(n * K);
  y.forEach((c, i) => (onehotHost[i * K + c] = 1));
  const onehot = tensor(onehotHost, [n, K], { device });
  const yIndex = tensor(y, [n, 1], { device, dtype: 'i32' });
  const lambda = 1 / (C * n);
  const kd = K * d;
  const evaluate = async (theta: Float64Array) => {
    const h = await scope(async () => {
      const w = tensor(Float32Array.from(theta.subarray(0, kd)), [K, d], { device });
      const b = tensor(Float32Array.from(theta.subarray(kd)), [K], { device });
      const logp = logSoftmax(matmulTransposed(xs, w, false, true).add(b), -1);
      const picked = gather(logp, 1, yIndex).reshape([n]);
      const g = logp.exp().sub(onehot);
      const gw = matmulTransposed(g, xs, true, false).reshape([kd]);
      const gb = g.sum(0);
      return concat([picked, gw, gb], 0).toArray();
    });
    let nll = 0;
    for (let i = 0; i < n; i++) nll -= h[i];
    let penalty = 0;
    for (let i = 0; i < kd; i++) penalty += theta[i] * theta[i];
    const grad = new Float64Array(kd + K);
    for (let i = 0; i < kd; i++) grad[i] = h[n + i] / n + lambda * theta[i];
    for (let c = 0; c < K; c++) grad[kd + c] = h[n + kd + c] / n;
    return { f: nll / n + 0.5 * lambda * penalty, g: grad };
  };
  const r = await lbfgs(evaluate, new Float64Array(kd + K), { gtol, ftol: 1e-12, maxIterations, memory: 10 });
  onehot.dispose();
  yIndex.dispose();
  return {
    record: {
      coef: r.x.slice(0, kd),
      intercept: r.x.slice(kd),
      loss: r.f,
      gradMax: r.gradMax,
      iterations: r.iterations,
      evaluations: r.evaluations,
      stop: r.stop,
      converged: r.stop === 'gradient' || r.stop === 'loss-change',
    },
  };
}

interface MlpSettings {
  hidden: number;
  epochs: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  seed: number;
}

/**
 * Linear(d, hidden) → ReLU → Linear(hidden, K) (PyTorch initialisation from `Rng(seed)`), Adam,
 * cross-entropy, `epochs` passes in minibatches of a seeded permutation (`Rng(seed + 1)`).
 */
async function fitMlp(xs: Tensor, y: Int32Array, K: number, s: MlpSettings) {
  const [n, d] = xs.shape;
  const device = xs.backend;
  const model = new MLP(d, [s.hidden], K, { device, rng: new Rng(s.seed) });
  const optimizer = new Adam(model.parameters(), { lr: s.lr, weightDecay: s.weightDecay });
  const shuffler = new Rng(s.seed + 1);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  let steps = 0;
  let lastEpochLoss = NaN;
  for (let epoch = 0; epoch < s.epochs; epoch++) {
    shuffler.shuffle(order);
    const losses: Tensor[] = [];
    for (let start = 0; start < n; start += s.batchSize) {
      const rows = order.subarray(start, Math.min(n, start + s.batchSize));
      const b = rows.length;
      const idx = new Int32Array(b * d);
      for (let i = 0; i < b; i++) idx.fill(rows[i], i * d, (i + 1) * d);
      const labels = Int32Array.from(rows, (r) => y[r]);
      const loss = await scope(async () => {
        const xb = gather(xs, 0, tensor(idx, [b, d], { device, dtype: 'i32' }));
        const l = crossEntropy(model.forward(xb), tensor(labels, [b], { device, dtype: 'i32' }));
        await l.backward();
        optimizer.step();
        optimizer.zeroGrad();
        return l.detach().mul(b);
      });
      losses.push(loss);
      steps++;
    }
    if (epoch === s.epochs - 1) {
      const total = tidy(() =>
        concat(
          losses.map((l) => l.reshape([1])),
          0,
        ).sum(),
      );
      lastEpochLoss = (await total.item()) / n;
      total.dispose();
    }
    losses.forEach((l) => l.dispose());
  }
  return { model, optimizer, record: { steps, lastEpochLoss, hidden: s.hidden, epochs: s.epochs } };
}
