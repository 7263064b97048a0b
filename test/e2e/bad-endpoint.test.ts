/**
 * A malformed S3 endpoint is a usage error naming where it was given
 * (`--endpoint`, the config's `endpoint`, an environment variable), not the
 * SDK's "Invalid URL" from the first request; an endpoint that accepts
 * connections and never answers ends the run with one line naming it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeLibrary } from '../fixtures/audio.js';
import { cli } from '../support/cli.js';

const CREDS = { AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y', AWS_ENDPOINT_URL: undefined, AWS_ENDPOINT_URL_S3: undefined };

describe('a malformed --endpoint', () => {
  let lib: string;
  let home: string;
  beforeAll(async () => {
    lib = await mkdtemp(join(tmpdir(), 'cs-lib-'));
    home = await mkdtemp(join(tmpdir(), 'cs-home-'));
    await makeLibrary(lib, { albums: 1, tracksPerAlbum: 1 });
  });
  afterAll(async () => {
    await rm(lib, { recursive: true, force: true });
    await rm(home, { recursive: true, force: true });
  });

  it('is one line naming --endpoint, exit 2', async () => {
    const r = await cli({ home, env: CREDS }, 'push', lib, 's3://bucket/dj', '--endpoint', 'not a url');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^cratesync: --endpoint "not a url" is not a URL/);
    expect(r.stderr).not.toMatch(/Invalid URL|TypeError/);
  });

  it('names the environment variable it came from', async () => {
    const r = await cli({ home, env: { ...CREDS, AWS_ENDPOINT_URL_S3: 'ftp://127.0.0.1:9' } }, 'status', lib, 's3://bucket/dj');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^cratesync: AWS_ENDPOINT_URL_S3 "ftp:\/\/127\.0\.0\.1:9" has scheme ftp/);
  });

  it('names the config field it came from', async () => {
    const cfgHome = await mkdtemp(join(tmpdir(), 'cs-home-'));
    // z.url() in the config schema admits any scheme; the remote refuses it.
    await writeFile(join(cfgHome, 'config.json'), JSON.stringify({ library: lib, remote: 's3://bucket/dj', endpoint: 'mailto:dj@example.com' }));
    const r = await cli({ home: cfgHome, env: CREDS }, 'status');
    await rm(cfgHome, { recursive: true, force: true });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^cratesync: endpoint in .*config\.json "mailto:dj@example\.com" has scheme mailto/);
  });
});

describe('an endpoint that never answers', () => {
  it('ends a push with one line naming the endpoint and the wait, exit 2', async () => {
    const sockets = new Set<Socket>();
    const server = createServer((s) => {
      sockets.add(s);
      s.on('data', () => {});
      s.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const lib = await mkdtemp(join(tmpdir(), 'cs-lib-'));
    const home = await mkdtemp(join(tmpdir(), 'cs-home-'));
    try {
      await makeLibrary(lib, { albums: 1, tracksPerAlbum: 2 });
      const endpoint = `http://127.0.0.1:${port}`;
      const r = await cli({ home, env: { ...CREDS, CRATESYNC_S3_TIMEOUT: '0.2' } }, 'push', lib, 's3://bucket/dj', '--endpoint', endpoint);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(`cratesync: s3 endpoint ${endpoint} did not answer within 0.2 s`);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
      await rm(lib, { recursive: true, force: true });
      await rm(home, { recursive: true, force: true });
    }
  });
});
