/**
 * Reading tags with music-metadata. Only the common tags a music library
 * syncs are kept; covers and duration scans are skipped so that reading stays
 * a header parse, not a read of the whole file.
 */
import type { Tags } from '../core/tags.js';

/** Extensions music-metadata is asked about; other files (covers, cue, playlists) have no tags. */
const TAGGED = new Set(['.mp3', '.flac', '.m4a', '.aac', '.alac', '.mp4', '.ogg', '.oga', '.opus', '.wav', '.aif', '.aiff', '.aifc', '.wma']);

export function hasTags(ext: string): boolean {
  return TAGGED.has(ext.toLowerCase());
}

type MusicMetadata = typeof import('music-metadata');
let mm: Promise<MusicMetadata> | undefined;

const OPTIONS = { skipCovers: true, duration: false, skipPostHeaders: true } as const;

/**
 * readTags parses the tags of the audio file at `path`; when `data` holds the
 * whole file already, it is parsed from memory instead of read again. Throws
 * whatever music-metadata throws for corrupt or unsupported files; callers
 * treat that as "no tags", not as a reason to skip the file.
 */
export async function readTags(path: string, data?: Uint8Array): Promise<Tags> {
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
  return tags;
}
