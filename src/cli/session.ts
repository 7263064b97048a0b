/**
 * Opening what a command works on (a library session, a remote) and closing
 * it again whatever happens.
 */
import type { Remote } from '../remote/remote.js';
import type { Context } from './context.js';
import type { Db } from '../state/state-db.js';
import { openStateDb } from '../state/state-db.js';
import { LibrarySession } from '../sync/library-session.js';
import { stateDbFile } from '../config/paths.js';
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
