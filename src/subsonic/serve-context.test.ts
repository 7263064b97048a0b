/**
 * The serve context over a real (folder) remote and real state databases:
 * the catalog is read at most once per interval, concurrent callers share one
 * read, problems go to the log and never to the caller, and a gate may put
 * the read off. A large index update runs on the worker (the compiled
 * index's) through the gate, one at a time, while requests are answered from
 * the committed index; close ends it without committing.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { FolderRemote } from '../remote/folder/folder-remote.js';
import { joinStateDb, openStateDb, type Db } from '../state/state-db.js';
import { RemoteMirror } from '../state/remote-mirror.js';
import { RemoteCatalog } from '../sync/catalog.js';
import { loadCodec } from '../sync/catalog-codec.js';
import type { SubsonicIndex } from '../state/subsonic-index.js';
import { openServeContext, type CatalogGate, type ServeContextOptions } from './serve-context.js';

// The compiled index (`npm test` builds first): its worker script exists there.
const compiled = (await import(new URL('../../dist/src/state/subsonic-index.js', import.meta.url).href)) as typeof import('../state/subsonic-index.js');

beforeAll(loadCodec);

const dirs: string[] = [];
const dbs: Db[] = [];
afterEach(async () => {
  for (const db of dbs.splice(0)) db.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'cs-serve-ctx-'));
  dirs.push(d);
  return d;
}

function machine(remote: FolderRemote, name: string) {
  const db = openStateDb(':memory:');
  dbs.push(db);
  const mirror = new RemoteMirror(db, remote.url);
  return { db, mirror, catalog: new RemoteCatalog(remote, mirror, db, `${name}@${name}-m`, `${name}-m`) };
}

/** A log that keeps its lines, to read what was said. */
function memoryLog() {
  const lines: Array<{ level: number; msg: string }> = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as { level: number; msg: string }) });
  return { log, said: () => lines.map((l) => l.msg) };
}

/** An index that counts its refreshes (the real one is the index helper's). */
function countingIndex() {
  const ix = { refreshes: 0, refresh: () => (ix.refreshes++, { changed: 0 }), largeRefreshDue: () => false };
  return ix;
}

async function setUp(more: Partial<ServeContextOptions> = {}) {
  const remote = new FolderRemote(await tmp());
  const writer = machine(remote, 'ann');
  const server = machine(remote, 'srv');
  const { log, said } = memoryLog();
  const index = countingIndex();
  let clock = 1_000_000;
  const opts: ServeContextOptions = {
    db: server.db,
    remote,
    catalog: server.catalog,
    crewUser: 'srv',
    coversDir: join(await tmp(), 'covers'),
    log,
    index: index as unknown as SubsonicIndex,
    intervalMs: 10_000,
    now: () => clock,
    ...more,
  };
  const put = async (key: string) => {
    writer.catalog.record({ op: 'put', key, size: 1, md5: '0'.repeat(32), at: Date.now() });
    await writer.catalog.publish();
  };
  return { remote, writer, server, said, index, opts, put, advance: (ms: number) => (clock += ms) };
}

describe('openServeContext', () => {
  it('reads the catalog once at open and builds the index; makes the covers folder', async () => {
    const t = await setUp();
    await t.put('music/a.mp3');
    const serve = await openServeContext(t.opts);
    expect(t.server.mirror.get('music/a.mp3')).toBeDefined();
    expect(t.index.refreshes).toBe(1);
    expect((await stat(t.opts.coversDir)).isDirectory()).toBe(true);
    expect(serve.crewUser).toBe('srv');
    expect(serve.library).toBeUndefined();
    await serve.close();
  });

  it('reads the catalog again only once the interval is over, and then once for every caller at the time', async () => {
    const t = await setUp();
    const serve = await openServeContext(t.opts);
    const reads = vi.spyOn(t.server.catalog, 'refresh');
    await t.put('music/b.mp3');
    await serve.refresh();
    expect(reads).not.toHaveBeenCalled();
    expect(t.server.mirror.get('music/b.mp3')).toBeUndefined();
    // The index still learns what this server wrote itself.
    expect(t.index.refreshes).toBe(2);
    t.advance(10_000);
    await Promise.all([serve.refresh(), serve.refresh(), serve.refresh()]);
    expect(reads).toHaveBeenCalledTimes(1);
    expect(reads.mock.calls[0]?.[0]).toMatchObject({ full: false, readOnly: true });
    expect(t.server.mirror.get('music/b.mp3')).toBeDefined();
    expect(t.index.refreshes).toBe(3);
    await serve.close();
  });

  it('says a catalog that cannot be read in the log, and answers the caller as if all went well', async () => {
    const t = await setUp();
    const serve = await openServeContext(t.opts);
    vi.spyOn(t.server.catalog, 'refresh').mockRejectedValueOnce(new Error('the bucket went away'));
    t.advance(10_000);
    await expect(serve.refresh()).resolves.toBeUndefined();
    expect(t.said()).toContain('the remote catalog could not be read: the bucket went away');
    expect(t.index.refreshes).toBe(2);
    await serve.close();
  });

  it('says an index that cannot be updated in the log too', async () => {
    const t = await setUp({ index: { refresh: () => { throw new Error('no such table'); }, largeRefreshDue: () => false } as unknown as SubsonicIndex });
    const serve = await openServeContext(t.opts);
    expect(t.said()).toContain('subsonic index not updated: no such table');
    await serve.close();
  });

  it('lets a gate put the read off (a run under way reads the catalog itself), and reindex follows the run', async () => {
    let busy = true;
    const gated: string[] = [];
    const t = await setUp({
      gate: (fn) => {
        gated.push(busy ? 'skipped' : 'ran');
        return busy ? undefined : fn();
      },
    });
    await t.put('music/c.mp3');
    const serve = await openServeContext(t.opts);
    expect(gated).toEqual(['skipped']);
    expect(t.server.mirror.get('music/c.mp3')).toBeUndefined();
    serve.reindex();
    expect(t.index.refreshes).toBe(2);
    busy = false;
    t.advance(10_000);
    await serve.refresh();
    expect(gated).toEqual(['skipped', 'ran']);
    expect(t.server.mirror.get('music/c.mp3')).toBeDefined();
    await serve.close();
  });

  it('after close, reads nothing more', async () => {
    const t = await setUp();
    const serve = await openServeContext(t.opts);
    await serve.close();
    const reads = vi.spyOn(t.server.catalog, 'refresh');
    t.advance(10_000);
    await serve.refresh();
    expect(reads).not.toHaveBeenCalled();
    expect(t.index.refreshes).toBe(1);
  });
});

describe('openServeContext with a large index update', () => {
  /** A server over a state file whose mirror has `songs` songs, with the compiled (worker) index. */
  async function onFile(songs: number) {
    const remote = new FolderRemote(await tmp());
    const db = openStateDb(join(await tmp(), 'state.db'));
    dbs.push(db);
    const mirror = new RemoteMirror(db, remote.url);
    for (let i = 0; i < songs; i++) {
      mirror.put({ key: `music/A${i % 50}/B${i % 300}/${i}.mp3`, size: 1, md5: '0'.repeat(32), writtenAt: 1, tags: { title: `T${i}`, artist: `A${i % 50}`, album: `B${i % 300}` } });
    }
    mirror.flush();
    const catalog = new RemoteCatalog(remote, mirror, db, 'srv@srv-m', 'srv-m');
    const { log, said } = memoryLog();
    const index = new compiled.SubsonicIndex(db, remote.url);
    const opts: ServeContextOptions = { db, remote, catalog, crewUser: 'srv', coversDir: join(await tmp(), 'covers'), log, index, intervalMs: 10_000 };
    return { db, catalog, index, said, opts, built: () => db.prepare('SELECT count(*) FROM sub_built WHERE built_at > 0').pluck().get() === 1 };
  }

  /** A gate that puts the catalog read off (this mirror is the test's) and holds the rest until released. */
  function holdingGate() {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const calls: number[] = [];
    const gate: CatalogGate = (fn) => {
      calls.push(calls.length);
      return calls.length === 1 ? undefined : held.then(fn);
    };
    return { gate, release, calls };
  }

  const turn = () => new Promise<void>((r) => setImmediate(r));
  async function until(ok: () => boolean): Promise<void> {
    while (!ok()) await turn();
  }

  it('in the background: opens before the build, answers from the committed index meanwhile, and builds once on the worker', { timeout: 60_000 }, async () => {
    const t = await onFile(3000);
    const g = holdingGate();
    let clock = 1_000_000;
    const serve = await openServeContext({ ...t.opts, gate: g.gate, background: true, now: () => clock });
    // Open while the build waits at the gate: nothing indexed yet, nothing said to be scanning.
    expect(t.index.stats().songs).toBe(0);
    expect(t.index.scanStatus()).toEqual({ scanning: false, count: 0 });
    let done = false;
    const build = serve.reindex().then(() => (done = true));
    g.release();
    await until(() => t.index.scanStatus().scanning);
    // A request meanwhile: no catalog read (its writes would wait on the worker), no wait for the build.
    const reads = vi.spyOn(t.catalog, 'refresh');
    clock += 60_000;
    await serve.refresh();
    expect(done).toBe(false);
    expect(reads).not.toHaveBeenCalled();
    expect(t.index.stats().songs).toBe(0);
    // Another reindex waits for the same build: none starts beside it.
    const again = serve.reindex();
    await Promise.all([build, again]);
    expect(g.calls).toHaveLength(2);
    expect(t.index.stats().songs).toBe(3000);
    expect(t.index.scanStatus()).toEqual({ scanning: false, count: 3000 });
    expect(t.said().filter((m) => m.startsWith('subsonic index not updated'))).toEqual([]);
    await serve.close();
  });

  it('without background, opens once the build is done (the stand-alone serve)', { timeout: 60_000 }, async () => {
    const t = await onFile(2500);
    let calls = 0;
    const serve = await openServeContext({ ...t.opts, gate: (fn) => (++calls === 1 ? undefined : fn()) });
    expect(t.index.stats().songs).toBe(2500);
    expect(calls).toBe(2);
    await serve.close();
  });

  it('close during the build ends it: the index not built, the state writable, the next open builds whole', { timeout: 60_000 }, async () => {
    const t = await onFile(8000);
    const g = holdingGate();
    const serve = await openServeContext({ ...t.opts, gate: g.gate, background: true });
    g.release();
    await until(() => t.index.scanStatus().count > 0);
    await serve.close();
    expect(t.index.scanStatus().scanning).toBe(false);
    expect(t.built()).toBe(false);
    t.db.exec('BEGIN IMMEDIATE; ROLLBACK');
    let calls = 0;
    const again = await openServeContext({ ...t.opts, gate: (fn) => (++calls === 1 ? undefined : fn()) });
    expect(t.built()).toBe(true);
    expect(t.index.stats().songs).toBe(8000);
    await again.close();
  });

  it('a stop signal (Ctrl-C) ends the first build the open waits for, leaving the index not built', { timeout: 60_000 }, async () => {
    const t = await onFile(8000);
    const interrupt = new AbortController();
    let calls = 0;
    const opening = openServeContext({ ...t.opts, gate: (fn) => (++calls === 1 ? undefined : fn()), signal: interrupt.signal });
    await until(() => t.index.scanStatus().count > 0);
    interrupt.abort();
    const serve = await opening;
    expect(t.built()).toBe(false);
    expect(t.said().filter((m) => m.startsWith('subsonic index not updated'))).toEqual([]);
    await serve.close();
  });

  it('says a build that fails (the state busy) in the log, and never throws', { timeout: 60_000 }, async () => {
    const t = await onFile(100);
    let calls = 0;
    // Another writer (another process) holds the state's write lock all along the build.
    const other = joinStateDb(t.db.name);
    other.exec('BEGIN IMMEDIATE');
    t.db.pragma('busy_timeout = 200');
    let serve;
    try {
      serve = await openServeContext({ ...t.opts, gate: (fn) => (++calls === 1 ? undefined : fn()) });
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect(t.said().some((m) => /^subsonic index not updated: .*(locked|busy)/i.test(m))).toBe(true);
    expect(t.built()).toBe(false);
    await serve.reindex();
    expect(t.index.stats().songs).toBe(100);
    await serve.close();
  });
});
