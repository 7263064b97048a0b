/**
 * Folding catalog knowledge into the mirror: the rules a log entry or a
 * snapshot entry must pass, and which of two claims about one object wins.
 * Shared by the log reader and the snapshot reader.
 */
import type { MirrorObject, RemoteMirror } from '../state/remote-mirror.js';
import type { PlaylistMirror, PlaylistObject } from '../state/remote-playlists.js';
import type { CatalogPut } from './catalog-codec.js';
import { parseEtag } from '../core/etag.js';

/** How far before its cursor a reader looks again for logs that landed late. */
export const LOG_WINDOW_MS = 10 * 60 * 1000;

/**
 * How far in the future (by the reader's clock) an entry or a log may be
 * dated: clocks of a crew's machines differ by seconds, rarely minutes. An
 * entry dated later is forged or from a broken clock, and would otherwise
 * win over every true entry written before that date.
 */
export const MAX_CLOCK_SKEW_MS = 10 * 60 * 1000;

/**
 * entryObject is what a put entry of log `logKey` says of its object. An
 * entry whose plain (single-part) ETag contradicts its own MD5 keeps the
 * ETag's (the server's word) and loses the audio hash and tags, which were
 * said of other content.
 */
export function entryObject(e: Omit<CatalogPut, 'op'>, writer: string, logKey: string): MirrorObject {
  const o: MirrorObject = { key: e.key, size: e.size, writer, writtenAt: e.at, logKey };
  const plain = parseEtag(e.etag).md5;
  const honest = !plain || !e.md5 || plain === e.md5;
  const md5 = plain ?? e.md5;
  if (md5) o.md5 = md5;
  if (e.etag) o.etag = e.etag;
  if (honest && e.audioHash) o.audioHash = e.audioHash;
  if (honest && e.tags) o.tags = e.tags;
  if (honest && e.player) o.player = e.player;
  return o;
}

/** playlistEntryObject is what a put entry of log `logKey` says of a playlist object (see entryObject). */
export function playlistEntryObject(e: Omit<CatalogPut, 'op'>, writer: string, logKey: string): PlaylistObject & { logKey: string; writtenAt: number } {
  const o: PlaylistObject & { logKey: string; writtenAt: number } = { key: e.key, size: e.size, writer, writtenAt: e.at, logKey };
  const plain = parseEtag(e.etag).md5;
  const md5 = plain ?? e.md5;
  if (md5) o.md5 = md5;
  if (e.etag) o.etag = e.etag;
  if (e.playlist && (!plain || !e.md5 || plain === e.md5)) o.playlist = e.playlist;
  return o;
}

/**
 * supersedes says whether knowledge from log `logKey`, about a change made at
 * `at`, may replace the mirror's `row`: not when a later log set the row
 * already (an earlier log read late), nor when a listing saw the object
 * written later than that (by another tool).
 */
export function supersedes(row: Pick<MirrorObject, 'logKey' | 'mtime'> | undefined, logKey: string, at: number): boolean {
  if (row?.logKey && row.logKey > logKey) return false;
  if (row && !row.logKey && row.mtime && row.mtime.getTime() > at + LOG_WINDOW_MS) return false;
  return true;
}

/** Folds one put into the mirror at once (inside a mirror batch) when it supersedes what is there. */
export function foldPut(mirror: RemoteMirror, o: MirrorObject & { logKey: string; writtenAt: number }): void {
  if (supersedes(mirror.get(o.key), o.logKey, o.writtenAt)) mirror.putNow(o);
}

/** Folds one playlist put into the playlist mirror (inside a batch) when it supersedes what is there. */
export function foldPlaylistPut(playlists: PlaylistMirror, o: PlaylistObject & { logKey: string; writtenAt: number }): void {
  if (supersedes(playlists.get(o.key), o.logKey, o.writtenAt)) playlists.put(o);
}
