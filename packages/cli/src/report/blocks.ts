/**
 * A report as data: sections of headings, paragraphs, tables, lists and figures. Experiments build
 * these; markdown.ts, html.ts and terminal.ts render the same blocks, so the terminal summary,
 * report.md and report.html never disagree.
 *
 * Inline text is plain text with two markups every renderer understands: `code` and **bold**.
 */

export interface TableBlock {
  kind: 'table';
  /** One line above the table: what the numbers are and where they were measured. */
  caption?: string;
  header: string[];
  rows: string[][];
  /** Lines under the table (sources, how to read it). */
  notes?: string[];
}

export interface FigureBlock {
  kind: 'figure';
  /** PNG path relative to the run directory (figures/…); report.html inlines it. */
  path: string;
  caption: string;
  /** Display width in CSS pixels in report.html (the PNG's own width when absent). */
  width?: number;
}

export type Block = { kind: 'paragraph'; text: string } | { kind: 'list'; items: string[] } | { kind: 'heading'; text: string } | TableBlock | FigureBlock;

export interface ReportSection {
  title: string;
  blocks: Block[];
}

export const paragraph = (text: string): Block => ({ kind: 'paragraph', text });
export const list = (items: string[]): Block => ({ kind: 'list', items });
export const heading = (text: string): Block => ({ kind: 'heading', text });
export const table = (header: string[], rows: string[][], extra: { caption?: string; notes?: string[] } = {}): TableBlock => ({
  kind: 'table',
  header,
  rows,
  ...extra,
});
export const figure = (path: string, caption: string, width?: number): FigureBlock => ({ kind: 'figure', path, caption, ...(width ? { width } : {}) });

/** A percentage with one decimal ('n/a' for null, NaN or ±∞). */
export function pct(v: number | null | undefined, scale = 100): string {
  return v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : (scale * v).toFixed(1);
}

/** A number with `digits` decimals ('n/a' when missing or not finite). */
export function num(v: number | null | undefined, digits = 2): string {
  return v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(digits);
}
