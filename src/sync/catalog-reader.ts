/**
 * Reading the catalog log: listing the log objects after a cursor (minus the
 * late-landing window), fetching them a few at a time, and folding them into
 * the mirror in key order. What is read is untrusted: an unreadable or
 * oversized log is reported once and skipped; entries dated in the future
 * are dropped and reported once per log.
 */
import type { Remote } from '../remote/remote.js';
import type { MirrorObject, RemoteMirror } from '../state/remote-mirror.js';
import type { CatalogState } from '../state/catalog-state.js';
import type { PlaylistMirror } from '../state/remote-playlists.js';
import type { Problem } from '../core/problem.js';
import type { LogDoc } from './catalog-codec.js';
import { decodeLog, loadCodec, LOG_PREFIX, logStamp, logTime, MAX_LOG_BYTES } from './catalog-codec.js';
import { entryObject, foldPlaylistPut, LOG_WINDOW_MS, MAX_CLOCK_SKEW_MS, playlistEntryObject, supersedes } from './catalog-fold.js';
import { isPlaylistKey } from './layout.js';
import { ByteBudget } from '../remote/byte-budget.js';
import { forEachLimit } from '../core/concurrency.js';
import { describe } from '../errors.js';

/** Log objects fetched at once. */
const READ_AHEAD = 8;

/** A log object as listed: its key and (when the listing says) its stored size. */
export interface ListedLog {
  key: string;
  size: number;
}

export interface ReadLogsInput {
  remote: Remote;
  mirror: RemoteMirror;
  /** Where entries under `playlists/` go (never into `mirror`, which the music planner reads). */
  playlists: PlaylistMirror;
  state: CatalogState;
  problems: Problem[];
  /** The reader's clock (ms), for entries dated in the future. */
  now: number;
  signal?: AbortSignal;
}

/**
 * listLogs lists the log objects from LOG_WINDOW_MS before `cursor` (all when
 * there is none), in key order.
 */
export async function listLogs(remote: Remote, cursor: string | undefined, signal?: AbortSignal): Promise<ListedLog[]> {
  const from = cursor ? logTime(cursor) : undefined;
  const out: ListedLog[] = [];
  const listing = remote.list(LOG_PREFIX, {
    ...(from !== undefined ? { startAfter: `${LOG_PREFIX}${logStamp(Math.max(0, from - LOG_WINDOW_MS))}` } : {}),
    ...(signal ? { signal } : {}),
  });
  for await (const obj of listing) if (obj.key.endsWith('.json.gz')) out.push({ key: obj.key, size: obj.size });
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * readLogs folds in the listed logs not seen yet, in key order, and moves the
 * mirror's cursor to the newest; returns how many it read. At most
 * READ_AHEAD logs are fetched at once and their stored bytes held are
 * bounded by MAX_LOG_BYTES together; each is decoded (bounded in turn by
 * decodeLog) only when its turn to be folded comes, so one at a time.
 * A log dated past the reader's clock (plus MAX_CLOCK_SKEW_MS) is reported
 * and not read, and does not move the cursor.
 */
export async function readLogs(logs: readonly ListedLog[], o: ReadLogsInput): Promise<number> {
  const { remote, mirror, state, problems, now, signal } = o;
  const keys: ListedLog[] = [];
  for (const l of logs) {
    if (state.seen(l.key)) continue;
    const t = logTime(l.key);
    if (t !== undefined && t > now + MAX_CLOCK_SKEW_MS) {
      problems.push({ path: l.key, message: `catalog log dated ${new Date(t).toISOString()}, in the future: ignored` });
      state.markSeen(l.key);
      continue;
    }
    keys.push(l);
  }
  if (keys.length === 0) return 0;
  const cursor = mirror.state().logCursor;
  let newest = cursor;
  const budget = new ByteBudget(MAX_LOG_BYTES);
  type Fetched = { buf?: Buffer; err?: unknown; release: () => void };
  const fetch = async (l: ListedLog): Promise<Fetched> => {
    if (l.size > MAX_LOG_BYTES) return { err: new Error(`stored size ${l.size} bytes, more than a log may be`), release: () => {} };
    let release = () => {};
    try {
      release = await budget.acquire(l.size, signal);
      return { buf: await remote.read(l.key, signal ? { signal } : {}), release };
    } catch (err) {
      release();
      return { err, release: () => {} };
    }
  };
  const inFlight: Array<Promise<Fetched>> = [];
  for (let i = 0; i < Math.min(READ_AHEAD, keys.length); i++) inFlight.push(fetch(keys[i]!));
  await loadCodec();
  const suspects = new Map<string, MirrorObject[]>();
  for (let i = 0; i < keys.length; i++) {
    const { key } = keys[i]!;
    const got = await inFlight[i]!;
    delete inFlight[i];
    const next = keys[i + READ_AHEAD];
    if (next) inFlight[i + READ_AHEAD] = fetch(next);
    let doc: LogDoc | undefined;
    try {
      if (got.err !== undefined) throw got.err;
      doc = decodeLog(got.buf!, key);
    } catch (err) {
      if (signal?.aborted) {
        await Promise.all(inFlight.filter(Boolean));
        throw err;
      }
      // A log that cannot be read now (unreadable or vanished) is skipped for good:
      // the periodic full listing covers whatever it held.
      problems.push({ path: key, message: describe(err) });
    } finally {
      got.release();
    }
    mirror.batch(() => {
      if (doc) applyLog(doc, key, o, suspects);
      state.markSeen(key);
    });
    if (!newest || key > newest) newest = key;
  }
  if (newest && newest !== cursor) mirror.setState({ logCursor: newest });
  await settle(remote, mirror, suspects, signal);
  return keys.length;
}

/**
 * applyLog folds one log object into the mirror (inside a mirror batch).
 * Keys another writer also stored within LOG_WINDOW_MS are noted in
 * `suspects` with both versions, for settle(). Entries dated in the future
 * are dropped, with one problem for the log.
 */
function applyLog(doc: LogDoc, key: string, o: ReadLogsInput, suspects: Map<string, MirrorObject[]>): void {
  const { mirror } = o;
  let future = 0;
  for (const e of doc.entries) {
    if (e.at > o.now + MAX_CLOCK_SKEW_MS) {
      future++;
      continue;
    }
    if (isPlaylistKey(e.key)) {
      if (e.op === 'put') foldPlaylistPut(o.playlists, playlistEntryObject(e, doc.writer, key));
      else if (supersedes(o.playlists.get(e.key), key, e.at)) o.playlists.remove(e.key);
      continue;
    }
    const row = mirror.get(e.key);
    if (e.op === 'put' && row?.writer && row.writer !== doc.writer && row.writtenAt !== undefined && Math.abs(row.writtenAt - e.at) < LOG_WINDOW_MS) {
      const versions = suspects.get(e.key) ?? [row];
      versions.push(entryObject(e, doc.writer, key));
      suspects.set(e.key, versions);
    }
    if (!supersedes(row, key, e.at)) continue;
    if (e.op === 'del') mirror.removeNow(e.key);
    else mirror.putNow(entryObject(e, doc.writer, key));
  }
  if (future > 0) {
    o.problems.push({ path: key, message: `${future} catalog ${future === 1 ? 'entry' : 'entries'} dated in the future (past this machine's clock by more than ${MAX_CLOCK_SKEW_MS / 60_000} minutes): ignored` });
  }
}

/**
 * settle decides objects that two writers stored within moments of each
 * other. S3 keeps whichever PUT landed last, which need not be the one whose
 * log sorts last; the object's ETag tells which version is there. A version
 * that matches neither loses what the catalog said of it (its MD5 is then
 * found as for any listed object).
 */
async function settle(remote: Remote, mirror: RemoteMirror, suspects: Map<string, MirrorObject[]>, signal?: AbortSignal): Promise<void> {
  if (suspects.size === 0) return;
  await forEachLimit(
    [...suspects],
    READ_AHEAD,
    async ([key, versions]) => {
      let now;
      try {
        now = await remote.stat(key);
      } catch {
        return; // gone or unreachable: the next full listing settles it
      }
      if (!now.etag) return; // no way to tell versions apart (folders): the later log stands
      const match = versions.find((v) => v.etag === now.etag);
      mirror.put(match ? { ...match, ...now } : { key, size: now.size, etag: now.etag, ...(now.mtime ? { mtime: now.mtime } : {}) });
    },
    signal,
  );
  mirror.flush();
}
