/**
 * EnD's `paper` regularizer from per-group sums as one fused custom op (shaders/losses/
 * end-groups.wgsl): two dispatches forward (the group sums, then the loss) and two backward (the
 * group sums again, then every row's gradient), where the one-hot matmul composite
 * (`endGroupedComposite` in debias.ts, its definition, kept for the tests) took ~30 forward and
 * ~40 backward, each ~0.1 ms of fixed cost on software adapters.
 *
 * Every sum EnD needs is Σ G_ij over the pairs inside a group g (a bias group, a class, a
 * (class, bias) cell), and Σ_{i>j in g} ⟨z_i, z_j⟩ = (‖S_g‖² − Σ_{i∈g} ‖z_i‖²) / 2 with
 * S_g = Σ_{i∈g} z_i, whose gradient with respect to z_i is S_g − z_i.
 */
import { tensor, type StorageView, type Tensor } from '@fairgpu/tensor';
import {
  bufferOf,
  customOp,
  f32Input,
  fillMarker,
  grid1d,
  ParamWriter,
  workgroupSumWgsl,
  type CustomOpDefinition,
  type Recorder,
} from '@fairgpu/tensor/internal';
import { endGroupsWgsl } from './generated/wgsl.ts';

/** One grouping of the rows: each row's group (in order of first appearance), the groups' sizes. */
interface Grouping {
  rowGroup: Int32Array;
  sizes: number[];
}

function groupingOf(m: number, key: (i: number) => string): Grouping {
  const ids = new Map<string, number>();
  const rowGroup = new Int32Array(m);
  const sizes: number[] = [];
  for (let i = 0; i < m; i++) {
    const k = key(i);
    let id = ids.get(k);
    if (id === undefined) {
      id = ids.size;
      ids.set(k, id);
      sizes.push(0);
    }
    rowGroup[i] = id;
    sizes[id]++;
  }
  return { rowGroup, sizes };
}

const pairsOf = (g: Grouping) => g.sizes.reduce((acc, n) => acc + (n * (n - 1)) / 2, 0);

interface EndAttrs {
  rows: number;
  dim: number;
  /** Groups of B (bias), C (class), L (cell). */
  counts: readonly [number, number, number];
  pairs: readonly [number, number, number];
  alpha: number;
  beta: number;
}

/** Bases of the sections of the `groups` table: perm (3·M), offsets (Σ (K + 1)), row groups (3·M, flattened ids). */
function bases(attrs: EndAttrs): { perm: number; offsets: number; rowGroup: number } {
  const offsetsLength = attrs.counts.reduce((a, k) => a + k + 1, 0);
  return { perm: 0, offsets: 3 * attrs.rows, rowGroup: 3 * attrs.rows + offsetsLength };
}

/** The `groups` table (i32) of three groupings, laid out as `bases` says. */
function groupsTable(groupings: readonly Grouping[], rows: number): Int32Array {
  const offsetsLength = groupings.reduce((a, g) => a + g.sizes.length + 1, 0);
  const table = new Int32Array(6 * rows + offsetsLength);
  let offsetAt = 3 * rows;
  let flatBase = 0;
  groupings.forEach((g, G) => {
    // CSR: rows sorted by group (stable), offsets of each group into them.
    const starts = [0];
    for (const n of g.sizes) starts.push(starts.at(-1)! + n);
    const next = starts.slice(0, -1);
    for (let i = 0; i < rows; i++) table[G * rows + next[g.rowGroup[i]]++] = i;
    starts.forEach((s, k) => (table[offsetAt + k] = s));
    offsetAt += starts.length;
    for (let i = 0; i < rows; i++) table[3 * rows + offsetsLength + G * rows + i] = flatBase + g.rowGroup[i];
    flatBase += g.sizes.length;
  });
  return table;
}

function params(attrs: EndAttrs): ArrayBuffer {
  const b = bases(attrs);
  const w = new ParamWriter().u(0, attrs.rows).u(1, attrs.dim).u(2, attrs.counts[0]).u(3, attrs.counts[1]).u(4, attrs.counts[2]);
  w.f(5, attrs.pairs[0]).f(6, attrs.pairs[1]).f(7, attrs.pairs[2]).f(8, attrs.alpha).f(9, attrs.beta);
  return w.u(10, b.perm).u(11, b.offsets).u(12, b.rowGroup).buffer;
}

const sources = new Map<string, string>();
function source(mode: 0 | 1 | 2, zWgsl: string): string {
  const key = `${mode}|${zWgsl}`;
  let s = sources.get(key);
  if (!s) {
    const bindings = [
      `const MODE: u32 = ${mode}u;`,
      '@group(0) @binding(3) var<storage, read_write> sums: array<f32>;',
      mode === 0 ? 'var<private> out: array<f32, 1>;' : '@group(0) @binding(4) var<storage, read_write> out: array<f32>;',
      mode === 2
        ? '@group(0) @binding(5) var<storage, read> upstream: array<f32>;\nfn upstream_gradient() -> f32 { return upstream[0]; }'
        : 'fn upstream_gradient() -> f32 { return 0.0; }',
    ];
    s = zWgsl + workgroupSumWgsl('workgroup_sum', 'vec2<f32>') + fillMarker(endGroupsWgsl, 'BINDINGS', bindings);
    sources.set(key, s);
  }
  return s;
}

/** The group sums S and pair sums P of every group into a scratch buffer (MODE 0). */
function encodeGroupSums(rec: Recorder, z: StorageView, groups: StorageView, attrs: EndAttrs): { sums: GPUBuffer; zIn: ReturnType<typeof f32Input> } {
  const total = attrs.counts[0] + attrs.counts[1] + attrs.counts[2];
  const sums = rec.scratch(4 * total * (attrs.dim + 1)).buffer;
  const zIn = f32Input(rec, 'z', 1, bufferOf(z), attrs.rows * attrs.dim);
  rec.dispatch('end-group-sums', source(0, zIn.wgsl), params(attrs), [zIn.resource, bufferOf(groups), sums], [total, 1, 1]);
  return { sums, zIn };
}

/** Group sums and pair sums in float64, as the kernel computes them. */
function cpuSums(z: Float64Array, table: Float64Array, attrs: EndAttrs): { s: Float64Array; pairSums: Float64Array } {
  const { rows, dim } = attrs;
  const total = attrs.counts[0] + attrs.counts[1] + attrs.counts[2];
  const b = bases(attrs);
  const s = new Float64Array(total * dim);
  const diag = new Float64Array(total);
  for (let G = 0; G < 3; G++)
    for (let i = 0; i < rows; i++) {
      const g = table[b.rowGroup + G * rows + i];
      for (let j = 0; j < dim; j++) {
        s[g * dim + j] += z[i * dim + j];
        diag[g] += z[i * dim + j] ** 2;
      }
    }
  const pairSums = new Float64Array(total);
  for (let g = 0; g < total; g++) {
    let n2 = 0;
    for (let j = 0; j < dim; j++) n2 += s[g * dim + j] ** 2;
    pairSums[g] = (n2 - diag[g]) / 2;
  }
  return { s, pairSums };
}

const endGradOp: CustomOpDefinition<EndAttrs, { z: Tensor; groups: Tensor; g: Tensor }> = {
  name: 'endGroupedGrad',
  gpu(rec, { z, groups, g }, _out, dst, attrs) {
    const { sums, zIn } = encodeGroupSums(rec, z, groups, attrs);
    rec.dispatch('end-grad', source(2, zIn.wgsl), params(attrs), [zIn.resource, bufferOf(groups), sums, dst, bufferOf(g)], grid1d(attrs.rows));
  },
  cpu({ z, groups, g }, _out, attrs) {
    const { rows, dim, pairs, alpha, beta } = attrs;
    const { s, pairSums } = cpuSums(z.values, groups.values, attrs);
    const b = bases(attrs);
    const nQ = pairs[1] - pairs[2];
    const dz = new Float64Array(rows * dim);
    for (let i = 0; i < rows; i++) {
      const [gb, gc, gl] = [0, 1, 2].map((G) => groups.values[b.rowGroup + G * rows + i]);
      const cb = pairs[0] > 0 ? (alpha * Math.sign(pairSums[gb])) / pairs[0] : 0;
      const cq = nQ > 0 ? (0.5 * beta) / nQ : 0;
      for (let j = 0; j < dim; j++) {
        const v = z.values[i * dim + j];
        dz[i * dim + j] = g.values[0] * (cb * (s[gb * dim + j] - v) - cq * (s[gc * dim + j] - v) + cq * (s[gl * dim + j] - v));
      }
    }
    return dz;
  },
};

const endOp: CustomOpDefinition<EndAttrs, { z: Tensor; groups: Tensor }> = {
  name: 'endGrouped',
  gpu(rec, { z, groups }, _out, dst, attrs) {
    const { sums, zIn } = encodeGroupSums(rec, z, groups, attrs);
    rec.dispatch('end-loss', source(1, zIn.wgsl), params(attrs), [zIn.resource, bufferOf(groups), sums, dst], [1, 1, 1]);
  },
  cpu({ z, groups }, _out, attrs) {
    const { counts, pairs, alpha, beta } = attrs;
    const { pairSums } = cpuSums(z.values, groups.values, attrs);
    let perp = 0;
    for (let g = 0; g < counts[0]; g++) perp += Math.abs(pairSums[g]);
    let a = 0;
    for (let g = counts[0]; g < counts[0] + counts[1]; g++) a += pairSums[g];
    for (let g = counts[0] + counts[1]; g < counts[0] + counts[1] + counts[2]; g++) a -= pairSums[g];
    const nQ = pairs[1] - pairs[2];
    return Float64Array.of((pairs[0] > 0 ? alpha * (perp / pairs[0]) : 0) + (nQ > 0 ? beta * (1 - (a / nQ + 1) * 0.5) : 0));
  },
  vjp(g, { inputs: { z, groups }, attrs }) {
    return { z: customOp(endGradOp, { z, groups, g }, { shape: z.shape, dtype: 'f32' }, attrs), groups: null };
  },
};

/** EnD `paper` (α·R⊥ + β·R∥) of normalised rows z [M, d] with host class and bias labels, fused. */
export function endGroupedFused(z: Tensor, labels: Float64Array, bias: Float64Array, alpha: number, beta: number): Tensor {
  const rows = labels.length;
  const groupings = [groupingOf(rows, (i) => `${bias[i]}`), groupingOf(rows, (i) => `${labels[i]}`), groupingOf(rows, (i) => `${labels[i]}|${bias[i]}`)];
  const groups = tensor(groupsTable(groupings, rows), [6 * rows + groupings.reduce((a, g) => a + g.sizes.length + 1, 0)], { device: z.backend, dtype: 'i32' });
  const attrs: EndAttrs = {
    rows,
    dim: z.shape[1],
    counts: [groupings[0].sizes.length, groupings[1].sizes.length, groupings[2].sizes.length],
    pairs: [pairsOf(groupings[0]), pairsOf(groupings[1]), pairsOf(groupings[2])],
    alpha,
    beta,
  };
  return customOp(endOp, { z, groups }, { shape: [], dtype: 'f32' }, attrs);
}
