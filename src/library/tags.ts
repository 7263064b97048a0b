/**
 * Reading tags with music-metadata. Only the common tags a music library
 * syncs are kept, with the embedded front cover (named by its content, see
 * core/cover-name.ts) and the unsynchronised lyrics; duration scans are
 * skipped so that reading stays a header parse, not a read of the whole file.
 */
import type { IPicture } from 'music-metadata';
import type { Tags } from '../core/tags.js';
import { coverName } from '../core/cover-name.js';

/** Extensions music-metadata is asked about; other files (covers, cue, playlists) have no tags. */
const TAGGED = new Set(['.mp3', '.flac', '.m4a', '.aac', '.alac', '.mp4', '.ogg', '.oga', '.opus', '.wav', '.aif', '.aiff', '.aifc', '.wma']);

export function hasTags(ext: string): boolean {
  return TAGGED.has(ext.toLowerCase());
}

type MusicMetadata = typeof import('music-metadata');
let mm: Promise<MusicMetadata> | undefined;

const OPTIONS = { skipCovers: false, duration: false, skipPostHeaders: true } as const;

/**
 * What {@link readMedia} reads, as a version recorded with each file's tags in
 * the file index (FileRecord.mediaV). Raised whenever it learns to read more:
 * files an older reader described are then read again, without hashing, on
 * the next push or sync (sync/media-refresh.ts). 1 added bitrate, lyrics and
 * the cover.
 */
export const MEDIA_VERSION = 1;

/** Lyrics past this many UTF-8 bytes are cut: a tag is no place for a book. */
export const MAX_LYRICS_BYTES = 64 * 1024;
/** An embedded picture larger than this is not kept as the cover. */
export const MAX_COVER_BYTES = 16 * 1024 * 1024;

/** An audio file's tags and, when it embeds one, its cover's bytes (named by Tags.cover). */
export interface MediaInfo {
  tags: Tags;
  cover?: { name: string; data: Uint8Array };
}

/**
 * readMedia parses the tags of the audio file at `path` (from `data` when it
 * holds the whole file already) with its cover: the front cover when it has
 * one, else its first picture, kept when it is a JPEG, PNG, GIF or WebP (by
 * its bytes, whatever it claims) of at most MAX_COVER_BYTES. Throws whatever
 * music-metadata throws for corrupt or unsupported files; callers treat that
 * as "no tags", not as a reason to skip the file.
 */
export async function readMedia(path: string, data?: Uint8Array): Promise<MediaInfo> {
  mm ??= import('music-metadata');
  const { parseFile, parseBuffer } = await mm;
  const { common, format } = data
    ? await parseBuffer(data, { path, size: data.length }, OPTIONS)
    : await parseFile(path, OPTIONS);
  const tags: Tags = {};
  const set = <K extends keyof Tags>(k: K, v: Tags[K] | null | undefined) => {
    if (v !== undefined && v !== null && v !== '' && !(typeof v === 'number' && Number.isNaN(v))) tags[k] = v;
  };
  set('title', common.title);
  set('artist', common.artist);
  set('album', common.album);
  set('albumArtist', common.albumartist);
  set('genre', common.genre?.[0]);
  set('year', common.year);
  set('track', common.track.no);
  set('disc', common.disk.no);
  set('bpm', common.bpm);
  set('rating', common.rating?.[0]?.rating);
  set('comment', typeof common.comment?.[0] === 'string' ? common.comment[0] : common.comment?.[0]?.text);
  set('durationSec', format.duration);
  if (format.bitrate && Number.isFinite(format.bitrate) && format.bitrate > 0) set('bitrate', Math.round(format.bitrate / 1000));
  set('lyrics', boundLyrics(common.lyrics?.find((l) => typeof l.text === 'string' && l.text.trim() !== '')?.text));
  const picture = pickPicture(common.picture);
  const name = picture && picture.data.length <= MAX_COVER_BYTES ? coverName(picture.data) : undefined;
  if (!picture || !name) return { tags };
  tags.cover = name;
  return { tags, cover: { name, data: picture.data } };
}

/** readTags is {@link readMedia} without the cover's bytes (Tags.cover still names it). */
export async function readTags(path: string, data?: Uint8Array): Promise<Tags> {
  return (await readMedia(path, data)).tags;
}

/** pickPicture takes the front cover, else the first picture. */
function pickPicture(pictures: IPicture[] | undefined): IPicture | undefined {
  return pictures?.find((p) => p.type === 'Cover (front)') ?? pictures?.[0];
}

/** boundLyrics cuts `text` to MAX_LYRICS_BYTES of UTF-8, never inside a character. */
function boundLyrics(text: string | undefined): string | undefined {
  if (text === undefined || Buffer.byteLength(text) <= MAX_LYRICS_BYTES) return text;
  return Buffer.from(text).subarray(0, MAX_LYRICS_BYTES).toString('utf8').replace(/\uFFFD+$/, '');
}
