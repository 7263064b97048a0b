/**
 * The reader's side of another user's collection: each track, matched by the
 * pusher to an object under `music/` (collection-index.ts), becomes a file of
 * the reader's own library — the same path when the reader has it, else a
 * file of the reader's with the same content (a copy kept under another
 * name), else the path where a pull would put it (missing, listed).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { IndexedTrack } from './collection-index.js';
import { nfc } from '../library/names.js';
import { unsafeLibraryPath } from './collection-index-codec.js';

export interface ReaderFiles {
  /** The reader's library root: absolute, native. */
  root: string;
  /** The absolute path, as spelled on disk, of the library's file at library path `path` (NFC); undefined when there is none. */
  find(path: string): string | undefined;
  /** Library paths of the reader's files whose content has MD5 `md5`. */
  withMd5(md5: string): readonly string[];
  /** The content MD5 of the bucket's object at library path `path`, when known. */
  objectMd5(path: string): string | undefined;
  /** The size of the bucket's object at `path`, when it is there. */
  objectSize(path: string): number | undefined;
}

/** have: the reader has the file; same-content: under another path; missing: in the bucket only; unmatched: in no object. */
export type TrackState = 'have' | 'same-content' | 'missing' | 'unmatched';

export interface ResolvedTrack {
  id: string;
  state: TrackState;
  /** Library path in the reader's library: the file's (have, same-content) or where a pull puts it (missing). */
  path?: string;
  /** The same as an absolute path: as spelled on disk when the file is there. */
  abs?: string;
  /** The bucket's object (library path) the pusher matched it to. */
  object?: string;
  /** Bytes to download (missing). */
  size?: number;
  why?: string;
}

/** resolveTracks resolves every indexed track for the reader; see the file's comment. */
export function resolveTracks(tracks: readonly IndexedTrack[], r: ReaderFiles): Map<string, ResolvedTrack> {
  const out = new Map<string, ResolvedTrack>();
  for (const t of tracks) {
    if (t.path === undefined || unsafeLibraryPath(t.path)) {
      out.set(t.id, { id: t.id, state: 'unmatched', why: t.path !== undefined ? `unsafe path ${JSON.stringify(t.path)}` : (t.why ?? 'matched no object in the bucket') });
      continue;
    }
    const object = t.path;
    const abs = r.find(object);
    if (abs !== undefined) {
      out.set(t.id, { id: t.id, state: 'have', path: object, abs, object });
      continue;
    }
    const md5 = r.objectMd5(object);
    let same: { path: string; abs: string } | undefined;
    for (const p of md5 ? r.withMd5(md5) : []) {
      const a = r.find(p);
      if (a !== undefined) {
        same = { path: p, abs: a };
        break;
      }
    }
    if (same !== undefined) {
      out.set(t.id, { id: t.id, state: 'same-content', ...same, object });
      continue;
    }
    const size = r.objectSize(object) ?? t.size;
    if (r.objectSize(object) === undefined) {
      out.set(t.id, { id: t.id, state: 'unmatched', path: object, object, why: 'its object is no longer in the bucket' });
      continue;
    }
    out.set(t.id, { id: t.id, state: 'missing', path: object, abs: join(r.root, ...object.split('/')), object, ...(size !== undefined ? { size } : {}) });
  }
  return out;
}

/**
 * findOnDisk returns the absolute path of the file at library path `path`
 * (NFC) under `root` as it is spelled on disk (macOS volumes may hold NFD
 * names), or undefined when there is none. Folder listings are cached in
 * `cache` across calls.
 */
export function findOnDisk(root: string, path: string, cache: Map<string, Map<string, string>> = new Map()): string | undefined {
  const plain = join(root, ...path.split('/'));
  if (existsSync(plain)) return plain;
  if (/^[\x20-\x7e]*$/.test(path)) return undefined; // one spelling only
  const spelled = onDisk(root, path, cache);
  return spelled !== plain && existsSync(spelled) ? spelled : undefined;
}

/**
 * onDisk returns the absolute path of library path `path` (NFC) under `root`
 * as the file is spelled on disk (macOS volumes may hold NFD names), or the
 * NFC spelling when no such file exists. Folder listings are cached in
 * `cache` across calls.
 */
export function onDisk(root: string, path: string, cache: Map<string, Map<string, string>> = new Map()): string {
  const plain = join(root, ...path.split('/'));
  if (existsSync(plain)) return plain;
  let dir = root;
  for (const part of path.split('/')) {
    let names = cache.get(dir);
    if (!names) {
      names = new Map();
      try {
        for (const n of readdirSync(dir)) names.set(nfc(n), n);
      } catch {
        // a folder that is not there: the rest is spelled as given
      }
      cache.set(dir, names);
    }
    dir = join(dir, names.get(part) ?? part);
  }
  return dir;
}
