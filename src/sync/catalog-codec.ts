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
import { z } from 'zod';
import type { Tags } from '../core/tags.js';
import { CratesyncError, describe } from '../errors.js';
import { META_PREFIX, MUSIC_PREFIX } from './layout.js';

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
  entries: SnapshotEntry[];
}

const text = (max: number) => z.string().max(max);
const md5 = z.string().regex(/^[0-9a-f]{32}$/, 'not an MD5 (32 hex digits)');
const musicKey = z
  .string()
  .min(MUSIC_PREFIX.length + 1)
  .max(1024)
  .refine((k) => k.startsWith(MUSIC_PREFIX), `not under ${MUSIC_PREFIX}`);
/** ms since the epoch: a finite, non-negative number (JSON's 1e400 parses as Infinity). */
const time = z.number().nonnegative();
const count = (max: number) => z.int().nonnegative().max(max);
const logKeySchema = z
  .string()
  .max(512)
  .refine((k) => k.startsWith(LOG_PREFIX) && logTime(k) !== undefined, 'not a catalog log key');

/**
 * Tags are only ever shown and compared, never trusted for anything else: a
 * known field of the wrong type or size is dropped (not the whole log, which
 * a tag read oddly from one file must not cost), unknown fields too.
 */
const tag = <T extends z.ZodType>(t: T) => t.optional().catch(undefined);
const tagsSchema = z
  .object({
    title: tag(text(4096)),
    artist: tag(text(4096)),
    album: tag(text(4096)),
    albumArtist: tag(text(4096)),
    genre: tag(text(4096)),
    year: tag(z.number()),
    track: tag(z.number()),
    disc: tag(z.number()),
    bpm: tag(z.number()),
    rating: tag(z.number()),
    comment: tag(text(16_384)),
    durationSec: tag(z.number()),
  })
  .transform((t) => Object.fromEntries(Object.entries(t).filter(([, v]) => v !== undefined)))
  .optional()
  .catch(undefined);

const putFields = {
  key: musicKey,
  size: count(Number.MAX_SAFE_INTEGER),
  md5: md5.optional(),
  etag: text(128).optional(),
  audioHash: z.string().regex(/^[0-9a-f]{64}$/, 'not an audio hash (64 hex digits)').optional(),
  tags: tagsSchema,
  at: time,
};

const entrySchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('put'), ...putFields }),
  z.object({ op: z.literal('del'), key: musicKey, at: time }),
]);

const logSchema = z.object({
  v: z.literal(1),
  writer: text(256),
  entries: z.array(entrySchema).max(MAX_LOG_ENTRIES),
});

const snapshotSchema = z.object({
  v: z.literal(1),
  kind: z.literal('snapshot'),
  writer: text(256),
  covers: logKeySchema,
  logs: z.array(logKeySchema).max(MAX_LOG_ENTRIES),
  entries: z.array(z.object({ ...putFields, writer: text(256), log: logKeySchema })).max(MAX_SNAPSHOT_ENTRIES),
});

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
  return check(logSchema, doc, `catalog log ${key}`) as LogDoc;
}

/**
 * decodeSnapshot parses a snapshot object, with the bounds of decodeLog
 * (MAX_SNAPSHOT_BYTES, MAX_SNAPSHOT_ENTRIES). Beyond its shape, a snapshot
 * must agree with its own key (it covers the log its name says) and name no
 * log after the one it covers. Throws CratesyncError naming `key`.
 */
export function decodeSnapshot(buf: Buffer, key: string): SnapshotDoc {
  const what = `catalog snapshot ${key}`;
  const doc = check(snapshotSchema, inflate(buf, what, MAX_SNAPSHOT_BYTES, MAX_SNAPSHOT_ENTRIES), what) as SnapshotDoc;
  const bad = (why: string) => new CratesyncError(`${what}: ${why}; skipped`);
  if (logTime(key) !== logTime(doc.covers)) throw bad(`its name does not match the log it says it covers (${doc.covers})`);
  const late = doc.entries.find((e) => e.log > doc.covers) ?? doc.logs.find((l) => l > doc.covers);
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

function check(schema: z.ZodType, doc: unknown, what: string): unknown {
  const v = (doc as { v?: unknown } | null)?.v;
  if (typeof doc === 'object' && doc !== null && v !== 1) {
    throw new CratesyncError(`${what}: unknown version ${JSON.stringify(v)} (written by a newer cratesync?); skipped`);
  }
  const r = schema.safeParse(doc);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue?.path.length ? issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') : 'document';
  throw new CratesyncError(`${what}: ${where}: ${issue?.message ?? 'malformed'}; skipped`);
}
