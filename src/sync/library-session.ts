/**
 * A library session: what lives as long as a library is open. The CLI opens
 * one per command; the service holds one for its whole life and hands it to
 * each run. It owns the state database, the run lock, the file index, the
 * buffer pool, and per remote the sync records, the mirror and the catalog.
 *
 * A session opened to write holds the library's run lock (see
 * state/run-lock.ts) until it is closed. A read session (status, dry runs)
 * works on an in-memory copy of the state: it takes no lock, and what its
 * runs learn (hashes, catalog logs folded in) is dropped when it closes.
 */
import { mkdir, readdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import type { Remote } from '../remote/remote.js';
import type { Db } from '../state/state-db.js';
import type { Problem } from '../core/problem.js';
import { openStateDb, openStateSnapshot } from '../state/state-db.js';
import { acquireRunLock } from '../state/run-lock.js';
import { FileIndex } from '../state/file-index.js';
import { everSynced, SyncRecords } from '../state/sync-records.js';
import { RemoteMirror } from '../state/remote-mirror.js';
import { machineId } from '../state/machine.js';
import { BufferPool } from '../remote/buffer-pool.js';
import { ByteBudget } from '../remote/byte-budget.js';
import { SafetyError, UsageError } from '../errors.js';
import { RemoteCatalog } from './catalog.js';
import { coversDirOf } from '../config/paths.js';

/** Memory for files held whole while they are hashed and sent. */
const SEND_BUDGET = 64 * 1024 * 1024;

export interface OpenSessionOptions {
  /** Absolute library folder. */
  root: string;
  /** The library's state database (`:memory:` for one that lives with the session). */
  stateFile: string;
  /** Who writes, recorded in the remote catalogs (`user@machine`). */
  user: string;
  /** `write` holds the run lock; `read` works on a copy of the state and writes nothing. */
  mode: 'write' | 'read';
  /**
   * Create the library folder when it is missing and the state knows nothing
   * of it (a first pull onto a new machine; a read session too, for a first
   * look at a crew's collections that writes into it next).
   */
  createRoot?: boolean;
}

/** What a session keeps per remote. */
export interface RemoteState {
  remote: Remote;
  records: SyncRecords;
  mirror: RemoteMirror;
  catalog: RemoteCatalog;
  /** Where the catalog's problems met in the background go: to the run under way, which sets it. */
  catalogProblems: { report?: ((p: Problem) => void) | undefined };
}

export class LibrarySession {
  readonly index: FileIndex;
  readonly buffers = new BufferPool(new ByteBudget(SEND_BUDGET));
  readonly machine: string;
  readonly writer: string;
  /**
   * The local cover store embedded covers go to as files are hashed (beside
   * the state database); undefined for a read session, which writes nothing.
   */
  readonly coversDir: string | undefined;
  private readonly remotes = new Map<string, RemoteState>();
  private closed = false;

  private constructor(
    readonly root: string,
    readonly db: Db,
    readonly readOnly: boolean,
    user: string,
    private readonly unlock: () => void,
    private readonly stateFile: string,
  ) {
    this.index = new FileIndex(db);
    this.machine = machineId(db, hostname());
    this.writer = `${user}@${this.machine}`;
    this.coversDir = !readOnly && stateFile !== ':memory:' ? coversDirOf(stateFile) : undefined;
  }

  /**
   * open opens the library's state (taking the run lock for `write`) and
   * checks its folder. Throws SafetyError when the state shows the library
   * was synced before and its folder is now missing or empty (an unmounted
   * drive is no wish to download everything onto the disk beneath, nor to
   * delete everything); UsageError when the folder is missing and not to be
   * created, or is not a folder; CratesyncError when another run holds the
   * lock or the state cannot be opened.
   */
  static async open(o: OpenSessionOptions): Promise<LibrarySession> {
    const write = o.mode === 'write';
    const file = o.stateFile !== ':memory:';
    if (write && file) await mkdir(dirname(o.stateFile), { recursive: true }).catch(() => {}); // openStateDb names the failure
    const unlock = write && file ? acquireRunLock(`${o.stateFile}.lock`, o.root) : () => {};
    let db: Db | undefined;
    try {
      db = write ? openStateDb(o.stateFile) : openStateSnapshot(o.stateFile);
      await checkRoot(o.root, everSynced(db), o.createRoot === true, o.stateFile);
      return new LibrarySession(o.root, db, !write, o.user, unlock, o.stateFile);
    } catch (err) {
      db?.close();
      unlock();
      throw err;
    }
  }

  /**
   * checkRoot checks again, as {@link open} did, that the library folder is
   * there (a service holds its session while drives come and go): throws
   * SafetyError when a synced library's folder is missing or empty, UsageError
   * when it cannot be read.
   */
  async checkRoot(): Promise<void> {
    await checkRoot(this.root, everSynced(this.db), false, this.stateFile);
  }

  /** forRemote is what this session keeps for `remote`, made on first use. */
  forRemote(remote: Remote): RemoteState {
    let s = this.remotes.get(remote.url);
    if (s?.remote !== remote) {
      const mirror = s?.mirror ?? new RemoteMirror(this.db, remote.url);
      const catalogProblems: RemoteState['catalogProblems'] = {};
      s = {
        remote,
        records: s?.records ?? new SyncRecords(this.db, remote.url),
        mirror,
        catalog: new RemoteCatalog(remote, mirror, this.db, this.writer, this.machine, { onProblem: (p) => catalogProblems.report?.(p) }),
        catalogProblems,
      };
      this.remotes.set(remote.url, s);
    }
    return s;
  }

  /** flush writes what is batched to the database (a session's runs call it as they end). */
  flush(): void {
    this.index.flush();
    for (const s of this.remotes.values()) {
      s.records.flush();
      s.mirror.flush();
    }
  }

  /** close flushes, closes the database and releases the lock; later calls do nothing. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.flush();
    } finally {
      this.db.close();
      this.unlock();
    }
  }
}

/**
 * checkRoot makes sure `root` is a library folder a run may work on; see
 * {@link LibrarySession.open}. Hidden entries (the local trash among them) do
 * not make a folder non-empty.
 */
async function checkRoot(root: string, synced: boolean, create: boolean, stateFile: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new UsageError(`library folder ${root} is not a folder`);
    if (code !== 'ENOENT') throw new UsageError(`library folder ${root} cannot be read: ${(err as Error).message}`);
    if (synced) throw new SafetyError(`library folder ${root} is missing, but it was synced before: is its drive mounted? Nothing was changed (if the library moved, give its new place; to start afresh, delete ${stateFile})`);
    if (!create) throw new UsageError(`library folder ${root} does not exist`);
    await mkdir(root, { recursive: true });
    return;
  }
  if (synced && names.every((n) => n.startsWith('.'))) {
    throw new SafetyError(`library folder ${root} is empty, but it was synced before: is its drive mounted? Nothing was changed (to start afresh, delete ${stateFile})`);
  }
}
