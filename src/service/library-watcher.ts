/**
 * Watching the library folder: the changes of files and folders under it,
 * as batches of library paths, for the service's change aggregator.
 *
 * Why @parcel/watcher: it is native and maintained (it is what Parcel and VS
 * Code's file watching rest on), it uses each system's own facility — inotify
 * on Linux (one watch per folder), FSEvents on macOS (one stream for the whole
 * tree), ReadDirectoryChangesW on Windows (one recursive handle) — and it does
 * the work in C++ threads: it crawls the tree once, adds the watch of a new
 * folder as soon as the folder appears, and batches events before they reach
 * JavaScript, so a burst of thousands of events is a handful of callbacks.
 * chokidar would do the same with one fs.watch object per folder held in
 * JavaScript and a stat of every file it sees, all on the main thread.
 *
 * What it reports, found by trying it on Linux (2.6):
 * - `cp -r album/ library/`: the new top folder only, as a 'create'. Files
 *   written into a folder before its watch exists are never reported, so a
 *   created folder is reported here as kind 'dir', which the service scans
 *   whole; files created after that come as their own events.
 * - `mv a b` inside the library: 'delete' of a and 'create' of b in one batch
 *   (for a folder, nothing of what is under either).
 * - `mv` of a folder out of the library: one 'delete' of the folder; in: one
 *   'create' of it ('dir').
 * - the library folder deleted or moved away: a 'delete' of the root itself
 *   (with or without the deletes of some files under it). It is reported as
 *   `rescan('library folder is gone')`, never as the deletion of a path, and
 *   watching stops until the folder is back.
 * - a create and a delete of one path within one batch cancel out; a delete
 *   then create is an update.
 * - an unmount of the library is not reported at all (IN_UNMOUNT is dropped),
 *   and neither is a kernel queue overflow: the root is checked every few
 *   seconds (replaced by another folder, as a mount point is once unmounted,
 *   means watch again and rescan), and the service's periodic scans stand in
 *   for a lost event.
 * - folders reached through a symbolic link are not watched (the walk follows
 *   links; the watcher does not): changes there wait for a periodic scan.
 *
 * Hidden names (the local trash, partial downloads, `.git`…: see
 * library/names.ts `skippedName`) are never watched nor reported.
 */
import { watch as fsWatch } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, sep } from 'node:path';
import type { AsyncSubscription, Event } from '@parcel/watcher';
import { nfc, skippedName } from '../library/names.js';
import { classifyWatchError } from './watch-error.js';
import type { WatchErrorClass } from './watch-error.js';

export interface WatchSink {
  /** A batch of changes, paths relative to the root (NFC, '/'-separated). */
  changes(batch: readonly WatchChange[]): void;
  /** The watcher lost events (queue overflow, a watch that failed, the root gone or back): a full rescan is needed. */
  rescan(reason: string): void;
  /**
   * Something the user should know (watch limit reached, the library folder
   * gone, watching resumed…), said once per cause; `state` is what the
   * watcher is now.
   */
  warn(message: string, state: WatcherState): void;
}

/** 'dir': a folder appeared (scan it whole); 'change': a file was created or changed; 'delete': a file or folder is gone. */
export interface WatchChange {
  path: string;
  kind: 'change' | 'delete' | 'dir';
}

/** 'watching': events flow; 'polling': periodic scans stand in (a limit was reached); 'off': the library folder is gone. */
export type WatcherState = 'watching' | 'polling' | 'off';

export interface WatchOptions {
  /** Paths (relative, '/'-separated) whose events are not changes: the service's own writes. */
  ignore?: (relPath: string) => boolean;
  /** How often the root is checked (gone, back, replaced). Default 2 s. */
  rootCheckMs?: number;
  /** How often watching is tried again while polling after a limit or a failure. Default 60 s. */
  retryMs?: number;
}

export interface LibraryWatch {
  /** What the watcher is doing now. */
  readonly state: WatcherState;
  /** Stop watching; no sink call is made after it resolves. */
  close(): Promise<void>;
}

const HIDDEN_GLOB = '**/.*';

/**
 * watchLibrary watches folder `root` recursively and reports to `sink` until
 * closed. It never throws for what happens to the library: a root that is
 * missing comes back as `rescan('library folder is gone')` with state 'off'
 * (watching starts when the folder appears), a watch limit as a `warn` with
 * state 'polling'. Sink calls are made one at a time, in order.
 */
export async function watchLibrary(root: string, sink: WatchSink, o: WatchOptions = {}): Promise<LibraryWatch> {
  const watcher = await import('@parcel/watcher');
  const w = new Watcher(root, sink, o, watcher.default ?? watcher);
  await w.start();
  return w;
}

type Parcel = Pick<typeof import('@parcel/watcher'), 'subscribe'>;

interface FolderId {
  dev: number;
  ino: number;
}

class Watcher implements LibraryWatch {
  state: WatcherState = 'off';
  private sub: AsyncSubscription | undefined;
  /** The root as subscribed: its real path (the watcher reports real paths) and identity. */
  private real = '';
  private id: FolderId | undefined;
  /** Bumped at each (re)subscription: events of an older one are dropped. */
  private generation = 0;
  /** Every step that touches the subscription or calls the sink runs in this chain, one at a time. */
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private lastTry = 0;
  private closed = false;
  /** Causes already told with warn(), so that each is said once until watching is back. */
  private readonly told = new Set<string>();

  constructor(
    private readonly root: string,
    private readonly sink: WatchSink,
    private readonly o: WatchOptions,
    private readonly parcel: Parcel,
  ) {}

  async start(): Promise<void> {
    await this.subscribe();
    this.timer = setInterval(() => this.enqueue(() => this.check()), this.o.rootCheckMs ?? 2000);
    this.timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.chain;
    await this.unsubscribe();
  }

  private enqueue(step: () => Promise<void> | void): void {
    this.chain = this.chain.then(async () => {
      if (!this.closed) await step();
    }).catch(() => {
      // A step that throws is a bug in a sink; the watcher goes on.
    });
  }

  /** (Re)subscribe; when it works and `reason` is given, a rescan is asked for (events were missed meanwhile). */
  private async subscribe(reason?: string): Promise<void> {
    await this.unsubscribe();
    this.lastTry = Date.now();
    const id = await folderId(this.root);
    if (!id) return this.gone();
    const generation = ++this.generation;
    try {
      this.real = await realpath(this.root);
      this.sub = await this.parcel.subscribe(
        this.real,
        (err, events) => this.enqueue(() => this.onEvents(generation, err, events)),
        { ignore: [HIDDEN_GLOB] },
      );
    } catch (err) {
      return this.failed(classifyWatchError(err, !(await folderId(this.root))), false);
    }
    this.id = id;
    this.state = 'watching';
    if (this.told.size > 0) {
      this.told.clear();
      this.sink.warn('the library is watched again', 'watching');
    }
    if (reason) this.sink.rescan(reason);
  }

  private async unsubscribe(): Promise<void> {
    const sub = this.sub;
    this.sub = undefined;
    this.generation++;
    await sub?.unsubscribe().catch(() => undefined);
  }

  /**
   * A failure of the watcher: warn, rescan, and watch again — at once after
   * an error reported while watching (`again`), else at the next retry.
   */
  private async failed(c: WatchErrorClass, again: boolean): Promise<void> {
    if (c.kind === 'gone') return this.gone();
    if (c.kind === 'overflow' && this.sub && process.platform === 'darwin') {
      // FSEvents goes on after telling of dropped events.
      this.sink.rescan(c.message);
      return;
    }
    // A retry that fails as the last one did asks no new rescan: the periodic scans stand in.
    const news = this.state === 'watching' || !this.told.has(c.kind);
    if (c.kind === 'limit' && this.sub) {
      // The folders watched so far still are: keep them, and let periodic scans see to the new ones.
      this.state = 'polling';
      this.lastTry = Date.now();
      this.tell(c.kind, c.message);
      if (news) this.sink.rescan(c.message);
      return;
    }
    await this.unsubscribe();
    this.state = 'polling';
    this.tell(c.kind, c.message);
    if (news) this.sink.rescan(c.message);
    // A crash of the backend or lost events: watch again now (the rescan asked covers the gap).
    if (again && c.kind !== 'limit') await this.subscribe();
  }

  private async gone(): Promise<void> {
    await this.unsubscribe();
    if (this.state === 'off' && this.told.has('gone')) return;
    this.state = 'off';
    this.id = undefined;
    this.tell('gone', `library folder is gone: ${this.root}; watching resumes when it is back`);
    this.sink.rescan('library folder is gone');
  }

  private tell(cause: string, message: string): void {
    if (this.told.has(cause)) return;
    this.told.add(cause);
    this.sink.warn(message, this.state);
  }

  /** The periodic check: the root gone, back, or replaced; a retry while polling. */
  private async check(): Promise<void> {
    const id = await folderId(this.root);
    if (!id) {
      if (this.state !== 'off') await this.gone();
      return;
    }
    if (this.state === 'off') return this.subscribe('library folder is back');
    if (this.id && (id.dev !== this.id.dev || id.ino !== this.id.ino)) {
      // Another folder at the root's path: a mount point once unmounted, or a folder moved into place.
      return this.subscribe('library folder was replaced (unmounted or mounted over)');
    }
    if (this.state === 'polling' && Date.now() - this.lastTry >= (this.o.retryMs ?? 60_000)) {
      this.lastTry = Date.now();
      // Still at the limit: keep what is watched rather than give it up for a subscribe that would fail.
      if (this.sub && watchLimitReached(this.real)) return;
      return this.subscribe('watching the library again');
    }
  }

  private async onEvents(generation: number, err: Error | null, events: Event[]): Promise<void> {
    if (generation !== this.generation) return;
    let rootGone = false;
    const changes = await Promise.all(
      events.map(async (e): Promise<WatchChange | undefined> => {
        const path = this.libraryPath(e.path);
        if (path === '') {
          if (e.type === 'delete') rootGone = true;
          return undefined;
        }
        if (path === undefined || path.split('/').some((n) => skippedName(n) !== undefined) || this.o.ignore?.(path)) return undefined;
        if (e.type === 'delete') return { path, kind: 'delete' };
        if (e.type === 'update') return { path, kind: 'change' };
        return { path, kind: await createdKind(e.path) };
      }),
    );
    const batch = changes.filter((c) => c !== undefined);
    const newFolder = batch.some((c) => c.kind === 'dir');
    if (rootGone || (err && !(await folderId(this.root)))) return this.gone();
    if (batch.length > 0) this.sink.changes(batch);
    if (err) return this.failed(classifyWatchError(err), true);
    if (newFolder && this.state === 'watching' && watchLimitReached(this.real)) {
      await this.failed(classifyWatchError(new Error('ENOSPC: System limit for number of file watchers reached')), false);
    }
  }

  /** The library path of absolute path `abs` from the watcher: '' for the root, undefined when outside it. */
  private libraryPath(abs: string): string | undefined {
    const rel = relative(this.real, abs);
    if (rel === '') return '';
    if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined;
    return nfc(sep === '/' ? rel : rel.split(sep).join('/'));
  }
}

/** What a created path is now: a folder (followed through a link), a file, or already gone. */
async function createdKind(abs: string): Promise<WatchChange['kind']> {
  try {
    return (await stat(abs)).isDirectory() ? 'dir' : 'change';
  } catch {
    // Gone again (or a broken link): report the path; the run finds what is there.
    return 'change';
  }
}

async function folderId(path: string): Promise<FolderId | undefined> {
  try {
    const s = await stat(path);
    return s.isDirectory() ? { dev: s.dev, ino: s.ino } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * watchLimitReached tells whether one more inotify watch can be had, by
 * taking one with fs.watch and giving it back. @parcel/watcher drops the watch
 * of a new folder it cannot add without telling; the probe, made when new
 * folders appeared, is how the limit is noticed then. Linux only.
 */
function watchLimitReached(dir: string): boolean {
  if (process.platform !== 'linux') return false;
  try {
    fsWatch(dir).close();
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOSPC';
  }
}
