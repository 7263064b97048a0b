/**
 * S3Remote under failure: a fault-injecting proxy between the remote and
 * s3rver answers 503s, drops connections mid-upload and corrupts bodies, and
 * stored objects are corrupted on s3rver's disk behind its back.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ChecksumError, classify, NotFoundError, TransientError } from '../../errors.js';
import { withRetry } from '../../core/retry.js';
import { startFaultProxy, type FaultProxy } from '../../../test/support/fault-proxy.js';
import { startS3rver, type S3rver } from '../../../test/support/s3rver.js';
import { S3Remote } from './s3-remote.js';

process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
delete process.env.AWS_SESSION_TOKEN;
delete process.env.AWS_PROFILE;

const MiB = 1024 * 1024;
const FAST = { attempts: 3, baseMs: 5, maxMs: 20 };
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

let server: S3rver;
let proxy: FaultProxy;
let work: string;
let bucket: string;
let n = 0;
/** Goes through the proxy. */
let remote: S3Remote;
/** Talks to s3rver directly, to see what really got stored. */
let direct: S3Remote;

beforeAll(async () => {
  server = await startS3rver();
  proxy = await startFaultProxy(server.endpoint);
});
afterAll(async () => {
  await proxy?.stop();
  await server?.stop();
});
beforeEach(async () => {
  bucket = `faults-${++n}`;
  await server.createBucket(bucket);
  work = await mkdtemp(path.join(tmpdir(), 'cratesync-faults-'));
  const options = { bucket, prefix: 'music/', multipartThreshold: 8 * MiB, partSize: 5 * MiB, retry: FAST };
  remote = new S3Remote({ ...options, endpoint: proxy.endpoint });
  direct = new S3Remote({ ...options, endpoint: server.endpoint });
  proxy.rules.length = 0;
  proxy.requests.length = 0;
});
afterEach(async () => {
  await remote.close();
  await direct.close();
  await rm(work, { recursive: true, force: true });
});

async function file(name: string, size: number): Promise<{ path: string; data: Buffer }> {
  const data = randomBytes(size);
  const p = path.join(work, name);
  await writeFile(p, data);
  return { path: p, data };
}
const puts = (key: string) => proxy.requests.filter((r) => r.method === 'PUT' && r.path.includes(key));

describe('S3Remote faults', () => {
  it('a 503 SlowDown is a TransientError, and the put succeeds when retried', async () => {
    const { path: p, data } = await file('a.mp3', 200_000);
    proxy.rules.push({ method: 'PUT', pathIncludes: 'music/Artist/x.mp3', action: 'status-503', times: 1 });
    const seen: unknown[] = [];
    const result = await withRetry(() => remote.put('Artist/x.mp3', { path: p }), { policy: FAST, onRetry: (err) => seen.push(err) });
    expect(result.md5).toBe(md5(data));
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeInstanceOf(TransientError);
    expect(puts('music/Artist/x.mp3')).toHaveLength(2);
    expect(await direct.stat('Artist/x.mp3')).toMatchObject({ size: data.length, etag: md5(data) });
  });

  it('a body corrupted on the way is a ChecksumError and leaves no object', async () => {
    const { path: p } = await file('c.mp3', 100_000);
    proxy.rules.push({ method: 'PUT', pathIncludes: 'music/c.mp3', action: 'corrupt-body', times: 1 });
    const err = await remote.put('c.mp3', { path: p }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChecksumError);
    expect(classify(err)).toBe('retry');
    await expect(direct.stat('c.mp3')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('a connection reset mid-body is a TransientError (retry)', async () => {
    const { path: p } = await file('r.mp3', 2 * MiB);
    proxy.rules.push({ method: 'PUT', pathIncludes: 'music/r.mp3', action: 'reset-mid-body', times: 1 });
    let progress = 0;
    const err = await remote.put('r.mp3', { path: p }, { onProgress: (b) => (progress += b) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect(classify(err)).toBe('retry');
    expect(progress).toBe(0); // what was reported is taken back
    await expect(direct.stat('r.mp3')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('multipart: goes in parts, stores the md5 metadata, and retries a corrupted or reset part on its own', async () => {
    const { path: p, data } = await file('big.flac', 12 * MiB + 5);
    proxy.rules.push({ method: 'PUT', pathIncludes: 'partNumber=2', action: 'corrupt-body', times: 1 });
    proxy.rules.push({ method: 'PUT', pathIncludes: 'partNumber=3', action: 'reset-mid-body', times: 1 });
    let progress = 0;
    const result = await remote.put('big.flac', { path: p }, { onProgress: (b) => (progress += b) });
    expect(result).toMatchObject({ size: data.length, md5: md5(data) });
    expect(progress).toBe(data.length);
    const parts = puts('music/big.flac').filter((r) => r.path.includes('partNumber='));
    expect(parts.length).toBe(3 + 2); // three parts, two of them sent twice
    const meta = JSON.parse(await readFile(path.join(server.dir, bucket, 'music', 'big.flac._S3rver_metadata.json'), 'utf8')) as Record<string, string>;
    expect(meta['x-amz-meta-md5']).toBe(md5(data));
    const dest = path.join(work, 'big.out');
    expect((await direct.get('big.flac', dest)).md5).toBe(md5(data));
    expect((await readFile(dest)).equals(data)).toBe(true);
  });

  it('multipart: a part that keeps failing aborts the upload and leaves no object', async () => {
    const { path: p } = await file('bad.flac', 11 * MiB);
    proxy.rules.push({ method: 'PUT', pathIncludes: 'partNumber=2', action: 'corrupt-body', times: 100 });
    let progress = 0;
    const err = await remote.put('bad.flac', { path: p }, { onProgress: (b) => (progress += b) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChecksumError);
    expect(progress).toBe(0);
    expect(proxy.requests.some((r) => r.method === 'DELETE' && r.path.includes('uploadId='))).toBe(true);
    expect(proxy.requests.some((r) => r.method === 'POST' && r.path.includes('uploadId='))).toBe(false); // never completed
    await expect(direct.stat('bad.flac')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('list pages are retried on their own', async () => {
    for (const k of ['a.mp3', 'b.mp3']) await remote.put(k, { data: Buffer.from(k) });
    proxy.rules.push({ method: 'GET', pathIncludes: 'list-type=2', action: 'status-503', times: 1 });
    const keys: string[] = [];
    for await (const o of remote.list('')) keys.push(o.key);
    expect(keys.sort()).toEqual(['a.mp3', 'b.mp3']);
  });

  it('get detects an object corrupted in storage, from its ETag alone', async () => {
    const data = randomBytes(50_000);
    await remote.put('rot.mp3', { data });
    const stored = path.join(server.dir, bucket, 'music', 'rot.mp3._S3rver_object');
    const bytes = await readFile(stored);
    bytes[1234] = (bytes[1234] ?? 0) ^ 1;
    await writeFile(stored, bytes);
    const dest = path.join(work, 'rot.out');
    await expect(remote.get('rot.mp3', dest)).rejects.toBeInstanceOf(ChecksumError);
    await expect(readFile(dest)).rejects.toMatchObject({ code: 'ENOENT' }); // no half-verified file left
  });

  it('an unreachable endpoint and a missing bucket are fatal, with messages naming them', async () => {
    const gone = new S3Remote({ bucket, prefix: '', endpoint: 'http://127.0.0.1:9' });
    const refused = await gone.stat('x').catch((e: unknown) => e);
    await gone.close();
    expect(classify(refused)).toBe('fatal');
    expect(String((refused as Error).message)).toContain('127.0.0.1:9');
    const nobucket = new S3Remote({ bucket: 'no-such-bucket', prefix: '', endpoint: server.endpoint });
    const missing = await nobucket.put('x', { data: Buffer.from('x') }).catch((e: unknown) => e);
    await nobucket.close();
    expect(classify(missing)).toBe('fatal');
    expect((missing as Error).message).toContain('no-such-bucket');
  });
});
