/**
 * The embeddings figure: the first two principal components of each method's test embeddings
 * (internal + external test sets), one panel per method, coloured by age (viridis) in one figure
 * and by site in the other (external sites ringed in black).
 */
import { createRng, permutation } from '@fairgpu/datasets';
import { colormapHex, escapeXml, svgDocument, type Figure } from '@fairgpu/metrics';
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

const PANEL = 230;
const GAP = 18;
const TOP = 40;
const HEADER = 34;
const COLUMNS = 4;
const BAR = 70;

/** A distinct hue per site (golden-angle steps), mid lightness. */
export function siteColour(site: number): string {
  const h = ((site * 137.508) % 360) / 360;
  const s = 0.65;
  const l = site % 2 ? 0.42 : 0.55;
  // HSL → RGB (resvg does not read hsl() colours).
  const q = l < 0.5 ? l * (1 + s) : l + s - l * s;
  const p = 2 * l - q;
  const channel = (t: number) => {
    const u = t < 0 ? t + 1 : t > 1 ? t - 1 : t;
    const v = u < 1 / 6 ? p + (q - p) * 6 * u : u < 1 / 2 ? q : u < 2 / 3 ? p + (q - p) * (2 / 3 - u) * 6 : p;
    return Math.round(255 * v).toString(16).padStart(2, '0');
  };
  return `#${channel(h + 1 / 3)}${channel(h)}${channel(h - 1 / 3)}`;
}

/** Small multiples of PC 1 × PC 2, coloured by age or by site; points drawn in the given order. */
export function embeddingFigure(panels: PanelPoints[], set: ProjectedSet, colourBy: 'age' | 'site', options: { name: string; title: string }): Figure {
  const columns = Math.min(COLUMNS, panels.length);
  const rowsOfPanels = Math.ceil(panels.length / columns);
  const width = GAP + columns * (PANEL + GAP) + (colourBy === 'age' ? BAR : 150);
  const height = TOP + rowsOfPanels * (PANEL + HEADER + GAP) + 10;
  let ageMin = Infinity;
  let ageMax = -Infinity;
  for (const a of set.age) {
    ageMin = Math.min(ageMin, a);
    ageMax = Math.max(ageMax, a);
  }
  const ageT = (a: number) => (ageMax > ageMin ? (a - ageMin) / (ageMax - ageMin) : 0.5);
  const body: string[] = [`<text x="${GAP}" y="24" font-size="15" font-weight="bold">${escapeXml(options.title)}</text>`];
  panels.forEach((p, k) => {
    const ox = GAP + (k % columns) * (PANEL + GAP);
    const oy = TOP + Math.floor(k / columns) * (PANEL + HEADER + GAP);
    body.push(`<text x="${ox}" y="${oy + 14}" font-size="12" font-weight="bold">${escapeXml(p.title)}</text>`);
    body.push(`<text x="${ox}" y="${oy + 28}" font-size="10" fill="#555">PC 1 ${(100 * p.explained[0]).toFixed(0)} %, PC 2 ${(100 * p.explained[1]).toFixed(0)} % of variance</text>`);
    const top = oy + HEADER;
    body.push(`<rect x="${ox}" y="${top}" width="${PANEL}" height="${PANEL}" fill="none" stroke="#999"/>`);
    const [x0, x1] = range(p.x);
    const [y0, y1] = range(p.y);
    const sx = (v: number) => ox + 6 + ((v - x0) / (x1 - x0 || 1)) * (PANEL - 12);
    const sy = (v: number) => top + PANEL - 6 - ((v - y0) / (y1 - y0 || 1)) * (PANEL - 12);
    const dots: string[] = [];
    for (let i = 0; i < p.x.length; i++) {
      const fill = colourBy === 'age' ? colormapHex('viridis', ageT(set.age[i])) : siteColour(set.site[i]);
      const ring = colourBy === 'site' && set.external[i] ? ' stroke="#000" stroke-width="0.9"' : '';
      dots.push(`<circle cx="${sx(p.x[i]).toFixed(1)}" cy="${sy(p.y[i]).toFixed(1)}" r="2.3" fill="${fill}" fill-opacity="0.85"${ring}/>`);
    }
    body.push(dots.join(''));
  });
  const lx = GAP + columns * (PANEL + GAP);
  if (colourBy === 'age') {
    const steps = 40;
    const barTop = TOP + HEADER;
    const barH = PANEL;
    for (let s = 0; s < steps; s++) {
      body.push(`<rect x="${lx}" y="${(barTop + (barH * s) / steps).toFixed(1)}" width="14" height="${(barH / steps + 0.5).toFixed(1)}" fill="${colormapHex('viridis', 1 - s / (steps - 1))}"/>`);
    }
    body.push(`<text x="${lx + 18}" y="${barTop + 10}" font-size="10">${ageMax.toFixed(0)}</text>`);
    body.push(`<text x="${lx + 18}" y="${barTop + barH}" font-size="10">${ageMin.toFixed(0)}</text>`);
    body.push(`<text x="${lx}" y="${barTop - 6}" font-size="11">age</text>`);
  } else {
    const sites = [...new Set(set.site)].sort((a, b) => a - b);
    const externalSites = new Set<number>();
    set.site.forEach((s, i) => set.external[i] && externalSites.add(s));
    body.push(`<text x="${lx}" y="${TOP + HEADER - 6}" font-size="11">site (ringed: external)</text>`);
    sites.slice(0, 24).forEach((s, k) => {
      const y = TOP + HEADER + 8 + k * 14;
      const ring = externalSites.has(s) ? ' stroke="#000" stroke-width="0.9"' : '';
      body.push(`<circle cx="${lx + 5}" cy="${y}" r="4" fill="${siteColour(s)}"${ring}/><text x="${lx + 14}" y="${y + 4}" font-size="10">${s}${externalSites.has(s) ? ' (ext)' : ''}</text>`);
    });
    if (sites.length > 24) body.push(`<text x="${lx}" y="${TOP + HEADER + 8 + 24 * 14 + 4}" font-size="10">… ${sites.length - 24} more</text>`);
  }
  return {
    name: options.name,
    title: options.title,
    width,
    height,
    svg: svgDocument(width, height, options.title, body),
    data: {
      colourBy,
      panels: panels.map((p) => ({ title: p.title, explained: p.explained, x: Array.from(p.x), y: Array.from(p.y) })),
      age: Array.from(set.age),
      site: Array.from(set.site),
      external: Array.from(set.external),
    },
  };
}

function range(v: Float64Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of v) {
    lo = Math.min(lo, x);
    hi = Math.max(hi, x);
  }
  return [lo, hi];
}
