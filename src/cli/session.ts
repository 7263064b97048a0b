/**
 * Opening what a command works on (library state, remote) and closing it
 * again whatever happens.
 */
import type { Remote } from '../remote/remote.js';
import type { Db } from '../state/state-db.js';
import type { Context } from './context.js';
import { openStateDb } from '../state/state-db.js';
import { acquireRunLock } from '../state/run-lock.js';
import { stateDbFile } from '../config/paths.js';
import { openRemote } from '../remote/remote-url.js';
import { libraryRoot, remoteOptions, remoteUrl } from './context.js';

export interface Session {
  root: string;
  remote: Remote;
  db: Db;
}

/**
 * withSession opens the library's state and the remote, runs `fn`, and
 * closes both. Unless `readOnly`, it holds the library's run lock meanwhile
 * (see run-lock.ts): two runs writing one library would trip over each other.
 */
export async function withSession<T>(
  ctx: Context,
  args: { library?: string; remote?: string; transfers?: number; readOnly?: boolean },
  fn: (s: Session) => Promise<T>,
): Promise<T> {
  const root = await libraryRoot(ctx, args.library);
  const url = remoteUrl(ctx, args.remote);
  const remote = await openRemote(url, remoteOptions(ctx, url, args.transfers));
  const file = stateDbFile(ctx.paths, root);
  let unlock = () => {};
  try {
    const db = openStateDb(file);
    try {
      if (!args.readOnly) unlock = acquireRunLock(`${file}.lock`, root);
      return await fn({ root, remote, db });
    } finally {
      unlock();
      db.close();
    }
  } finally {
    await remote.close();
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
  const root = ctx.config.library ? await libraryRoot(ctx, undefined) : undefined;
  const db = openStateDb(root ? stateDbFile(ctx.paths, root) : ':memory:');
  try {
    return await fn(db);
  } finally {
    db.close();
  }
}
