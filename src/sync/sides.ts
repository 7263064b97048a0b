/**
 * Reading both sides for planning at library scale. Most of a library is, on
 * most runs, unchanged on both sides: a file whose stat fingerprint is the one
 * it was hashed with, under a key whose object has that very content. Those
 * pairs are settled inside SQLite — one join of the file index with the remote
 * mirror, streamed — and only their paths are kept; every other file and
 * object is loaded whole, for the planner. A no-op run over 100,000 tracks so
 * holds one small record per file instead of two objects with all their
 * hashes.
 */
import type { Db } from '../state/state-db.js';
import type { FileIndex, FileRecord } from '../state/file-index.js';
import type { MirrorObject, RemoteMirror } from '../state/remote-mirror.js';
import type { Problem, WalkedFile } from '../library/walk.js';
import type { LocalFile } from '../library/scan.js';
import { foldMusic, type ListedObject } from './remote-listing.js';
import { MUSIC_PREFIX } from './layout.js';

export interface Sides {
  /** Library paths unchanged since hashed whose object (`music/<path>`) has that content: nothing to plan. */
  identical: string[];
  /** Every other library file (with its hashes when the index vouches for them). */
  local: Map<string, LocalFile>;
  /** Every other remote music object, by NFC library path. */
  objects: Map<string, ListedObject & MirrorObject>;
}

type IndexRow = [path: string, size: number, mtimeMs: number, inode: number, md5: string, audioHash: string | null];

/**
 * readSides joins the `walked` library with what the index and the mirror of
 * `remote` know. Files renamed or moved within the library (same inode, size
 * and mtime as a path that is gone) keep their hashes under the new path. The
 * index forgets paths that are gone.
 */
export function readSides(db: Db, index: FileIndex, mirror: RemoteMirror, walked: readonly WalkedFile[], problems: Problem[]): Sides {
  index.flush();
  mirror.flush();
  const pending = new Map(walked.map((w) => [w.path, w]));
  const identical: string[] = [];
  const local = new Map<string, LocalFile>();
  const gone: FileRecord[] = [];
  // What each key holds, by MD5 ('' when unknown). A map is faster than letting
  // SQLite join the two tables (a keyed lookup per file). Keys settled as
  // identical are taken out; what remains is every other object.
  const held = new Map<string, string>();
  for (const [key, md5] of db.prepare('SELECT key, md5 FROM remote_objects WHERE remote = ?').raw().iterate(mirror.remote) as Iterable<[string, string | null]>) {
    held.set(key, md5 ?? '');
  }
  const rows = db.prepare('SELECT path, size, mtime_ms, inode, md5, audio_hash FROM files').raw().iterate() as Iterable<IndexRow>;
  for (const [path, size, mtimeMs, inode, md5, audioHash] of rows) {
    const key = MUSIC_PREFIX + path;
    const same = held.get(key) === md5;
    const w = pending.get(path);
    if (!w) {
      gone.push({ path, size, mtimeMs, inode, md5, ...(audioHash ? { audioHash } : {}) });
      continue;
    }
    pending.delete(path);
    if (w.size !== size || w.mtimeMs !== mtimeMs || w.inode !== inode) local.set(path, w); // changed: fresh
    else if (same) {
      identical.push(path);
      held.delete(key);
    } else local.set(path, Object.assign(w, { md5 }, audioHash ? { audioHash } : {}));
  }

  // Paths the index does not know: new, or moved here (the inode tells).
  const movedFrom = new Map(gone.map((g) => [stamp(g), g]));
  for (const w of pending.values()) {
    const m = movedFrom.get(stamp(w));
    if (!m) {
      local.set(w.path, w);
      continue;
    }
    movedFrom.delete(stamp(w));
    const rec: FileRecord = { ...m, path: w.path };
    index.put(rec);
    local.set(w.path, { ...rec, abs: w.abs });
  }
  for (const g of gone) index.remove(g.path);

  // Every object not settled: one by one when they are few (a no-op has none),
  // else in one streamed pass.
  const rest = held.size <= LOOKUPS ? [...held.keys()].flatMap((k) => mirror.leanOne(k) ?? []) : mirror.lean();
  const objects = foldMusic(rest, problems) as Map<string, ListedObject & MirrorObject>;
  if (held.size > LOOKUPS) for (const path of identical) objects.delete(path);
  return { identical, local, objects };
}

/** Up to this many objects are read by key; more, in one pass over the mirror. */
const LOOKUPS = 2000;

function stamp(f: { inode: number; size: number; mtimeMs: number }): string {
  return `${f.inode}:${f.size}:${f.mtimeMs}`;
}
