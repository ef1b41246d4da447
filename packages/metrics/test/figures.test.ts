import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '@fairgpu/tensor';
import {
  colormap,
  colormapTable,
  encodePngRgba,
  escapeXml,
  gaussianDensityFigure,
  gradCamFigure,
  groupAccuracyComparisonFigure,
  groupAccuracyFigure,
  niceTicks,
  overlayHeatmap,
  similarityHistogramComparisonFigure,
  similarityHistogramFigure,
} from '../src/index.ts';
import type { Figure, SimilarityDistributionsLike } from '../src/index.ts';

/** Minimal XML well-formedness check: balanced tags, quoted attributes, valid entities, one root. */
function checkXml(xml: string): void {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  let roots = 0;
  const token = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>|([^<]+)|(<)/g;
  let m: RegExpExecArray | null;
  let last = 0;
  while ((m = token.exec(body)) !== null) {
    if (m.index !== last) throw new Error(`unparsed text at ${last}`);
    last = token.lastIndex;
    if (m[6] !== undefined) throw new Error(`malformed tag at ${m.index}: ${body.slice(m.index, m.index + 60)}`);
    const textNode = m[5];
    if (textNode !== undefined) {
      if (stack.length === 0 && textNode.trim() !== '') throw new Error('text outside the root');
      for (const e of textNode.matchAll(/&([^;\s]*);?/g)) {
        if (!/^&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);$/.test(e[0])) throw new Error(`bad entity ${e[0]}`);
      }
      continue;
    }
    for (const a of (m[3] ?? '').matchAll(/="([^"]*)"/g)) {
      for (const e of a[1].matchAll(/&([^;\s]*);?/g)) {
        if (!/^&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);$/.test(e[0])) throw new Error(`bad entity in attribute ${e[0]}`);
      }
    }
    const [, close, name, , selfClose] = m;
    if (close) {
      if (stack.pop() !== name) throw new Error(`unbalanced </${name}>`);
    } else {
      if (stack.length === 0) roots++;
      if (!selfClose) stack.push(name);
    }
  }
  if (last !== body.length) throw new Error('trailing garbage');
  if (stack.length !== 0) throw new Error(`unclosed <${stack.join('>, <')}>`);
  if (roots !== 1) throw new Error(`${roots} root elements`);
}

function expectFigure(f: Figure): void {
  checkXml(f.svg);
  expect(f.svg).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  expect(f.svg).toContain(`width="${f.width}" height="${f.height}"`);
  expect(f.svg).toContain('font-family="DejaVu Sans, sans-serif"');
  expect(Number.isFinite(f.width) && Number.isFinite(f.height)).toBe(true);
  expect(f.svg).not.toMatch(/NaN|Infinity|undefined/);
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

function group(counts: number[], mean: number, std: number) {
  const bins = counts.length;
  return { count: counts.reduce((s, c) => s + c, 0), mean, std, histogram: { edges: Array.from({ length: bins + 1 }, (_, i) => -1 + (2 * i) / bins), counts } };
}
const dists: SimilarityDistributionsLike = {
  positiveAligned: group([0, 0, 0, 10], 0.8, 0.1),
  positiveConflicting: group([0, 0, 3, 1], 0.4, 0.2),
  negativeAligned: group([0, 5, 5, 0], 0.1, 0.3),
  negativeConflicting: group([400, 200, 0, 0], -0.5, 0.2),
};

describe('svg helpers and scales', () => {
  it('escapes text and attributes', () => {
    expect(escapeXml(`a<b>&"c"'d'`)).toBe('a&lt;b&gt;&amp;&quot;c&quot;&#39;d&#39;');
    expect(escapeXml('x\u0001y')).toBe('xy');
  });
  it('picks nice ticks', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0, 7.3, 5)).toEqual([0, 2, 4, 6]);
    expect(niceTicks(-1, 1, 8)).toEqual([-1, -0.8, -0.6, -0.4, -0.2, 0, 0.2, 0.4, 0.6, 0.8, 1]);
  });
});

describe('colormaps', () => {
  it('jet is OpenCV COLORMAP_JET (cv2.applyColorMap, BGR → RGB)', () => {
    expect(colormap('jet', 0)).toEqual([0, 0, 128]);
    expect(colormap('jet', 64 / 255)).toEqual([0, 128, 255]);
    expect(colormap('jet', 128 / 255)).toEqual([130, 255, 126]);
    expect(colormap('jet', 200 / 255)).toEqual([255, 92, 0]);
    expect(colormap('jet', 1)).toEqual([128, 0, 0]);
  });
  it('viridis, inferno, turbo match matplotlib within rounding', () => {
    const ref = {
      viridis: [
        [68.086, 1.243, 84.001],
        [58.583, 82.202, 139.155],
        [32.53, 144.572, 140.392],
        [253.278, 231.07, 36.704],
      ],
      inferno: [
        [0.373, 0.119, 3.536],
        [87.083, 15.893, 109.503],
        [187.599, 55.056, 84.212],
        [252.032, 254.583, 164.456],
      ],
      turbo: [
        [48.437, 18.299, 59.203],
        [40.402, 187.555, 235.378],
        [164.123, 252.447, 59.558],
        [122.298, 4.037, 2.69],
      ],
    } as const;
    for (const [name, rows] of Object.entries(ref)) {
      [0, 64, 128, 255].forEach((i, k) => {
        const got = colormap(name as 'viridis', i / 255);
        got.forEach((v, c) => expect(Math.abs(v - rows[k][c])).toBeLessThanOrEqual(0.5));
      });
    }
  });
  it('interpolates between entries, clamps t, and refuses bad names and NaN', () => {
    const t = colormapTable('viridis');
    const mid = colormap('viridis', 10.5 / 255);
    mid.forEach((v, c) => expect(v).toBeCloseTo((t[30 + c] + t[33 + c]) / 2, 9));
    expect(colormap('inferno', -3)).toEqual(colormap('inferno', 0));
    expect(colormap('inferno', 7)).toEqual(colormap('inferno', 1));
    expectArgError(() => colormap('hot' as 'jet', 0.5), 'name');
    expectArgError(() => colormap('jet', Number.NaN), 't');
  });
});

describe('overlayHeatmap', () => {
  // pytorch-grad-cam show_cam_on_image(img, mask, use_rgb=True) computed with numpy + cv2 4.6.
  const image = [0.2, 1.0, 0.0, 0.4, 0.5, 0.0, 0.6, 0.0, 0.0]; // [3, 1, 3] channel-first
  const map = [0.1, 0.5, 0.99];
  it('blends alpha · jet(map) + (1 − alpha) · image like show_cam_on_image', () => {
    expect(Array.from(overlayHeatmap(image, map))).toEqual([25, 51, 190, 255, 190, 191, 65, 255, 70, 0, 0, 255]);
    expect(Array.from(overlayHeatmap(image, map, { alpha: 0.3 }))).toEqual([35, 71, 175, 255, 216, 165, 39, 255, 42, 0, 0, 255]);
    expect(Array.from(overlayHeatmap(image, map, { rescale: true }))).toEqual([34, 68, 254, 255, 254, 255, 86, 255, 93, 0, 0, 255]);
  });
  it('alpha 0 is the image, alpha 1 the colormap; grey images broadcast', () => {
    expect(Array.from(overlayHeatmap([0.5], [0.3], { alpha: 0 }))).toEqual([127, 127, 127, 255]);
    const table = colormapTable('viridis');
    const i = Math.floor(255 * 0.3);
    expect(Array.from(overlayHeatmap([0.5], [0.3], { alpha: 1, colormap: 'viridis' }))).toEqual([table[3 * i], table[3 * i + 1], table[3 * i + 2], 255]);
  });
  it('validates its arguments', () => {
    expectArgError(() => overlayHeatmap(image, map, { alpha: 1.5 }), 'alpha');
    expectArgError(() => overlayHeatmap([1, 2], map), 'image');
    expectArgError(() => overlayHeatmap(image, []), 'map');
    expectArgError(() => overlayHeatmap(image, map, { colormap: 'gray' as 'jet' }), 'colormap');
  });
});

describe('similarityHistogramFigure', () => {
  it('draws four unit-area histograms with a legend and keeps the numbers', () => {
    const f = similarityHistogramFigure(dists, { panelTitle: 'vanilla <CE> & co' });
    expectFigure(f);
    expect(f.name).toBe('similarity-histograms');
    expect(f.svg).toContain('vanilla &lt;CE&gt; &amp; co');
    expect(f.svg).toContain('positive, bias-aligned: n = 10, 0.800 ± 0.100');
    expect(f.svg).toContain('negative, bias-conflicting: n = 600');
    expect(f.svg).toContain('cosine similarity');
    const data = f.data as { panels: Array<{ groups: Record<string, { counts: number[]; density: number[]; edges: number[] }>; positiveOverlap: number }> };
    const nc = data.panels[0].groups.negativeConflicting;
    expect(nc.counts).toEqual([400, 200, 0, 0]);
    const area = nc.density.reduce((s, d, i) => s + d * (nc.edges[i + 1] - nc.edges[i]), 0);
    expect(area).toBeCloseTo(1, 5);
    expect(nc.density[0]).toBeCloseTo(400 / (600 * 0.5), 5);
    // positive overlap: min(0, .) + min(0, .) + min(0, 0.75) + min(1, 0.25) per unit-area bins of width 0.5
    expect(data.panels[0].positiveOverlap).toBeCloseTo(0.25, 5);
  });
  it('sets a long figure title smaller, then shortens it, so it fits the width', () => {
    const f = similarityHistogramFigure(dists, { title: 'Cosine similarities of test-set bottleneck features: positive/negative pairs' });
    expect(f.svg).toMatch(/font-size="1[1-5]" font-weight="bold">Cosine similarities of test-set bottleneck features/);
    expect(similarityHistogramFigure(dists, { title: 'x'.repeat(300) }).svg).toMatch(/font-size="11" font-weight="bold">x+…</);
  });
  it('puts several models side by side (both entry points)', () => {
    const empty = { ...dists, positiveConflicting: { count: 0, mean: null, std: null, histogram: { edges: [-1, 0, 1], counts: [0, 0] } } };
    const a = similarityHistogramComparisonFigure([
      { title: 'vanilla', distributions: dists },
      { title: 'FairKL', distributions: empty },
    ]);
    const b = similarityHistogramFigure(undefined, {
      panels: [
        { title: 'vanilla', distributions: dists },
        { title: 'FairKL', distributions: empty },
      ],
    });
    expectFigure(a);
    expect(a.svg).toBe(b.svg);
    expect(a.width).toBe(2 * similarityHistogramFigure(dists).width);
    expect(a.svg).toContain('positive, bias-conflicting: n = 0');
    expect((a.data as { panels: unknown[] }).panels).toHaveLength(2);
  });
  it('names the bad argument', () => {
    expectArgError(() => similarityHistogramFigure(undefined as never), 'distributions');
    expectArgError(() => similarityHistogramFigure({ ...dists, negativeAligned: undefined } as never), 'distributions.negativeAligned');
    expectArgError(
      () => similarityHistogramFigure({ ...dists, positiveAligned: { ...dists.positiveAligned, histogram: { edges: [0, 1], counts: [1, 2] } } }),
      'distributions.positiveAligned.histogram.edges',
    );
    expectArgError(
      () => similarityHistogramFigure({ ...dists, positiveAligned: { ...dists.positiveAligned, histogram: { edges: [0, 1, 0.5], counts: [1, 2] } } }),
      'distributions.positiveAligned.histogram.edges',
    );
    expectArgError(
      () => similarityHistogramFigure({ ...dists, positiveAligned: { ...dists.positiveAligned, mean: Number.NaN } }),
      'distributions.positiveAligned.mean',
    );
    expectArgError(() => similarityHistogramComparisonFigure([]), 'panels');
    expectArgError(() => similarityHistogramComparisonFigure([{ title: 3 as never, distributions: dists }]), 'panels[0].title');
    expectArgError(() => similarityHistogramFigure(dists, { name: '../escape' }), 'options.name');
  });
});

describe('groupAccuracyFigure', () => {
  const cells = [
    { label: 0, bias: 0, count: 50, accuracy: 0.98 },
    { label: 0, bias: 1, count: 5, accuracy: 0.2 },
    { label: 1, bias: 1, count: 40, accuracy: 0.95 },
    { label: 1, bias: 0, count: 4, accuracy: 0.25 },
  ];
  const result = { cells, unbiased: (0.98 + 0.2 + 0.95 + 0.25) / 4 };
  it('draws bars per cell, aligned cells distinguished, the unbiased line, and keeps the numbers', () => {
    const f = groupAccuracyFigure(result, { labelNames: ['zero', 'one'] });
    expectFigure(f);
    expect(f.svg).toContain('>zero<');
    expect(f.svg).toContain('unbiased');
    expect(f.svg).toContain('59.5 %');
    expect(f.svg.match(/class zero, bias 0 \(aligned\)/g)).toHaveLength(1);
    expect(f.svg).toMatch(/fill-opacity="1" stroke="#111"[^>]*><title>class zero, bias 0 \(aligned\): 98\.0 % of 50/);
    expect(f.svg).toMatch(/fill-opacity="0.4"[^>]*><title>class zero, bias 1: 20\.0 % of 5/);
    const data = f.data as { models: Array<{ unbiased: number; alignedAccuracy: number; conflictingAccuracy: number; cells: unknown[] }> };
    expect(data.models[0].unbiased).toBe(result.unbiased);
    expect(data.models[0].alignedAccuracy).toBeCloseTo((0.98 * 50 + 0.95 * 40) / 90, 5);
    expect(data.models[0].conflictingAccuracy).toBeCloseTo((0.2 * 5 + 0.25 * 4) / 9, 5);
    expect(data.models[0].cells).toHaveLength(4);
  });
  it('stacks several models', () => {
    const f = groupAccuracyComparisonFigure([
      { name: 'vanilla', result },
      { name: 'FairKL <λ=30>', result },
    ]);
    expectFigure(f);
    expect(f.svg).toContain('FairKL &lt;λ=30&gt;');
    expect(
      groupAccuracyFigure(undefined, {
        models: [
          { name: 'vanilla', result },
          { name: 'FairKL <λ=30>', result },
        ],
      }).svg,
    ).toBe(f.svg);
  });
  it('names the bad argument', () => {
    expectArgError(() => groupAccuracyFigure({ cells: [], unbiased: 0.5 }), 'result.cells');
    expectArgError(() => groupAccuracyFigure({ cells, unbiased: 50 }), 'result.unbiased');
    expectArgError(() => groupAccuracyFigure({ cells: [{ ...cells[0], accuracy: 1.2 }], unbiased: 0.5 }), 'result.cells[0].accuracy');
    expectArgError(() => groupAccuracyFigure({ cells: [{ ...cells[0], count: -1 }], unbiased: 0.5 }), 'result.cells[0].count');
    expectArgError(() => groupAccuracyComparisonFigure([{ name: 'a', result: { cells, unbiased: Number.NaN } }]), 'models[0].result.unbiased');
  });
});

describe('gradCamFigure', () => {
  const H = 28;
  const W = 28;
  const B = 8;
  const images = new Float32Array(B * 3 * H * W).map((_, i) => (i % 97) / 96);
  const maps = new Float32Array(B * H * W).map((_, i) => (i % 89) / 88);
  it('keeps a 4 × 8 grid of 28 × 28 images small, with labels, captions and embedded PNG cells', () => {
    const rows = ['vanilla', 'FairKL', 'EnD', 'LfF & <co>'].map((label) => ({
      label,
      images,
      maps,
      captions: Array.from({ length: B }, (_, i) => `pred ${i}`),
    }));
    const f = gradCamFigure({ rows, height: H, width: W });
    expectFigure(f);
    expect(f.svg.length).toBeLessThan(2_000_000);
    expect(f.svg).toContain('LfF &amp; &lt;co&gt;');
    expect(f.svg).toContain('>input<');
    expect(f.svg.match(/<image /g)).toHaveLength(B * 5); // one input row (same images) + 4 model rows
    expect(f.svg).toContain('href="data:image/png;base64,iVBORw0KGgo');
    expect(f.svg).toContain('image-rendering="optimizeSpeed"');
    const data = f.data as { rows: Array<{ label: string; maps: number[][]; mapMean: number[] }>; colormap: string; alpha: number };
    expect(data.colormap).toBe('jet');
    expect(data.alpha).toBe(0.5);
    expect(data.rows[3].label).toBe('LfF & <co>');
    expect(data.rows[0].maps[1][0]).toBeCloseTo(maps[H * W], 4);
  });
  it('shows inputs again before a row whose inputs differ, and none with showInputs false', () => {
    const other = images.map((v) => 1 - v);
    const rows = [
      { label: 'a', images, maps },
      { label: 'b', images: other, maps },
    ];
    expect(gradCamFigure({ rows, height: H, width: W }).svg.match(/<image /g)).toHaveLength(4 * B);
    expect(gradCamFigure({ rows, height: H, width: W, showInputs: false }).svg.match(/<image /g)).toHaveLength(2 * B);
  });
  it('names the bad argument', () => {
    const rows = [{ label: 'a', images, maps }];
    expectArgError(() => gradCamFigure({ rows, height: H, width: 27 }), 'input.rows[0].maps');
    expectArgError(() => gradCamFigure({ rows: [{ label: 'a', images: images.subarray(1), maps }], height: H, width: W }), 'input.rows[0].images');
    expectArgError(() => gradCamFigure({ rows: [{ label: 'a', images, maps: maps.map((v) => v + 1) }], height: H, width: W }), 'input.rows[0].maps[1]');
    expectArgError(() => gradCamFigure({ rows, height: H, width: W, alpha: 2 }), 'input.alpha');
    expectArgError(() => gradCamFigure({ rows, height: H, width: W, colormap: 'hot' as 'jet' }), 'input.colormap');
    expectArgError(() => gradCamFigure({ rows: [], height: H, width: W }), 'input.rows');
    expectArgError(
      () => gradCamFigure({ rows: [{ label: 'a', images, maps, captions: new Array(B + 1).fill('x') }], height: H, width: W }),
      'input.rows[0].captions',
    );
  });
});

describe('gaussianDensityFigure', () => {
  const groups = Array.from({ length: 10 }, (_, g) => ({
    label: `colour ${g}`,
    mean: g - 4.5,
    std: 0.5 + g / 20,
    values: Array.from({ length: 50 }, (_, i) => g - 4.5 + (i - 25) / 50),
  }));
  it('draws histograms and fitted normal curves per group, one panel per model', () => {
    const f = gaussianDensityFigure({
      panels: [
        { title: 'vanilla', groups },
        { title: 'EnD', groups: groups.map((g) => ({ label: g.label, mean: 0, std: 1 })) },
      ],
      xLabel: 'PC 1',
    });
    expectFigure(f);
    expect(f.svg).toContain('colour 9');
    expect(f.svg).toContain('#17becf'); // tab10's tenth colour
    expect(f.svg).toContain('PC 1');
    const data = f.data as {
      panels: Array<{ edges: number[]; groups: Array<{ n: number | null; histogram: { counts: number[]; density: number[] } | null }> }>;
    };
    expect(data.panels[0].groups[0].n).toBe(50);
    expect(data.panels[0].groups[0].histogram!.counts.reduce((s, c) => s + c, 0)).toBe(50);
    const { edges } = data.panels[0];
    const area = data.panels[0].groups[3].histogram!.density.reduce((s, d, i) => s + d * (edges[i + 1] - edges[i]), 0);
    expect(area).toBeCloseTo(1, 4);
    expect(data.panels[1].groups[0].histogram).toBeNull();
  });
  it('names the bad argument', () => {
    expectArgError(() => gaussianDensityFigure({ panels: [] }), 'input.panels');
    expectArgError(() => gaussianDensityFigure({ panels: [{ title: 'a', groups: [{ label: 'x', mean: 0, std: 0 }] }] }), 'input.panels[0].groups[0].std');
    expectArgError(
      () => gaussianDensityFigure({ panels: [{ title: 'a', groups: [{ label: 'x', mean: 0, std: 1, values: [0, Number.NaN] }] }] }),
      'input.panels[0].groups[0].values[1]',
    );
    expectArgError(() => gaussianDensityFigure({ panels: [{ title: 'a', groups: [...groups, groups[0]] }] }), 'input.panels[0].groups');
  });
});

describe('encodePngRgba', () => {
  it('writes a PNG with the signature, the size in IHDR and an inflatable IDAT', () => {
    const png = encodePngRgba(3, 2, new Uint8Array(24).fill(200));
    expect(Array.from(png.slice(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const dv = new DataView(png.buffer, png.byteOffset);
    expect(String.fromCharCode(...png.slice(12, 16))).toBe('IHDR');
    expect([dv.getUint32(16), dv.getUint32(20)]).toEqual([3, 2]);
    // IDAT holds a zlib stream (checked by inflate, Adler-32 included) of filter byte + row.
    const idatLength = dv.getUint32(33);
    expect(String.fromCharCode(...png.slice(37, 41))).toBe('IDAT');
    const raw = inflateSync(png.slice(41, 41 + idatLength));
    expect(Array.from(raw)).toEqual([0, ...new Array(12).fill(200), 0, ...new Array(12).fill(200)]);
  });
});
