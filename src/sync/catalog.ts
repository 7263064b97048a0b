/**
 * The remote catalog: what a remote's `music/` holds (per object: key, size,
 * content MD5, audio hash, tags, who wrote it and when), kept in the remote
 * itself so that every machine and every member of a crew can know it without
 * listing the bucket or sending a HEAD per object.
 *
 * Shape: an append-only log. Every writer adds objects of its own under
 * `.cratesync/catalog/log/<time>-<machine>-<random>.json.gz`, each holding the
 * changes of (part of) one run (catalog-publisher.ts). No object is ever
 * written by two writers, so no update can be lost however many push at
 * once — and that holds on servers without conditional writes (s3rver, older
 * MinIO, B2's S3 API), where an index object rewritten by read-modify-write
 * would lose updates.
 *
 * Reading (catalog-reader.ts): log keys sort by time, so a reader lists only
 * the keys after the last one it folded in — one LIST request for a no-op
 * run. Clocks differ and uploads take time, so a log object can land with a
 * key that sorts a little before ones already seen: the reader re-lists a
 * window of LOG_WINDOW_MS before its cursor and skips the logs it has already
 * folded in (recorded locally). Writers stamp their logs no earlier than the
 * newest log they have seen, which keeps a writer with a slow clock in order
 * with the ones it read.
 *
 * Snapshots (catalog-snapshots.ts): a writer that has folded in many logs
 * since the last snapshot writes the whole catalog as one object; a machine
 * joining reads it and only the logs after it. `cratesync catalog compact`
 * removes the logs a snapshot holds.
 *
 * Other tools (aws s3 sync, the console) write no log: a full listing, made on
 * first contact, every FULL_LISTING_EVERY_MS and on `--full`, reconciles the
 * mirror with what is really there (catalog-reconciler.ts).
 *
 * Everything read from the remote is untrusted (catalog-codec.ts bounds and
 * checks it); a catalog entry never beats what the server itself says.
 */
import type { Remote } from '../remote/remote.js';
import type { Db } from '../state/state-db.js';
import type { Problem } from '../core/problem.js';
import type { CatalogEntry, CatalogPut } from './catalog-codec.js';
import type { PlayerMeta } from '../core/tags.js';
import { hostname } from 'node:os';
import { CatalogState } from '../state/catalog-state.js';
import { RemoteMirror } from '../state/remote-mirror.js';
import { PlaylistMirror } from '../state/remote-playlists.js';
import { machineId } from '../state/machine.js';
import { parseEtag } from '../core/etag.js';
import { isPlaylistKey, MUSIC_PREFIX, PLAYLISTS_PREFIX } from './layout.js';
import { logStamp, logTime, LOG_PREFIX } from './catalog-codec.js';
import { LOG_WINDOW_MS } from './catalog-fold.js';
import { listLogs, readLogs } from './catalog-reader.js';
import { foldSnapshot, learnSnapshots, listSnapshots, readNewestSnapshot, snapshotDue, writeSnapshot } from './catalog-snapshots.js';
import { reconcile, reconcilePlaylists } from './catalog-reconciler.js';
import { CATALOG_PATH, CatalogPublisher } from './catalog-publisher.js';
import { describe } from '../errors.js';

/** A full listing is made when the last one is older than this (objects written by other tools show up then). */
export const FULL_LISTING_EVERY_MS = 60 * 60 * 1000;

export interface RefreshOptions {
  full: boolean;
  problems: Problem[];
  signal?: AbortSignal;
  now?: number;
  maxAgeMs?: number;
  /** Publish nothing (status, dry runs). */
  readOnly?: boolean;
  /**
   * Called between reading the logs and a full listing, when both happen (a
   * first contact): a long-lived caller collects the logs' garbage there, so
   * it is not carried through the listing on top of its own.
   */
  settle?: () => void;
}

/** What a refresh did. */
export interface Refreshed {
  /** True when this run made a full listing. */
  listed: boolean;
  /** Log objects of other runs folded in, plus the snapshot when one was. */
  logsRead: number;
  /** The snapshot folded in, when one was (a first contact, or logs removed by compaction). */
  snapshot?: string;
}

export interface CatalogOptions {
  /**
   * Reports, as they happen, problems of the catalog that no call returns: a
   * background publish that failed (its changes stay pending and are retried
   * by publish()), a snapshot that could not be written.
   */
  onProblem?: (p: Problem) => void;
}

export class RemoteCatalog {
  private readonly state: CatalogState;
  private readonly publisher: CatalogPublisher;
  /** The mirror of the remote's `playlists/` (apart from `mirror`, which is music only). */
  readonly playlists: PlaylistMirror;

  constructor(
    readonly remote: Remote,
    /** The mirror of the remote's `music/`. */
    readonly mirror: RemoteMirror,
    db: Db,
    /** `user@machine`, recorded in every log this machine writes. */
    readonly writer: string,
    private readonly machine: string,
    private readonly options: CatalogOptions = {},
  ) {
    this.state = new CatalogState(db, remote.url);
    this.playlists = new PlaylistMirror(db, remote.url);
    this.publisher = new CatalogPublisher(remote, mirror, this.playlists, this.state, { writer, machine }, options.onProblem);
  }

  /**
   * refresh brings the mirror up to date for planning: changes left
   * unpublished by an interrupted run are published (unless `readOnly`); on
   * first contact (or when the logs after this machine's cursor were
   * compacted away) the newest valid snapshot is folded in; new log objects
   * of other writers are folded in; and a full listing reconciles the mirror
   * when it never was, when the last one is older than FULL_LISTING_EVERY_MS,
   * or when `full` asks (then the listing is the whole truth). Unreadable or
   * forged catalog objects are reported in `problems` and skipped. The
   * engine then reads the mirror joined with the file index (see sides.ts).
   */
  async refresh(o: RefreshOptions): Promise<Refreshed> {
    const now = o.now ?? Date.now();
    const signal = o.signal;
    if (!o.readOnly && this.pendingCount() > 0) await this.publisher.publish(signal);
    const st = this.mirror.state();
    const stale = st.listedAt === undefined || now - st.listedAt >= (o.maxAgeMs ?? FULL_LISTING_EVERY_MS);
    const read = { problems: o.problems, now, ...(signal ? { signal } : {}) };
    let cursor = st.logCursor;
    let snapshot: string | undefined;
    if (!cursor) {
      snapshot = await this.foldNewestSnapshot(read);
      cursor = this.mirror.state().logCursor;
    }
    let logs = await listLogs(this.remote, cursor, signal);
    if (cursor && !snapshot && !logs.some((l) => l.key === cursor)) {
      // The log this machine read last is gone: `catalog compact` removed it,
      // and maybe logs after it that this machine never read. A snapshot
      // covering past it holds them.
      snapshot = await this.foldNewestSnapshot({ ...read, after: cursor });
      const covers = this.mirror.state().logCursor;
      const t = covers ? logTime(covers) : undefined;
      if (snapshot && t !== undefined) {
        const from = `${LOG_PREFIX}${logStamp(Math.max(0, t - LOG_WINDOW_MS))}`;
        logs = logs.filter((l) => l.key > from);
      }
    }
    const logsRead = await readLogs(logs, { remote: this.remote, mirror: this.mirror, playlists: this.playlists, state: this.state, ...read });
    if (o.full || stale) {
      if (logsRead > 0) o.settle?.();
      const how = { now, full: o.full, ...(signal ? { signal } : {}) };
      await reconcilePlaylists(this.remote, this.playlists, how);
      await reconcile(this.remote, this.mirror, how);
    }
    return { listed: o.full || stale, logsRead: logsRead + (snapshot ? 1 : 0), ...(snapshot ? { snapshot } : {}) };
  }

  /**
   * record notes a change this run made to the remote: the mirror learns it at
   * once, and it is queued (in the local state, so a crash keeps it) for the
   * log. A publish starts in the background now and then (see
   * catalog-publisher.ts); its failure goes to onProblem when it happens.
   */
  record(e: CatalogEntry): void {
    if (isPlaylistKey(e.key)) {
      if (e.op === 'put') {
        const { op: _op, at, tags: _t, player: _p, audioHash: _a, ...rest } = e;
        this.playlists.put({ ...rest, writer: this.writer, writtenAt: at });
      } else {
        this.playlists.remove(e.key);
      }
    } else if (e.op === 'put') {
      const { op: _op, at, playlist: _l, ...rest } = e;
      this.mirror.put({ ...rest, writer: this.writer, writtenAt: at });
    } else {
      this.mirror.remove(e.key);
    }
    this.publisher.record(e);
  }

  /**
   * publishPlayerMetas writes `entries` to the log at once (after what is
   * pending, see CatalogPublisher.writeNow): puts of objects the mirror
   * holds as they are (same size, hashes and tags) whose media player
   * metadata alone is new. Once a log is written, the mirror learns the
   * metas it holds, and `settled(chunk)` runs in the same transaction.
   * Throws what the remote throws; entries not written are not recorded.
   */
  async publishPlayerMetas<E extends CatalogPut & { player: PlayerMeta }>(entries: readonly E[], settled: (chunk: readonly E[]) => void, signal?: AbortSignal): Promise<void> {
    await this.publisher.writeNow(
      entries,
      (chunk, key) => {
        this.mirror.setPlayers(chunk, this.writer, key);
        settled(chunk);
      },
      signal,
    );
  }

  /**
   * publish writes every pending change to one or more new log objects, then
   * forgets them locally. Throws when the remote refuses (the changes stay
   * pending for the next run). Then, when this machine has folded in
   * SNAPSHOT_EVERY_LOGS logs since the newest snapshot (checked on the
   * remote before writing), it writes a snapshot; a failure of that is
   * reported to onProblem, never thrown (the next run tries again).
   * `snapshot: false` leaves the snapshot to the next run: a change that
   * should be seen at once (a player's edit) does not wait for one.
   */
  async publish(signal?: AbortSignal, o: { snapshot?: boolean } = {}): Promise<void> {
    await this.publisher.publish(signal);
    if (o.snapshot !== false) await this.snapshotIfDue(signal);
  }

  pendingCount(): number {
    return this.publisher.pendingCount();
  }

  /**
   * snapshotIfDue writes a snapshot when one is due (see publish); returns
   * its key, or undefined when none was written.
   */
  async snapshotIfDue(signal?: AbortSignal): Promise<string | undefined> {
    try {
      if (!snapshotDue(this.state) || this.pendingCount() > 0) return undefined;
      // Another writer may have written one since: ask the remote.
      learnSnapshots(this.state, await listSnapshots(this.remote, signal), Date.now());
      if (!snapshotDue(this.state)) return undefined;
      return (await writeSnapshot(this.remote, this.mirror, this.playlists, this.state, { writer: this.writer, machine: this.machine }))?.key;
    } catch (err) {
      if (signal?.aborted) return undefined;
      this.options.onProblem?.({ path: CATALOG_PATH, message: `snapshot not written (the next run tries again): ${describe(err)}` });
      return undefined;
    }
  }

  /** Folds in the newest valid snapshot (covering past `after`, when given); returns its key. */
  private async foldNewestSnapshot(o: { problems: Problem[]; now: number; after?: string; signal?: AbortSignal }): Promise<string | undefined> {
    const keys = await listSnapshots(this.remote, o.signal);
    if (keys.length === 0) return undefined;
    learnSnapshots(this.state, keys, o.now);
    const s = await readNewestSnapshot(this.remote, keys, o);
    if (!s) return undefined;
    foldSnapshot(this.mirror, this.playlists, this.state, s, o);
    return s.key;
  }
}

/**
 * recordRestored publishes to the catalog of `remote` that `keys` were put
 * back from trash, as they are now (a HEAD each), under this machine's
 * identity in `db` (the library's state database: its mirror learns the
 * restore too), for `cratesync trash restore`. Throws what the remote throws.
 */
export async function recordRestored(remote: Remote, db: Db, user: string, keys: readonly string[]): Promise<void> {
  // Playlists come back without their metadata (the del forgot it): an object as any tool could have written.
  if (!keys.some(catalogued)) return;
  const machine = machineId(db, hostname());
  const mirror = new RemoteMirror(db, remote.url);
  try {
    await recordRestoredIn(new RemoteCatalog(remote, mirror, db, `${user}@${machine}`, machine), keys);
  } finally {
    mirror.flush();
  }
}

/** Keys the catalog tells of: music and playlists. */
const catalogued = (k: string) => k.startsWith(MUSIC_PREFIX) || k.startsWith(PLAYLISTS_PREFIX);

/**
 * recordRestoredIn is {@link recordRestored} with a catalog already open (the
 * service's own, so that its mirror learns the restore at once).
 */
export async function recordRestoredIn(catalog: RemoteCatalog, keys: readonly string[]): Promise<void> {
  let recorded = false;
  for (const key of keys.filter(catalogued)) {
    const o = await catalog.remote.stat(key);
    const md5 = parseEtag(o.etag).md5;
    catalog.record({ op: 'put', key, size: o.size, ...(md5 ? { md5 } : {}), ...(o.etag ? { etag: o.etag } : {}), at: Date.now() });
    recorded = true;
  }
  if (recorded) await catalog.publish();
}
