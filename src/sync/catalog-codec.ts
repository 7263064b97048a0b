/**
 * The remote catalog's objects and their keys (see catalog.ts): log objects
 * (the changes of part of one run) and snapshots (the whole folded catalog as
 * of one log). Both are gzipped JSON written by any crew member's machine, so
 * reading them is reading untrusted input: the inflated size, the number of
 * entries and every field are bounded and checked (zod) before anything is
 * folded into the mirror.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createGzip, gunzipSync, gzipSync } from 'node:zlib';
import type { PlayerMeta, Tags } from '../core/tags.js';
import type { PlaylistMeta } from '../core/playlist-meta.js';
import { CratesyncError, describe } from '../errors.js';
import { META_PREFIX, MUSIC_PREFIX, PLAYLISTS_PREFIX } from './layout.js';

export const CATALOG_PREFIX = `${META_PREFIX}catalog/`;
export const LOG_PREFIX = `${CATALOG_PREFIX}log/`;
export const SNAP_PREFIX = `${CATALOG_PREFIX}snap/`;

/**
 * A log may inflate to this much. A run writes at most a few thousand entries
 * per log (a few MB with tags), so this is generous; it stops a gzip bomb (a
 * few MB inflating to GBs) long before memory runs out. Decoding is
 * synchronous, so however many logs are fetched at once only one is ever
 * inflated at a time.
 */
export const MAX_LOG_BYTES = 64 * 1024 * 1024;
/** Entries a log may hold: far above what one run writes to one log. */
export const MAX_LOG_ENTRIES = 100_000;
/**
 * A snapshot holds the whole catalog: a library of 100,000 tagged files is a
 * few tens of MB of JSON. This leaves several times that, and stays below
 * the longest string V8 can make (about 512 MiB), which JSON parsing needs.
 */
export const MAX_SNAPSHOT_BYTES = 256 * 1024 * 1024;
/** Objects a snapshot may hold: ten times the library size cratesync is built for. */
export const MAX_SNAPSHOT_ENTRIES = 1_000_000;

/**
 * An object stored (uploaded, copied or restored) at `key`: an audio file
 * under `music/`, or a playlist under `playlists/` (see layout.ts). A log
 * holds entries of one kind only (catalog-publisher.ts): a cratesync that
 * knows only `music/` refuses a log with any other key, whole, and so loses
 * only the playlists' logs.
 */
export interface CatalogPut {
  op: 'put';
  key: string;
  size: number;
  /** Absent only when the writer did not know it (a restore from trash of a multipart object). */
  md5?: string;
  etag?: string;
  audioHash?: string;
  tags?: Tags;
  /**
   * What a media player knows of the song (music only). A put without it of
   * unchanged content (same MD5) keeps what was known: a machine with no
   * player re-uploading a file does not erase another's ratings.
   */
  player?: PlayerMeta;
  /** What the playlist is (playlists only). */
  playlist?: PlaylistMeta;
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

/** One object as a snapshot holds it: its last put, who wrote it, and the log that said so. */
export interface SnapshotEntry extends Omit<CatalogPut, 'op'> {
  writer: string;
  /** The log object whose entry set it (a log key, at most `covers`). */
  log: string;
}

/** A snapshot: the catalog folded from every log up to `covers`. */
export interface SnapshotDoc {
  v: 1;
  kind: 'snapshot';
  /** Who wrote the snapshot (`user@machine`). */
  writer: string;
  /** The newest log key it covers. */
  covers: string;
  /**
   * The logs folded in whose time is within the late-landing window before
   * `covers`: a reader marks them read instead of fetching them again.
   */
  logs: string[];
  /**
   * The playlists (keys under `playlists/`), apart from `entries`: a reader
   * that knows only music ignores this field (zod strips unknown keys) and
   * still takes the snapshot.
   */
  playlists?: SnapshotEntry[];
  entries: SnapshotEntry[];
}

/** logStamp is the sortable time part of a catalog key: `20261120T230358618Z`. */
export function logStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:.]/g, '');
}

/** logTime reads the time back from a log or snapshot key; undefined for a key not made by logKey or snapshotKey. */
export function logTime(key: string): number | undefined {
  const m = /(\d{8})T(\d{6})(\d{3})Z-[^/]*$/.exec(key);
  if (!m) return undefined;
  const [, d = '', t = '', ms = ''] = m;
  const iso = `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${t.slice(0, 2)}:${t.slice(2, 4)}:${t.slice(4, 6)}.${ms}Z`;
  const v = Date.parse(iso);
  return Number.isNaN(v) ? undefined : v;
}

/** logKey is a new log object's key: its time first (keys sort by time), then who wrote it, then a random part. */
export function logKey(ms: number, machine: string): string {
  return `${LOG_PREFIX}${logStamp(ms)}-${machine}-${randomBytes(3).toString('hex')}.json.gz`;
}

/**
 * snapshotKey is a new snapshot's key: named by the time of the log it
 * covers, so that snapshot keys sort by what they cover, then by writer and a
 * random part, so that no two writers ever write the same key.
 */
export function snapshotKey(covers: string, machine: string): string {
  return `${SNAP_PREFIX}${logStamp(logTime(covers) ?? 0)}-${machine}-${randomBytes(3).toString('hex')}.json.gz`;
}

export function encodeLog(doc: LogDoc): Buffer {
  return gzipSync(JSON.stringify(doc));
}

export function encodeSnapshot(doc: SnapshotDoc): Buffer {
  return gzipSync(JSON.stringify(doc));
}

/**
 * encodeSnapshotPaged gzips a snapshot whose entries come a page at a time
 * from `next` (until it returns an empty page), as it goes: a catalog of
 * 100,000 objects is never held whole, as objects or as JSON. Returns
 * undefined, having written nothing, past MAX_SNAPSHOT_BYTES of JSON (no
 * reader would accept it).
 */
export async function encodeSnapshotPaged(head: Omit<SnapshotDoc, 'entries'>, next: () => SnapshotEntry[]): Promise<Buffer | undefined> {
  const gz = createGzip();
  const out: Buffer[] = [];
  gz.on('data', (c: Buffer) => out.push(c));
  const ended = once(gz, 'end');
  let bytes = 0;
  const write = async (s: string) => {
    bytes += Buffer.byteLength(s);
    if (!gz.write(s)) await once(gz, 'drain');
  };
  // The head as JSON with the entries last, opened: `{…,"entries":[`.
  await write(JSON.stringify({ ...head, entries: [] }).slice(0, -2));
  for (let first = true; ; first = false) {
    const page = next();
    if (page.length === 0) break;
    await write(`${first ? '' : ','}${page.map((e) => JSON.stringify(e)).join(',')}`);
    if (bytes > MAX_SNAPSHOT_BYTES) {
      gz.destroy();
      return undefined;
    }
  }
  await write(']}');
  gz.end();
  await ended;
  return Buffer.concat(out);
}

/**
 * decodeLog parses a log object. Throws CratesyncError naming `key` when it
 * is not one: not gzip, inflating past MAX_LOG_BYTES, more than
 * MAX_LOG_ENTRIES entries, or any field out of shape.
 */
export function decodeLog(buf: Buffer, key: string): LogDoc {
  const doc = inflate(buf, `catalog log ${key}`, MAX_LOG_BYTES, MAX_LOG_ENTRIES);
  return codec().check(codec().schemas.log, doc, `catalog log ${key}`) as LogDoc;
}

/**
 * decodeSnapshot parses a snapshot object, with the bounds of decodeLog
 * (MAX_SNAPSHOT_BYTES, MAX_SNAPSHOT_ENTRIES). Beyond its shape, a snapshot
 * must agree with its own key (it covers the log its name says) and name no
 * log after the one it covers. Throws CratesyncError naming `key`.
 */
export function decodeSnapshot(buf: Buffer, key: string): SnapshotDoc {
  const what = `catalog snapshot ${key}`;
  const doc = codec().check(codec().schemas.snapshot, inflate(buf, what, MAX_SNAPSHOT_BYTES, MAX_SNAPSHOT_ENTRIES), what) as SnapshotDoc;
  const bad = (why: string) => new CratesyncError(`${what}: ${why}; skipped`);
  if (logTime(key) !== logTime(doc.covers)) throw bad(`its name does not match the log it says it covers (${doc.covers})`);
  const late = doc.entries.find((e) => e.log > doc.covers) ?? doc.playlists?.find((e) => e.log > doc.covers) ?? doc.logs.find((l) => l > doc.covers);
  if (late) throw bad(`names a log after the one it covers`);
  return doc;
}

/**
 * inflate gunzips and parses `buf`, refusing past `maxBytes` inflated (zlib
 * stops there: a bomb never takes more) or an `entries` array longer than
 * `maxEntries` (checked before the entries are: a forged log of millions of
 * entries is refused at once).
 */
function inflate(buf: Buffer, what: string, maxBytes: number, maxEntries: number): unknown {
  let json: string;
  try {
    json = gunzipSync(buf, { maxOutputLength: maxBytes }).toString('utf8');
  } catch (err) {
    const big = (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
    throw new CratesyncError(`${what} is unreadable (${big ? `inflates past ${maxBytes / 1048576} MiB` : describe(err)}); skipped`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (err) {
    throw new CratesyncError(`${what} is unreadable (${describe(err)}); skipped`);
  }
  const entries = (doc as { entries?: unknown } | null)?.entries;
  if (Array.isArray(entries) && entries.length > maxEntries) {
    throw new CratesyncError(`${what}: ${entries.length} entries, more than the ${maxEntries} allowed; skipped`);
  }
  return doc;
}

type SchemaModule = typeof import('./catalog-schema.js');
type Codec = { check: SchemaModule['check']; schemas: ReturnType<SchemaModule['makeSchemas']> };
let loaded: Codec | undefined;

/**
 * loadCodec loads the validators of logs and snapshots (zod). Loading zod is
 * a noticeable share of a run's start-up, and most runs (a no-op) decode no
 * catalog object: only a run about to decode one pays for it. Call it before
 * decodeLog or decodeSnapshot.
 */
export async function loadCodec(): Promise<void> {
  if (loaded) return;
  const m = await import('./catalog-schema.js');
  const facts = { musicPrefix: MUSIC_PREFIX, playlistsPrefix: PLAYLISTS_PREFIX, logPrefix: LOG_PREFIX, logTime, maxLogEntries: MAX_LOG_ENTRIES, maxSnapshotEntries: MAX_SNAPSHOT_ENTRIES };
  loaded ??= { check: m.check, schemas: m.makeSchemas(facts) };
}

function codec(): Codec {
  if (!loaded) throw new Error('catalog codec used before loadCodec()');
  return loaded;
}
