import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '@fairgpu/tensor';
import { colormapHex, lineChartFigure, scatterFigure, TAB10 } from '../src/index.ts';
import type { Figure, LineChartInput, ScatterInput } from '../src/index.ts';
import { renderPng } from '../src/node.ts';

/** Balanced tags and one root (a light check; figures.test.ts has the full one). */
function expectFigure(f: Figure): void {
  expect(f.svg).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  expect(f.svg).toContain(`width="${f.width}" height="${f.height}"`);
  expect(f.svg).not.toMatch(/NaN|Infinity|undefined/);
  const stack: string[] = [];
  for (const m of f.svg.replace(/^<\?xml[^?]*\?>/, '').matchAll(/<(\/?)([A-Za-z][\w:-]*)[^>]*?(\/?)>/g)) {
    if (m[1]) expect(stack.pop()).toBe(m[2]);
    else if (!m[3]) stack.push(m[2]);
  }
  expect(stack).toEqual([]);
  expect(JSON.parse(JSON.stringify(f.data))).toEqual(f.data);
}

function expectArgError(fn: () => unknown, argument: string): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).argument).toBe(argument);
    return;
  }
  throw new Error(`expected an InvalidArgumentError naming '${argument}'`);
}

const count = (svg: string, re: RegExp) => svg.match(re)?.length ?? 0;

function pngSize(png: Uint8Array): [number, number] {
  const dv = new DataView(png.buffer, png.byteOffset);
  return [dv.getUint32(16), dv.getUint32(20)];
}
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const epochs = (values: Array<number | null>) => values.map((y, i) => ({ x: i + 1, y }));
const series = [
  { name: 'vanilla', points: epochs([2.3, 1.2, 0.7, 0.5, 0.4]) },
  { name: 'FairKL <λ=30>', points: epochs([5.1, 3.0, Number.NaN, 1.9, 1.7, 1.6, 1.55]) },
  { name: 'EnD', points: epochs([1.9]) },
];

describe('lineChartFigure', () => {
  it('draws one line and markers per series, a gap at non-finite y, a lone point as a marker, a legend', () => {
    const f = lineChartFigure({ series, yLabel: 'mean training loss' });
    expectFigure(f);
    expect(f.name).toBe('line-chart');
    // vanilla: one run; FairKL: two runs (gap at epoch 3) in one path; EnD: no path, one marker.
    const paths = [...f.svg.matchAll(/<path d="([^"]*)"[^>]*class="series"/g)].map((m) => m[1]);
    expect(paths).toHaveLength(2);
    expect(count(paths[0], /M/g)).toBe(1);
    expect(count(paths[1], /M/g)).toBe(2);
    expect(count(f.svg, /class="marker"/g)).toBe(5 + 6 + 1);
    expect(f.svg).toContain('<title>EnD: epoch 1, 1.9</title>');
    expect(f.svg).toContain('FairKL &lt;λ=30&gt;');
    expect(f.svg).toContain('mean training loss');
    expect(f.svg).toContain('>epoch<');
    const legend = f.svg.match(/<g class="legend">(.*?)<\/g>/)![1];
    expect(count(legend, /<text/g)).toBe(3);
    expect(count(f.svg, /<g class="legend-markers">.*?<\/g>/g)).toBe(1);
    TAB10.slice(0, 3).forEach((c) => expect(f.svg).toContain(`stroke="${c}"`));
    // Integer x: integer tick labels only.
    const xTicks = [...f.svg.matchAll(/text-anchor="middle" font-size="11">([^<]*)</g)].map((m) => m[1]);
    expect(xTicks.length).toBeGreaterThan(2);
    xTicks.forEach((t) => expect(t).toMatch(/^\d+$/));
  });
  it('keeps the numbers in the sidecar, gaps as null', () => {
    const f = lineChartFigure({ series, name: 'loss' });
    const data = f.data as {
      logY: boolean;
      xDomain: number[];
      panels: Array<{
        series: Array<{
          name: string;
          n: number;
          gaps: number;
          min: { x: number; y: number };
          last: { x: number; y: number } | null;
          points: Array<{ x: number; y: number | null }>;
        }>;
      }>;
    };
    expect(f.name).toBe('loss');
    expect(data.logY).toBe(false);
    expect(data.panels).toHaveLength(1);
    const [a, b, c] = data.panels[0].series;
    expect(a.points).toEqual(epochs([2.3, 1.2, 0.7, 0.5, 0.4]));
    expect(b.points[2]).toEqual({ x: 3, y: null });
    expect(b.gaps).toBe(1);
    expect(b.min).toEqual({ x: 7, y: 1.55 });
    expect(c.last).toEqual({ x: 1, y: 1.9 });
    expect(data.xDomain[0]).toBeLessThan(1);
    expect(data.xDomain[1]).toBeGreaterThan(7);
  });
  it('sorts points by x and is deterministic', () => {
    const shuffled = [
      {
        name: 'a',
        points: [
          { x: 3, y: 1 },
          { x: 1, y: 3 },
          { x: 2, y: 2 },
        ],
      },
    ];
    const f = lineChartFigure({ series: shuffled });
    expect(f.svg).toBe(lineChartFigure({ series: shuffled }).svg);
    expect((f.data as { panels: Array<{ series: Array<{ points: Array<{ x: number }> }> }> }).panels[0].series[0].points.map((p) => p.x)).toEqual([1, 2, 3]);
  });
  it('draws a log y axis with 1-2-5 ticks', () => {
    const f = lineChartFigure({ series: [{ name: 'a', points: epochs([3, 1, 0.3, 0.1, 0.04]) }], logY: true });
    expectFigure(f);
    const yTicks = [...f.svg.matchAll(/text-anchor="end" font-size="11">([^<]*)</g)].map((m) => m[1]);
    expect(yTicks).toEqual(['0.05', '0.1', '0.2', '0.5', '1', '2']);
    expect((f.data as { logY: boolean }).logY).toBe(true);
  });
  it('draws panels as small multiples with their own y labels, one colour per series name', () => {
    const f = lineChartFigure({
      panels: [
        { title: 'vanilla', series: [series[0]], yLabel: 'cross-entropy' },
        { title: 'FairKL', series: [series[1], { name: 'vanilla', points: epochs([1, 2]) }], yLabel: 'FairKL loss' },
        { title: 'EnD', series: [series[2]] },
        { title: 'LfF', series: [{ name: 'LfF', points: [] }] },
      ],
      yLabel: 'loss',
      xLabel: 'training epoch',
    });
    expectFigure(f);
    for (const t of ['>vanilla<', '>FairKL<', '>EnD<', '>LfF<', 'cross-entropy', 'FairKL loss', '>loss<']) expect(f.svg).toContain(t);
    expect(count(f.svg, /font-size="12">training epoch</g)).toBe(4);
    expect(count(f.svg, /<rect [^>]*fill="none" stroke="#444"/g)).toBe(4); // four frames
    // 4 panels: 2 + 2 (balanced rows of at most 3)
    const frames = [...f.svg.matchAll(/<rect x="([\d.]+)" y="([\d.]+)" [^>]*fill="none" stroke="#444"/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(new Set(frames.map(([x]) => x)).size).toBe(2);
    expect(new Set(frames.map(([, y]) => y)).size).toBe(2);
    // 'vanilla' keeps tab10[0] in the second panel too.
    expect(count(f.svg, new RegExp(`stroke="${TAB10[0]}"[^>]*class="series"`, 'g'))).toBe(2);
    const legend = f.svg.match(/<g class="legend">(.*?)<\/g>/)![1];
    expect(count(legend, /<text/g)).toBe(4);
    expect((f.data as { panels: unknown[] }).panels).toHaveLength(4);
  });
  it('names the bad argument', () => {
    const ok = series;
    const table: Array<[unknown, string]> = [
      [undefined, 'input'],
      [{}, 'input.series'],
      [{ series: [] }, 'input.series'],
      [{ series: 'loss' }, 'input.series'],
      [{ series: [{ name: 1, points: [] }] }, 'input.series[0].name'],
      [{ series: [{ name: 'a', points: {} }] }, 'input.series[0].points'],
      [{ series: [{ name: 'a', points: [{ x: 1, y: 1 }, 3] }] }, 'input.series[0].points[1]'],
      [{ series: [{ name: 'a', points: [{ x: Number.NaN, y: 1 }] }] }, 'input.series[0].points[0].x'],
      [{ series: [{ name: 'a', points: [{ x: 1, y: '1' }] }] }, 'input.series[0].points[0].y'],
      [{ series: [{ name: 'a', points: epochs([1, 0.5, 0]) }], logY: true }, 'input.series[0].points[2].y'],
      [{ series: ok, logY: 'yes' }, 'input.logY'],
      [{ series: ok, name: '../x' }, 'input.name'],
      [{ series: ok, xLabel: 3 }, 'input.xLabel'],
      [{ series: ok, panels: [] }, 'input.panels'],
      [{ panels: [] }, 'input.panels'],
      [{ panels: [{ title: 'a', series: [] }] }, 'input.panels[0].series'],
      [{ panels: [{ title: 2, series: ok }] }, 'input.panels[0].title'],
      [{ panels: [{ title: 'a', series: ok, yLabel: 5 }] }, 'input.panels[0].yLabel'],
    ];
    for (const [input, argument] of table) expectArgError(() => lineChartFigure(input as LineChartInput), argument);
    // Non-finite y is a gap, not an error.
    expect(() => lineChartFigure({ series: [{ name: 'a', points: epochs([Number.POSITIVE_INFINITY, null, Number.NaN]) }], logY: true })).not.toThrow();
  });
});

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function panel(title: string, n: number, seed: number, sites = 4) {
  const r = rng(seed);
  const values = Array.from({ length: n }, () => 20 + 60 * r());
  return {
    title,
    x: Float32Array.from(values, (v) => (v - 50) / 10 + r()),
    y: Array.from({ length: n }, () => r() * 2 - 1),
    values,
    categories: Array.from({ length: n }, (_, i) => i % sites),
  };
}

describe('scatterFigure', () => {
  it('colours points by value with a colour bar over every panel, in rows of at most 3', () => {
    const panels = ['vanilla', 'FairKL', 'EnD', 'LfF', 'BiasCon'].map((t, i) => panel(t, 40 + i, i + 1));
    const f = scatterFigure({ panels, colour: 'continuous', colourLabel: 'age', title: 'PCs by age' });
    expectFigure(f);
    expect(count(f.svg, /<circle /g)).toBe(40 + 41 + 42 + 43 + 44);
    expect(count(f.svg, /<g class="points"/g)).toBe(5);
    expect(f.svg).toContain('id="scatter-colorbar"');
    expect(f.svg).toContain('fill="url(#scatter-colorbar)"');
    expect(f.svg).toMatch(/rotate\(-90[^"]*\)">age</);
    expect(count(f.svg, /<stop /g)).toBe(33);
    expect(f.svg).toMatch(/<title>#0: age \d/);
    const frames = [...f.svg.matchAll(/<rect x="([\d.]+)" y="([\d.]+)" [^>]*fill="none" stroke="#444"/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(frames).toHaveLength(5);
    expect(new Set(frames.map(([x]) => x)).size).toBe(3);
    expect(new Set(frames.map(([, y]) => y)).size).toBe(2);
    const all = panels.flatMap((p) => p.values);
    const data = f.data as {
      valueDomain: number[];
      colormap: string;
      panels: Array<{ n: number; shown: number; points: { index: number[]; x: number[]; value: number[] } }>;
    };
    expect(data.valueDomain).toEqual([Math.min(...all), Math.max(...all)]);
    expect(data.colormap).toBe('viridis');
    expect(data.panels[2].n).toBe(42);
    expect(data.panels[2].points.value[5]).toBeCloseTo(panels[2].values[5], 4);
    // The point with the largest value gets viridis(1).
    expect(f.svg).toContain(`fill="${colormapHex('viridis', 1)}"`);
  });
  it('colours by category with tab10, a legend of at most 10 entries and "… k more"', () => {
    const small = scatterFigure({ panels: [panel('a', 30, 1, 4)], colour: 'categorical', colourLabel: 'site', categoryNames: ['Paris', 'Lyon'] });
    expectFigure(small);
    expect(count(small.svg, /class="legend-entry"/g)).toBe(4);
    expect(small.svg).toContain('>Paris<');
    expect(small.svg).toContain('>3<');
    expect(small.svg).not.toContain('legend-more');
    expect(small.svg).toContain('<title>#1: site Lyon</title>');
    TAB10.slice(0, 4).forEach((c) => expect(small.svg).toContain(`fill="${c}"`));
    const many = scatterFigure({ panels: [panel('a', 60, 1, 13), panel('b', 20, 2, 2)], colour: 'categorical' });
    expectFigure(many);
    expect(count(many.svg, /class="legend-entry"/g)).toBe(10);
    expect(many.svg).toMatch(/class="legend-more">… 3 more</);
    const data = many.data as { categories: Array<{ value: number; color: string; count: number }>; panels: Array<{ categoryCounts: Record<string, number> }> };
    expect(data.categories).toHaveLength(13);
    expect(data.categories[10].color).toBe(TAB10[0]);
    expect(data.categories[0].count).toBe(5 + 10);
    expect(data.panels[1].categoryCounts).toMatchObject({ 0: 10, 1: 10, 12: 0 });
  });
  it('subsamples deterministically by stride above maxPoints', () => {
    const p = panel('big', 5000, 3);
    const f = scatterFigure({ panels: [p], colour: 'continuous' });
    expect(count(f.svg, /<circle /g)).toBe(2000);
    expect(f.svg).toContain('big (2000 of 5000)');
    const g = scatterFigure({ panels: [p], colour: 'continuous', maxPoints: 7, includePoints: true });
    const d = g.data as { panels: Array<{ n: number; shown: number; stride: number; points: { index: number[] } }> };
    expect(d.panels[0].points.index).toEqual([0, 714, 1428, 2142, 2857, 3571, 4285]);
    expect(d.panels[0]).toMatchObject({ n: 5000, shown: 7 });
    expect(g.svg).toBe(scatterFigure({ panels: [p], colour: 'continuous', maxPoints: 7 }).svg);
    expect(
      (scatterFigure({ panels: [p], colour: 'continuous', includePoints: false }).data as { panels: Array<{ points?: unknown }> }).panels[0].points,
    ).toBeUndefined();
  });
  it('rings highlighted points in a dark outline, drawn last, with a legend entry and in the sidecar', () => {
    const a = { ...panel('a', 30, 1, 4), highlight: Array.from({ length: 30 }, (_, i) => (i % 4 === 3 ? 1 : 0)) };
    const b = { ...panel('b', 20, 2, 4), highlight: new Uint8Array(20) };
    const f = scatterFigure({
      panels: [a, b],
      colour: 'categorical',
      colourLabel: 'site',
      categoryNames: ['s0', 's1', 's2', 's3 (ext)'],
      highlightLabel: 'external site',
    });
    expectFigure(f);
    expect(count(f.svg, /<circle /g)).toBe(50 + 4 + 1);
    expect(count(f.svg, /class="legend-entry"/g)).toBe(4);
    expect(count(f.svg, /class="legend-highlight"/g)).toBe(1);
    expect(f.svg).toMatch(/class="legend-highlight"><circle [^>]*fill="#fff" stroke="#111"/);
    expect(f.svg).toContain('>external site<');
    // 7 ringed points (3, 7, …, 27) plus the legend marker; the ringed ones come after the plain ones of their panel.
    expect(count(f.svg, /<circle [^>]*stroke="#111"/g)).toBe(7 + 1);
    expect(f.svg).toContain('<title>#3: site s3 (ext) (external site)</title>');
    const pointsA = f.svg.slice(f.svg.indexOf('<g class="points"'), f.svg.indexOf('</g>', f.svg.indexOf('<g class="points"')));
    const ringed = [...pointsA.matchAll(/<circle [^>]*>/g)].map((m) => m[0].includes('stroke="#111"'));
    expect(ringed).toEqual([...Array(23).fill(false), ...Array(7).fill(true)]);
    const data = f.data as { highlightLabel: string; panels: Array<{ highlighted: number; points: { index: number[]; highlight: number[] } }> };
    expect(data.highlightLabel).toBe('external site');
    expect(data.panels.map((p) => p.highlighted)).toEqual([7, 0]);
    expect(data.panels[0].points.highlight).toEqual(a.highlight);
    expect(data.panels[1].points.highlight).toEqual(Array(20).fill(0));
    // Continuous: the entry sits below the colour bar; the default label is 'highlighted'.
    const c = scatterFigure({ panels: [a], colour: 'continuous', colourLabel: 'age' });
    expectFigure(c);
    expect(count(c.svg, /class="legend-highlight"/g)).toBe(1);
    expect(c.svg).toContain('>highlighted<');
    expect((c.data as { highlightLabel: string }).highlightLabel).toBe('highlighted');
    // No highlight anywhere: no entry, no rings, nulls in the sidecar; all zeros: no entry.
    const plain = scatterFigure({ panels: [panel('a', 30, 1)], colour: 'continuous' });
    expect(plain.svg).not.toContain('legend-highlight');
    expect(plain.svg).not.toContain('stroke="#111"');
    expect(plain.data as { highlightLabel: unknown; panels: Array<{ highlighted: unknown; points: object }> }).toMatchObject({
      highlightLabel: null,
      panels: [{ highlighted: null }],
    });
    expect('highlight' in (plain.data as { panels: Array<{ points: object }> }).panels[0].points).toBe(false);
    expect(scatterFigure({ panels: [b], colour: 'continuous' }).svg).not.toContain('legend-highlight');
    // Subsampled: the sidecar's highlight follows the drawn points.
    const big = { ...panel('big', 100, 3), highlight: Array.from({ length: 100 }, (_, i) => (i < 50 ? 1 : 0)) };
    const s = scatterFigure({ panels: [big], colour: 'continuous', maxPoints: 10 });
    expect((s.data as { panels: Array<{ highlighted: number; points: { highlight: number[] } }> }).panels[0]).toMatchObject({
      highlighted: 50,
      points: { highlight: [1, 1, 1, 1, 1, 0, 0, 0, 0, 0] },
    });
    expect(count(s.svg, /<circle [^>]*stroke="#111"/g)).toBe(5 + 1);
  });
  it('names the bad argument', () => {
    const p = panel('a', 5, 1);
    const table: Array<[unknown, string]> = [
      [undefined, 'input'],
      [{ panels: [], colour: 'continuous' }, 'input.panels'],
      [{ panels: [p], colour: 'rainbow' }, 'input.colour'],
      [{ panels: [p], colour: 'continuous', colormap: 'hot' }, 'input.colormap'],
      [{ panels: [{ ...p, title: 1 }], colour: 'continuous' }, 'input.panels[0].title'],
      [{ panels: [{ ...p, x: 'abc' }], colour: 'continuous' }, 'input.panels[0].x'],
      [{ panels: [{ ...p, y: [1, 2] }], colour: 'continuous' }, 'input.panels[0].y'],
      [{ panels: [{ ...p, x: [0, 1, Number.NaN, 3, 4] }], colour: 'continuous' }, 'input.panels[0].x[2]'],
      [{ panels: [{ ...p, values: undefined }], colour: 'continuous' }, 'input.panels[0].values'],
      [{ panels: [p, { ...p, values: [1] }], colour: 'continuous' }, 'input.panels[1].values'],
      [{ panels: [{ ...p, categories: undefined }], colour: 'categorical' }, 'input.panels[0].categories'],
      [{ panels: [{ ...p, categories: [0, 1, 1.5, 2, 3] }], colour: 'categorical' }, 'input.panels[0].categories[2]'],
      [{ panels: [p], colour: 'continuous', maxPoints: 0 }, 'input.maxPoints'],
      [{ panels: [p], colour: 'continuous', maxPoints: 2.5 }, 'input.maxPoints'],
      [{ panels: [p], colour: 'continuous', pointRadius: -1 }, 'input.pointRadius'],
      [{ panels: [p], colour: 'categorical', categoryNames: 'abc' }, 'input.categoryNames'],
      [{ panels: [p], colour: 'categorical', categoryNames: ['a', 2] }, 'input.categoryNames[1]'],
      [{ panels: [p], colour: 'continuous', name: 'a/b' }, 'input.name'],
      [{ panels: [{ ...p, highlight: [0, 1] }], colour: 'continuous' }, 'input.panels[0].highlight'],
      [{ panels: [p, { ...p, highlight: 'abc' }], colour: 'continuous' }, 'input.panels[1].highlight'],
      [{ panels: [{ ...p, highlight: [0, 1, 2, 0, 0] }], colour: 'continuous' }, 'input.panels[0].highlight[2]'],
      [{ panels: [{ ...p, highlight: [0, 1, Number.NaN, 0, 0] }], colour: 'continuous' }, 'input.panels[0].highlight[2]'],
      [{ panels: [p], colour: 'continuous', highlightLabel: 3 }, 'input.highlightLabel'],
    ];
    for (const [input, argument] of table) expectArgError(() => scatterFigure(input as ScatterInput), argument);
  });
});

describe('PNG rendering', () => {
  it('renders both figures through renderPng at 2 × their size', () => {
    const line = lineChartFigure({ series, yLabel: 'loss' });
    const scatter = scatterFigure({ panels: [panel('a', 200, 1), panel('b', 200, 2)], colour: 'continuous', colourLabel: 'age' });
    for (const f of [line, scatter]) {
      const png = renderPng(f);
      expect(Array.from(png.slice(0, 8))).toEqual(PNG_SIGNATURE);
      expect(pngSize(png)).toEqual([2 * f.width, 2 * f.height]);
    }
  });
});
