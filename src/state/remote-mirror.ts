/**
 * The remote mirror: a local copy of what a remote's `music/` holds, with what
 * the remote catalog knows of each object (hashes, tags, writer). It is
 * rebuilt by every full listing (keeping the catalog's knowledge of objects
 * the listing shows unchanged), kept current with this machine's own writes,
 * and with other writers' changes read from the catalog log (see
 * sync/catalog.ts). A run trusts it instead of listing the bucket.
 */
import type Database from 'better-sqlite3';
import { cached, type Db } from './state-db.js';
import type { RemoteObject } from '../core/remote-object.js';
import type { PlayerMeta, Tags } from '../core/tags.js';
import { Batcher } from './batcher.js';
import { ListingSweep } from './listing-sweep.js';

export interface MirrorState {
  /** When the last full listing rebuilt it (ms since the epoch); absent: never, list first. */
  listedAt?: number;
  /** Greatest catalog log key folded in. */
  logCursor?: string;
  /** The last run ended with a sync record for every identical pair (see sync/transfer.ts). */
  recordsSettled?: boolean;
}

/** An object as the mirror knows it: the listing's view plus the catalog's. */
export interface MirrorObject extends RemoteObject {
  /** Content MD5, from the catalog or this machine's own write. */
  md5?: string;
  audioHash?: string;
  tags?: Tags;
  /** What a media player knows of it, when the catalog says. */
  player?: PlayerMeta;
  /** Who wrote it (`user@machine`), when the catalog says. */
  writer?: string;
  /** When it was written (ms), when the catalog says. */
  writtenAt?: number;
  /** The catalog log object whose entry last set this row. */
  logKey?: string;
}

export interface MirrorRow {
  key: string;
  size: number;
  etag: string | null;
  mtime_ms: number | null;
  md5: string | null;
  audio_hash: string | null;
  tags: string | null;
  writer: string | null;
  written_at: number | null;
  log_key: string | null;
  player: string | null;
}

/** mirrorObject makes an object of a `remote_objects` row (see LEAN_COLUMNS for the lean form). */
export function mirrorObject(r: MirrorRow): MirrorObject {
  const o: MirrorObject = { key: r.key, size: r.size };
  if (r.etag) o.etag = r.etag;
  if (r.mtime_ms !== null) o.mtime = new Date(r.mtime_ms);
  if (r.md5) o.md5 = r.md5;
  if (r.audio_hash) o.audioHash = r.audio_hash;
  if (r.tags) o.tags = JSON.parse(r.tags) as Tags;
  if (r.writer) o.writer = r.writer;
  if (r.written_at !== null) o.writtenAt = r.written_at;
  if (r.log_key) o.logKey = r.log_key;
  if (r.player) o.player = JSON.parse(r.player) as PlayerMeta;
  return o;
}

type Write = { put: MirrorObject } | { remove: string };

const COLUMNS = 'key, size, etag, mtime_ms, md5, audio_hash, tags, writer, written_at, log_key, player';

/**
 * What planning reads of an object: no tags, no log bookkeeping. The mtime
 * matters only where there is no ETag to tell versions apart (folders).
 */
export const LEAN_COLUMNS =
  'key, size, etag, CASE WHEN etag IS NULL THEN mtime_ms END AS mtime_ms, md5, audio_hash, NULL AS tags, NULL AS writer, NULL AS written_at, NULL AS log_key, NULL AS player';

/** Keys per statement of getMany (a JSON array bound as one parameter). */
const MANY = 5000;

export class RemoteMirror {
  private readonly upsert: Database.Statement;
  private readonly del: Database.Statement;
  private readonly one: Database.Statement;
  private readonly leanByKey: Database.Statement;
  private readonly stampSome: Database.Statement;
  private readonly setPlayerOne: Database.Statement;
  private readonly some: Database.Statement;
  private readonly loggedUpTo: Database.Statement;
  private readonly loggedAfter: Database.Statement;
  private readonly writes = new Batcher<Write>((batch) => this.commit(batch));

  constructor(
    private readonly db: Db,
    readonly remote: string,
  ) {
    this.upsert = db.prepare(
      // A put that says nothing of a player (a machine without one re-uploaded
      // the file) keeps what was known, as long as the content is the same.
      `INSERT INTO remote_objects (remote, ${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(remote, key) DO UPDATE SET size = excluded.size, etag = excluded.etag, mtime_ms = excluded.mtime_ms,
         md5 = excluded.md5, audio_hash = excluded.audio_hash, tags = excluded.tags, writer = excluded.writer,
         written_at = excluded.written_at, log_key = excluded.log_key,
         player = CASE WHEN excluded.player IS NOT NULL THEN excluded.player
                       WHEN excluded.md5 IS NOT NULL AND excluded.md5 = remote_objects.md5 THEN remote_objects.player END`,
    );
    this.del = db.prepare('DELETE FROM remote_objects WHERE remote = ? AND key = ?');
    this.one = db.prepare(`SELECT ${COLUMNS} FROM remote_objects WHERE remote = ? AND key = ?`);
    this.leanByKey = db.prepare(`SELECT ${LEAN_COLUMNS} FROM remote_objects WHERE remote = ? AND key = ?`);
    this.stampSome = db.prepare(
      'UPDATE remote_objects SET log_key = ? WHERE remote = ? AND key IN (SELECT value FROM json_each(?)) AND (log_key IS NULL OR log_key < ?)',
    );
    this.setPlayerOne = db.prepare(
      'UPDATE remote_objects SET player = ?, writer = ?, written_at = ?, log_key = ? WHERE remote = ? AND key = ? AND size = ? AND md5 IS ? AND etag IS ?',
    );
    this.some = db.prepare(`SELECT ${COLUMNS} FROM remote_objects WHERE remote = ? AND key IN (SELECT value FROM json_each(?))`);
    this.loggedAfter = db.prepare(
      `SELECT ${COLUMNS} FROM remote_objects WHERE remote = ? AND key > ? AND log_key IS NOT NULL AND log_key <= ? ORDER BY key LIMIT ?`,
    );
    this.loggedUpTo = db.prepare(`SELECT ${COLUMNS} FROM remote_objects WHERE remote = ? AND log_key IS NOT NULL AND log_key <= ? ORDER BY key`);
  }

  state(): MirrorState {
    const r = cached(this.db, 'SELECT listed_at, log_cursor, records_settled FROM remotes WHERE remote = ?').get(this.remote) as
      | { listed_at: number | null; log_cursor: string | null; records_settled: number | null }
      | undefined;
    return {
      ...(r?.listed_at ? { listedAt: r.listed_at } : {}),
      ...(r?.log_cursor ? { logCursor: r.log_cursor } : {}),
      ...(r?.records_settled ? { recordsSettled: true } : {}),
    };
  }

  /** Updates the given fields of the state (others are kept). */
  setState(s: MirrorState): void {
    this.flush();
    const next = { ...this.state(), ...s };
    cached(
      this.db,
      `INSERT INTO remotes (remote, listed_at, log_cursor, records_settled) VALUES (?, ?, ?, ?)
       ON CONFLICT(remote) DO UPDATE SET listed_at = excluded.listed_at, log_cursor = excluded.log_cursor,
         records_settled = excluded.records_settled`,
    ).run(this.remote, next.listedAt ?? null, next.logCursor ?? null, next.recordsSettled ? 1 : 0);
  }

  /**
   * The mirrored objects with only what planning needs (key, size, ETag or
   * mtime, hashes), streamed: at library scale, tags and log bookkeeping
   * would be most of a run's memory.
   */
  *lean(): Iterable<MirrorObject> {
    this.flush();
    const rows = cached(this.db, `SELECT ${LEAN_COLUMNS} FROM remote_objects WHERE remote = ?`).iterate(this.remote) as Iterable<MirrorRow>;
    for (const r of rows) yield mirrorObject(r);
  }

  /** The object at `key` with only what planning needs (see lean()), or undefined. */
  leanOne(key: string): MirrorObject | undefined {
    this.flush();
    const r = this.leanByKey.get(this.remote, key) as MirrorRow | undefined;
    return r ? mirrorObject(r) : undefined;
  }

  /** Objects whose content has MD5 `md5` (by the index on it), with only what planning needs. */
  withMd5(md5: string): MirrorObject[] {
    this.flush();
    const rows = cached(this.db, `SELECT ${LEAN_COLUMNS} FROM remote_objects WHERE remote = ? AND md5 = ?`).all(this.remote, md5) as MirrorRow[];
    return rows.map(mirrorObject);
  }

  /** Starts comparing a full listing with the mirror, a page at a time (see listing-sweep.ts). */
  sweep(): ListingSweep {
    this.flush();
    return new ListingSweep(this.db, 'remote_objects', this.remote);
  }

  /**
   * The rows a catalog log set, by a log up to `cover` (inclusive), in full
   * and by key, streamed: what a catalog snapshot covering `cover` holds.
   */
  *logged(cover: string): Iterable<MirrorObject> {
    this.flush();
    for (const r of this.loggedUpTo.iterate(this.remote, cover) as Iterable<MirrorRow>) yield mirrorObject(r);
  }

  /**
   * One page of logged(cover): at most `limit` rows with keys after `after`.
   * Pages hold no statement open between them, so the caller may wait (on a
   * stream) and others may write meanwhile.
   */
  loggedPage(cover: string, after: string, limit: number): MirrorObject[] {
    this.flush();
    return (this.loggedAfter.all(this.remote, after, cover, limit) as MirrorRow[]).map(mirrorObject);
  }

  /**
   * Notes that this machine's own rows at `keys` were written to log
   * `logKey`, so that an earlier log of another writer, read later, cannot
   * undo them. One statement: a log holds thousands.
   */
  stampMany(keys: readonly string[], logKey: string): void {
    if (keys.length === 0) return;
    this.stampSome.run(logKey, this.remote, JSON.stringify(keys), logKey);
  }

  /**
   * dropMissing forgets the object at `key` at once: the remote answered "not
   * found" for it, so whatever the catalog or an old listing said, the next
   * run must not plan with it (and fail on it) again.
   */
  dropMissing(key: string): void {
    this.flush();
    this.del.run(this.remote, key);
  }

  /** Who wrote the object at `key`, as the catalog says. */
  writerOf(key: string): string | undefined {
    return this.get(key)?.writer;
  }

  /** Sets what a full listing showed of an object it found unchanged, keeping what the catalog knows. */
  touchNow(key: string, etag: string | undefined, mtime: Date | undefined): void {
    cached(this.db, 'UPDATE remote_objects SET etag = COALESCE(?, etag), mtime_ms = COALESCE(?, mtime_ms) WHERE remote = ? AND key = ?').run(etag ?? null, mtime?.getTime() ?? null, this.remote, key);
  }

  get(key: string): MirrorObject | undefined {
    this.flush();
    const r = this.one.get(this.remote, key) as MirrorRow | undefined;
    return r ? mirrorObject(r) : undefined;
  }

  /** The objects at `keys`, in their order (undefined where there is none), read at once. */
  getMany(keys: readonly string[]): Array<MirrorObject | undefined> {
    this.flush();
    const byKey = new Map<string, MirrorObject>();
    for (let i = 0; i < keys.length; i += MANY) {
      for (const r of this.some.all(this.remote, JSON.stringify(keys.slice(i, i + MANY))) as MirrorRow[]) byKey.set(r.key, mirrorObject(r));
    }
    return keys.map((k) => byKey.get(k));
  }

  /** Runs `fn` in one transaction (many puts and removes at the cost of one commit). */
  batch<T>(fn: () => T): T {
    this.flush();
    return this.db.transaction(fn)();
  }

  /** Records what is known of an object now (this machine's write, or a catalog entry). */
  put(o: MirrorObject): void {
    this.writes.add({ put: o });
  }

  /**
   * setPlayers records, for objects that log `logKey` of this machine
   * (`writer`) describes anew with only a media player's meta changed, that
   * meta: where the row still holds the object the entry describes (same
   * size, MD5 and ETag; a run may have replaced it meanwhile), its player,
   * writer, time and log key change, and nothing else. Writes at once: call
   * it inside a transaction.
   */
  setPlayers(entries: ReadonlyArray<{ key: string; size: number; md5?: string; etag?: string; player: PlayerMeta; at: number }>, writer: string, logKey: string): void {
    this.flush();
    for (const e of entries) this.setPlayerOne.run(JSON.stringify(e.player), writer, e.at, logKey, this.remote, e.key, e.size, e.md5 ?? null, e.etag ?? null);
  }

  /** Records that `key` is gone, or that its state is unknown (a failed write). */
  remove(key: string): void {
    this.writes.add({ remove: key });
  }

  /** Writes `o` at once (inside batch()). */
  putNow(o: MirrorObject): void {
    this.upsert.run(
      this.remote,
      o.key,
      o.size,
      o.etag ?? null,
      o.mtime?.getTime() ?? null,
      o.md5 ?? null,
      o.audioHash ?? null,
      o.tags ? JSON.stringify(o.tags) : null,
      o.writer ?? null,
      o.writtenAt ?? null,
      o.logKey ?? null,
      o.player ? JSON.stringify(o.player) : null,
    );
  }

  /** Removes `key` at once (inside batch()). */
  removeNow(key: string): void {
    this.del.run(this.remote, key);
  }

  flush(): void {
    this.writes.flush();
  }

  private commit(batch: Write[]): void {
    this.db.transaction(() => {
      for (const w of batch) {
        if ('remove' in w) this.removeNow(w.remove);
        else this.putNow(w.put);
      }
    })();
  }

  /**
   * Every mirrored object whose key starts with `prefix`, with all that is
   * known of it (tags, writer, time), in key order (by UTF-8 bytes), streamed
   * a row at a time so that listing a large remote never holds it whole.
   * Read-only. Until the iteration ends the database must not run other
   * statements (one active query per connection).
   */
  *inKeyOrder(prefix: string): Iterable<MirrorObject> {
    this.flush();
    // A range on the primary key, not LIKE: it uses the index, and `_` or `%` in a prefix would be wildcards.
    const sql = `SELECT ${COLUMNS} FROM remote_objects WHERE remote = ? AND key >= ?`;
    const rows = (
      prefix === ''
        ? cached(this.db, `${sql} ORDER BY key`).iterate(this.remote, prefix)
        : cached(this.db, `${sql} AND key < ? ORDER BY key`).iterate(this.remote, prefix, prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1))
    ) as Iterable<MirrorRow>;
    for (const r of rows) yield mirrorObject(r);
  }
}
