/**
 * Writing this machine's changes to the catalog log. A change is recorded in
 * the local state (catalog_pending) when it is made and written to a new log
 * object later in the run — in the background every PUBLISH_EVERY_ENTRIES
 * entries or PUBLISH_EVERY_MS, and at the end; a run killed in between leaves
 * it pending, and the next run publishes it first.
 */
import type { Remote } from '../remote/remote.js';
import type { RemoteMirror } from '../state/remote-mirror.js';
import type { CatalogState } from '../state/catalog-state.js';
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

/** A pending change, read back from the local state. */
interface Pending {
  seq: number;
  entry: CatalogEntry;
}

export class CatalogPublisher {
  private readonly pending = new Batcher<CatalogEntry>((batch) => this.state.addPending(batch.map((e) => JSON.stringify(e))));
  private unpublished = 0;
  private lastPublish = Date.now();
  /** The background publish started last (its failure is reported, not thrown). */
  private publishing: Promise<void> = Promise.resolve();
  /** The log writes under way, one after the other (see exclusive). */
  private writing: Promise<void> = Promise.resolve();
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
      this.publishing = this.exclusive(() => this.publishNow())
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
    const background = this.kept;
    this.kept = undefined;
    await this.exclusive(() => this.publishNow(signal));
    if (background !== undefined && this.pendingCount() > 0) throw background;
  }

  /**
   * exclusive runs `fn` once every write of logs started before it has
   * ended: two at once (a run's and the service's player lane's) would read
   * the same pending rows and write them twice.
   */
  private exclusive(fn: () => Promise<void>): Promise<void> {
    const run = this.writing.then(fn);
    this.writing = run.catch(() => undefined);
    return run;
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
    const music: Pending[] = [];
    const lists: Pending[] = [];
    for (const r of this.state.pending()) {
      const entry = JSON.parse(r.entry) as CatalogEntry;
      (isPlaylistKey(entry.key) ? lists : music).push({ seq: r.seq, entry });
    }
    for (const rows of [music, lists]) {
      for (let i = 0; i < rows.length; i += ENTRIES_PER_LOG) await this.writeLog(rows.slice(i, i + ENTRIES_PER_LOG), signal);
    }
  }

  /**
   * writeNow writes `entries` (puts under `music/`) to new log objects at
   * once, after every change queued before them (which keeps their order),
   * without queuing them locally: for changes cheaper to work out again than
   * to queue, such as a media player's metadata, which the player state
   * holds. For each log written, `settle(chunk, key)` runs in the
   * transaction that notes the log as seen: the caller records there what
   * the log says. A crash between a log's write and its settle leaves a log
   * of this machine that its next refresh reads back like another writer's.
   */
  writeNow<E extends CatalogEntry>(entries: readonly E[], settle: (chunk: readonly E[], key: string) => void, signal?: AbortSignal): Promise<void> {
    return this.exclusive(async () => {
      await this.publishNow(signal);
      for (let i = 0; i < entries.length; i += ENTRIES_PER_LOG) {
        const chunk = entries.slice(i, i + ENTRIES_PER_LOG);
        await this.putLog(chunk, (key) => settle(chunk, key), signal);
      }
    });
  }

  /** Writes `chunk` (pending entries) to one new log object, then forgets them locally. */
  private async writeLog(chunk: Pending[], signal?: AbortSignal): Promise<void> {
    await this.putLog(
      chunk.map((r) => r.entry),
      (key) => {
        this.state.dropPendingSeqs(chunk.map((r) => r.seq));
        // This machine's own rows now carry their log key, so that an earlier
        // log of another writer, read later, cannot undo them.
        const music: string[] = [];
        for (const r of chunk) {
          if (r.entry.op !== 'put') continue;
          if (isPlaylistKey(r.entry.key)) this.playlists.stamp(r.entry.key, key);
          else music.push(r.entry.key);
        }
        this.mirror.stampMany(music, key);
      },
      signal,
    );
  }

  /**
   * putLog writes `entries` to one new log object, then runs `settle` with
   * its key in one transaction that also notes the log as seen, and moves
   * the cursor.
   */
  private async putLog(entries: CatalogEntry[], settle: (key: string) => void, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const doc: LogDoc = { v: 1, writer: this.who.writer, entries };
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
      this.state.markSeen(key);
      settle(key);
    });
    if (!cursor || key > cursor) this.mirror.setState({ logCursor: key });
  }
}
