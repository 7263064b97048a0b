/**
 * Reading both sides for planning at library scale. Most of a library is, on
 * most runs, unchanged on both sides: a file whose stat fingerprint is the one
 * it was hashed with, under a key whose object has that very content. Those
 * pairs are settled inside SQLite — each batch of walked files is joined with
 * the file index and the remote mirror in one statement (state/library-join.ts),
 * while the walk goes on — and only their paths are kept; every other file and
 * object is loaded whole, for the planner.
 *
 * A scoped run (a watcher's batch of paths) reads the same way, but only the
 * files and objects at or below its paths.
 */
import type { FileIndex, FileRecord } from '../state/file-index.js';
import type { MirrorObject, RemoteMirror } from '../state/remote-mirror.js';
import type { Walked, WalkedFile } from '../library/walk.js';
import type { Problem } from '../core/problem.js';
import type { LocalFile } from '../library/scan.js';
import { LibraryJoin, statChanged } from '../state/library-join.js';
import { foldMusic, type ListedObject } from './remote-listing.js';
import { MUSIC_PREFIX } from './layout.js';
import { MEDIA_VERSION } from '../library/tags.js';

export interface Sides {
  /** Library paths unchanged since hashed whose object (`music/<path>`) has that content: nothing to plan. */
  identical: string[];
  /** Every other library file (with its hashes when the index vouches for them). */
  local: Map<string, LocalFile>;
  /** Every other remote music object, by NFC library path. */
  objects: Map<string, ListedObject & MirrorObject>;
  /**
   * Files whose hashes the index vouches for but whose tags an older media
   * reader read (see library/tags.ts MEDIA_VERSION), identical or not, and
   * files moved here (their record lost its tags): their tags are to be read
   * again, not their hashes (sync/media-refresh.ts).
   */
  staleMedia: LocalFile[];
}

/**
 * SidesReader joins the library, batch by batch as the walk delivers it,
 * with what the file index and the mirror of the remote know: one keyed
 * lookup per file, so the join keeps pace with a walk running on another
 * thread, and only the files that are not settled are kept. Batches taken
 * before {@link open} wait for it: the mirror must be current first.
 */
export class SidesReader {
  private readonly identical: string[] = [];
  private readonly local = new Map<string, LocalFile>();
  private readonly staleMedia: LocalFile[] = [];
  /** Walked files the index does not know: new, or moved here. */
  private readonly fresh: WalkedFile[] = [];
  /** Walked files the index knows. */
  private indexed = 0;
  /** Keys of objects paired with an indexed file that are not identical to it. */
  private readonly unsettled: string[] = [];
  /** Objects paired with an indexed file, identical or not. */
  private paired = 0;
  private waiting: Walked[] = [];
  private opened = false;
  private readonly join: LibraryJoin;

  constructor(
    private readonly index: FileIndex,
    private readonly mirror: RemoteMirror,
    /** Only these library paths (files or folders) and what is below them; the whole library when absent. */
    private readonly scope?: readonly string[],
  ) {
    this.join = new LibraryJoin(index.db, mirror.remote, MUSIC_PREFIX);
  }

  /** open reads the batches taken so far, and each one taken from now on at once. */
  open(): void {
    this.index.flush();
    this.mirror.flush();
    this.opened = true;
    const waiting = this.waiting;
    this.waiting = [];
    for (const b of waiting) this.read(b);
  }

  take(batch: Walked): void {
    if (this.opened) this.read(batch);
    else this.waiting.push(batch);
  }

  private read(batch: Walked): void {
    const known = new Uint8Array(batch.length);
    for (const [i, size, mtimeMs, inode, same, held, md5, audioHash, readBefore] of this.join.pairs(batch.paths, MEDIA_VERSION)) {
      known[i] = 1;
      this.indexed++;
      if (held) this.paired++;
      const path = batch.paths[i] as string;
      if (statChanged({ size: batch.size(i), mtimeMs: batch.mtimeMs(i), inode: batch.inode(i) }, { size, mtimeMs, inode })) {
        this.local.set(path, batch.file(i)); // changed: fresh
      } else if (same) {
        this.identical.push(path);
        if (readBefore) this.staleMedia.push(batch.file(i));
        continue;
      } else {
        const f = Object.assign(batch.file(i), { md5: md5 as string }, audioHash ? { audioHash } : {});
        this.local.set(path, f);
        if (readBefore) this.staleMedia.push(f);
      }
      if (held) this.unsettled.push(MUSIC_PREFIX + path);
    }
    for (let i = 0; i < batch.length; i++) if (!known[i]) this.fresh.push(batch.file(i));
  }

  /**
   * finish completes the join once the walk is over. Files renamed or moved
   * within the library (same inode, size and mtime as a path that is gone)
   * keep their hashes under the new path; the index forgets paths that are gone.
   */
  finish(problems: Problem[]): Sides {
    if (!this.opened) this.open();
    const { identical, local, scope, staleMedia } = this;
    // Index rows no walked file matched: gone, or moved (looked for only when there are some).
    const gone: FileRecord[] = [];
    if (scope || this.join.indexedCount() > this.indexed) {
      const walked = new Set(identical);
      for (const rec of this.join.indexed(scope)) if (!walked.has(rec.path) && !local.has(rec.path)) gone.push(rec);
    }
    const movedFrom = new Map(gone.map((g) => [stamp(g), g]));
    for (const w of this.fresh) {
      const m = movedFrom.get(stamp(w));
      if (!m) {
        local.set(w.path, w);
        continue;
      }
      movedFrom.delete(stamp(w));
      this.index.put({ ...m, path: w.path });
      local.set(w.path, Object.assign(w, { md5: m.md5 }, m.audioHash ? { audioHash: m.audioHash } : {}));
      staleMedia.push(w);
    }
    for (const g of gone) this.index.remove(g.path);

    // Every object not identical to its file. When each one the mirror holds
    // was paired with an indexed file (a no-op: all of them identical), they
    // are the unsettled ones, read by key; else all are read in one pass.
    let rest: Iterable<MirrorObject>;
    let byKey = false;
    if (scope) rest = this.join.mirroredUnder(scope);
    else {
      byKey = this.join.mirroredCount() === this.paired && this.unsettled.length <= LOOKUPS;
      rest = byKey ? this.unsettled.flatMap((k) => this.mirror.leanOne(k) ?? []) : this.mirror.lean();
    }
    const objects = foldMusic(rest, problems) as Map<string, ListedObject & MirrorObject>;
    if (!byKey) for (const path of identical) objects.delete(path);
    return { identical, local, objects, staleMedia };
  }
}

/** readSides is the whole join of one walk (see {@link SidesReader}). */
export function readSides(index: FileIndex, mirror: RemoteMirror, walked: Walked, problems: Problem[], scope?: readonly string[]): Sides {
  const reader = new SidesReader(index, mirror, scope);
  reader.open();
  reader.take(walked);
  return reader.finish(problems);
}

/** Up to this many objects are read by key; more, in one pass over the mirror. */
const LOOKUPS = 2000;

function stamp(f: { inode: number; size: number; mtimeMs: number }): string {
  return `${f.inode}:${f.size}:${f.mtimeMs}`;
}
