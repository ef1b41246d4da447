/**
 * The fairgpu docs site (VitePress; `npm run docs:build` / `docs:dev` / `docs:preview`).
 *
 * Source: the repository's docs/ directory as it is (srcDir = docs). Sidebars are built from the
 * files that exist when the site is built: a page added under docs/guide, docs/losses,
 * docs/experiments or docs/examples appears without editing this file. Generated at build time
 * (gitignored): docs/api (TypeDoc) and docs/generated/op-support.md (tools/docs/op-support.ts).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type DefaultTheme } from 'vitepress';

const docsDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface Page {
  text: string;
  link: string;
  order: number;
}

/** The page's title: frontmatter `title`, else its first `# ` heading (backticked suffixes like "— `supcon`" dropped). */
function titleOf(source: string, fallback: string): string {
  const fm = /^---\n([\s\S]*?)\n---/.exec(source)?.[1];
  const fmTitle = fm ? /^title:\s*(.+)$/m.exec(fm)?.[1] : undefined;
  if (fmTitle) return fmTitle.replace(/^['"]|['"]$/g, '');
  const h1 = /^# (.+)$/m.exec(source)?.[1];
  if (!h1) return fallback;
  return h1.replace(/\s+—\s+`[^`]+`\s*$/, '').replace(/`/g, '');
}

function orderOf(source: string): number {
  const fm = /^---\n([\s\S]*?)\n---/.exec(source)?.[1];
  const o = fm ? /^order:\s*(-?\d+)/m.exec(fm)?.[1] : undefined;
  return o === undefined ? 1000 : Number(o);
}

/** Pages of one docs/ subdirectory (or of explicit files), ordered by frontmatter `order`, then title. */
function pages(files: string[]): Page[] {
  return files
    .filter((f) => existsSync(join(docsDir, f)))
    .map((f) => {
      const source = readFileSync(join(docsDir, f), 'utf8');
      const link = `/${f.replace(/(^|\/)(README|index)\.md$/, '$1').replace(/\.md$/, '')}`;
      return { text: titleOf(source, f), link, order: orderOf(source) };
    })
    .sort((a, b) => a.order - b.order || a.text.localeCompare(b.text));
}

function dir(sub: string, except: string[] = []): string[] {
  const abs = join(docsDir, sub);
  if (!existsSync(abs)) return [];
  return readdirSync(abs)
    .filter((f) => f.endsWith('.md') && !except.includes(f))
    .map((f) => `${sub}/${f}`);
}

const items = (ps: Page[]): DefaultTheme.SidebarItem[] => ps.map(({ text, link }) => ({ text, link }));

// The losses index is docs/losses/README.md (GitHub shows it for the folder); the site serves it as /losses/.
const lossIndex = existsSync(join(docsDir, 'losses/README.md')) ? 'losses/README.md' : 'losses/index.md';
const guide = pages(dir('guide'));
const losses = pages(dir('losses', ['README.md', 'index.md']));
const experiments = pages([...dir('experiments'), 'privacy.md', 'brain-age.md', 'generic-vision.md']);
const examples = pages(dir('examples'));
const reference = pages(['architecture.md', 'cli.md', 'training.md', 'kernels.md', 'contrastive-stats.md', 'nn.md', 'datasets.md', 'metrics.md']);

function apiSidebar(): DefaultTheme.SidebarItem[] {
  const file = join(docsDir, 'api/typedoc-sidebar.json');
  if (!existsSync(file)) return [{ text: 'not generated: run npm run docs:api', link: '/' }];
  return JSON.parse(readFileSync(file, 'utf8')) as DefaultTheme.SidebarItem[];
}

const sidebarMain: DefaultTheme.SidebarItem[] = [
  { text: 'Getting started', items: items(guide) },
  { text: 'Losses', items: [{ text: 'Overview', link: '/losses/' }, ...items(losses)] },
  { text: 'Experiments', items: items(experiments) },
  ...(examples.length ? [{ text: 'Examples', items: items(examples) }] : []),
  { text: 'Design and packages', items: items(reference) },
  {
    text: 'Reference',
    items: [
      { text: 'API reference', link: '/api/' },
      { text: 'Op × runtime support', link: '/generated/op-support' },
    ],
  },
];

/**
 * Links from a page to a repository file outside docs/ (e.g. `../../shared/spec/platform.md`)
 * would be dead on the site and tie it to one code host: they are rendered as their text, with the
 * repository path as a tooltip. Links inside docs/ are left to VitePress's dead-link check.
 */
function repoLinksAsText(md: import('markdown-it').default): void {
  md.core.ruler.push('fairgpu-repo-links', (state) => {
    const from = (state.env as { path?: string }).path;
    if (!from) return;
    for (const block of state.tokens) {
      const children = block.children;
      if (block.type !== 'inline' || !children) continue;
      for (let i = 0; i < children.length; i++) {
        const t = children[i];
        if (t.type !== 'link_open') continue;
        const href = t.attrGet('href') ?? '';
        if (/^([a-z][a-z0-9+.-]*:|#|\/)/i.test(href)) continue;
        const target = resolve(dirname(from), decodeURIComponent(href.split('#')[0]));
        const rel = relative(docsDir, target);
        if (!rel.startsWith('..')) continue;
        const close = children.findIndex((c, j) => j > i && c.type === 'link_close');
        const repoPath = relative(resolve(docsDir, '..'), target).split(sep).join(posix.sep);
        const open = new state.Token('html_inline', '', 0);
        open.content = `<span class="repo-path" title="${md.utils.escapeHtml(`repository file: ${repoPath}`)}">`;
        const end = new state.Token('html_inline', '', 0);
        end.content = '</span>';
        children[i] = open;
        if (close > i) children[close] = end;
      }
    }
  });
}

export default defineConfig({
  srcDir: '.',
  title: 'fairgpu',
  description: 'Fairness, debiasing and privacy methods on a minimal WebGPU autograd (Node, Deno, browsers)',
  lang: 'en',
  lastUpdated: false,
  // losses/README.md is the folder's page on a code host; here it is /losses/.
  rewrites: { [lossIndex]: 'losses/index.md' },
  srcExclude: ['**/node_modules/**', 'public/**'],
  markdown: {
    math: true,
    config: (md) => repoLinksAsText(md),
  },
  themeConfig: {
    nav: [
      { text: 'Guide', link: guide[0]?.link ?? '/' },
      { text: 'Losses', link: '/losses/' },
      { text: 'Experiments', link: experiments[0]?.link ?? '/' },
      ...(examples.length ? [{ text: 'Examples', link: examples[0].link }] : []),
      { text: 'API', link: '/api/' },
      { text: 'Support table', link: '/generated/op-support' },
    ],
    sidebar: {
      '/api/': [{ text: 'API reference', link: '/api/', items: apiSidebar() }],
      '/': sidebarMain,
    },
    search: { provider: 'local' },
    outline: { level: [2, 3] },
  },
});
