/**
 * Reading both sides for planning at library scale. Most of a library is, on
 * most runs, unchanged on both sides: a file whose stat fingerprint is the one
 * it was hashed with, under a key whose object has that very content. Those
 * pairs are settled inside SQLite — each batch of walked files is joined with
 * the file index and the remote mirror in one statement, while the walk goes
 * on — and only their paths are kept; every other file and object is loaded
 * whole, for the planner. A no-op run over 100,000 tracks so holds one path
 * per file instead of two objects with all their hashes.
 */
import type { Db } from '../state/state-db.js';
import type { FileIndex, FileRecord } from '../state/file-index.js';
import type { MirrorObject, RemoteMirror } from '../state/remote-mirror.js';
import type { Statement } from 'better-sqlite3';
import type { Problem, Walked, WalkedFile } from '../library/walk.js';
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
  /** Walked files the index does not know: new, or moved here. */
  private readonly fresh: WalkedFile[] = [];
  /** Walked files the index knows. */
  private indexed = 0;
  /** Keys of objects paired with an indexed file that are not identical to it. */
  private readonly unsettled: string[] = [];
  /** Objects paired with an indexed file, identical or not. */
  private paired = 0;
  private waiting: Walked[] = [];
  private lookup?: Statement;

  constructor(
    private readonly db: Db,
    private readonly index: FileIndex,
    private readonly mirror: RemoteMirror,
  ) {}

  /** open reads the batches taken so far, and each one taken from now on at once. */
  open(): void {
    this.index.flush();
    this.mirror.flush();
    // One statement per batch, its paths bound as one JSON array: a keyed
    // lookup per file would cost twice as much in calls into SQLite. Hashes are
    // read only for the files that are not identical to their object.
    this.lookup = this.db
      .prepare(
        `SELECT j.key, f.size, f.mtime_ms, f.inode, r.md5 IS f.md5 AS same, r.key IS NOT NULL,
           CASE WHEN r.md5 IS f.md5 THEN NULL ELSE f.md5 END, CASE WHEN r.md5 IS f.md5 THEN NULL ELSE f.audio_hash END
         FROM json_each(?) j JOIN files f ON f.path = j.value
         LEFT JOIN remote_objects r ON r.remote = ? AND r.key = ? || f.path`,
      )
      .raw();
    const waiting = this.waiting;
    this.waiting = [];
    for (const b of waiting) this.read(b, this.lookup);
  }

  take(batch: Walked): void {
    if (this.lookup) this.read(batch, this.lookup);
    else this.waiting.push(batch);
  }

  private read(batch: Walked, lookup: Statement): void {
    const known = new Uint8Array(batch.length);
    const rows = lookup.iterate(JSON.stringify(batch.paths), this.mirror.remote, MUSIC_PREFIX) as Iterable<JoinRow>;
    for (const [i, size, mtimeMs, inode, same, held, md5, audioHash] of rows) {
      known[i] = 1;
      this.indexed++;
      if (held) this.paired++;
      const path = batch.paths[i] as string;
      if (batch.size(i) !== size || batch.mtimeMs(i) !== mtimeMs || batch.inode(i) !== inode) {
        this.local.set(path, batch.file(i)); // changed: fresh
      } else if (same) {
        this.identical.push(path);
        continue;
      } else this.local.set(path, Object.assign(batch.file(i), { md5: md5 as string }, audioHash ? { audioHash } : {}));
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
    if (!this.lookup) this.open();
    const { identical, local } = this;
    // Index rows no walked file matched: gone, or moved (looked for only when there are some).
    const gone: FileRecord[] = [];
    const known = (this.db.prepare('SELECT COUNT(*) FROM files').pluck().get() as number) - this.indexed;
    if (known > 0) {
      const walked = new Set(identical);
      for (const [path, size, mtimeMs, inode, md5, audioHash] of this.db.prepare('SELECT path, size, mtime_ms, inode, md5, audio_hash FROM files').raw().iterate() as Iterable<IndexRow>) {
        if (!walked.has(path) && !local.has(path)) gone.push({ path, size, mtimeMs, inode, md5, ...(audioHash ? { audioHash } : {}) });
      }
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
    }
    for (const g of gone) this.index.remove(g.path);

    // Every object not identical to its file. When each one the mirror holds
    // was paired with an indexed file (a no-op: all of them identical), they
    // are the unsettled ones, read by key; else all are read in one pass.
    const held = this.db.prepare('SELECT COUNT(*) FROM remote_objects WHERE remote = ?').pluck().get(this.mirror.remote) as number;
    const byKey = held === this.paired && this.unsettled.length <= LOOKUPS;
    const rest = byKey ? this.unsettled.flatMap((k) => this.mirror.leanOne(k) ?? []) : this.mirror.lean();
    const objects = foldMusic(rest, problems) as Map<string, ListedObject & MirrorObject>;
    if (!byKey) for (const path of identical) objects.delete(path);
    return { identical, local, objects };
  }
}

type IndexRow = [path: string, size: number, mtimeMs: number, inode: number, md5: string, audioHash: string | null];
type JoinRow = [i: number, size: number, mtimeMs: number, inode: number, same: 0 | 1, held: 0 | 1, md5: string | null, audioHash: string | null];

/** readSides is the whole join of one walk (see {@link SidesReader}). */
export function readSides(db: Db, index: FileIndex, mirror: RemoteMirror, walked: Walked, problems: Problem[]): Sides {
  const reader = new SidesReader(db, index, mirror);
  reader.open();
  reader.take(walked);
  return reader.finish(problems);
}

/** Up to this many objects are read by key; more, in one pass over the mirror. */
const LOOKUPS = 2000;

function stamp(f: { inode: number; size: number; mtimeMs: number }): string {
  return `${f.inode}:${f.size}:${f.mtimeMs}`;
}
