/**
 * The shapes of catalog logs and snapshots, validated with zod: every field of
 * an object from a shared bucket is checked before it is folded in. Loaded
 * lazily (see loadCodec in catalog-codec.ts).
 */
import { z } from 'zod';
import { CratesyncError } from '../errors.js';
import { fieldPath } from '../core/field-path.js';

/** What the shapes depend on, given by catalog-codec.ts (which imports this module lazily, not the other way). */
export interface SchemaFacts {
  musicPrefix: string;
  playlistsPrefix: string;
  logPrefix: string;
  logTime(key: string): number | undefined;
  maxLogEntries: number;
  maxSnapshotEntries: number;
}

/** makeSchemas builds the validators of logs and snapshots. */
export function makeSchemas(f: SchemaFacts): { log: z.ZodType; snapshot: z.ZodType } {
  const text = (max: number) => z.string().max(max);
  const md5 = z.string().regex(/^[0-9a-f]{32}$/, 'not an MD5 (32 hex digits)');
  const musicKey = z
    .string()
    .min(f.musicPrefix.length + 1)
    .max(1024)
    .refine((k) => k.startsWith(f.musicPrefix), `not under ${f.musicPrefix}`);
  /**
   * A playlist's key: `playlists/<user>/<name>.m3u8`, no empty, `.` or `..`
   * component, no control character (a reader still checks the file name it
   * makes of it: playlist-pull.ts).
   */
  const playlistKey = z
    .string()
    .max(1024)
    .refine((k) => {
      if (!k.startsWith(f.playlistsPrefix) || !k.endsWith('.m3u8') || /[\u0000-\u001f\u007f\\]/.test(k)) return false;
      const parts = k.slice(f.playlistsPrefix.length).split('/');
      return parts.length >= 2 && parts.every((p) => p !== '' && p !== '.' && p !== '..');
    }, `not a playlist key (${f.playlistsPrefix}<user>/<name>.m3u8)`);
  const anyKey = z.union([musicKey, playlistKey], { error: `neither under ${f.musicPrefix} nor a playlist key` });
  /** ms since the epoch: a finite, non-negative number (JSON's 1e400 parses as Infinity). */
  const time = z.number().nonnegative();
  const count = (max: number) => z.int().nonnegative().max(max);
  const logKeySchema = z
    .string()
    .max(512)
    .refine((k) => k.startsWith(f.logPrefix) && f.logTime(k) !== undefined, 'not a catalog log key');

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
      bitrate: tag(z.number().nonnegative().max(100_000)),
      lyrics: tag(text(65_536)),
      cover: tag(z.string().regex(/^[0-9a-f]{64}\.(jpg|png|gif|webp)$/)),
    })
    .transform((t) => Object.fromEntries(Object.entries(t).filter(([, v]) => v !== undefined)))
    .optional()
    .catch(undefined);

  /**
   * A player's metadata is treated like tags: bounded, a bad field dropped
   * (the whole of it when its source is unusable), never the log.
   */
  const playerSchema = z
    .object({
      source: text(64),
      rating: tag(z.number().min(0).max(100)),
      playCount: tag(z.int().nonnegative().max(Number.MAX_SAFE_INTEGER)),
      lastPlayed: tag(time),
      starred: tag(time),
      tags: tagsSchema,
    })
    .transform((t) => Object.fromEntries(Object.entries(t).filter(([, v]) => v !== undefined)))
    .optional()
    .catch(undefined);

  /** What a playlist entry says of it: shown and compared only; out of shape, it is dropped (the object stays). */
  const playlistSchema = z
    .object({
      player: text(64),
      smart: z.boolean(),
      name: text(4096),
      position: tag(z.int().nonnegative().max(Number.MAX_SAFE_INTEGER)),
      tracks: count(10_000_000),
    })
    .transform((t) => Object.fromEntries(Object.entries(t).filter(([, v]) => v !== undefined)))
    .optional()
    .catch(undefined);

  const putFields = {
    key: anyKey,
    size: count(Number.MAX_SAFE_INTEGER),
    md5: md5.optional(),
    etag: text(128).optional(),
    audioHash: z.string().regex(/^[0-9a-f]{64}$/, 'not an audio hash (64 hex digits)').optional(),
    tags: tagsSchema,
    player: playerSchema,
    playlist: playlistSchema,
    at: time,
  };

  const entrySchema = z.discriminatedUnion('op', [
    z.object({ op: z.literal('put'), ...putFields }),
    z.object({ op: z.literal('del'), key: anyKey, at: time }),
  ]);

  const logSchema = z.object({
    v: z.literal(1),
    writer: text(256),
    entries: z.array(entrySchema).max(f.maxLogEntries),
  });

  const snapshotSchema = z.object({
    v: z.literal(1),
    kind: z.literal('snapshot'),
    writer: text(256),
    covers: logKeySchema,
    logs: z.array(logKeySchema).max(f.maxLogEntries),
    playlists: z.array(z.object({ ...putFields, key: playlistKey, writer: text(256), log: logKeySchema })).max(f.maxSnapshotEntries).optional(),
    entries: z.array(z.object({ ...putFields, key: musicKey, writer: text(256), log: logKeySchema })).max(f.maxSnapshotEntries),
  });
  return { log: logSchema, snapshot: snapshotSchema };
}

/** check validates `doc` as a log or a snapshot; throws CratesyncError naming the first field out of shape. */
export function check(schema: z.ZodType, doc: unknown, what: string): unknown {
  const v = (doc as { v?: unknown } | null)?.v;
  if (typeof doc === 'object' && doc !== null && v !== 1) {
    throw new CratesyncError(`${what}: unknown version ${JSON.stringify(v)} (written by a newer cratesync?); skipped`);
  }
  const r = schema.safeParse(doc);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = fieldPath(issue?.path ?? []);
  throw new CratesyncError(`${what}: ${where}: ${issue?.message ?? 'malformed'}; skipped`);
}
