/**
 * Writing this machine's changes to the catalog log. A change is recorded in
 * the local state (catalog_pending) when it is made and written to a new log
 * object later in the run — in the background every PUBLISH_EVERY_ENTRIES
 * entries or PUBLISH_EVERY_MS, and at the end; a run killed in between leaves
 * it pending, and the next run publishes it first.
 */
import type { Remote } from '../remote/remote.js';
import type { RemoteMirror } from '../state/remote-mirror.js';
import type { CatalogState, PendingRow } from '../state/catalog-state.js';
import type { PlaylistMirror } from '../state/remote-playlists.js';
import type { Problem } from '../core/problem.js';
import type { CatalogEntry, LogDoc } from './catalog-codec.js';
import { encodeLog, logKey, logTime } from './catalog-codec.js';
import { Batcher } from '../state/batcher.js';
import { isPlaylistKey } from './layout.js';
import { describe } from '../errors.js';
import { withRetry } from '../core/retry.js';

/** A run publishes its changes at least every this many entries… */
const PUBLISH_EVERY_ENTRIES = 1000;
/** …or this often, so that other machines see a long run's progress. */
const PUBLISH_EVERY_MS = 30_000;
/** Entries per log object: a fraction of what a reader accepts (MAX_LOG_ENTRIES). */
const ENTRIES_PER_LOG = 5000;

/** Where a problem of the catalog (not of one file) is reported. */
export const CATALOG_PATH = '(catalog)';

export class CatalogPublisher {
  private readonly pending = new Batcher<CatalogEntry>((batch) => this.state.addPending(batch.map((e) => JSON.stringify(e))));
  private unpublished = 0;
  private lastPublish = Date.now();
  private publishing: Promise<void> = Promise.resolve();
  /** A background publish's error, when there is no onProblem to report it as it happens. */
  private kept: unknown;

  constructor(
    private readonly remote: Remote,
    private readonly mirror: RemoteMirror,
    private readonly playlists: PlaylistMirror,
    private readonly state: CatalogState,
    private readonly who: { writer: string; machine: string },
    /** Reports a background publish that failed, when it fails (the changes stay pending). */
    private readonly onProblem?: (p: Problem) => void,
  ) {}

  /**
   * record queues `e` for the log (in the local state, so a crash keeps it)
   * and starts a background publish when enough is queued or time has passed.
   */
  record(e: CatalogEntry): void {
    this.pending.add(e);
    this.unpublished++;
    if (this.unpublished >= PUBLISH_EVERY_ENTRIES || Date.now() - this.lastPublish >= PUBLISH_EVERY_MS) {
      this.unpublished = 0;
      this.lastPublish = Date.now();
      this.publishing = this.publishing
        .then(() => this.publishNow())
        .catch((err: unknown) => {
          if (this.onProblem) this.onProblem({ path: CATALOG_PATH, message: `not updated on the remote yet (retried at the end of the run): ${describe(err)}` });
          else this.kept ??= err;
        });
    }
  }

  /**
   * publish waits for a background publish, then writes every pending change
   * to one or more new log objects and forgets them locally. Throws when the
   * remote refuses (the changes stay pending for the next run), or, without
   * onProblem, with a background publish's error if changes are left pending.
   */
  async publish(signal?: AbortSignal): Promise<void> {
    await this.publishing;
    this.publishing = Promise.resolve();
    const background = this.kept;
    this.kept = undefined;
    await this.publishNow(signal);
    if (background !== undefined && this.pendingCount() > 0) throw background;
  }

  pendingCount(): number {
    this.pending.flush();
    return this.state.pendingCount();
  }

  private async publishNow(signal?: AbortSignal): Promise<void> {
    this.pending.flush();
    // Entries under playlists/ go to logs of their own: a cratesync that knows
    // only music/ refuses a log holding any other key, whole, and so loses
    // none of the music.
    const music: PendingRow[] = [];
    const lists: PendingRow[] = [];
    for (const r of this.state.pending()) (isPlaylistKey((JSON.parse(r.entry) as CatalogEntry).key) ? lists : music).push(r);
    for (const rows of [music, lists]) {
      for (let i = 0; i < rows.length; i += ENTRIES_PER_LOG) await this.writeLog(rows.slice(i, i + ENTRIES_PER_LOG), signal);
    }
  }

  /** Writes `chunk` (pending rows) to one new log object, then forgets them locally. */
  private async writeLog(chunk: PendingRow[], signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const doc: LogDoc = { v: 1, writer: this.who.writer, entries: chunk.map((r) => JSON.parse(r.entry) as CatalogEntry) };
    // Never earlier than the newest log seen: keeps a slow clock in order.
    const cursor = this.mirror.state().logCursor;
    const at = Math.max(Date.now(), (cursor ? (logTime(cursor) ?? 0) : 0) + 1);
    const key = logKey(at, this.who.machine);
    const data = encodeLog(doc);
    // A connection the server closed while idle (a service's publishes come
    // seconds apart) fails the first try: the key is this log's alone, so
    // putting it again is safe.
    await withRetry(() => this.remote.put(key, { data }), signal ? { signal } : {});
    this.mirror.flush();
    this.state.transaction(() => {
      this.state.dropPendingSeqs(chunk.map((r) => r.seq));
      this.state.markSeen(key);
      // This machine's own rows now carry their log key, so that an earlier
      // log of another writer, read later, cannot undo them.
      for (const e of doc.entries) {
        if (e.op !== 'put') continue;
        if (isPlaylistKey(e.key)) this.playlists.stamp(e.key, key);
        else this.mirror.stamp(e.key, key);
      }
    });
    if (!cursor || key > cursor) this.mirror.setState({ logCursor: key });
  }
}
