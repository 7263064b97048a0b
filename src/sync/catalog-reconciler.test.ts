/**
 * A full listing reconciled with the mirror a page at a time: a listing
 * longer than several pages keeps the catalog's word for unchanged objects,
 * takes changed and unknown ones as listed, and drops the missing ones only
 * after the last page (a recent write of this machine survives a periodic
 * listing, not a `--full` one). Against the folder remote.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FolderRemote } from '../remote/folder/folder-remote.js';
import { openStateDb } from '../state/state-db.js';
import { RemoteMirror } from '../state/remote-mirror.js';
import { reconcile } from './catalog-reconciler.js';
import { LOG_WINDOW_MS } from './catalog-fold.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const N = 2300;
const key = (i: number) => `music/${String(i).padStart(5, '0')}.mp3`;

/** A folder remote holding `n` objects (written straight to its folder: quicker than n puts). */
async function remoteWith(n: number, body: (i: number) => string): Promise<FolderRemote> {
  const dir = await mkdtemp(join(tmpdir(), 'cs-reconcile-'));
  dirs.push(dir);
  await mkdir(join(dir, 'music'));
  for (let i = 0; i < n; i++) await writeFile(join(dir, key(i)), body(i));
  return new FolderRemote(dir);
}

describe('reconcile', () => {
  it.each([false, true])('applies a listing of several pages (full: %s)', async (full) => {
    const remote = await remoteWith(N, (i) => `x${i}`);
    const db = openStateDb(':memory:');
    try {
      const mirror = new RemoteMirror(db, remote.url);
      const now = Date.now();
      mirror.batch(() => {
        // Known and unchanged (no mtime to compare): the catalog's tags stay.
        for (let i = 0; i < 2000; i++) mirror.putNow({ key: key(i), size: `x${i}`.length, md5: 'c'.repeat(32), tags: { title: `T${i}` } });
        // Known, but the listing shows another size: taken as listed.
        for (let i = 2000; i < 2100; i++) mirror.putNow({ key: key(i), size: 999, tags: { title: 'old' } });
        mirror.putNow({ key: 'music/gone-long-ago.mp3', size: 1, writtenAt: now - LOG_WINDOW_MS * 2 });
        mirror.putNow({ key: 'music/gone-just-written.mp3', size: 1, writtenAt: now });
      });
      await reconcile(remote, mirror, { now, full });
      const rows = new Map([...mirror.inKeyOrder('music/')].map((o) => [o.key, o]));
      expect(rows.size).toBe(full ? N : N + 1);
      expect(rows.get(key(1999))?.tags).toEqual({ title: 'T1999' });
      expect(rows.get(key(0))?.md5).toBe('c'.repeat(32));
      expect(rows.get(key(2050))?.tags).toBeUndefined();
      expect(rows.get(key(2050))?.size).toBe('x2050'.length);
      expect(rows.get(key(N - 1))?.size).toBe(`x${N - 1}`.length);
      expect(rows.has('music/gone-long-ago.mp3')).toBe(false);
      expect(rows.has('music/gone-just-written.mp3')).toBe(!full);
      expect(mirror.state().listedAt).toBe(now);
    } finally {
      db.close();
    }
  });

  it('stopped half-way, keeps the rows and leaves the listing to do again', async () => {
    const remote = await remoteWith(1500, () => 'x');
    const db = openStateDb(':memory:');
    try {
      const mirror = new RemoteMirror(db, remote.url);
      mirror.put({ key: 'music/zz-not-listed.mp3', size: 1 });
      const stop = new AbortController();
      const listing = remote.list.bind(remote);
      // The listing stops after its first page has been applied.
      remote.list = async function* (prefix, o) {
        let n = 0;
        for await (const obj of listing(prefix, o)) {
          if (++n === 1200) stop.abort(new Error('stopped'));
          stop.signal.throwIfAborted();
          yield obj;
        }
      };
      await expect(reconcile(remote, mirror, { now: Date.now(), full: true, signal: stop.signal })).rejects.toThrow('stopped');
      const keys = [...mirror.inKeyOrder('music/')].map((o) => o.key);
      expect(keys).toContain('music/zz-not-listed.mp3');
      expect(keys.length).toBe(1001);
      expect(mirror.state().listedAt).toBeUndefined();
    } finally {
      db.close();
    }
  });
});
