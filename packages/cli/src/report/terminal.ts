/** The report's tables for a terminal: columns padded to their widest cell, separated by │. */
import type { ReportSection, TableBlock } from './blocks.ts';

/** Display width of a string (code points; the report's symbols are all single-width). */
const width = (s: string) => [...s].length;
const pad = (s: string, n: number) => s + ' '.repeat(Math.max(0, n - width(s)));
const plain = (s: string) => s.replace(/`([^`]+)`/g, '$1').replace(/\*\*([^*]+)\*\*/g, '$1');

export function tableToText(block: TableBlock): string {
  const rows = [block.header, ...block.rows].map((r) => r.map(plain));
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => width(r[i] ?? ''))));
  const line = (r: string[]) =>
    r
      .map((c, i) => pad(c, widths[i]))
      .join('  │  ')
      .trimEnd();
  const out = [...(block.caption ? [plain(block.caption)] : []), line(rows[0]), widths.map((w) => '─'.repeat(w)).join('──┼──'), ...rows.slice(1).map(line)];
  if (block.notes?.length) out.push(...block.notes.map((n) => `  ${plain(n)}`));
  return out.join('\n');
}

/** Every table of the report, each under its section's title (what the run prints at the end). */
export function reportTablesToText(sections: ReportSection[]): string {
  const parts: string[] = [];
  for (const s of sections) {
    const tables = s.blocks.filter((b): b is TableBlock => b.kind === 'table');
    if (tables.length) parts.push(`${s.title}\n${'═'.repeat(width(s.title))}\n${tables.map(tableToText).join('\n\n')}`);
  }
  return parts.join('\n\n');
}
