/**
 * The remote catalog on a real (folder) remote with real state databases:
 * several writers, logs that land late, foreign writes, crash recovery.
 */
import { beforeAll, afterEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FolderRemote } from '../remote/folder/folder-remote.js';
import { openStateDb, type Db } from '../state/state-db.js';
import { RemoteMirror } from '../state/remote-mirror.js';
import { RemoteCatalog } from './catalog.js';
import { decodeLog, encodeLog, loadCodec, LOG_PREFIX, logKey, logStamp, logTime, type CatalogEntry } from './catalog-codec.js';
import { LOG_WINDOW_MS } from './catalog-fold.js';
import { CratesyncError } from '../errors.js';
import { foldMusic } from './remote-listing.js';

// Decoding catalog objects needs the validators loaded (see loadCodec).
beforeAll(loadCodec);

/** A stand-in content MD5, one per name. */
const MD5 = (c: string) => createHash('md5').update(c).digest('hex');
const dirs: string[] = [];
const dbs: Db[] = [];
afterEach(async () => {
  for (const db of dbs.splice(0)) db.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function fresh(): Promise<FolderRemote> {
  const dir = await mkdtemp(join(tmpdir(), 'cs-catalog-'));
  dirs.push(dir);
  return new FolderRemote(dir);
}

/** One machine: its own state database and catalog over `remote`. */
function machine(remote: FolderRemote, name: string, db = openStateDb(':memory:')) {
  dbs.push(db);
  const mirror = new RemoteMirror(db, remote.url);
  return { db, mirror, catalog: new RemoteCatalog(remote, mirror, db, `${name}@${name}-m`, `${name}-m`) };
}

/** The mirror as a run plans from it, once the catalog is refreshed. */
async function view(m: ReturnType<typeof machine>, o: Parameters<RemoteCatalog['refresh']>[0]) {
  const r = await m.catalog.refresh(o);
  return { ...r, objects: foldMusic(m.mirror.lean(), o.problems) };
}

const put = (key: string, md5: string, more: Partial<CatalogEntry> = {}): CatalogEntry => ({ op: 'put', key, size: 1, md5, at: Date.now(), ...more }) as CatalogEntry;

describe('log keys', () => {
  it('sort by time and give the time back', () => {
    const t = Date.UTC(2026, 10, 20, 23, 3, 58, 618);
    expect(logStamp(t)).toBe('20261120T230358618Z');
    const k = logKey(t, 'vm-1');
    expect(k.startsWith(`${LOG_PREFIX}20261120T230358618Z-vm-1-`)).toBe(true);
    expect(logTime(k)).toBe(t);
    expect(logKey(t + 1, 'a') > logKey(t, 'z')).toBe(true);
    expect(logTime('.cratesync/catalog/log/garbage.json.gz')).toBeUndefined();
  });

  it('refuses a log that is not one, naming it', () => {
    expect(() => decodeLog(Buffer.from('not gzip'), 'k1')).toThrow(/catalog log k1 is unreadable/);
    expect(() => decodeLog(encodeLog({ v: 2 } as never), 'k2')).toThrow(/k2: unknown version 2/);
    expect(() => decodeLog(encodeLog({ v: 1, writer: 'w', entries: [{ op: 'put', key: 'x' }] } as never), 'k3')).toThrow(CratesyncError);
    const ok = { v: 1 as const, writer: 'w', entries: [put('music/a.mp3', MD5('a')), { op: 'del' as const, key: 'music/b.mp3', at: 1 }] };
    expect(decodeLog(encodeLog(ok), 'k4')).toEqual(ok);
  });
});

describe('RemoteCatalog', () => {
  it("lets one writer's changes reach another through the log, without listing again", async () => {
    const remote = await fresh();
    const alice = machine(remote, 'alice');
    const bob = machine(remote, 'bob');
    await view(bob, { full: false, problems: [] }); // first contact: a full listing (empty)
    expect(bob.mirror.state().listedAt).toBeDefined();

    await remote.put('music/a.mp3', { data: Buffer.from('a') });
    alice.catalog.record(put('music/a.mp3', MD5('a'), { audioHash: 'f'.repeat(64), tags: { title: 'A' } } as never));
    alice.catalog.record(put('music/b.mp3', MD5('b')));
    alice.catalog.record({ op: 'del', key: 'music/b.mp3', at: Date.now() });
    await alice.catalog.publish();
    expect(alice.catalog.pendingCount()).toBe(0);

    let listed = 0;
    const list = remote.list.bind(remote);
    remote.list = (prefix, o) => {
      if (prefix === 'music/') listed++;
      return list(prefix, o);
    };
    const seen = await view(bob, { full: false, problems: [] });
    expect(listed).toBe(0);
    expect(seen.logsRead).toBe(1);
    expect([...seen.objects.keys()]).toEqual(['a.mp3']);
    expect(seen.objects.get('a.mp3')).toMatchObject({ md5: MD5('a'), audioHash: 'f'.repeat(64) });
    expect(bob.mirror.get('music/a.mp3')).toMatchObject({ tags: { title: 'A' }, writer: 'alice@alice-m' });

    // Read once: the next view reads nothing.
    expect((await view(bob, { full: false, problems: [] })).logsRead).toBe(0);
  });

  it('picks up a log that landed late with an earlier time, within the window', async () => {
    const remote = await fresh();
    const bob = machine(remote, 'bob');
    await view(bob, { full: false, problems: [] });
    const now = Date.now();
    await remote.put(logKey(now, 'fast'), { data: encodeLog({ v: 1, writer: 'fast@f', entries: [put('music/new.mp3', MD5('1'))] }) });
    await view(bob, { full: false, problems: [] });
    // A slow upload started earlier lands now, its key sorting before the cursor.
    await remote.put(logKey(now - 60_000, 'slow'), { data: encodeLog({ v: 1, writer: 'slow@s', entries: [put('music/late.mp3', MD5('2'))] }) });
    const v = await view(bob, { full: false, problems: [] });
    expect(v.logsRead).toBe(1);
    expect([...v.objects.keys()].sort()).toEqual(['late.mp3', 'new.mp3']);
  });

  it('lets a later log win over an earlier one read late, for the same key', async () => {
    const remote = await fresh();
    const bob = machine(remote, 'bob');
    await view(bob, { full: false, problems: [] });
    const now = Date.now();
    await remote.put(logKey(now, 'x'), { data: encodeLog({ v: 1, writer: 'x@x', entries: [put('music/k.mp3', MD5('9'))] }) });
    await view(bob, { full: false, problems: [] });
    await remote.put(logKey(now - 1000, 'y'), { data: encodeLog({ v: 1, writer: 'y@y', entries: [put('music/k.mp3', MD5('1'))] }) });
    const v = await view(bob, { full: false, problems: [] });
    expect(v.objects.get('k.mp3')?.md5).toBe(MD5('9'));
  });

  it("keeps this machine's own published write over another writer's earlier log read later", async () => {
    const remote = await fresh();
    const alice = machine(remote, 'alice');
    await view(alice, { full: false, problems: [] });
    const before = Date.now();
    alice.catalog.record(put('music/x.mp3', MD5('a')));
    await alice.catalog.publish();
    // Bob's log, written a moment before Alice's, lands (or is read) only now.
    await remote.put(logKey(before - 1000, 'bob-m'), { data: encodeLog({ v: 1, writer: 'bob@bob-m', entries: [put('music/x.mp3', MD5('b'), { at: before - 1000 })] }) });
    const v = await view(alice, { full: false, problems: [] });
    expect(v.logsRead).toBe(1);
    expect(v.objects.get('x.mp3')?.md5).toBe(MD5('a'));
  });

  it('reports an unreadable log once and goes on', async () => {
    const remote = await fresh();
    const bob = machine(remote, 'bob');
    await remote.put(logKey(Date.now(), 'bad'), { data: Buffer.from('garbage') });
    await remote.put(logKey(Date.now() + 1, 'good'), { data: encodeLog({ v: 1, writer: 'g@g', entries: [put('music/g.mp3', MD5('g'))] }) });
    const problems: Array<{ path: string; message: string }> = [];
    await view(bob, { full: false, problems });
    expect(problems).toHaveLength(1);
    expect(problems[0]?.message).toMatch(/unreadable/);
    const again: typeof problems = [];
    await view(bob, { full: false, problems: again });
    expect(again).toHaveLength(0);
  });

  it("reconciles with a full listing: foreign objects appear, foreign overwrites lose the catalog's hashes, vanished ones go", async () => {
    const remote = await fresh();
    const alice = machine(remote, 'alice');
    await view(alice, { full: false, problems: [] });
    for (const k of ['same', 'over', 'gone']) {
      const o = await remote.put(`music/${k}.mp3`, { data: Buffer.from(k) });
      alice.catalog.record(put(`music/${k}.mp3`, o.md5, { size: o.size, audioHash: 'f'.repeat(64) } as never));
    }
    await alice.catalog.publish();
    // Past the window, another tool writes directly.
    await remote.put('music/foreign.mp3', { data: Buffer.from('foreign') });
    await remote.put('music/over.mp3', { data: Buffer.from('overwritten, longer') });
    await remote.delete('music/gone.mp3');
    const later = Date.now() + LOG_WINDOW_MS + 1000;

    const cached = await view(alice, { full: false, problems: [], now: later });
    expect(cached.objects.has('foreign.mp3')).toBe(false); // not listed: not seen yet

    const full = await view(alice, { full: true, problems: [], now: later });
    expect([...full.objects.keys()].sort()).toEqual(['foreign.mp3', 'over.mp3', 'same.mp3']);
    expect(full.objects.get('same.mp3')?.audioHash).toBe('f'.repeat(64));
    expect(full.objects.get('over.mp3')?.audioHash).toBeUndefined();
    expect(full.objects.get('over.mp3')?.size).toBe('overwritten, longer'.length);
  });

  it('publishes what a crashed run recorded but never wrote to the log', async () => {
    const remote = await fresh();
    const dir = await mkdtemp(join(tmpdir(), 'cs-state-'));
    dirs.push(dir);
    const file = join(dir, 'state.db');
    const first = machine(remote, 'alice', openStateDb(file));
    first.catalog.record(put('music/x.mp3', MD5('x')));
    first.catalog.pendingCount(); // flushes the batch to the database, as the batcher would within 50 ms
    first.mirror.flush();
    first.db.close();
    dbs.splice(dbs.indexOf(first.db), 1);

    const restarted = machine(remote, 'alice', openStateDb(file));
    expect(restarted.catalog.pendingCount()).toBe(1);
    await view(restarted, { full: false, problems: [] });
    expect(restarted.catalog.pendingCount()).toBe(0);
    const bob = machine(remote, 'bob');
    const v = await view(bob, { full: false, problems: [] });
    // Bob's first contact lists music/ (empty here), and the log tells him of x.mp3 anyway.
    expect(v.objects.get('x.mp3')?.md5).toBe(MD5('x'));
  });

  it('does not publish pending changes in a read-only view (status, dry runs)', async () => {
    const remote = await fresh();
    const alice = machine(remote, 'alice');
    alice.catalog.record(put('music/x.mp3', MD5('x')));
    await view(alice, { full: false, problems: [], readOnly: true });
    expect(alice.catalog.pendingCount()).toBe(1);
    expect(await keysUnder(remote, LOG_PREFIX)).toEqual([]);
  });
});

async function keysUnder(remote: FolderRemote, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of remote.list(prefix)) out.push(o.key);
  return out;
}

describe('RemoteCatalog publishing in the background', () => {
  it('reports a failed background publish when it happens, and publishes the changes later', async () => {
    const remote = await fresh();
    const db = openStateDb(':memory:');
    dbs.push(db);
    const mirror = new RemoteMirror(db, remote.url);
    let reported!: (p: { path: string; message: string }) => void;
    const problem = new Promise<{ path: string; message: string }>((resolve) => (reported = resolve));
    const catalog = new RemoteCatalog(remote, mirror, db, 'alice@alice-m', 'alice-m', { onProblem: (p) => reported(p) });
    const put = remote.put.bind(remote);
    let refuse = true;
    remote.put = (key, body, o) => (refuse && key.startsWith(LOG_PREFIX) ? Promise.reject(new Error('bucket is read-only today')) : put(key, body, o));
    // Enough changes to start a background publish.
    for (let i = 0; i < 1000; i++) catalog.record({ op: 'put', key: `music/t${i}.mp3`, size: 1, md5: MD5(String(i)), at: Date.now() });
    const p = await problem;
    expect(p).toEqual({ path: '(catalog)', message: expect.stringMatching(/not updated on the remote yet.*bucket is read-only today/) });
    expect(catalog.pendingCount()).toBe(1000);
    refuse = false;
    await catalog.publish();
    expect(catalog.pendingCount()).toBe(0);
    expect(await keysUnder(remote, LOG_PREFIX)).toHaveLength(1);
  });
});
