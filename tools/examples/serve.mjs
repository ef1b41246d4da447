#!/usr/bin/env node
/**
 * `npm run examples:serve`: serves docs/public (where `npm run examples:build` writes the
 * examples) on http://localhost:PORT/ — a secure context, so browsers expose WebGPU — and prints
 * each example's address. Static files only, GET/HEAD, no directory listings; a path outside the
 * served directory is a 404. Env: PORT (default 5174), HOST (default 127.0.0.1).
 * Also used by tools/examples/run-examples.mjs (serveDirectory).
 */
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const PUBLIC_DIR = resolve(here, '../../docs/public');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.idx': 'application/octet-stream',
};

/** Serves `dir` on host:port (0 = any free port); resolves to the listening server. */
export function serveDirectory(dir, { host = '127.0.0.1', port = 0 } = {}) {
  const rootDir = resolve(dir);
  const server = createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return res.writeHead(405, { allow: 'GET, HEAD' }).end();
    let path;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      return res.writeHead(400).end('bad path');
    }
    let file = normalize(join(rootDir, path));
    if (file !== rootDir && !file.startsWith(rootDir + sep)) return res.writeHead(404).end('not found');
    if (existsSync(file) && statSync(file).isDirectory()) {
      // /examples/x → /examples/x/ so the page's relative URLs resolve inside its directory.
      if (!path.endsWith('/')) return res.writeHead(301, { location: `${path}/` }).end();
      file = join(file, 'index.html');
    }
    if (!existsSync(file) || !statSync(file).isFile()) {
      if (path === '/favicon.ico') return res.writeHead(204).end();
      return res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).pipe(res);
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => ok(server));
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const examplesDir = join(PUBLIC_DIR, 'examples');
  if (!existsSync(examplesDir)) {
    console.error('examples: docs/public/examples does not exist; run npm run examples:build first');
    process.exit(1);
  }
  const host = process.env.HOST ?? '127.0.0.1';
  const server = await serveDirectory(PUBLIC_DIR, { host, port: Number(process.env.PORT ?? 5174) });
  const { port } = server.address();
  const shown = host === '127.0.0.1' || host === '::1' ? 'localhost' : host;
  console.log(`examples: serving ${PUBLIC_DIR} (Ctrl-C to stop)`);
  for (const name of readdirSync(examplesDir)
    .filter((d) => existsSync(join(examplesDir, d, 'index.html')))
    .sort()) {
    console.log(`  http://${shown}:${port}/examples/${name}/`);
  }
}
