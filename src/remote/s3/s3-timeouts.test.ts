/**
 * A server that accepts connections and never answers: every request fails
 * after the client's timeouts with a one-line message naming the endpoint,
 * is retried, and once requests in a row go unanswered the endpoint is given
 * up on (a fatal error), so that a run ends in bounded time.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classify, TransientError, UnreachableError, UsageError } from '../../errors.js';
import { withRetry } from '../../core/retry.js';
import { DEFAULT_TIMEOUTS, timeoutsFrom } from './s3-client.js';
import { S3Remote } from './s3-remote.js';
import { startS3rver } from '../../../test/support/s3rver.js';

process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
delete process.env.AWS_SESSION_TOKEN;
delete process.env.AWS_PROFILE;

let server: Server;
const sockets = new Set<Socket>();
let endpoint: string;
let work: string;
/** Short waits, as CRATESYNC_S3_TIMEOUT=0.2 gives them. */
const SHORT = timeoutsFrom('0.2');

beforeAll(async () => {
  // Accepts, reads whatever comes, never writes a byte.
  server = createServer((s) => {
    sockets.add(s);
    s.on('data', () => {});
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('no port');
  endpoint = `http://127.0.0.1:${addr.port}`;
  work = await mkdtemp(path.join(tmpdir(), 'cratesync-timeouts-'));
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => server.close(resolve));
  await rm(work, { recursive: true, force: true });
});

const remote = (retry = { attempts: 1, baseMs: 1, maxMs: 1 }) => new S3Remote({ bucket: 'b', prefix: '', endpoint, timeouts: SHORT, retry });

describe('a server that never answers', () => {
  it('fails a stat with a one-line message naming the endpoint and the wait', async () => {
    const r = remote();
    const err = await r.stat('x.mp3').catch((e: unknown) => e);
    await r.close();
    expect(err).toBeInstanceOf(TransientError);
    expect((err as Error).message).toBe(`s3 endpoint ${endpoint} did not answer within 0.2 s (HeadObject s3://b/x.mp3)`);
  });

  it('fails a streamed upload the same way', async () => {
    const file = path.join(work, 'big.flac');
    await writeFile(file, Buffer.alloc(3 * 1024 * 1024, 7));
    const r = remote();
    const err = await r.put('big.flac', { path: file }).catch((e: unknown) => e);
    await r.close();
    expect(classify(err)).toBe('retry');
    expect((err as Error).message).toMatch(new RegExp(`^s3 endpoint ${endpoint} did not answer within 0\\.2 s \\(PutObject s3://b/big\\.flac\\)`));
  });

  it('is given up on after requests in a row go unanswered: retries end, and the error stops the run', async () => {
    const r = remote({ attempts: 10, baseMs: 1, maxMs: 1 });
    const errs: unknown[] = [];
    // A listing retries its pages itself; a stat is retried by its caller.
    errs.push(await (async () => {
      for await (const _ of r.list('')) void _;
    })().catch((e: unknown) => e));
    errs.push(await withRetry(() => r.stat('y.mp3'), { policy: { attempts: 10, baseMs: 1, maxMs: 1 } }).catch((e: unknown) => e));
    await r.close();
    for (const err of errs) {
      expect(err).toBeInstanceOf(UnreachableError);
      expect(classify(err)).toBe('fatal');
      expect((err as Error).message).toMatch(new RegExp(`^s3 endpoint ${endpoint} did not answer within 0\\.2 s .*requests in a row went unanswered`));
    }
  });

  it('CRATESYNC_S3_TIMEOUT sets the waits; anything but seconds is refused, naming it', () => {
    expect(timeoutsFrom(undefined)).toEqual(DEFAULT_TIMEOUTS);
    expect(timeoutsFrom('60')).toEqual({ connectMs: 5000, idleMs: 60_000, deadlineMs: 240_000 });
    expect(() => timeoutsFrom('soon')).toThrow(UsageError);
    expect(() => timeoutsFrom('-1')).toThrow(/CRATESYNC_S3_TIMEOUT="-1" is not a positive number of seconds/);
  });
});

describe('a large body', () => {
  it('has no deadline: however long it takes to send, only silence fails it', async () => {
    const s3 = await startS3rver();
    try {
      await s3.createBucket('slow');
      // A deadline no request could meet: were it applied to bodies, every upload below would fail.
      const r = new S3Remote({ bucket: 'slow', prefix: '', endpoint: s3.endpoint, timeouts: { connectMs: 5000, idleMs: 30_000, deadlineMs: 1 } });
      const data = randomBytes(3 * 1024 * 1024);
      const file = path.join(work, 'long.flac');
      await writeFile(file, data);
      const md5 = createHash('md5').update(data).digest('hex');
      expect((await r.put('streamed.flac', { path: file }, { expectMd5: md5 })).md5).toBe(md5);
      expect((await r.put('buffered.flac', { data }, { expectMd5: md5 })).md5).toBe(md5);
      await r.close();
    } finally {
      await s3.stop();
    }
  });
});
