/** report.md: the report's blocks as GitHub-flavoured Markdown (figures as relative image links). */
import type { Block, ReportSection } from './blocks.ts';

/** A table cell: pipes escaped, newlines folded (a Markdown table row is one line). */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function blockToMarkdown(block: Block): string {
  switch (block.kind) {
    case 'paragraph':
      return block.text;
    case 'heading':
      return `### ${block.text}`;
    case 'list':
      return block.items.map((item) => `- ${item}`).join('\n');
    case 'figure':
      return `![${cell(block.caption)}](${encodeURI(block.path)})\n\n*${block.caption}*`;
    case 'table': {
      const lines = [
        ...(block.caption ? [`**${block.caption}**`, ''] : []),
        `| ${block.header.map(cell).join(' | ')} |`,
        `|${block.header.map(() => '---').join('|')}|`,
        ...block.rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
      ];
      if (block.notes?.length) lines.push('', ...block.notes.map((n) => `> ${n}`));
      return lines.join('\n');
    }
  }
}

export function reportToMarkdown(title: string, sections: ReportSection[]): string {
  const parts = [`# ${title}`];
  for (const s of sections) parts.push(`## ${s.title}`, ...s.blocks.map(blockToMarkdown));
  return `${parts.join('\n\n')}\n`;
}
