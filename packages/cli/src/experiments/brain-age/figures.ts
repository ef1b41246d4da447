/**
 * The embeddings figure: the first two principal components of each method's test embeddings
 * (internal + external test sets), one panel per method (drawn by `scatterFigure`), coloured by
 * age (viridis) in one figure and by site in the other (external sites ringed in black).
 */
import { createRng, permutation } from '@fairgpu/datasets';
import { scatterFigure, type Figure } from '@fairgpu/metrics';
import { pca } from '@fairgpu/privacy';
import { tensor } from '@fairgpu/tensor';

export interface PanelPoints {
  title: string;
  /** PC 1 and PC 2 per drawn point. */
  x: Float64Array;
  y: Float64Array;
  /** Share of the embeddings' variance on PC 1 and PC 2. */
  explained: [number, number];
}

export interface ProjectedSet {
  age: Float32Array;
  site: Int32Array;
  /** True for points of the external test set. */
  external: Uint8Array;
  /** Site names by class index (legend); default `site k`. */
  siteNames?: readonly string[];
}

/** Seeded subset of at most `points` rows of the internal + external test sets (the same rows for every method). */
export function pickRows(internalN: number, externalN: number, points: number, seed: number): Int32Array {
  const n = internalN + externalN;
  if (n <= points) return Int32Array.from({ length: n }, (_, i) => i);
  return Int32Array.from(permutation(n, createRng(seed, 77)).subarray(0, points)).sort();
}

/** PCA (2 components) of the rows `rows` of [internal; external] embeddings, on the device. */
export async function projectPanel(title: string, internal: Float32Array, external: Float32Array, d: number, rows: Int32Array): Promise<PanelPoints> {
  const ni = internal.length / d;
  const x = new Float32Array(rows.length * d);
  rows.forEach((r, k) => x.set(r < ni ? internal.subarray(r * d, (r + 1) * d) : external.subarray((r - ni) * d, (r - ni + 1) * d), k * d));
  const t = tensor(x, [rows.length, d]);
  const p = await pca(t, 2, { solver: 'full' });
  try {
    const z = p.transform(t);
    const v = await z.toArray();
    z.dispose();
    return {
      title,
      x: Float64Array.from({ length: rows.length }, (_, i) => v[2 * i]),
      y: Float64Array.from({ length: rows.length }, (_, i) => v[2 * i + 1]),
      explained: [p.explainedVarianceRatio[0], p.explainedVarianceRatio[1]],
    };
  } finally {
    p.dispose();
    t.dispose();
  }
}

/** Percent of variance, as in 'PC 1 43 %' (one decimal below 10 %). */
function percent(share: number): string {
  const v = 100 * share;
  return `${v < 9.95 ? v.toFixed(1) : v.toFixed(0)} %`;
}

/** A panel's title with its explained variance: 'L1 · PC 1 43 %, PC 2 12 %'. */
function methodTitle(p: PanelPoints): string {
  return `${p.title} · PC 1 ${percent(p.explained[0])}, PC 2 ${percent(p.explained[1])}`;
}

/** Small multiples of PC 1 × PC 2 (explained variance in each panel's title), coloured by age or by site (external-site points ringed). */
export function embeddingFigure(panels: PanelPoints[], set: ProjectedSet, colourBy: 'age' | 'site', options: { name: string; title: string }): Figure {
  const external = new Set<number>();
  set.site.forEach((s, i) => set.external[i] && external.add(s));
  const maxSite = set.site.reduce((m, s) => Math.max(m, s), -1);
  const categoryNames = Array.from({ length: maxSite + 1 }, (_, s) => `${set.siteNames?.[s] ?? `site ${s}`}${external.has(s) ? ' (ext)' : ''}`);
  const n = set.age.length;
  const f = scatterFigure({
    name: options.name,
    title: options.title,
    panels: panels.map((p) => ({
      title: methodTitle(p),
      x: p.x,
      y: p.y,
      ...(colourBy === 'age' ? { values: set.age } : { categories: set.site }),
      ...(colourBy === 'site' ? { highlight: set.external } : {}),
    })),
    colour: colourBy === 'age' ? 'continuous' : 'categorical',
    colormap: 'viridis',
    colourLabel: colourBy,
    categoryNames,
    highlightLabel: 'external site',
    xLabel: 'PC 1',
    yLabel: 'PC 2',
    // The rows were already picked (pickRows): draw them all.
    maxPoints: Math.max(1, n),
  });
  const data = f.data as { panels: Array<Record<string, unknown>> } & Record<string, unknown>;
  return {
    ...f,
    data: { ...data, colourBy, panels: data.panels.map((d, k) => ({ ...d, method: panels[k].title, explained: panels[k].explained })) },
  };
}
