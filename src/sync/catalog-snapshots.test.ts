/**
 * Catalog snapshots and compaction on a real (folder) remote: a writer that
 * has read many logs writes a snapshot on its own; a machine joining reads
 * it and only the logs after it; a forged snapshot is passed over;
 * `catalog compact` removes logs only once a snapshot holds them, and every
 * machine, fresh or behind, still sees every object the logs named.
 */
import { beforeAll, afterEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Problem } from '../core/problem.js';
import { FolderRemote } from '../remote/folder/folder-remote.js';
import { openStateDb, type Db } from '../state/state-db.js';
import { RemoteMirror } from '../state/remote-mirror.js';
import { RemoteCatalog } from './catalog.js';
import { decodeSnapshot, encodeLog, encodeSnapshot, loadCodec, LOG_PREFIX, logKey, SNAP_PREFIX, snapshotKey, type CatalogEntry } from './catalog-codec.js';
import { LOG_WINDOW_MS } from './catalog-fold.js';
import { SNAPSHOT_EVERY_LOGS, writeSnapshot } from './catalog-snapshots.js';
import { CatalogState } from '../state/catalog-state.js';
import { PlaylistMirror } from '../state/remote-playlists.js';
import { compactCatalog } from './catalog-compact.js';
import { foldMusic } from './remote-listing.js';

// Decoding catalog objects needs the validators loaded (see loadCodec).
beforeAll(loadCodec);

const HOUR = 3_600_000;
const dirs: string[] = [];
const dbs: Db[] = [];
afterEach(async () => {
  for (const db of dbs.splice(0)) db.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** A folder remote that counts the catalog objects read from it. */
async function counted() {
  const dir = await mkdtemp(join(tmpdir(), 'cs-snap-'));
  dirs.push(dir);
  const remote = new FolderRemote(dir);
  const reads = { logs: 0, snapshots: 0 };
  const read = remote.read.bind(remote);
  remote.read = (key: string) => {
    if (key.startsWith(LOG_PREFIX)) reads.logs++;
    if (key.startsWith(SNAP_PREFIX)) reads.snapshots++;
    return read(key);
  };
  return { remote, reads };
}

function machine(remote: FolderRemote, name: string) {
  const db = openStateDb(':memory:');
  dbs.push(db);
  const mirror = new RemoteMirror(db, remote.url);
  const problems: Problem[] = [];
  const catalog = new RemoteCatalog(remote, mirror, db, `${name}@${name}-m`, `${name}-m`, { onProblem: (p) => problems.push(p) });
  return { db, mirror, catalog, problems };
}

async function view(m: ReturnType<typeof machine>) {
  const problems: Problem[] = [];
  const r = await m.catalog.refresh({ full: false, problems });
  return { ...r, problems, objects: foldMusic(m.mirror.lean(), problems) };
}

async function keys(remote: FolderRemote, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of remote.list(prefix)) out.push(o.key);
  return out.sort();
}

/**
 * history writes `n` logs an hour apart, the last `endsAgo` ms ago (an hour
 * by default), as `n` runs of
 * other machines would: log i stores music/t<i>.mp3 (a real object) with an
 * audio hash only the catalog knows, and every tenth log also deletes the
 * object of the log before it. Returns the keys that should stand.
 */
async function history(remote: FolderRemote, n: number, from = 0, endsAgo = HOUR): Promise<Set<string>> {
  const standing = new Set<string>();
  const start = Date.now() - endsAgo - (n - 1) * HOUR;
  for (let i = from; i < from + n; i++) {
    const at = start + (i - from) * HOUR;
    const key = `music/t${i}.mp3`;
    const o = await remote.put(key, { data: Buffer.from(`track ${i}`) });
    const entries: CatalogEntry[] = [{ op: 'put', key, size: o.size, md5: o.md5, audioHash: audio(key), at }];
    standing.add(key);
    if (i % 10 === 9) {
      const gone = `music/t${i - 1}.mp3`;
      await remote.delete(gone);
      entries.push({ op: 'del', key: gone, at });
      standing.delete(gone);
    }
    await remote.put(logKey(at, `m${i % 7}`), { data: encodeLog({ v: 1, writer: `u@m${i % 7}`, entries }) });
  }
  return standing;
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const audio = (key: string) => createHash('sha256').update(key).digest('hex');
const paths = (keys: Iterable<string>) => [...keys].map((k) => k.slice('music/'.length)).sort();

describe('catalog snapshots', () => {
  it('are written by a writer that has read many logs, and spare a joining machine the logs', async () => {
    const { remote, reads } = await counted();
    const standing = await history(remote, SNAPSHOT_EVERY_LOGS + 50);
    const alice = machine(remote, 'alice');
    await view(alice);
    await alice.catalog.publish();
    const snaps = await keys(remote, SNAP_PREFIX);
    expect(snaps).toHaveLength(1);
    expect(alice.problems).toEqual([]);

    // Bob has read as many logs, but sees Alice's snapshot before writing one.
    const bob = machine(remote, 'bob');
    await view(bob);
    await bob.catalog.publish();
    expect(await keys(remote, SNAP_PREFIX)).toEqual(snaps);

    reads.logs = reads.snapshots = 0;
    const carol = machine(remote, 'carol');
    const v = await view(carol);
    expect(v.snapshot).toBe(snaps[0]);
    expect(reads).toEqual({ logs: 0, snapshots: 1 });
    expect([...v.objects.keys()].sort()).toEqual(paths(standing));
    expect(v.objects.get('t5.mp3')?.audioHash).toBe(audio('music/t5.mp3'));
    expect(carol.mirror.get('music/t5.mp3')?.writer).toBe('u@m5');

    // What comes after the snapshot is read from the logs as usual.
    await remote.put(logKey(Date.now(), 'dave'), { data: encodeLog({ v: 1, writer: 'd@d', entries: [{ op: 'del', key: 'music/t5.mp3', at: Date.now() }] }) });
    const next = await view(carol);
    expect(next.logsRead).toBe(1);
    expect(next.objects.has('t5.mp3')).toBe(false);
  });

  it('passes over a forged snapshot, reporting it, for the next newest', async () => {
    const { remote } = await folder();
    const standing = await history(remote, SNAPSHOT_EVERY_LOGS);
    const alice = machine(remote, 'alice');
    await view(alice);
    await alice.catalog.publish();
    const [good] = await keys(remote, SNAP_PREFIX);
    // A newer "snapshot" that would make every object vanish, and one that is not gzip.
    const covers = logKey(Date.now() - 1000, 'mallory');
    const forged = snapshotKey(covers, 'mallory');
    await remote.put(forged, { data: encodeSnapshot({ v: 1, kind: 'snapshot', writer: 'm@m', covers: logKey(Date.now() - 5000, 'x'), logs: [], entries: [] }) });
    await remote.put(snapshotKey(logKey(Date.now() - 500, 'junk'), 'junk'), { data: Buffer.from('junk') });

    const carol = machine(remote, 'carol');
    const v = await view(carol);
    expect(v.snapshot).toBe(good);
    expect(v.problems.map((p) => p.message)).toEqual([expect.stringMatching(/unreadable/), expect.stringMatching(/does not match the log it says it covers/)]);
    expect([...v.objects.keys()].sort()).toEqual(paths(standing));
  });
});

describe('writeSnapshot', () => {
  it('writes every row a log set, page by page, and nothing else', async () => {
    const { remote } = await counted();
    const m = machine(remote, 'alice');
    const log = logKey(Date.now() - HOUR, 'x');
    const later = logKey(Date.now(), 'x');
    m.mirror.batch(() => {
      for (let i = 0; i < 4500; i++) m.mirror.putNow({ key: `music/p${String(i).padStart(5, '0')}.mp3`, size: i, md5: md5(String(i)), writer: 'w@x', writtenAt: 1, logKey: log });
      m.mirror.putNow({ key: 'music/listed-only.mp3', size: 1 }); // a listing's, not the catalog's
      m.mirror.putNow({ key: 'music/later.mp3', size: 1, writer: 'w@x', writtenAt: 2, logKey: later }); // after what it covers
    });
    m.mirror.setState({ logCursor: log });
    const written = await writeSnapshot(remote, m.mirror, new PlaylistMirror(m.db, remote.url), new CatalogState(m.db, remote.url), { writer: 'alice@a', machine: 'a' });
    expect(written?.objects).toBe(4500);
    const doc = decodeSnapshot(await remote.read(written!.key), written!.key);
    expect(doc.covers).toBe(log);
    expect(doc.entries.map((e) => e.key)).toEqual(Array.from({ length: 4500 }, (_, i) => `music/p${String(i).padStart(5, '0')}.mp3`));
    expect(doc.entries[7]).toEqual({ key: 'music/p00007.mp3', size: 7, md5: md5('7'), at: 1, writer: 'w@x', log });
  });
});

describe('catalog compact', () => {
  it('removes only logs a snapshot holds, and every machine still sees every object', async () => {
    const { remote, reads } = await counted();
    let standing = await history(remote, 120, 0, 200 * HOUR);
    // Dave read the first 120 runs' logs, then was away while 120 more ran.
    const dave = machine(remote, 'dave');
    await view(dave);
    const more = await history(remote, 120, 120);
    standing = new Set([...standing, ...more]);
    // One log lands recently: within the window, it must stay.
    const recent = await remote.put('music/recent.mp3', { data: Buffer.from('recent') });
    await remote.put(logKey(Date.now(), 'eve'), {
      data: encodeLog({ v: 1, writer: 'e@e', entries: [{ op: 'put', key: 'music/recent.mp3', size: recent.size, md5: recent.md5, at: Date.now() }] }),
    });
    standing.add('music/recent.mp3');
    const logsBefore = await keys(remote, LOG_PREFIX);

    const scratch = openStateDb(':memory:');
    dbs.push(scratch);
    const problems: Problem[] = [];
    const r = await compactCatalog(remote, scratch, { writer: 'admin@adm', machine: 'adm', problems });
    expect(problems).toEqual([]);
    expect(r.wrote).toBe(true);
    expect(r.objects).toBe(standing.size);
    const logsAfter = await keys(remote, LOG_PREFIX);
    expect(r.logsRemoved.length).toBeGreaterThan(200);
    expect(logsAfter).toEqual(logsBefore.filter((k) => !r.logsRemoved.includes(k)));
    expect(logsAfter.length).toBe(r.logsKept);
    // What stays: the logs within the window before the one the snapshot covers.
    for (const k of logsAfter) expect(k >= `${LOG_PREFIX}${new Date(Date.now() - 2 * LOG_WINDOW_MS).toISOString().replace(/[-:.]/g, '')}`).toBe(true);

    reads.logs = reads.snapshots = 0;
    const fresh = machine(remote, 'fresh');
    const v = await view(fresh);
    expect([...v.objects.keys()].sort()).toEqual(paths(standing));
    expect(v.objects.get('t200.mp3')?.audioHash).toBe(audio('music/t200.mp3'));
    expect(reads.snapshots).toBe(1);

    // Dave's last log is gone: he reads the snapshot instead of missing what the removed logs held.
    const d = await view(dave);
    expect(d.snapshot).toBe(r.snapshot);
    expect([...d.objects.keys()].sort()).toEqual(paths(standing));
    expect(d.objects.get('t200.mp3')?.audioHash).toBe(audio('music/t200.mp3'));
  });

  it('keeps the newest two snapshots and says what it removed', async () => {
    const { remote } = await counted();
    const scratch = () => {
      const db = openStateDb(':memory:');
      dbs.push(db);
      return db;
    };
    const made: string[] = [];
    for (let round = 0; round < 3; round++) {
      await history(remote, 5, round * 5, (3 - round) * 10 * HOUR);
      const r = await compactCatalog(remote, scratch(), { writer: 'a@adm', machine: 'adm', problems: [] });
      made.push(r.snapshot!);
      if (round === 2) expect(r.snapshotsRemoved).toEqual([made[0]]);
    }
    expect(await keys(remote, SNAP_PREFIX)).toEqual(made.slice(1).sort());
    // Nothing new: no snapshot written, nothing more removed.
    const again = await compactCatalog(remote, scratch(), { writer: 'a@adm', machine: 'adm', problems: [] });
    expect(again).toMatchObject({ wrote: false, snapshot: made[2], logsRemoved: [], snapshotsRemoved: [] });
  });
});

async function folder() {
  return counted();
}
