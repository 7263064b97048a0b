/**
 * Forged, stale or hostile catalog objects never beat the truth: entries
 * dated in the future are dropped (one report per log), a huge forged log
 * costs one line, a gzip bomb is refused, `--full` makes the listing the
 * whole truth, and a plain ETag beats the MD5 a catalog entry claims.
 * Against the folder remote and s3rver, with real state databases.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Remote } from '../remote/remote.js';
import type { Problem } from '../core/problem.js';
import { FolderRemote } from '../remote/folder/folder-remote.js';
import { S3Remote } from '../remote/s3/s3-remote.js';
import { openStateDb, type Db } from '../state/state-db.js';
import { RemoteMirror } from '../state/remote-mirror.js';
import { RemoteCatalog } from './catalog.js';
import { encodeLog, logKey, MAX_LOG_BYTES, type CatalogEntry } from './catalog-codec.js';
import { LOG_WINDOW_MS, MAX_CLOCK_SKEW_MS } from './catalog-fold.js';
import { foldMusic } from './remote-listing.js';
import { startS3rver, type S3rver } from '../../test/support/s3rver.js';
import { gzipBomb } from '../../test/support/gzip-bomb.js';

process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
delete process.env.AWS_SESSION_TOKEN;
delete process.env.AWS_PROFILE;

const md5 = (s: string | Buffer) => createHash('md5').update(s).digest('hex');
const dirs: string[] = [];
const dbs: Db[] = [];
afterEach(async () => {
  for (const db of dbs.splice(0)) db.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

let server: S3rver | undefined;
let buckets = 0;
afterAll(() => server?.stop());

async function folder(): Promise<FolderRemote> {
  const dir = await mkdtemp(join(tmpdir(), 'cs-truth-'));
  dirs.push(dir);
  return new FolderRemote(dir);
}

function machine(remote: Remote, name: string) {
  const db = openStateDb(':memory:');
  dbs.push(db);
  const mirror = new RemoteMirror(db, remote.url);
  return { db, mirror, catalog: new RemoteCatalog(remote, mirror, db, `${name}@${name}-m`, `${name}-m`) };
}

async function view(m: ReturnType<typeof machine>, o: { full?: boolean; now?: number } = {}) {
  const problems: Problem[] = [];
  const r = await m.catalog.refresh({ full: o.full ?? false, problems, ...(o.now ? { now: o.now } : {}) });
  return { ...r, problems, objects: foldMusic(m.mirror.lean(), problems) };
}

const put = (key: string, more: Partial<CatalogEntry> = {}): CatalogEntry => ({ op: 'put', key, size: 1, md5: md5(key), at: Date.now(), ...more }) as CatalogEntry;

describe('forged catalog entries', () => {
  it('drops entries dated in the future and reports them once per log', async () => {
    const remote = await folder();
    const bob = machine(remote, 'bob');
    await view(bob);
    const future = Date.now() + MAX_CLOCK_SKEW_MS + 60_000;
    const entries = [put('music/true.mp3'), ...Array.from({ length: 500 }, (_, i) => put(`music/forged-${i}.mp3`, { at: future }))];
    await remote.put(logKey(Date.now(), 'mallory'), { data: encodeLog({ v: 1, writer: 'm@m', entries }) });
    const v = await view(bob);
    expect([...v.objects.keys()]).toEqual(['true.mp3']);
    expect(v.problems).toHaveLength(1);
    expect(v.problems[0]?.message).toMatch(/^500 catalog entries dated in the future/);
  });

  it('lets a true entry win over a forged one dated in the future for the same key', async () => {
    const remote = await folder();
    const bob = machine(remote, 'bob');
    await view(bob);
    const key = 'music/k.mp3';
    // The forged log even sorts after the true one.
    await remote.put(logKey(Date.now() - 1000, 'alice'), { data: encodeLog({ v: 1, writer: 'a@a', entries: [put(key, { md5: md5('true') })] }) });
    await remote.put(logKey(Date.now(), 'mallory'), { data: encodeLog({ v: 1, writer: 'm@m', entries: [put(key, { md5: md5('forged'), at: Date.now() + 365 * 86_400_000 })] }) });
    expect((await view(bob)).objects.get('k.mp3')?.md5).toBe(md5('true'));
  });

  it('refuses a forged log of 200,000 entries with one line', async () => {
    const remote = await folder();
    const bob = machine(remote, 'bob');
    await view(bob);
    const future = Date.now() + 86_400_000;
    const entries = Array.from({ length: 200_000 }, (_, i) => put(`music/f${i}.mp3`, { at: future }));
    await remote.put(logKey(Date.now(), 'mallory'), { data: encodeLog({ v: 1, writer: 'm@m', entries }) });
    const v = await view(bob);
    expect(v.problems).toHaveLength(1);
    expect(v.problems[0]?.message).toMatch(/200000 entries, more than the 100000 allowed/);
    expect(v.objects.size).toBe(0);
  });

  it('ignores a log whose key is dated in the future, once, and keeps reading the true logs after it', async () => {
    const remote = await folder();
    const bob = machine(remote, 'bob');
    await view(bob);
    await remote.put(logKey(Date.UTC(2099, 0, 1), 'mallory'), { data: encodeLog({ v: 1, writer: 'm@m', entries: [put('music/forged.mp3', { at: Date.UTC(2099, 0, 1) })] }) });
    const first = await view(bob);
    expect(first.problems.map((p) => p.message)).toEqual([expect.stringMatching(/catalog log dated 2099-01-01T00:00:00.000Z, in the future: ignored/)]);
    await remote.put(logKey(Date.now(), 'alice'), { data: encodeLog({ v: 1, writer: 'a@a', entries: [put('music/true.mp3')] }) });
    const next = await view(bob);
    expect(next.problems).toEqual([]);
    expect([...next.objects.keys()]).toEqual(['true.mp3']);
  });

  it('refuses a gzip bomb put on the remote and reads the other logs', async () => {
    const remote = await folder();
    const bob = machine(remote, 'bob');
    await view(bob);
    const doc = JSON.stringify({ v: 1, writer: 'm@m', entries: [put('music/bomb.mp3')] });
    await remote.put(logKey(Date.now() - 1, 'mallory'), { data: await gzipBomb(doc, MAX_LOG_BYTES * 2) });
    await remote.put(logKey(Date.now(), 'alice'), { data: encodeLog({ v: 1, writer: 'a@a', entries: [put('music/true.mp3')] }) });
    const v = await view(bob);
    expect(v.problems.map((p) => p.message)).toEqual([expect.stringMatching(/unreadable \(inflates past 64 MiB\)/)]);
    expect([...v.objects.keys()]).toEqual(['true.mp3']);
  });
});

describe('the listing is the truth', () => {
  it('--full drops what the listing lacks, however recently cratesync wrote it', async () => {
    const remote = await folder();
    const alice = machine(remote, 'alice');
    await view(alice);
    for (const k of ['a', 'b']) {
      const o = await remote.put(`music/${k}.mp3`, { data: Buffer.from(k) });
      alice.catalog.record(put(`music/${k}.mp3`, { size: o.size, md5: o.md5 }));
    }
    await alice.catalog.publish();
    // Another tool removes every object a moment later (aws s3 rm --recursive).
    await remote.delete('music/a.mp3');
    await remote.delete('music/b.mp3');
    const periodic = await view(alice, { now: Date.now() + 1 });
    expect(periodic.objects.size).toBe(2); // a periodic listing may race a log: written just now, kept
    const full = await view(alice, { full: true });
    expect(full.objects.size).toBe(0);
    // Past the window, a periodic listing drops them too.
    expect((await view(alice, { now: Date.now() + LOG_WINDOW_MS + 1000 })).objects.size).toBe(0);
  });

  it('takes the MD5 of a plain ETag over the one a catalog entry claims', async () => {
    server ??= await startS3rver();
    const bucket = `truth-${++buckets}`;
    await server.createBucket(bucket);
    const remote = new S3Remote({ bucket, prefix: 'dj/', endpoint: server.endpoint });
    try {
      const bob = machine(remote, 'bob');
      const stored = await remote.put('music/x.mp3', { data: Buffer.from('the real content') });
      await view(bob); // first contact: listed, MD5 from the ETag
      expect(bob.mirror.get('music/x.mp3')?.md5).toBe(md5('the real content'));
      // A log claims other content for the same object, with no ETag to tell.
      await remote.put(logKey(Date.now(), 'mallory'), {
        data: encodeLog({ v: 1, writer: 'm@m', entries: [put('music/x.mp3', { size: stored.size, md5: md5('forged'), audioHash: 'f'.repeat(64) })] }),
      });
      await view(bob);
      const full = await view(bob, { full: true });
      expect(full.objects.get('x.mp3')?.md5).toBe(md5('the real content'));
      expect(bob.mirror.withMd5(md5('forged'))).toEqual([]);
      expect(bob.mirror.get('music/x.mp3')?.audioHash).toBeUndefined();
      // An entry whose own ETag contradicts its MD5 loses at once.
      await remote.put(logKey(Date.now() + 1, 'mallory'), {
        data: encodeLog({ v: 1, writer: 'm@m', entries: [put('music/x.mp3', { size: stored.size, md5: md5('forged'), etag: stored.etag! })] }),
      });
      await view(bob);
      expect(bob.mirror.get('music/x.mp3')?.md5).toBe(md5('the real content'));
    } finally {
      await remote.close();
    }
  });
});
