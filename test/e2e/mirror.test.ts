/**
 * The remote catalog and the mirror: a no-op run does not list the bucket's
 * music (one LIST of the catalog log instead), a change by another cratesync
 * machine is read from its log without a listing, and one by another tool is
 * noticed by the next full listing (`--full`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client, PutObjectCommand } from '@aws-sdk/client-s3';
import { makeLibrary } from '../fixtures/audio.js';
import { makeMp3 } from '../fixtures/mp3.js';
import { cliJson } from '../support/cli.js';
import { startS3rver, type S3rver } from '../support/s3rver.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';

const CREDS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_PROFILE: undefined };

describe('remote mirror', () => {
  let server: S3rver;
  let proxy: FaultProxy;
  let lib: string;
  beforeAll(async () => {
    server = await startS3rver();
    proxy = await startFaultProxy(server.endpoint);
    await server.createBucket('mirror');
    lib = await mkdtemp(join(tmpdir(), 'cs-lib-'));
    await makeLibrary(lib, { albums: 2, tracksPerAlbum: 3, seed: 3 });
  });
  afterAll(async () => {
    await proxy.stop();
    await server.stop();
    await rm(lib, { recursive: true, force: true });
  });

  const listingsOf = (what: string) => (from: number) =>
    proxy.requests.slice(from).filter((q) => q.method === 'GET' && q.path.includes('list-type=2') && q.path.includes(`prefix=dj/${what}`)).length;
  const listings = listingsOf('music/');
  const logListings = listingsOf('.cratesync/catalog/log/');
  const heads = (from: number) => proxy.requests.slice(from).filter((q) => q.method === 'HEAD').length;
  const env = { ...CREDS, AWS_ENDPOINT_URL: '' };

  it('lists once, then reads only the catalog log, until --full', async () => {
    env.AWS_ENDPOINT_URL = proxy.endpoint;
    const home = await mkdtemp(join(tmpdir(), 'cs-home-'));
    const url = 's3://mirror/dj';
    let mark = proxy.requests.length;
    const first = await cliJson({ home, env }, 'push', lib, url);
    expect(first.code, first.stderr).toBe(0);
    expect(listings(mark)).toBe(1);

    mark = proxy.requests.length;
    const again = await cliJson({ home, env }, 'push', lib, url);
    expect(again.code).toBe(0);
    expect(again.json.summary.transferred).toBe(0);
    expect(listings(mark)).toBe(0);
    expect(logListings(mark)).toBe(1);
    expect(heads(mark)).toBe(0);

    // Another machine pushes a new track: this machine reads it from the other's log and pulls it, listing nothing.
    const otherLib = await mkdtemp(join(tmpdir(), 'cs-lib2-'));
    await writeFile(join(otherLib, 'new.mp3'), makeMp3({ seed: 'other', title: 'From Elsewhere' }));
    const other = await cliJson({ home: await mkdtemp(join(tmpdir(), 'cs-home-')), env }, 'push', otherLib, url);
    expect(other.code, other.stderr).toBe(0);
    mark = proxy.requests.length;
    const pull = await cliJson({ home, env }, 'pull', lib, url);
    expect(pull.code, pull.stderr).toBe(0);
    expect(listings(mark)).toBe(0);
    expect(pull.json.actions.filter((a: any) => a.status === 'done').map((a: any) => a.path)).toEqual(['new.mp3']);

    // Another tool adds an object: not seen through the mirror, seen with --full.
    const s3 = new S3Client({ endpoint: server.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    await s3.send(new PutObjectCommand({ Bucket: 'mirror', Key: 'dj/music/console.mp3', Body: makeMp3({ seed: 'console' }) }));
    s3.destroy();
    const cached = await cliJson({ home, env }, 'status', lib, url);
    expect(cached.json.actions.some((a: any) => a.path === 'console.mp3')).toBe(false);
    const full = await cliJson({ home, env }, 'pull', lib, url, '--full');
    expect(full.code, full.stderr).toBe(0);
    expect(full.json.actions.filter((a: any) => a.status === 'done').map((a: any) => a.path)).toEqual(['console.mp3']);
    expect(await readFile(join(lib, 'console.mp3'))).toEqual(makeMp3({ seed: 'console' }));
  });
});
