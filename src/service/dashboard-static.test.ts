/**
 * The dashboard's files over real HTTP: index.html and hashed assets from a
 * built folder, gzipped for clients that take it, with the page's security
 * headers and cache rules; nothing outside the folder; and, through the
 * control API, only for a request the guard lets in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import type { AddressInfo } from 'node:net';
import { fakeControl } from '../../test/support/fake-control.js';
import { startControlServer, type ControlServer } from './control-api.js';
import { dashboardDir, serveDashboard, takesGzip } from './dashboard-static.js';

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A raw request: no automatic decompression, any headers. */
function raw(port: number, path: string, headers: Record<string, string> = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function listen(app: Hono): Promise<{ port: number; server: ServerType }> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) => resolve({ port: info.port, server }));
  });
}

const INDEX = '<!doctype html><title>t</title><script type="module" src="/assets/index-abc123.js"></script>';
const JS = `console.log(${JSON.stringify('x'.repeat(5000))});`;
const CSS = 'body{color:red}';

describe('dashboard static files', () => {
  let port: number;
  let server: ServerType;
  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cs-dash-'));
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), INDEX);
    await writeFile(join(dir, 'index.html.gz'), gzipSync(INDEX));
    await writeFile(join(dir, 'assets', 'index-abc123.js'), JS);
    await writeFile(join(dir, 'assets', 'index-abc123.js.gz'), gzipSync(JS));
    // No .gz beside this one: the server compresses it itself.
    await writeFile(join(dir, 'assets', 'index-def456.css'), CSS);
    await writeFile(join(dir, 'secret.txt'), 'not served');
    const app = new Hono();
    serveDashboard(app, { dir });
    ({ port, server } = await listen(app));
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('serves index.html at / with the CSP and headers of docs/dashboard.md, revalidated each time', async () => {
    const r = await raw(port, '/');
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe(INDEX);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.headers['content-security-policy']).toBe("default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['referrer-policy']).toBe('no-referrer');
    expect(r.headers['cache-control']).toBe('no-cache');
    expect(r.headers['content-encoding']).toBeUndefined();
  });

  it('sends gzip to a client that takes it, from the .gz of the build or compressed by itself', async () => {
    const page = await raw(port, '/', { 'accept-encoding': 'gzip, deflate, br' });
    expect(page.headers['content-encoding']).toBe('gzip');
    expect(page.headers.vary).toBe('Accept-Encoding');
    expect(gunzipSync(page.body).toString()).toBe(INDEX);
    const js = await raw(port, '/assets/index-abc123.js', { 'accept-encoding': 'gzip' });
    expect(js.headers['content-encoding']).toBe('gzip');
    expect(js.body.length).toBeLessThan(JS.length / 10);
    expect(gunzipSync(js.body).toString()).toBe(JS);
    const css = await raw(port, '/assets/index-def456.css', { 'accept-encoding': 'gzip' });
    expect(css.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(css.body).toString()).toBe(CSS);
    const refused = await raw(port, '/assets/index-abc123.js', { 'accept-encoding': 'gzip;q=0, identity' });
    expect(refused.headers['content-encoding']).toBeUndefined();
    expect(refused.body.toString()).toBe(JS);
  });

  it('gives hashed assets a long cache and their types; answers 304 to a matching ETag', async () => {
    const js = await raw(port, '/assets/index-abc123.js');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect((await raw(port, '/assets/index-def456.css')).headers['content-type']).toBe('text/css; charset=utf-8');
    const etag = String((await raw(port, '/')).headers.etag);
    expect(etag).toMatch(/^".+"$/);
    const again = await raw(port, '/', { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
  });

  it('serves nothing but index.html and assets/: no other file, no way out of the folder', async () => {
    for (const path of ['/secret.txt', '/assets/nope.js', '/assets/..%2Fsecret.txt', '/assets/%2e%2e/secret.txt', '/assets/index-abc123.js.gz', '/../secret.txt']) {
      const r = await raw(port, path);
      expect(r.status, path).toBe(404);
      expect(r.body.toString(), path).not.toContain('not served');
    }
  });

  it('says the dashboard is not built when the folder is missing', async () => {
    const app = new Hono();
    serveDashboard(app, { dir: undefined });
    const r = await app.request('/');
    expect(r.status).toBe(404);
    expect(((await r.json()) as { error: string }).error).toMatch(/not built.*npm run build/);
  });

  it('takesGzip reads Accept-Encoding with its q-values', () => {
    expect(takesGzip('gzip')).toBe(true);
    expect(takesGzip('br, GZIP;q=0.5')).toBe(true);
    expect(takesGzip('*')).toBe(true);
    expect(takesGzip('gzip;q=0')).toBe(false);
    expect(takesGzip('identity')).toBe(false);
    expect(takesGzip(undefined)).toBe(false);
  });
});

describe('the dashboard behind the control API', () => {
  const TOKEN = 'b'.repeat(43);
  const f = fakeControl();
  let server: ControlServer;
  beforeAll(async () => {
    server = await startControlServer(f.control, { token: TOKEN });
  });
  afterAll(() => server.close());

  it('is refused without the token (401) and to a foreign Host (403): the guard runs first', async () => {
    expect((await raw(server.port, '/')).status).toBe(401);
    expect((await raw(server.port, '/assets/anything.js')).status).toBe(401);
    expect((await raw(server.port, '/', { host: 'evil.example:80', authorization: `Bearer ${TOKEN}` })).status).toBe(403);
  });

  it('serves the built dashboard (npm run build) with the token', async () => {
    expect(dashboardDir(), 'dist/dashboard is missing: run npm run build first').toBeDefined();
    const r = await raw(server.port, '/', { authorization: `Bearer ${TOKEN}`, 'accept-encoding': 'gzip' });
    expect(r.status).toBe(200);
    const html = gunzipSync(r.body).toString();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    const js = await raw(server.port, asset as string, { authorization: `Bearer ${TOKEN}` });
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
  });
});
