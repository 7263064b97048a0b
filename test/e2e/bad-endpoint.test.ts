/**
 * A malformed S3 endpoint is a usage error naming where it was given
 * (`--endpoint`, the config's `endpoint`, an environment variable), not the
 * SDK's "Invalid URL" from the first request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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
