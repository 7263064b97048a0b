/**
 * The dashboard's built files (dist/dashboard, made by `npm run build`),
 * served by the control API's server behind its guard: index.html at `/`
 * (revalidated each time), the hashed files under `/assets/` (cached for a
 * year: a new build gives them new names). Each is sent gzipped to a client
 * that takes gzip, from the `.gz` the build wrote beside it (or compressed
 * once here when it is missing), and every answer carries the page's
 * Content-Security-Policy (docs/dashboard.md, Access).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Context, Hono } from 'hono';
import { PAGE_HEADERS } from './dashboard-pages.js';


const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  json: 'application/json',
  png: 'image/png',
  woff2: 'font/woff2',
};

interface StaticFile {
  body: Uint8Array<ArrayBuffer>;
  gz: Uint8Array<ArrayBuffer>;
  type: string;
  etag: string;
}

/**
 * dashboardDir finds dist/dashboard from this module's own place, so that it
 * works from the repository (src/service/, run by the tests) and from the
 * built package (dist/src/service/) alike; undefined when it was not built.
 */
export function dashboardDir(): string | undefined {
  // From src/service/ the first is the build; from dist/src/service/ the second is
  // (the first does not exist there). The source folder dashboard/ has no assets/.
  for (const rel of ['../../dist/dashboard/', '../../dashboard/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(join(dir, 'index.html')) && existsSync(join(dir, 'assets'))) return dir;
  }
  return undefined;
}

/** loadFiles reads index.html and assets/* of `dir` into memory (they are small), by URL path. */
function loadFiles(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  const add = (urlPath: string, file: string) => {
    // Copied out of Node's pooled buffers, once: each is sent many times.
    const body = new Uint8Array(readFileSync(file));
    const gzFile = `${file}.gz`;
    const gz = new Uint8Array(existsSync(gzFile) ? readFileSync(gzFile) : gzipSync(body));
    const ext = /\.([a-z0-9]+)$/i.exec(file)?.[1]?.toLowerCase() ?? '';
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    files.set(urlPath, { body, gz, type: TYPES[ext] ?? 'application/octet-stream', etag });
  };
  add('/', join(dir, 'index.html'));
  const assets = join(dir, 'assets');
  if (existsSync(assets)) {
    for (const name of readdirSync(assets)) if (!name.endsWith('.gz')) add(`/assets/${name}`, join(assets, name));
  }
  return files;
}

/** takesGzip: the request's Accept-Encoding lists gzip without `q=0`. */
export function takesGzip(acceptEncoding: string | undefined): boolean {
  for (const part of (acceptEncoding ?? '').split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (name !== 'gzip' && name !== '*') continue;
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    return q === undefined || Number(q) > 0;
  }
  return false;
}

/**
 * serveDashboard adds `GET /` and `GET /assets/<name>` to `app`; mount it
 * after the guard, which decides who may have the page. `o.dir` (default
 * {@link dashboardDir}; undefined: not built) is read on the first request,
 * once. Unknown paths fall through to the app's 404.
 */
export function serveDashboard(app: Hono, o: { dir: string | undefined } = { dir: dashboardDir() }): void {
  const { dir } = o;
  let files: Map<string, StaticFile> | undefined;
  const send = (c: Context, path: string) => {
    if (dir === undefined) {
      return c.json({ error: 'the dashboard is not built into this install (npm run build makes dist/dashboard)' }, 404);
    }
    files ??= loadFiles(dir);
    const f = files.get(path);
    if (!f) return c.notFound();
    const headers: Record<string, string> = {
      ...PAGE_HEADERS,
      'content-type': f.type,
      etag: f.etag,
      vary: 'Accept-Encoding',
      'cache-control': path === '/' ? 'no-cache' : 'public, max-age=31536000, immutable',
    };
    const inm = c.req.header('if-none-match');
    if (inm !== undefined && inm.split(',').some((t) => t.trim() === f.etag)) return c.body(null, 304, headers);
    const gzip = takesGzip(c.req.header('accept-encoding'));
    if (gzip) headers['content-encoding'] = 'gzip';
    const body = gzip ? f.gz : f.body;
    headers['content-length'] = String(body.length);
    return c.body(body, 200, headers);
  };
  app.get('/', (c) => send(c, '/'));
  app.get('/index.html', (c) => send(c, '/'));
  app.get('/assets/:name', (c) => send(c, `/assets/${c.req.param('name')}`));
}
