import { assertKnownOptions, InvalidArgumentError, type Tensor } from '@fairgpu/tensor';
import { checkFeatures, checkImpl, checkNonNegative, checkPositive, checkVector, type Impl, type KernelType } from './options.ts';

/**
 * The contract between @fairgpu/kernels and @fairgpu/losses (docs/contrastive-stats.md): one
 * differentiable op returning per-anchor statistics [M, STATS_COLUMNS] from which every
 * contrastive loss is assembled with ordinary tensor code.
 */

/** Column indices of `contrastiveRowStats`'s output. */
export const STAT = Object.freeze({
  rowMax: 0,
  lseAll: 1,
  lsePos: 2,
  lseNeg: 3,
  sumPosLogit: 4,
  countPos: 5,
  epsOut: 6,
  sumW: 7,
  sumWLogit: 8,
  lseExpW: 9,
} as const);

export const STATS_COLUMNS = 10;

/** Columns the fused forward emits: the public ten, then hidden values its backward needs. */
export const HIDDEN = Object.freeze({ logR: 10 } as const);
export const FUSED_COLUMNS = 11;

/** `sumWLogit` → `COL_SUM_W_LOGIT`: the WGSL name of a column. */
export function wgslColumnName(key: string): string {
  return `COL_${key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1_$2')
    .toUpperCase()}`;
}

/**
 * The WGSL declarations of the statistics-column contract, generated from STAT and HIDDEN:
 * `NCOL` (= FUSED_COLUMNS, the row stride of the fused kernels' buffers) and one `COL_*` index
 * per column. The shaders that read or write columns use these names, never bare indices.
 */
export const STATS_WGSL_PRELUDE: string = [
  '// Statistics columns: generated from STAT and HIDDEN (packages/kernels/src/stats.ts). Do not edit.',
  `const NCOL: u32 = ${FUSED_COLUMNS}u;`,
  ...Object.entries({ ...STAT, ...HIDDEN }).map(([key, k]) => `const ${wgslColumnName(key)}: u32 = ${k}u;`),
  '',
].join('\n');

/** A column of `contrastiveRowStats`'s output, by name. */
export type StatName = keyof typeof STAT;

/** The inputs each column needs (rowMax and lseAll need none). */
const COLUMN_NEEDS: Record<StatName, 'labels' | 'kernel' | undefined> = {
  rowMax: undefined,
  lseAll: undefined,
  lsePos: 'labels',
  lseNeg: 'labels',
  sumPosLogit: 'labels',
  countPos: 'labels',
  epsOut: 'labels',
  sumW: 'kernel',
  sumWLogit: 'kernel',
  lseExpW: 'kernel',
};

/** Finite stand-in for log 0 (WGSL has no reliable −Inf). */
export const EMPTY_LSE = -3.0e38;

export interface ContrastiveStatsOptions {
  /** τ > 0. */
  temperature: number;
  /** zr [N, d]; default: the anchors themselves (then the self-pair j = i is excluded). */
  reference?: Tensor;
  /** i32 [M]: anchor labels (positives share the label). */
  labels?: Tensor;
  /** i32 [N]; defaults to `labels` when `reference` is omitted. */
  refLabels?: Tensor;
  /** f32 [M] regression targets for the kernel weights. */
  targets?: Tensor;
  /** f32 [N]; defaults to `targets` when `reference` is omitted. */
  refTargets?: Tensor;
  /** w_ij = K(t_i − tr_j). */
  kernel?: { type: KernelType; sigma: number };
  /** ε ≥ 0 of the epsOut column (default 0). */
  epsilon?: number;
  /** Constant added inside epsOut's log (default 0; 1e-6 in the released code). */
  logEps?: number;
  /** Which L^exp column (default 'paper'). */
  expVariant?: 'paper' | 'released';
  /**
   * The columns the caller reads. The others are returned as 0 and carry no gradient, and the
   * fused kernels skip their work: e.g. without `epsOut` the forward is one pass over the column
   * tiles instead of two. `epsOut` brings `lseNeg` along (its gradient needs it). Default: every
   * column whose inputs are given.
   */
  columns?: readonly StatName[];
  impl?: Impl;
}

/** The validated, defaulted form both implementations consume. */
export interface ResolvedStatsOptions {
  impl: Impl;
  temperature: number;
  anchors: Tensor;
  reference: Tensor | undefined;
  labels: Tensor | undefined;
  refLabels: Tensor | undefined;
  targets: Tensor | undefined;
  refTargets: Tensor | undefined;
  kernel: { type: KernelType; sigma: number } | undefined;
  epsilon: number;
  logEps: number;
  expVariant: 'paper' | 'released';
  /** Bit STAT[name] set for each column computed (rowMax always). */
  columns: number;
}

/** Whether bit `STAT[name]` is set in a resolved column mask. */
export function hasColumn(mask: number, name: StatName): boolean {
  return (mask & (1 << STAT[name])) !== 0;
}

function resolveColumns(columns: unknown, hasLabels: boolean, hasKernel: boolean): number {
  const present = (name: StatName) => {
    const need = COLUMN_NEEDS[name];
    return need === undefined || (need === 'labels' ? hasLabels : hasKernel);
  };
  const names = Object.keys(STAT) as StatName[];
  if (columns === undefined) return names.filter(present).reduce((m, name) => m | (1 << STAT[name]), 0);
  if (!Array.isArray(columns)) throw new InvalidArgumentError(OP, 'columns', `must be an array of column names (${names.join(', ')})`);
  let mask = 1 << STAT.rowMax;
  for (const name of columns as unknown[]) {
    if (typeof name !== 'string' || !Object.hasOwn(STAT, name))
      throw new InvalidArgumentError(OP, 'columns', `has unknown column ${JSON.stringify(name)}; known: ${names.join(', ')}`);
    if (!present(name as StatName))
      throw new InvalidArgumentError(
        OP,
        'columns',
        `asks for '${name}', which needs ${COLUMN_NEEDS[name as StatName] === 'labels' ? 'labels' : 'targets and a kernel'}`,
      );
    mask |= 1 << STAT[name as StatName];
  }
  // epsOut's gradient reads lseNeg from the forward output, so it always comes along.
  if (mask & (1 << STAT.epsOut)) mask |= 1 << STAT.lseNeg;
  return mask;
}

const OP = 'contrastiveRowStats';

/** Every key of ContrastiveStatsOptions: any other is an error (a misspelt option is never ignored). */
const STATS_KEYS = [
  'temperature',
  'reference',
  'labels',
  'refLabels',
  'targets',
  'refTargets',
  'kernel',
  'epsilon',
  'logEps',
  'expVariant',
  'columns',
  'impl',
] as const;

export function resolveStatsOptions(anchors: Tensor, options: ContrastiveStatsOptions): ResolvedStatsOptions {
  if (!options || typeof options !== 'object') throw new InvalidArgumentError(OP, 'options', 'must be an object with at least { temperature }');
  assertKnownOptions(OP, options, STATS_KEYS);
  const z = checkFeatures(OP, 'anchors', anchors);
  const [m, d] = z.shape;
  const device = z.backend;
  const temperature = checkPositive(OP, 'temperature', options.temperature);
  const reference = options.reference === undefined ? undefined : checkFeatures(OP, 'reference', options.reference, d, device);
  const n = reference ? reference.shape[0] : m;
  const labels = options.labels === undefined ? undefined : checkVector(OP, 'labels', options.labels, m, 'i32', device);
  let refLabels = options.refLabels === undefined ? undefined : checkVector(OP, 'refLabels', options.refLabels, n, 'i32', device);
  if (refLabels && !labels) throw new InvalidArgumentError(OP, 'refLabels', 'is given without labels');
  if (labels && !refLabels) {
    if (reference) throw new InvalidArgumentError(OP, 'refLabels', 'is required when labels and a reference are given');
    refLabels = labels;
  }
  const targets = options.targets === undefined ? undefined : checkVector(OP, 'targets', options.targets, m, 'f32', device);
  let refTargets = options.refTargets === undefined ? undefined : checkVector(OP, 'refTargets', options.refTargets, n, 'f32', device);
  if (refTargets && !targets) throw new InvalidArgumentError(OP, 'refTargets', 'is given without targets');
  if (targets && !refTargets) {
    if (reference) throw new InvalidArgumentError(OP, 'refTargets', 'is required when targets and a reference are given');
    refTargets = targets;
  }
  let kernel: ResolvedStatsOptions['kernel'];
  if (options.kernel !== undefined) {
    const k = options.kernel;
    if (!k || (k.type !== 'gaussian' && k.type !== 'rbf' && k.type !== 'cauchy')) {
      throw new InvalidArgumentError(OP, 'kernel', `type must be 'gaussian', 'rbf' or 'cauchy', got ${String(k?.type)}`);
    }
    for (const key of Object.keys(k)) {
      if (key !== 'type' && key !== 'sigma') throw new InvalidArgumentError(OP, 'kernel', `has unknown key '${key}'; known keys: type, sigma`);
    }
    kernel = { type: k.type, sigma: checkPositive(OP, 'kernel.sigma', k.sigma) };
  }
  if (kernel && !targets) throw new InvalidArgumentError(OP, 'targets', 'are required when a kernel is given');
  if (targets && !kernel) throw new InvalidArgumentError(OP, 'kernel', 'is required when targets are given');
  const expVariant = options.expVariant ?? 'paper';
  if (expVariant !== 'paper' && expVariant !== 'released')
    throw new InvalidArgumentError(OP, 'expVariant', `must be 'paper' or 'released', got ${String(expVariant)}`);
  return {
    impl: checkImpl(OP, options.impl),
    temperature,
    anchors: z,
    reference,
    labels,
    refLabels,
    targets,
    refTargets,
    kernel,
    epsilon: checkNonNegative(OP, 'epsilon', options.epsilon, 0),
    logEps: checkNonNegative(OP, 'logEps', options.logEps, 0),
    expVariant,
    columns: resolveColumns(options.columns, labels !== undefined, kernel !== undefined),
  };
}
