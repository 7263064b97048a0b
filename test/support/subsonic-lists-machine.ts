/**
 * A machine serving Subsonic over a real remote for the playlist and
 * annotation routes' tests: a state DB on a temporary file, a RemoteCatalog,
 * a ServeContext, and a small fake SubsonicIndex (the real one is another
 * helper's) that reads songs from the catalog's mirror as it is now, so a
 * star or a play count published through the catalog shows at once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startS3rver, type S3rver } from './s3rver.js';
import { S3Remote } from '../../src/remote/s3/s3-remote.js';
import { loadCodec } from '../../src/sync/catalog-codec.js';
import { openStateDb, type Db } from '../../src/state/state-db.js';
import { RemoteMirror } from '../../src/state/remote-mirror.js';
import { RemoteCatalog } from '../../src/sync/catalog.js';
import { MUSIC_PREFIX } from '../../src/sync/layout.js';
import { subsonicId } from '../../src/core/subsonic-ids.js';
import type { IndexedSong, SubsonicIndex } from '../../src/state/subsonic-index.js';
import type { Remote } from '../../src/remote/remote.js';
import type { Handler, RouteTable, ServeContext, SubsonicBody } from '../../src/subsonic/route-types.js';

/** The fake index: songs of the keys it was told, as the mirror says now; album and artist stars kept here. */
export class FakeIndex {
  readonly keys: string[] = [];
  readonly stars = new Map<string, number>();
  refreshes = 0;

  constructor(private readonly mirror: RemoteMirror) {}

  private songAt(key: string): IndexedSong | undefined {
    const o = this.mirror.get(key);
    if (!o || !this.keys.includes(key)) return undefined;
    const t = o.tags ?? {};
    const p = o.player;
    const artist = t.artist ?? 'Artist';
    const album = t.album ?? 'Album';
    return {
      id: subsonicId('song', key),
      key,
      title: t.title ?? key,
      album,
      albumId: subsonicId('album', artist.toLowerCase(), album.toLowerCase()),
      artist,
      artistId: subsonicId('artist', artist.toLowerCase()),
      albumArtist: artist,
      durationSec: 200,
      size: o.size,
      suffix: key.slice(key.lastIndexOf('.') + 1).toLowerCase(),
      created: o.writtenAt ?? 0,
      hasLyrics: false,
      ...(p?.playCount !== undefined ? { playCount: p.playCount } : {}),
      ...(p?.lastPlayed !== undefined ? { lastPlayed: p.lastPlayed } : {}),
      ...(p?.rating !== undefined ? { rating: p.rating } : {}),
      ...(p?.starred !== undefined ? { starred: p.starred } : {}),
    };
  }

  refresh(): { changed: number } {
    this.refreshes++;
    return { changed: 0 };
  }
  song(id: string): IndexedSong | undefined {
    const key = this.keys.find((k) => subsonicId('song', k) === id);
    return key === undefined ? undefined : this.songAt(key);
  }
  songs(ids: readonly string[]): IndexedSong[] {
    return ids.flatMap((id) => this.song(id) ?? []);
  }
  songsByKeys(keys: readonly string[]): Array<IndexedSong | undefined> {
    return keys.map((k) => this.songAt(k));
  }
  album(id: string): { id: string } | undefined {
    return this.keys.some((k) => this.songAt(k)?.albumId === id) ? { id } : undefined;
  }
  artist(id: string): { id: string } | undefined {
    return this.keys.some((k) => this.songAt(k)?.artistId === id) ? { id } : undefined;
  }
  setStar(id: string, at: number | undefined): boolean {
    if (!this.album(id) && !this.artist(id)) return false;
    if (at === undefined) this.stars.delete(id);
    else this.stars.set(id, at);
    return true;
  }
}

export interface ServeMachine {
  db: Db;
  mirror: RemoteMirror;
  catalog: RemoteCatalog;
  index: FakeIndex;
  serve: ServeContext;
  /** How many times the routes asked the context to refresh. */
  refreshes(): number;
  /** Calls route `method` of `routes` as the server would, with these parameters (repeatable: arrays). */
  call(routes: RouteTable, method: string, params?: Record<string, string | string[]>): Promise<SubsonicBody>;
  /** Uploads `data` to music/<path> as a run does (the put, its catalog entry, a publish), and indexes it. */
  upload(path: string, tags: { title: string; artist?: string; album?: string }): Promise<IndexedSong>;
  close(): void;
}

/** serveMachine is machine `name` serving `remote` as crew user `user` (default: `name`). */
export function serveMachine(remote: Remote, name: string, user = name): ServeMachine {
  const dir = mkdtempSync(join(tmpdir(), 'cratesync-serve-'));
  const db = openStateDb(join(dir, 'state.db'));
  const mirror = new RemoteMirror(db, remote.url);
  const catalog = new RemoteCatalog(remote, mirror, db, `${name}@${name}-m`, `${name}-m`);
  const index = new FakeIndex(mirror);
  let refreshes = 0;
  const serve: ServeContext = {
    db,
    remote,
    catalog,
    index: index as unknown as SubsonicIndex,
    crewUser: user,
    coversDir: join(dir, 'covers'),
    log: pino({ level: 'silent' }),
    // As the server's does: new logs of other machines into the mirror (the index is the fake's, always current).
    refresh: async () => {
      refreshes++;
      await catalog.refresh({ full: false, problems: [] });
    },
  };
  return {
    db,
    mirror,
    catalog,
    index,
    serve,
    refreshes: () => refreshes,
    async call(routes, method, params = {}) {
      const handler: Handler | undefined = routes[method];
      if (!handler) throw new Error(`no route ${method}`);
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(params)) for (const one of Array.isArray(v) ? v : [v]) q.append(k, one);
      const r = await handler({
        method,
        params: { get: (n) => q.get(n) ?? undefined, all: (n) => q.getAll(n) },
        user: { name: 'phone' },
        serve,
        raw: new Request(`http://127.0.0.1/rest/${method}?${q}`),
      });
      if (r instanceof Response) throw new Error(`${method} answered a binary Response`);
      return r;
    },
    async upload(path, tags) {
      const key = `${MUSIC_PREFIX}${path}`;
      const r = await remote.put(key, { data: Buffer.from(`audio of ${path}`) });
      catalog.record({ op: 'put', key, size: r.size, md5: r.md5, ...(r.etag ? { etag: r.etag } : {}), tags, at: Date.now() });
      await catalog.publish();
      index.keys.push(key);
      return index.song(subsonicId('song', key))!;
    },
    close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * serveMachinesOnS3rver sets up, for the test file that calls it at its top
 * level, an s3rver started before its tests and stopped after, S3 credentials
 * for it, and machines closed after each test: `bucket()` makes a fresh
 * bucket (names from `prefix`) and `machine(remote, name)` a machine on it.
 */
export function serveMachinesOnS3rver(prefix: string): { bucket(): Promise<S3Remote>; machine(remote: S3Remote, name: string): ServeMachine } {
  process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  let server: S3rver;
  let buckets = 0;
  const machines: ServeMachine[] = [];
  beforeAll(async () => {
    await loadCodec();
    server = await startS3rver();
  });
  afterAll(() => server.stop());
  afterEach(() => {
    for (const m of machines.splice(0)) m.close();
  });
  return {
    async bucket() {
      const name = `${prefix}-${++buckets}`;
      await server.createBucket(name);
      return new S3Remote({ bucket: name, prefix: 'dj/', endpoint: server.endpoint });
    },
    machine(remote, name) {
      const m = serveMachine(remote, name);
      machines.push(m);
      return m;
    },
  };
}
