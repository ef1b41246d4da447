/**
 * report.html: one self-contained file (styles inline, every figure a base64 PNG data URL), so it
 * can be mailed or attached as it is. Figures that are missing on disk are named, not dropped.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Block, ReportSection } from './blocks.ts';

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Inline markup after escaping: `code` and **bold**. */
export function inline(text: string): string {
  return escapeHtml(text)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
}

function blockToHtml(block: Block, runDir: string): string {
  switch (block.kind) {
    case 'paragraph':
      return `<p>${inline(block.text)}</p>`;
    case 'heading':
      return `<h3>${inline(block.text)}</h3>`;
    case 'list':
      return `<ul>${block.items.map((i) => `<li>${inline(i)}</li>`).join('')}</ul>`;
    case 'figure': {
      const file = join(runDir, block.path);
      if (!existsSync(file))
        return `<figure class="missing"><p>figure not found: <code>${escapeHtml(block.path)}</code></p><figcaption>${inline(block.caption)}</figcaption></figure>`;
      const data = readFileSync(file).toString('base64');
      const style = block.width ? ` style="width:${block.width}px"` : '';
      return `<figure><img src="data:image/png;base64,${data}" alt="${escapeHtml(block.caption)}"${style}><figcaption>${inline(block.caption)}</figcaption></figure>`;
    }
    case 'table': {
      const head = `<tr>${block.header.map((h) => `<th>${inline(h)}</th>`).join('')}</tr>`;
      const rows = block.rows
        .map((r) => `<tr>${r.map((c, i) => `<td${i > 0 && /^[−+-]?[\d.]+( %| s)?$|^n\/a$/.test(c) ? ' class="num"' : ''}>${inline(c)}</td>`).join('')}</tr>`)
        .join('');
      const caption = block.caption ? `<caption>${inline(block.caption)}</caption>` : '';
      const notes = block.notes?.length ? `<div class="notes">${block.notes.map((n) => `<p>${inline(n)}</p>`).join('')}</div>` : '';
      return `<div class="table"><table>${caption}<thead>${head}</thead><tbody>${rows}</tbody></table>${notes}</div>`;
    }
  }
}

const STYLE = `
:root { color-scheme: light; --fg: #1d2430; --muted: #5b6576; --line: #d9dee7; --accent: #2b5fb4; --bg: #ffffff; --band: #f5f7fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.55 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: var(--fg); background: var(--bg); }
main { max-width: 1180px; margin: 0 auto; padding: 28px 32px 64px; }
h1 { font-size: 26px; margin: 0 0 6px; }
h2 { font-size: 20px; margin: 36px 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 22px 0 8px; }
p { margin: 8px 0; max-width: 80ch; }
code { font: 13px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; background: var(--band); padding: 1px 4px; border-radius: 3px; }
.table { overflow-x: auto; margin: 14px 0 18px; }
table { border-collapse: collapse; font-size: 14px; }
caption { caption-side: top; text-align: left; font-weight: 600; padding: 0 0 6px; }
th, td { padding: 5px 12px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
th { background: var(--band); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:hover { background: #f0f4fb; }
.notes p { color: var(--muted); font-size: 13px; margin: 4px 0; }
figure { margin: 18px 0 26px; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 6px; max-width: 90ch; }
figure.missing { padding: 12px; border: 1px dashed #c44; }
ul { margin: 8px 0; padding-left: 22px; }
`;

export function reportToHtml(title: string, sections: ReportSection[], runDir: string): string {
  const body = sections.map((s) => `<section><h2>${inline(s.title)}</h2>${s.blocks.map((b) => blockToHtml(b, runDir)).join('\n')}</section>`).join('\n');
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>\n<body><main><h1>${inline(title)}</h1>\n${body}\n</main></body></html>\n`;
}
