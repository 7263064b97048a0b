/**
 * What this machine keeps of a remote's playlists (`playlists/<user>/<name>.m3u8`):
 * the mirror of those objects with what the catalog says of each (a table of
 * their own, so that the music planner, which reads `remote_objects`, never
 * sees one), and the playlist files a pull wrote into the library.
 */
import type Database from 'better-sqlite3';
import { cached, type Db } from './state-db.js';
import type { PlaylistMeta } from '../core/playlist-meta.js';
import { ListingSweep } from './listing-sweep.js';

/** A playlist object as the mirror knows it: the listing's view plus the catalog's. */
export interface PlaylistObject {
  key: string;
  size: number;
  etag?: string;
  mtime?: Date;
  md5?: string;
  playlist?: PlaylistMeta;
  /** Who wrote it (`user@machine`), when the catalog says. */
  writer?: string;
  writtenAt?: number;
  /** The catalog log object whose entry last set this row. */
  logKey?: string;
}

interface Row {
  key: string;
  size: number;
  etag: string | null;
  mtime_ms: number | null;
  md5: string | null;
  meta: string | null;
  writer: string | null;
  written_at: number | null;
  log_key: string | null;
}

const COLUMNS = 'key, size, etag, mtime_ms, md5, meta, writer, written_at, log_key';

function fromRow(r: Row): PlaylistObject {
  const o: PlaylistObject = { key: r.key, size: r.size };
  if (r.etag) o.etag = r.etag;
  if (r.mtime_ms !== null) o.mtime = new Date(r.mtime_ms);
  if (r.md5) o.md5 = r.md5;
  if (r.meta) o.playlist = JSON.parse(r.meta) as PlaylistMeta;
  if (r.writer) o.writer = r.writer;
  if (r.written_at !== null) o.writtenAt = r.written_at;
  if (r.log_key) o.logKey = r.log_key;
  return o;
}

export class PlaylistMirror {
  private readonly upsert: Database.Statement;
  private readonly del: Database.Statement;
  private readonly one: Database.Statement;
  private readonly every: Database.Statement;
  private readonly loggedUpTo: Database.Statement;
  private readonly stampOne: Database.Statement;
  private readonly touchOne: Database.Statement;

  constructor(
    private readonly db: Db,
    readonly remote: string,
  ) {
    this.upsert = db.prepare(
      `INSERT INTO remote_playlists (remote, ${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(remote, key) DO UPDATE SET size = excluded.size, etag = excluded.etag, mtime_ms = excluded.mtime_ms,
         md5 = excluded.md5, meta = excluded.meta, writer = excluded.writer, written_at = excluded.written_at, log_key = excluded.log_key`,
    );
    this.del = db.prepare('DELETE FROM remote_playlists WHERE remote = ? AND key = ?');
    this.one = db.prepare(`SELECT ${COLUMNS} FROM remote_playlists WHERE remote = ? AND key = ?`);
    this.every = db.prepare(`SELECT ${COLUMNS} FROM remote_playlists WHERE remote = ? ORDER BY key`);
    this.loggedUpTo = db.prepare(`SELECT ${COLUMNS} FROM remote_playlists WHERE remote = ? AND log_key IS NOT NULL AND log_key <= ? ORDER BY key`);
    this.stampOne = db.prepare('UPDATE remote_playlists SET log_key = ? WHERE remote = ? AND key = ? AND (log_key IS NULL OR log_key < ?)');
    this.touchOne = db.prepare('UPDATE remote_playlists SET etag = COALESCE(?, etag), mtime_ms = COALESCE(?, mtime_ms) WHERE remote = ? AND key = ?');
  }

  get(key: string): PlaylistObject | undefined {
    const r = this.one.get(this.remote, key) as Row | undefined;
    return r ? fromRow(r) : undefined;
  }

  /** Every mirrored playlist, by key. A remote holds few enough (thousands) to read whole. */
  all(): PlaylistObject[] {
    return (this.every.all(this.remote) as Row[]).map(fromRow);
  }

  /** The rows a catalog log up to `cover` (inclusive) set: what a snapshot covering `cover` holds. */
  logged(cover: string): PlaylistObject[] {
    return (this.loggedUpTo.all(this.remote, cover) as Row[]).map(fromRow);
  }

  /** Records what is known of a playlist object now (written at once: playlists are few). */
  put(o: PlaylistObject): void {
    this.upsert.run(
      this.remote,
      o.key,
      o.size,
      o.etag ?? null,
      o.mtime?.getTime() ?? null,
      o.md5 ?? null,
      o.playlist ? JSON.stringify(o.playlist) : null,
      o.writer ?? null,
      o.writtenAt ?? null,
      o.logKey ?? null,
    );
  }

  remove(key: string): void {
    this.del.run(this.remote, key);
  }

  /** Notes that this machine's own row at `key` was written to log `logKey` (see RemoteMirror.stamp). */
  stamp(key: string, logKey: string): void {
    this.stampOne.run(logKey, this.remote, key, logKey);
  }

  /** Sets what a full listing showed of a playlist it found unchanged, keeping what the catalog knows. */
  touch(key: string, etag: string | undefined, mtime: Date | undefined): void {
    this.touchOne.run(etag ?? null, mtime?.getTime() ?? null, this.remote, key);
  }

  /** Runs `fn` in one transaction. */
  batch<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** Starts comparing a full listing with the mirror, a page at a time (see listing-sweep.ts). */
  sweep(): ListingSweep {
    return new ListingSweep(this.db, 'remote_playlists', this.remote);
  }
}

/** A playlist file a pull wrote: its library path, the object it came from, and that object's version then. */
export interface PulledFile {
  file: string;
  key: string;
  version: string;
}

/** The playlist files a pull wrote into a library from one remote. */
export class PulledPlaylists {
  constructor(
    private readonly db: Db,
    readonly remote: string,
  ) {}

  /** Every file written, by library path. */
  all(): PulledFile[] {
    return cached(this.db, 'SELECT file, key, version FROM pulled_playlists WHERE remote = ? ORDER BY file').all(this.remote) as PulledFile[];
  }

  /** Notes that library file `file` holds playlist object `key` as it was at `version`. */
  note(f: PulledFile): void {
    cached(
      this.db,
      'INSERT INTO pulled_playlists (remote, file, key, version) VALUES (?, ?, ?, ?) ON CONFLICT(remote, file) DO UPDATE SET key = excluded.key, version = excluded.version',
    ).run(this.remote, f.file, f.key, f.version);
  }

  forget(file: string): void {
    cached(this.db, 'DELETE FROM pulled_playlists WHERE remote = ? AND file = ?').run(this.remote, file);
  }
}
