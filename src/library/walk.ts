/**
 * Walking a library folder: every file the filter admits, with its stat
 * fingerprint. Symbolic links are followed (a library is often assembled
 * from links) with loop detection; a directory or file that cannot be read
 * is reported as a problem and the walk goes on.
 *
 * A walk is a stat per file, and at library scale those system calls are
 * most of a no-op run. So the walk runs on a worker thread (walk-worker.ts),
 * on another core, while the main thread loads the S3 client, reads the
 * remote catalog and the state database; the files come back packed
 * ({@link Walked}), not as one object per file.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { PathFilter } from './filter.js';
import { describe } from '../errors.js';
import type { Problem } from '../core/problem.js';
import { nfc, PART_FILE, skippedName } from './names.js';

export interface WalkedFile {
  /** NFC, '/'-separated, relative to the root: the file's identity everywhere. */
  path: string;
  /** Absolute path as spelled on disk (may be NFD on macOS volumes). */
  abs: string;
  size: number;
  mtimeMs: number;
  inode: number;
}


/** nativeSep spells a '/'-separated relative path with this platform's separator. */
const nativeSep = sep === '/' ? (rel: string) => rel : (rel: string) => rel.replaceAll('/', sep);

/** How long an in-thread walk runs before letting the event loop turn. */
const YIELD_MS = 20;

/**
 * The files a walk found, packed: file `i` is `paths[i]` (NFC, relative), its
 * size, mtime and inode are kept in one typed array, and the on-disk spelling
 * only where it differs (non-NFC names). {@link file} makes the object form.
 */
export class Walked {
  paths: string[] = [];
  private stats: Float64Array<ArrayBufferLike> = new Float64Array(3 * 1024);
  /** On-disk relative spelling, by index, of the files whose path is not spelled so on disk. */
  private readonly spelled = new Map<number, string>();

  /** The root with a trailing separator, the one part every absolute path shares. */
  private readonly base: string;

  constructor(readonly root: string) {
    this.base = root.endsWith(sep) ? root : root + sep;
  }

  get length(): number {
    return this.paths.length;
  }

  add(path: string, size: number, mtimeMs: number, inode: number, spelled?: string): void {
    const i = this.paths.length;
    if (3 * i + 3 > this.stats.length) {
      const grown = new Float64Array(this.stats.length * 2);
      grown.set(this.stats);
      this.stats = grown;
    }
    this.paths.push(path);
    this.stats[3 * i] = size;
    this.stats[3 * i + 1] = mtimeMs;
    this.stats[3 * i + 2] = inode;
    if (spelled !== undefined) this.spelled.set(i, spelled);
  }

  size(i: number): number {
    return this.stats[3 * i] ?? 0;
  }

  mtimeMs(i: number): number {
    return this.stats[3 * i + 1] ?? 0;
  }

  inode(i: number): number {
    return this.stats[3 * i + 2] ?? 0;
  }

  /** setStat changes field `field` (0 size, 1 mtime, 2 inode) of entry `i`'s stat. */
  setStat(i: number, field: 0 | 1 | 2, value: number): void {
    this.stats[3 * i + field] = value;
  }

  /** abs is entry `i`'s absolute path as spelled on disk. */
  abs(i: number): string {
    // Concatenated, not path.join'ed: join builds its result from a slice per
    // path segment, garbage made for every file a run opens.
    return this.base + nativeSep(this.spelled.get(i) ?? this.paths[i] ?? '');
  }

  /** file is entry `i` as an object, backed by this batch (see {@link PackedFile}). */
  file(i: number): PackedFile {
    return new PackedFile(this, i, this.paths[i] ?? '');
  }

  /** files is every entry as an object (small libraries and tests). */
  files(): WalkedFile[] {
    return this.paths.map((_, i) => this.file(i));
  }

  /** pack makes the entries a message for another thread. */
  pack(): PackedFiles {
    return { paths: this.paths.join('\0'), stats: this.stats.slice(0, 3 * this.paths.length), spelled: [...this.spelled] };
  }

  /** unpack makes again what {@link pack} made. */
  static unpack(root: string, m: PackedFiles): Walked {
    const w = new Walked(root);
    if (m.paths !== '') w.paths = m.paths.split('\0');
    w.stats = m.stats;
    for (const [i, rel] of m.spelled) w.spelled.set(i, rel);
    return w;
  }

  /** append adds every entry of `other` (walked under the same root). */
  append(other: Walked): void {
    for (let i = 0; i < other.length; i++) this.add(other.paths[i] as string, other.size(i), other.mtimeMs(i), other.inode(i), other.spelled.get(i));
  }
}

/**
 * One file of a {@link Walked} batch, reading its stat from the batch's
 * packed arrays and making its absolute path when asked. A plain object per
 * file (a number box per stat field, and an absolute path kept flattened once
 * used) would make the walked files a large share of what a big initial push
 * holds. A stat taken again is written to the batch.
 */
export class PackedFile implements WalkedFile {
  // Set only once the file is hashed (see LocalFile in scan.ts); declared,
  // not made, so that the many files never hashed carry no room for them.
  declare md5?: string;
  declare audioHash?: string;

  constructor(
    private readonly batch: Walked,
    private readonly i: number,
    readonly path: string,
  ) {}

  get abs(): string {
    return this.batch.abs(this.i);
  }

  get size(): number {
    return this.batch.size(this.i);
  }

  set size(v: number) {
    this.batch.setStat(this.i, 0, v);
  }

  get mtimeMs(): number {
    return this.batch.mtimeMs(this.i);
  }

  set mtimeMs(v: number) {
    this.batch.setStat(this.i, 1, v);
  }

  get inode(): number {
    return this.batch.inode(this.i);
  }

  set inode(v: number) {
    this.batch.setStat(this.i, 2, v);
  }
}

/** Entries of a {@link Walked} on their way between threads. NUL never occurs in a file name. */
export interface PackedFiles {
  paths: string;
  stats: Float64Array;
  spelled: Array<[number, string]>;
}

/** Messages of the walk worker. */
export type WalkMessage =
  | ({ kind: 'files' } & PackedFiles)
  | { kind: 'end'; problems: Problem[]; leftovers: string[] }
  | { kind: 'error'; message: string };

const WORKER = fileURLToPath(new URL('./walk-worker.js', import.meta.url));

/**
 * walkBatches lists the files under `root` that `filter` admits, handing them
 * to `onBatch` a few thousand at a time as the walk goes (the batch is the
 * caller's to keep). Problems (unreadable directories, broken links, loops,
 * two names equal after NFC normalisation) are pushed to `problems`, partial
 * downloads left by an interrupted run to `leftovers` (absolute paths); only
 * an unreadable root throws. It runs on a worker thread, or on this one when
 * `thread` is false or the compiled worker is not there (sources run by the
 * test runner).
 */
export async function walkBatches(
  root: string,
  filter: PathFilter,
  problems: Problem[],
  leftovers: string[],
  onBatch: (batch: Walked) => void,
  opts: { thread?: boolean; signal?: AbortSignal } = {},
): Promise<void> {
  opts.signal?.throwIfAborted();
  // Synchronous, so that the worker starts now, not once this thread is free
  // again. An unreadable root throws here, with the file system's own error.
  statSync(root);
  if (opts.thread !== false && existsSync(WORKER)) return walkOnWorker(root, filter, problems, leftovers, onBatch, opts.signal);
  let batch = new Walked(root);
  const tree = new TreeWalk(root, filter, problems, leftovers, batch);
  // A walk is thousands of microsecond calls, synchronous on purpose (the
  // thread-pool hop of an async one costs more than the call); the event loop
  // gets a turn every YIELD_MS so that a listing started alongside (and a
  // service's clients) are not starved.
  for (;;) {
    const done = tree.run(performance.now() + YIELD_MS);
    if (batch.length > 0) onBatch(batch);
    if (done) return;
    tree.out = batch = new Walked(root);
    await yieldToLoop();
    opts.signal?.throwIfAborted();
  }
}

/** walk is {@link walkBatches} with every file in one {@link Walked}. */
export async function walk(root: string, filter: PathFilter, problems: Problem[], leftovers: string[] = [], opts: { thread?: boolean } = {}): Promise<Walked> {
  const all = new Walked(root);
  await walkBatches(root, filter, problems, leftovers, (b) => all.append(b), opts);
  return all;
}

function walkOnWorker(
  root: string,
  filter: PathFilter,
  problems: Problem[],
  leftovers: string[],
  onBatch: (batch: Walked) => void,
  signal?: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let ended = false;
    // A stop ends the walk at once: the worker is terminated wherever it is.
    const onAbort = () => {
      if (ended) return;
      ended = true;
      void worker.terminate();
      reject(signal?.reason);
    };
    // A small young generation: the walk's garbage (a stat result per file)
    // is short-lived, and a large one would only raise the process's peak
    // memory. No inherited flags: a preload (--import) has no business there.
    const worker = new Worker(WORKER, { workerData: { root, filter: filter.options }, resourceLimits: { maxYoungGenerationSizeMb: 4 }, execArgv: [] });
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.once('exit', () => signal?.removeEventListener('abort', onAbort));
    worker.on('message', (m: WalkMessage) => {
      try {
        if (m.kind === 'files') onBatch(Walked.unpack(root, m));
        else if (m.kind === 'end') {
          ended = true;
          problems.push(...m.problems);
          leftovers.push(...m.leftovers);
          resolve();
        } else {
          ended = true;
          reject(new Error(`walking ${root}: ${m.message}`));
        }
      } catch (err) {
        ended = true;
        void worker.terminate();
        reject(err);
      }
    });
    worker.on('error', (err) => {
      ended = true;
      reject(err);
    });
    worker.on('exit', (code) => {
      if (!ended) reject(new Error(`walking ${root}: the walk stopped early (exit code ${code})`));
    });
  });
}

/** Where a walk puts the files it finds. */
export type FileSink = Pick<Walked, 'add'>;

/**
 * TreeWalk is the walk itself, depth-first, synchronous, in slices: `run`
 * returns false when it stopped at `deadline` with directories left.
 */
export class TreeWalk {
  private readonly pending: Array<[abs: string, rel: string, spelled: string | undefined]>;
  private readonly visitedDirs = new Set<string>();
  private readonly seenPaths = new Set<string>();

  constructor(
    root: string,
    private readonly filter: PathFilter,
    private readonly problems: Problem[],
    private readonly leftovers: string[],
    /** Where the files go; may be replaced between runs. */
    public out: FileSink,
    /** Folders to walk instead of the root: absolute, relative (NFC) and on-disk relative spelling when it differs. */
    start?: ReadonlyArray<[abs: string, rel: string, spelled: string | undefined]>,
  ) {
    const st = statSync(root);
    this.visitedDirs.add(`${st.dev}:${st.ino}`);
    this.pending = start ? [...start].reverse() : [[root, '', undefined]];
  }

  run(deadline: number): boolean {
    for (let next = this.pending.pop(); next; next = this.pending.pop()) {
      this.visitDir(...next);
      if (deadline !== Infinity && performance.now() > deadline) return this.pending.length === 0;
    }
    return true;
  }

  /** Visits one directory; `spelled` is its relative path on disk when that is not `rel`. */
  private visitDir(abs: string, rel: string, spelled: string | undefined): void {
    let entries;
    try {
      entries = readdirSync(abs, { withFileTypes: true });
    } catch (err) {
      this.problems.push({ path: rel || '.', message: describe(err) });
      return;
    }
    const subdirs: Array<[string, string, string | undefined]> = [];
    // Plain concatenation, not path.join: the parts are clean already, and
    // join's normalising is a measurable share of a walk.
    const base = abs.endsWith(sep) ? abs : abs + sep;
    for (const e of entries) {
      const name = e.name;
      const isFile = e.isFile();
      if (isFile && PART_FILE.test(name)) {
        this.leftovers.push(base + name);
        continue;
      }
      // The name policy remote keys are held to too (see foreignPathProblem).
      if (skippedName(name)) continue;
      // The parent is NFC already, and '/' composes with nothing: only the name needs it.
      const nfcName = nfc(name);
      const childRel = rel ? `${rel}/${nfcName}` : nfcName;
      if (isFile) {
        if (!this.filter.file(childRel)) continue;
      } else if (e.isDirectory() || e.isSymbolicLink()) {
        if (this.filter.skipDir(name)) continue;
      } else continue; // sockets, fifos, devices
      const childSpelled = spelled !== undefined || nfcName !== name ? (rel ? `${spelled ?? rel}/${name}` : name) : undefined;
      const childAbs = base + name;
      let st;
      try {
        st = statSync(childAbs);
      } catch (err) {
        this.problems.push({ path: childRel, message: e.isSymbolicLink() ? `broken link: ${describe(err)}` : describe(err) });
        continue;
      }
      if (st.isDirectory()) {
        const id = `${st.dev}:${st.ino}`;
        if (this.visitedDirs.has(id)) {
          if (e.isSymbolicLink()) this.problems.push({ path: childRel, message: 'symbolic link loop (directory already visited), skipped' });
          continue;
        }
        this.visitedDirs.add(id);
        subdirs.push([childAbs, childRel, childSpelled]);
        continue;
      }
      // A link is judged by the name of the link; a file was already.
      if (!st.isFile() || (!isFile && !this.filter.file(childRel))) continue;
      if (this.seenPaths.has(childRel)) {
        this.problems.push({ path: childRel, message: 'two files have this name once Unicode-normalised (NFC); only one is synced' });
        continue;
      }
      this.seenPaths.add(childRel);
      this.out.add(childRel, st.size, st.mtimeMs, st.ino, childSpelled);
    }
    // Depth-first, in name order: reversed onto the stack, popped in order.
    for (let i = subdirs.length - 1; i >= 0; i--) this.pending.push(subdirs[i] as [string, string, string | undefined]);
  }
}

/**
 * walkScope finds the files at or below the library paths `paths` (relative,
 * '/'-separated, as a watcher reports them), as a whole walk would find them:
 * the same filter, hidden folders skipped, links followed. A path that is gone
 * yields nothing; only an unreadable root throws.
 */
export function walkScope(root: string, filter: PathFilter, paths: readonly string[], problems: Problem[], leftovers: string[]): Walked {
  const out = new Walked(root);
  const base = root.endsWith(sep) ? root : root + sep;
  const dirs: Array<[string, string, string | undefined]> = [];
  const given = new Set(paths.map(nfc));
  const seen = new Set<string>();
  for (const spelled of paths) {
    const rel = nfc(spelled);
    const parts = rel.split('/');
    if (seen.has(rel) || parts.some((p) => p === '' || p === '.' || p === '..')) continue;
    seen.add(rel);
    // Below another path of the set: found by that one's walk.
    if (parts.some((_, i) => i > 0 && given.has(parts.slice(0, i).join('/')))) continue;
    // What the walk would skip on its way down is skipped here too.
    if (parts.slice(0, -1).some((p) => filter.skipDir(p))) continue;
    const abs = base + nativeSep(spelled);
    const name = parts[parts.length - 1] ?? '';
    if (PART_FILE.test(name)) continue;
    let st;
    try {
      st = statSync(abs);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'ENOTDIR') problems.push({ path: rel, message: describe(err) });
      continue;
    }
    if (st.isDirectory()) {
      if (!filter.skipDir(name)) dirs.push([abs, rel, spelled !== rel ? spelled : undefined]);
    } else if (st.isFile() && filter.file(rel)) out.add(rel, st.size, st.mtimeMs, st.ino, spelled !== rel ? spelled : undefined);
  }
  if (dirs.length > 0) new TreeWalk(root, filter, problems, leftovers, out, dirs).run(Infinity);
  return out;
}
