/**
 * Opening what a command works on (a library session, a remote) and closing
 * it again whatever happens.
 */
import { stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { Remote } from '../remote/remote.js';
import type { Context } from './context.js';
import type { Db } from '../state/state-db.js';
import { openStateDb } from '../state/state-db.js';
import { RemoteMirror } from '../state/remote-mirror.js';
import { machineId } from '../state/machine.js';
import { RemoteCatalog } from '../sync/catalog.js';
import { LibrarySession } from '../sync/library-session.js';
import { expandHome, remoteStateDbFile, stateDbFile } from '../config/paths.js';
import { openRemote } from '../remote/remote-url.js';
import { libraryRoot, remoteOptions, remoteUrl, userName } from './context.js';
import { BusyError } from '../errors.js';

export interface Opened {
  session: LibrarySession;
  remote: Remote;
}

/**
 * withSession opens the library's session (see LibrarySession: `read` for
 * commands that change nothing, which then need no lock) and the remote, runs
 * `fn`, and closes both. `createRoot` lets a first pull make the library folder.
 */
export async function withSession<T>(
  ctx: Context,
  args: { library?: string; remote?: string; transfers?: number; readOnly?: boolean; createRoot?: boolean },
  fn: (s: Opened) => Promise<T>,
): Promise<T> {
  const root = libraryRoot(ctx, args.library);
  const url = remoteUrl(ctx, args.remote);
  const remote = await openRemote(url, remoteOptions(ctx, url, args.transfers));
  try {
    const session = await LibrarySession.open({
      root,
      stateFile: stateDbFile(ctx.paths, root),
      user: userName(ctx),
      mode: args.readOnly ? 'read' : 'write',
      createRoot: args.createRoot === true,
    });
    try {
      return await fn({ session, remote });
    } finally {
      session.close();
    }
  } finally {
    await remote.close();
  }
}

/**
 * withLookSession runs `fn` in a session for commands that only look at the
 * library and the remote (a crew's collections): a write session when the
 * library is free, so that what it learns of the remote is kept and no copy
 * of the state is made in memory; a read session when a service or another
 * run holds the library.
 */
export async function withLookSession<T>(ctx: Context, args: { library?: string; remote?: string; createRoot?: boolean }, fn: (s: Opened) => Promise<T>): Promise<T> {
  try {
    return await withSession(ctx, { ...args, readOnly: false }, fn);
  } catch (err) {
    if (!(err instanceof BusyError)) throw err;
    return withSession(ctx, { ...args, readOnly: true }, fn);
  }
}

/**
 * withStateDb runs `fn` with the configured library's state database (where
 * this machine's identity lives), for commands that work on a remote alone
 * (trash restore, catalog compact); with no library configured, with a state
 * of its own for this one command. Takes no run lock: such commands only add
 * to the catalog's pending queue and the mirror, which a run shares safely.
 */
export async function withStateDb<T>(ctx: Context, fn: (db: Db) => Promise<T>): Promise<T> {
  const root = ctx.config.library ? libraryRoot(ctx, undefined) : undefined;
  const db = openStateDb(root ? stateDbFile(ctx.paths, root) : ':memory:');
  try {
    return await fn(db);
  } finally {
    db.close();
  }
}

/** What a command run without a library works on: the remote, and a state of the remote's own with its mirror and catalog. */
export interface RemoteOnly {
  remote: Remote;
  db: Db;
  mirror: RemoteMirror;
  catalog: RemoteCatalog;
}

/**
 * withRemoteState opens the remote `arg` names (else the config's) and the
 * state of its own (remoteStateDbFile: kept, so that a second look reads only
 * what the catalog added since the first), runs `fn`, and closes both.
 */
export async function withRemoteState<T>(ctx: Context, arg: string | undefined, fn: (state: RemoteOnly) => Promise<T>): Promise<T> {
  const url = remoteUrl(ctx, arg);
  const remote = await openRemote(url, remoteOptions(ctx, url));
  try {
    const db = openStateDb(remoteStateDbFile(ctx.paths, remote.url));
    try {
      const mirror = new RemoteMirror(db, remote.url);
      const machine = machineId(db, hostname());
      return await fn({ remote, db, mirror, catalog: new RemoteCatalog(remote, mirror, db, `${userName(ctx)}@${machine}`, machine) });
    } finally {
      db.close();
    }
  } finally {
    await remote.close();
  }
}

/** The config's library when its folder is there: a library on an unplugged disk should not stop a look at the remote. */
export async function configuredLibrary(ctx: Context): Promise<string | undefined> {
  const lib = ctx.config.library;
  if (lib === undefined) return undefined;
  const st = await stat(expandHome(lib)).catch(() => undefined);
  return st?.isDirectory() ? lib : undefined;
}
