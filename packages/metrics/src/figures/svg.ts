/**
 * A tiny SVG builder: elements as strings, every attribute value and text node escaped, numbers
 * written with at most 2 decimals. Figures are standalone documents (XML declaration, xmlns,
 * white background, font-family "DejaVu Sans, sans-serif" on the root).
 */

export const FONT_FAMILY = 'DejaVu Sans, sans-serif';

/** Escapes text for an XML text node or a double-quoted attribute value. */
export function escapeXml(value: string): string {
  return (
    value
      .replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
      // Characters XML 1.0 forbids (C0 controls other than tab, newline, carriage return).
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
  );
}

/** A number as SVG writes it: at most 2 decimals, no trailing zeros, no "-0". */
export function num(value: number): string {
  const r = Math.round(value * 100) / 100;
  return Object.is(r, -0) ? '0' : String(r);
}

export type AttrValue = string | number | undefined | null | false;
export type Attrs = Record<string, AttrValue>;

function attrs(a: Attrs): string {
  let s = '';
  for (const [k, v] of Object.entries(a)) {
    if (v === undefined || v === null || v === false) continue;
    s += ` ${k}="${typeof v === 'number' ? num(v) : escapeXml(v)}"`;
  }
  return s;
}

/** `<tag attrs>children</tag>` (children already SVG), or `<tag attrs/>` without children. */
export function el(tag: string, a: Attrs = {}, children?: string | readonly string[]): string {
  const body = Array.isArray(children) ? children.join('') : (children as string | undefined);
  return body === undefined || body === '' ? `<${tag}${attrs(a)}/>` : `<${tag}${attrs(a)}>${body}</${tag}>`;
}

/** A text element; `content` is plain text (escaped here). */
export function text(x: number, y: number, content: string, a: Attrs = {}): string {
  return el('text', { x, y, ...a }, escapeXml(content));
}

/** A `<title>` child (hover tooltip in browsers). */
export function tooltip(content: string): string {
  return el('title', {}, escapeXml(content));
}

/** SVG path data of a polyline. */
export function pathData(points: ReadonlyArray<readonly [number, number]>): string {
  return points.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${num(x)} ${num(y)}`).join('');
}

/** A complete standalone SVG document. */
export function svgDocument(width: number, height: number, title: string, body: string | readonly string[]): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    el(
      'svg',
      {
        xmlns: 'http://www.w3.org/2000/svg',
        width,
        height,
        viewBox: `0 0 ${num(width)} ${num(height)}`,
        'font-family': FONT_FAMILY,
        'font-size': 12,
        fill: '#222',
      },
      [tooltip(title), el('rect', { x: 0, y: 0, width, height, fill: '#ffffff' }), ...(Array.isArray(body) ? body : [body as string])],
    ) +
    '\n'
  );
}

/**
 * Approximate rendered width of `s` in DejaVu Sans at `size` px (its average advance is ≈ 0.6 em;
 * digits 0.64, narrow letters less). Used for layout only: legends, label columns.
 */
export function textWidth(s: string, size: number): number {
  let w = 0;
  for (const ch of s) {
    if ("il.,:;|!'()[] ".includes(ch)) w += 0.32;
    else if ('fjrt-'.includes(ch)) w += 0.42;
    else if ('mwMW%'.includes(ch)) w += 0.92;
    else if (/[A-Z]/.test(ch)) w += 0.7;
    else w += 0.62;
  }
  return w * size;
}
