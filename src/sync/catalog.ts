/**
 * The remote catalog: what a remote's `music/` holds (per object: key, size,
 * content MD5, audio hash, tags, who wrote it and when), kept in the remote
 * itself so that every machine and every member of a crew can know it without
 * listing the bucket or sending a HEAD per object.
 *
 * Shape: an append-only log. Every writer adds objects of its own under
 * `.cratesync/catalog/log/<time>-<machine>-<random>.json.gz`, each holding the
 * changes of (part of) one run. No object is ever written by two writers, so
 * no update can be lost however many push at once — and that holds on servers
 * without conditional writes (s3rver, older MinIO, B2's S3 API), where an
 * index object rewritten by read-modify-write would lose updates.
 *
 * Reading: log keys sort by time, so a reader lists only the keys after the
 * last one it folded in — one LIST request for a no-op run. Clocks differ and
 * uploads take time, so a log object can land with a key that sorts a little
 * before ones already seen: the reader re-lists a window of LOG_WINDOW_MS
 * before its cursor and skips the logs it has already folded in (recorded
 * locally). Writers stamp their logs no earlier than the newest log they have
 * seen, which keeps a writer with a slow clock in order with the ones it read.
 *
 * Other tools (aws s3 sync, the console) write no log: a full listing, made on
 * first contact, every FULL_LISTING_EVERY_MS and on `--full`, reconciles the
 * mirror with what is really there — objects whose size and ETag are unchanged
 * keep what the catalog knows of them; the rest are taken as the listing shows.
 *
 * Crash safety: a change is recorded in the local state (catalog_pending)
 * when it is made and written to the log later in the run; a run killed in
 * between leaves it pending, and the next run publishes it first.
 */
import { randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type Database from 'better-sqlite3';
import type { Remote } from '../remote/remote.js';
import { cached, type Db } from '../state/state-db.js';
import type { MirrorObject, RemoteMirror } from '../state/remote-mirror.js';
import type { Tags } from '../core/tags.js';
import type { Problem } from '../library/walk.js';
import { CratesyncError, describe } from '../errors.js';
import { Batcher } from '../state/batcher.js';
import { machineId } from '../state/machine.js';
import { META_PREFIX, MUSIC_PREFIX } from './layout.js';
import { forEachLimit } from '../core/concurrency.js';
import { parseEtag } from '../core/etag.js';

export const CATALOG_PREFIX = `${META_PREFIX}catalog/`;
export const LOG_PREFIX = `${CATALOG_PREFIX}log/`;

/** How far before its cursor a reader looks again for logs that landed late. */
export const LOG_WINDOW_MS = 10 * 60 * 1000;

/** A full listing is made when the last one is older than this (objects written by other tools show up then). */
export const FULL_LISTING_EVERY_MS = 60 * 60 * 1000;

/** A run publishes its changes at least every this many entries… */
const PUBLISH_EVERY_ENTRIES = 1000;
/** …or this often, so that other machines see a long run's progress. */
const PUBLISH_EVERY_MS = 30_000;

/** An object stored (uploaded, copied or restored) at `key`. */
export interface CatalogPut {
  op: 'put';
  key: string;
  size: number;
  /** Absent only when the writer did not know it (a restore from trash of a multipart object). */
  md5?: string;
  etag?: string;
  audioHash?: string;
  tags?: Tags;
  /** When the change was made (ms since the epoch). */
  at: number;
}

/** The object at `key` was removed (moved to trash). */
export interface CatalogDel {
  op: 'del';
  key: string;
  at: number;
}

export type CatalogEntry = CatalogPut | CatalogDel;

/** One log object. */
export interface LogDoc {
  v: 1;
  /** `user@machine`. */
  writer: string;
  entries: CatalogEntry[];
}

/** logStamp is the sortable time part of a log key: `20261120T230358618Z`. */
export function logStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:.]/g, '');
}

/** logTime reads the time back from a log key; undefined for a key not made by logKey. */
export function logTime(key: string): number | undefined {
  const m = /(\d{8})T(\d{6})(\d{3})Z-[^/]*$/.exec(key);
  if (!m) return undefined;
  const [, d = '', t = '', ms = ''] = m;
  const iso = `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${t.slice(0, 2)}:${t.slice(2, 4)}:${t.slice(4, 6)}.${ms}Z`;
  const v = Date.parse(iso);
  return Number.isNaN(v) ? undefined : v;
}

export function logKey(ms: number, machine: string): string {
  return `${LOG_PREFIX}${logStamp(ms)}-${machine}-${randomBytes(3).toString('hex')}.json.gz`;
}

export function encodeLog(doc: LogDoc): Buffer {
  return gzipSync(JSON.stringify(doc));
}

/** decodeLog parses a log object; throws CratesyncError naming `key` when it is not one. */
export function decodeLog(buf: Buffer, key: string): LogDoc {
  let doc: unknown;
  try {
    doc = JSON.parse(gunzipSync(buf).toString('utf8'));
  } catch (err) {
    throw new CratesyncError(`catalog log ${key} is unreadable (${describe(err)}); skipped`);
  }
  const bad = (what: string) => new CratesyncError(`catalog log ${key}: ${what}; skipped`);
  if (typeof doc !== 'object' || doc === null) throw bad('not a JSON object');
  const d = doc as Partial<LogDoc>;
  if (d.v !== 1) throw bad(`unknown version ${JSON.stringify(d.v)} (written by a newer cratesync?)`);
  if (typeof d.writer !== 'string' || !Array.isArray(d.entries)) throw bad('no writer or entries');
  (d.entries as unknown[]).forEach((x, i) => {
    const e = x as Partial<Omit<CatalogPut, 'op'>> & { op?: string };
    const ok =
      typeof e === 'object' &&
      e !== null &&
      typeof e.key === 'string' &&
      typeof e.at === 'number' &&
      (e.op === 'del' || (e.op === 'put' && typeof e.size === 'number' && (e.md5 === undefined || typeof e.md5 === 'string')));
    if (!ok) throw bad(`entry ${i} is malformed`);
  });
  return d as LogDoc;
}

export interface RefreshOptions {
  full: boolean;
  problems: Problem[];
  signal?: AbortSignal;
  now?: number;
  maxAgeMs?: number;
  /** Publish nothing (status, dry runs). */
  readOnly?: boolean;
}

/** What a refresh did. */
export interface Refreshed {
  /** True when this run made a full listing. */
  listed: boolean;
  /** Log objects of other runs folded in. */
  logsRead: number;
}

export class RemoteCatalog {
  private readonly seen: Database.Statement;
  private readonly stampRow: Database.Statement;
  private readonly markSeen: Database.Statement;
  private readonly addPending: Database.Statement;
  private readonly pending = new Batcher<CatalogEntry>((batch) => this.commitPending(batch));
  private unpublished = 0;
  private lastPublish = Date.now();
  private publishing: Promise<void> = Promise.resolve();
  /** Errors of background publishes, reported by the final publish(). */
  private publishError: unknown;

  constructor(
    private readonly remote: Remote,
    private readonly mirror: RemoteMirror,
    private readonly db: Db,
    /** `user@machine`, recorded in every log this machine writes. */
    readonly writer: string,
    private readonly machine: string,
  ) {
    this.seen = db.prepare('SELECT 1 FROM catalog_logs WHERE remote = ? AND key = ?');
    this.stampRow = db.prepare('UPDATE remote_objects SET log_key = ? WHERE remote = ? AND key = ? AND (log_key IS NULL OR log_key < ?)');
    this.markSeen = db.prepare('INSERT OR IGNORE INTO catalog_logs (remote, key) VALUES (?, ?)');
    this.addPending = db.prepare(
      'INSERT INTO catalog_pending (remote, seq, entry) VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM catalog_pending WHERE remote = ?), ?)',
    );
  }

  /**
   * refresh brings the mirror up to date for planning: changes left
   * unpublished by an interrupted run are published (unless `readOnly`), new
   * log objects of other writers are folded in, and a full listing reconciles
   * the mirror when it never was, when the last one is older than
   * FULL_LISTING_EVERY_MS, or when `full` asks. Unreadable log objects are
   * reported in `problems` and skipped. The engine then reads the mirror
   * joined with the file index (see sides.ts).
   */
  async refresh(o: RefreshOptions): Promise<Refreshed> {
    const now = o.now ?? Date.now();
    if (!o.readOnly && this.pendingCount() > 0) await this.publish(o.signal);
    const st = this.mirror.state();
    const stale = st.listedAt === undefined || now - st.listedAt >= (o.maxAgeMs ?? FULL_LISTING_EVERY_MS);
    const logsRead = await this.readLog(o.problems, o.signal);
    if (o.full || stale) await this.reconcile(now, o.signal);
    return { listed: o.full || stale, logsRead };
  }

  /**
   * record notes a change this run made to the remote: the mirror learns it at
   * once, and it is queued (in the local state, so a crash keeps it) for the
   * log. A publish starts in the background every PUBLISH_EVERY_ENTRIES
   * entries or PUBLISH_EVERY_MS.
   */
  record(e: CatalogEntry): void {
    if (e.op === 'put') {
      const { op: _op, at, ...rest } = e;
      this.mirror.put({ ...rest, writer: this.writer, writtenAt: at });
    } else {
      this.mirror.remove(e.key);
    }
    this.pending.add(e);
    this.unpublished++;
    if (this.unpublished >= PUBLISH_EVERY_ENTRIES || Date.now() - this.lastPublish >= PUBLISH_EVERY_MS) {
      this.unpublished = 0;
      this.lastPublish = Date.now();
      this.publishing = this.publishing.then(() => this.publishNow()).catch((err: unknown) => void (this.publishError ??= err));
    }
  }

  /**
   * publish writes every pending change to one or more new log objects, then
   * forgets them locally. Throws when the remote refuses (the changes stay
   * pending for the next run).
   */
  async publish(signal?: AbortSignal): Promise<void> {
    await this.publishing;
    this.publishing = Promise.resolve();
    const background = this.publishError;
    this.publishError = undefined;
    await this.publishNow(signal);
    if (background !== undefined && this.pendingCount() > 0) throw background;
  }

  pendingCount(): number {
    this.pending.flush();
    return (cached(this.db, 'SELECT COUNT(*) AS n FROM catalog_pending WHERE remote = ?').get(this.remote.url) as { n: number }).n;
  }

  private async publishNow(signal?: AbortSignal): Promise<void> {
    this.pending.flush();
    const rows = this.db.prepare('SELECT seq, entry FROM catalog_pending WHERE remote = ? ORDER BY seq').all(this.remote.url) as Array<{ seq: number; entry: string }>;
    for (let i = 0; i < rows.length; i += 5000) {
      signal?.throwIfAborted();
      const chunk = rows.slice(i, i + 5000);
      const doc: LogDoc = { v: 1, writer: this.writer, entries: chunk.map((r) => JSON.parse(r.entry) as CatalogEntry) };
      // Never earlier than the newest log seen: keeps a slow clock in order.
      const cursor = this.mirror.state().logCursor;
      const at = Math.max(Date.now(), (cursor ? (logTime(cursor) ?? 0) : 0) + 1);
      const key = logKey(at, this.machine);
      await this.remote.put(key, { data: encodeLog(doc) });
      const last = chunk[chunk.length - 1]?.seq ?? 0;
      this.mirror.flush();
      this.db.transaction(() => {
        cached(this.db, 'DELETE FROM catalog_pending WHERE remote = ? AND seq <= ?').run(this.remote.url, last);
        this.markSeen.run(this.remote.url, key);
        // This machine's own rows now carry their log key, so that an earlier
        // log of another writer, read later, cannot undo them.
        for (const e of doc.entries) if (e.op === 'put') this.stampRow.run(key, this.remote.url, e.key, key);
      })();
      if (!cursor || key > cursor) this.mirror.setState({ logCursor: key });
    }
  }

  private commitPending(batch: CatalogEntry[]): void {
    this.db.transaction(() => {
      for (const e of batch) this.addPending.run(this.remote.url, this.remote.url, JSON.stringify(e));
    })();
  }

  /** readLog folds in the log objects not seen yet; returns how many. */
  private async readLog(problems: Problem[], signal?: AbortSignal): Promise<number> {
    const cursor = this.mirror.state().logCursor;
    const from = cursor ? logTime(cursor) : undefined;
    const keys: string[] = [];
    const listing = this.remote.list(LOG_PREFIX, {
      ...(from !== undefined ? { startAfter: `${LOG_PREFIX}${logStamp(from - LOG_WINDOW_MS)}` } : {}),
      ...(signal ? { signal } : {}),
    });
    for await (const obj of listing) {
      if (obj.key.endsWith('.json.gz') && !this.seen.get(this.remote.url, obj.key)) keys.push(obj.key);
    }
    if (keys.length === 0) return 0;
    keys.sort();
    const docs = new Map<string, LogDoc | undefined>();
    await forEachLimit(keys, 8, async (key) => {
      try {
        docs.set(key, decodeLog(await this.remote.read(key, signal ? { signal } : {}), key));
      } catch (err) {
        if (signal?.aborted) throw err;
        // A log that cannot be read now (unreadable or vanished) is skipped for good:
        // the periodic full listing covers whatever it held.
        problems.push({ path: key, message: describe(err) });
        docs.set(key, undefined);
      }
    }, signal);
    let newest = cursor;
    const suspects = new Map<string, MirrorObject[]>();
    this.mirror.batch(() => {
      for (const key of keys) {
        const doc = docs.get(key);
        if (doc) this.apply(doc, key, suspects);
        this.markSeen.run(this.remote.url, key);
        if (!newest || key > newest) newest = key;
      }
    });
    if (newest && newest !== cursor) this.mirror.setState({ logCursor: newest });
    await this.settle(suspects, signal);
    return keys.length;
  }

  /**
   * settle decides objects that two writers stored within moments of each
   * other. S3 keeps whichever PUT landed last, which need not be the one whose
   * log sorts last; the object's ETag tells which version is there. A version
   * that matches neither loses what the catalog said of it (its MD5 is then
   * found as for any listed object).
   */
  private async settle(suspects: Map<string, MirrorObject[]>, signal?: AbortSignal): Promise<void> {
    if (suspects.size === 0) return;
    await forEachLimit([...suspects], 8, async ([key, versions]) => {
      let now;
      try {
        now = await this.remote.stat(key);
      } catch {
        return; // gone or unreachable: the next full listing settles it
      }
      if (!now.etag) return; // no way to tell versions apart (folders): the later log stands
      const match = versions.find((v) => v.etag === now.etag);
      this.mirror.put(match ? { ...match, ...now } : { key, size: now.size, etag: now.etag, ...(now.mtime ? { mtime: now.mtime } : {}) });
    }, signal);
    this.mirror.flush();
  }

  /**
   * apply folds one log object into the mirror (inside a mirror batch). Keys
   * another writer also stored within LOG_WINDOW_MS are noted in `suspects`
   * with both versions, for settle().
   */
  private apply(doc: LogDoc, key: string, suspects: Map<string, MirrorObject[]>): void {
    for (const e of doc.entries) {
      const row = this.mirror.get(e.key);
      if (e.op === 'put' && row?.writer && row.writer !== doc.writer && row.writtenAt !== undefined && Math.abs(row.writtenAt - e.at) < LOG_WINDOW_MS) {
        const versions = suspects.get(e.key) ?? [row];
        versions.push(entryObject(e, doc.writer, key));
        suspects.set(e.key, versions);
      }
      // Knowledge from a later log wins over an earlier one read late…
      if (row?.logKey && row.logKey > key) continue;
      // …and a listing that saw the object written later (by another tool) wins too.
      if (row && !row.logKey && row.mtime && row.mtime.getTime() > e.at + LOG_WINDOW_MS) continue;
      if (e.op === 'del') {
        this.mirror.removeNow(e.key);
        continue;
      }
      this.mirror.putNow(entryObject(e, doc.writer, key));
    }
  }

  /**
   * reconcile lists `music/` in full and makes the mirror match it. Objects
   * the listing shows unchanged (same size, and same ETag, or same mtime where
   * there are no ETags) keep what the catalog knows; changed or unknown ones
   * are taken as listed; mirrored objects the listing lacks are dropped,
   * unless written by cratesync during the listing.
   */
  private async reconcile(now: number, signal?: AbortSignal): Promise<void> {
    const listed: MirrorObject[] = [];
    for await (const obj of this.remote.list(MUSIC_PREFIX, signal ? { signal } : {})) listed.push(obj);
    const rows = new Map<string, MirrorObject>();
    for (const r of this.mirror.listed()) rows.set(r.key, r);
    this.mirror.batch(() => {
      for (const l of listed) {
        const r = rows.get(l.key);
        rows.delete(l.key);
        const same = r && r.size === l.size && (r.etag && l.etag ? r.etag === l.etag : !r.mtime || !l.mtime || r.mtime.getTime() === l.mtime.getTime());
        if (same) {
          this.mirror.touchNow(l.key, l.etag, l.mtime);
        } else {
          // A plain ETag is the content's MD5: the mirror knows it from now on.
          const md5 = parseEtag(l.etag).md5;
          this.mirror.putNow(md5 ? { ...l, md5 } : l);
        }
      }
      for (const r of rows.values()) {
        if (r.writtenAt === undefined || r.writtenAt < now - LOG_WINDOW_MS) this.mirror.removeNow(r.key);
      }
    });
    this.mirror.setState({ listedAt: now });
  }
}

/** entryObject is what a put entry of log `logKey` says of its object. */
function entryObject(e: CatalogPut, writer: string, logKey: string): MirrorObject {
  const o: MirrorObject = { key: e.key, size: e.size, writer, writtenAt: e.at, logKey };
  if (e.md5) o.md5 = e.md5;
  if (e.etag) o.etag = e.etag;
  if (e.audioHash) o.audioHash = e.audioHash;
  if (e.tags) o.tags = e.tags;
  return o;
}

/**
 * recordRestored publishes to the catalog of `remote` that `keys` were put
 * back from trash, as they are now (a HEAD each), for runs that have no
 * library state of their own (`cratesync trash restore`).
 */
export async function recordRestored(remote: Remote, user: string, keys: readonly string[]): Promise<void> {
  const music = keys.filter((k) => k.startsWith(MUSIC_PREFIX));
  if (music.length === 0) return;
  const { openStateDb } = await import('../state/state-db.js');
  const { RemoteMirror } = await import('../state/remote-mirror.js');
  const { hostname } = await import('node:os');
  const db = openStateDb(':memory:');
  try {
    const machine = machineId(db, hostname());
    const catalog = new RemoteCatalog(remote, new RemoteMirror(db, remote.url), db, `${user}@${machine}`, machine);
    for (const key of music) {
      const o = await remote.stat(key);
      const md5 = parseEtag(o.etag).md5;
      catalog.record({ op: 'put', key, size: o.size, ...(md5 ? { md5 } : {}), ...(o.etag ? { etag: o.etag } : {}), at: Date.now() });
    }
    await catalog.publish();
  } finally {
    db.close();
  }
}

