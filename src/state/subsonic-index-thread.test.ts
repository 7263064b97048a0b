/**
 * A large refresh of the Subsonic index on the worker thread, over real state
 * files: it builds (and updates) exactly the index a refresh on this thread
 * does, leaves this thread's event loop free while it runs (reads then see
 * the committed index) and lets other writers in between its steps (what
 * they change meanwhile is noted and applied next), leaves the index not
 * built when stopped, and reports a busy database as an error.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RemoteMirror } from './remote-mirror.js';
import { joinStateDb, openStateDb, type Db } from './state-db.js';
import { SubsonicIndex, WORKER_DIRTY_MIN } from './subsonic-index.js';

// The compiled index (`npm test` builds first): its worker script exists there, next to it.
const compiled = (await import(new URL('../../dist/src/state/subsonic-index.js', import.meta.url).href)) as typeof import('./subsonic-index.js');

const REMOTE = 's3://b/dj';
const dirs: string[] = [];
const dbs: Db[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) if (db.open) db.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function state(): Db {
  const dir = mkdtempSync(join(tmpdir(), 'sub-index-thread-'));
  dirs.push(dir);
  const db = openStateDb(join(dir, 'state.db'));
  dbs.push(db);
  return db;
}

/** `songs` songs over a few hundred albums and artists, a cover image in some folders, a file that is no song. */
function fill(db: Db, songs: number, title = (i: number) => `Song ${i}`, from = 0): void {
  const mirror = new RemoteMirror(db, REMOTE);
  for (let i = from; i < from + songs; i++) {
    const artist = `Artist ${i % 97}`;
    const album = `Album ${i % 311}`;
    const folder = `music/${artist}/${album}`;
    mirror.put({
      key: `${folder}/${String(i).padStart(6, '0')}.mp3`,
      size: 1000 + i,
      md5: 'a'.repeat(32),
      writtenAt: 1_000_000 + i,
      tags: { title: title(i), artist, album, year: 1970 + (i % 50), track: i % 17, genre: `Genre ${i % 13}`, durationSec: 100 + (i % 200), ...(i % 5 === 0 ? { albumArtist: 'Various' } : {}) },
    });
    if (i % 7 === 0) mirror.put({ key: `${folder}/cover.jpg`, size: 10, writtenAt: 1 });
  }
  mirror.put({ key: 'music/readme.txt', size: 1, writtenAt: 1 });
  mirror.flush();
}

/** Everything the index answers, to compare two indexes. */
function readBack(ix: SubsonicIndex) {
  const everything = { query: '', artistCount: 1e6, artistOffset: 0, albumCount: 1e6, albumOffset: 0, songCount: 1e6, songOffset: 0 };
  const { lastChange: _, ...stats } = ix.stats();
  return { stats, ...ix.search(everything), genres: ix.genres(), byArtist: ix.albumList({ type: 'alphabeticalByArtist', size: 1e6, offset: 0 }) };
}

const isBuilt = (db: Db) => db.prepare('SELECT count(*) FROM sub_built WHERE remote = ? AND built_at > 0').pluck().get(REMOTE) === 1;

describe('a refresh on the worker thread', () => {
  it('builds and updates the same index as one on this thread', async () => {
    const here = state();
    const there = state();
    fill(here, 3000);
    fill(there, 3000);
    const hereIx = new SubsonicIndex(here, REMOTE);
    const thereIx = new compiled.SubsonicIndex(there, REMOTE);
    expect(thereIx.largeRefreshDue()).toBe(true);
    expect(hereIx.refresh()).toEqual({ changed: 3000 });
    expect(await thereIx.refreshAside()).toEqual({ changed: 3000, onWorker: true });
    const built = readBack(hereIx);
    expect(built.songs).toHaveLength(3000);
    expect(built.albums.length).toBeGreaterThan(300);
    expect(readBack(thereIx)).toEqual(built);

    // Many keys changed (a full listing): the update goes to the worker too.
    const retitle = (i: number) => `Renamed ${i}`;
    fill(here, WORKER_DIRTY_MIN + 100, retitle);
    fill(there, WORKER_DIRTY_MIN + 100, retitle);
    expect(thereIx.largeRefreshDue()).toBe(true);
    hereIx.refresh();
    expect(await thereIx.refreshAside()).toMatchObject({ onWorker: true });
    expect(readBack(thereIx)).toEqual(readBack(hereIx));
    // A few changed keys are not worth a worker.
    fill(there, 10, () => 'Few', 5000);
    expect(thereIx.largeRefreshDue()).toBe(false);
  });

  it('leaves the event loop free: this thread ticks and reads the committed (empty) index while it builds', { timeout: 120_000 }, async () => {
    const db = state();
    fill(db, 20_000);
    const ix = new compiled.SubsonicIndex(db, REMOTE);
    let ticksWhileScanning = 0;
    let emptyReads = 0;
    let progress = 0;
    const ticker = setInterval(() => {
      const s = ix.scanStatus();
      if (!s.scanning) return;
      ticksWhileScanning++;
      progress = Math.max(progress, s.count);
      // What a request reads meanwhile: the index as committed so far (the counts say none until the build ends).
      if (ix.stats().songs === 0 && ix.search({ query: '', artistCount: 1, artistOffset: 0, albumCount: 1, albumOffset: 0, songCount: 1, songOffset: 0 }).songs.length <= 1) emptyReads++;
    }, 1);
    try {
      expect(await ix.refreshAside()).toEqual({ changed: 20_000, onWorker: true });
    } finally {
      clearInterval(ticker);
    }
    // On this thread the build would have held the loop the whole time: no tick at all while it ran.
    expect(ticksWhileScanning).toBeGreaterThan(2);
    expect(emptyReads).toBeGreaterThan(0);
    expect(progress).toBeGreaterThan(0);
    expect(ix.scanStatus()).toEqual({ scanning: false, count: 20_000 });
  });

  it('lets this thread write between its steps, and what changed meanwhile is applied by the next refresh', { timeout: 120_000 }, async () => {
    const db = state();
    fill(db, 25_000);
    // A writer that waits little: a build in one transaction would hold it out for the whole build.
    db.pragma('busy_timeout = 3000');
    const ix = new compiled.SubsonicIndex(db, REMOTE);
    const mirror = new RemoteMirror(db, REMOTE);
    const build = ix.refreshAside();
    let writes = 0;
    let failed: unknown;
    const writer = setInterval(() => {
      if (!ix.scanStatus().scanning || ix.scanStatus().count === 0) return;
      try {
        // A song added to the mirror after the build has read past its key.
        mirror.put({ key: `music/Artist 1/Album 1/zz-added-${writes}.mp3`, size: 5, md5: 'b'.repeat(32), writtenAt: 5, tags: { title: `Added ${writes}`, artist: 'Artist 1', album: 'Album 1' } });
        mirror.flush();
        writes++;
      } catch (err) {
        failed ??= err;
      }
    }, 20);
    try {
      expect(await build).toEqual({ changed: 25_000, onWorker: true });
    } finally {
      clearInterval(writer);
    }
    expect(failed).toBeUndefined();
    expect(writes).toBeGreaterThan(0);
    expect(ix.refresh().changed).toBeGreaterThanOrEqual(1);
    const titles = ix.search({ query: 'added', artistCount: 0, artistOffset: 0, albumCount: 0, albumOffset: 0, songCount: 1000, songOffset: 0 }).songs.map((x) => x.title);
    expect(titles.sort()).toEqual(Array.from({ length: writes }, (_, i) => `Added ${i}`).sort());
  });

  it("pauses between runs of steps with the write lock free, so another connection's write goes through at once", () => {
    const db = state();
    fill(db, 10_000);
    const other = joinStateDb(db.name);
    dbs.push(other);
    other.pragma('busy_timeout = 0');
    let pauses = 0;
    const ix = new SubsonicIndex(db, REMOTE);
    ix.refresh({
      pause: () => {
        pauses++;
        // No wait at all: the lock must be free now.
        other.exec(`BEGIN IMMEDIATE; INSERT INTO sub_dirty (remote, key) VALUES ('${REMOTE}', 'music/x/y/pause-${pauses}.mp3'); COMMIT`);
      },
    });
    expect(pauses).toBeGreaterThan(0);
    expect(isBuilt(db)).toBe(true);
    // Noted during the build, kept for the next refresh.
    expect(db.prepare('SELECT count(*) FROM sub_dirty').pluck().get()).toBe(pauses);
  });

  it('on this thread (no worker), builds a step at a time with the event loop free between, and stops between two steps', async () => {
    const db = state();
    fill(db, 12_000);
    const cache = db.pragma('cache_size', { simple: true });
    const ix = new SubsonicIndex(db, REMOTE);
    let ticks = 0;
    const ticker = setInterval(() => {
      if (ix.scanStatus().scanning) ticks++;
    }, 1);
    try {
      const stop = new AbortController();
      const cut = ix.refreshAside(stop.signal, { worker: false });
      while (ix.scanStatus().count === 0) await new Promise((r) => setImmediate(r));
      stop.abort(new Error('closing'));
      await expect(cut).rejects.toThrow('closing');
      expect(isBuilt(db)).toBe(false);
      expect(db.pragma('cache_size', { simple: true })).toBe(cache);
      expect(await ix.refreshAside(undefined, { worker: false })).toEqual({ changed: 12_000, onWorker: false });
    } finally {
      clearInterval(ticker);
    }
    expect(isBuilt(db)).toBe(true);
    expect(ticks).toBeGreaterThan(2);
    expect(db.prepare('SELECT count(*) FROM sub_songs').pluck().get()).toBe(12_000);
  });

  it('one at a time: a second call while one runs gets its result, and this thread refreshes nothing meanwhile', async () => {
    const db = state();
    fill(db, 2000);
    const ix = new compiled.SubsonicIndex(db, REMOTE);
    const first = ix.refreshAside();
    const second = ix.refreshAside();
    // The worker holds the write lock: this thread's refresh must not wait on it (nor build a second time).
    expect(ix.refresh()).toEqual({ changed: 0 });
    expect(ix.largeRefreshDue()).toBe(false);
    expect(await first).toEqual({ changed: 2000, onWorker: true });
    expect(await second).toEqual({ changed: 2000, onWorker: true });
    expect(ix.refresh()).toEqual({ changed: 0 });
  });

  it('stopped mid-build: the index is left not built, the state writable, and the next build is whole', async () => {
    const db = state();
    fill(db, 10_000);
    const ix = new compiled.SubsonicIndex(db, REMOTE);
    const stop = new AbortController();
    const run = ix.refreshAside(stop.signal);
    // Stopped once it is under way (it has indexed songs).
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (ix.scanStatus().count > 0) {
          clearInterval(t);
          resolve();
        }
      }, 1);
    });
    stop.abort(new Error('closing'));
    await expect(run).rejects.toThrow('closing');
    // What it committed so far stays, marked unfinished: the next refresh builds again from the start.
    expect(isBuilt(db)).toBe(false);
    db.exec('BEGIN IMMEDIATE; ROLLBACK');
    expect(ix.largeRefreshDue()).toBe(true);
    expect(await ix.refreshAside()).toEqual({ changed: 10_000, onWorker: true });
    expect(isBuilt(db)).toBe(true);
    expect(db.prepare('SELECT count(*) FROM sub_songs').pluck().get()).toBe(10_000);
  });

  it('rejects with the database error when the state stays busy (another writer holds it)', { timeout: 60_000 }, async () => {
    const db = state();
    fill(db, 100);
    const ix = new compiled.SubsonicIndex(db, REMOTE);
    db.exec('BEGIN IMMEDIATE');
    try {
      await expect(ix.refreshAside()).rejects.toThrow(/locked|busy/i);
    } finally {
      db.exec('ROLLBACK');
    }
    expect(isBuilt(db)).toBe(false);
    expect(await ix.refreshAside()).toMatchObject({ changed: 100, onWorker: true });
  });

  it('runs on this thread for a database in memory', async () => {
    const db = openStateDb(':memory:');
    dbs.push(db);
    fill(db, 10);
    expect(await new compiled.SubsonicIndex(db, REMOTE).refreshAside()).toEqual({ changed: 10, onWorker: false });
  });
});
