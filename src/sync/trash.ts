/**
 * Trash: nothing cratesync replaces or deletes is lost. On a remote, an object
 * moves to `.cratesync/trash/<stamp>/<key>`; in a library, a file moves to
 * `<root>/.cratesync-trash/<stamp>/<path>` (a rename, as it stays on the same
 * volume). `<stamp>` is the time of the run, so each run's trash is one batch
 * that `cratesync trash restore` can put back.
 */
import { mkdir, rename, rmdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { Remote } from '../remote/remote.js';
import { NotFoundError } from '../errors.js';
import { LOCAL_TRASH_DIR, TRASH_PREFIX } from './layout.js';

/** trashKey is where `key` goes in the trash batch `stamp`. */
export function trashKey(stamp: string, key: string): string {
  return `${TRASH_PREFIX}${stamp}/${key}`;
}

/**
 * copyWithin copies `from` to `to` on one remote: server-side when the remote
 * can, else through a temporary local file.
 */
export async function copyWithin(remote: Remote, from: string, to: string, size?: number): Promise<void> {
  if (remote.copy) {
    await remote.copy(from, to, size === undefined ? {} : { size });
    return;
  }
  const tmp = join(tmpdir(), `cratesync-copy-${randomBytes(6).toString('hex')}`);
  try {
    await remote.get(from, tmp);
    await remote.put(to, { path: tmp });
  } finally {
    await rm(tmp, { force: true });
  }
}

/** moveWithin moves `from` to `to` on one remote: server-side move, else copy then delete. */
export async function moveWithin(remote: Remote, from: string, to: string, size?: number): Promise<void> {
  if (remote.move) {
    await remote.move(from, to, size === undefined ? {} : { size });
    return;
  }
  await copyWithin(remote, from, to, size);
  await remote.delete(from);
}

/**
 * trashRemote moves remote `key` (`size` bytes, when known) into trash batch
 * `stamp`. A key already gone is not an error.
 */
export async function trashRemote(remote: Remote, stamp: string, key: string, size?: number): Promise<void> {
  try {
    await moveWithin(remote, key, trashKey(stamp, key), size);
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
}

/**
 * keepRemoteVersion copies remote `key` into trash batch `stamp` before it is
 * overwritten; the object itself stays until the new version replaces it, so
 * a failed upload leaves the old one in place.
 */
export async function keepRemoteVersion(remote: Remote, stamp: string, key: string): Promise<void> {
  try {
    await copyWithin(remote, key, trashKey(stamp, key));
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
}

/** localTrashPath is where library file `path` goes in the local trash batch `stamp`. */
export function localTrashPath(root: string, stamp: string, path: string): string {
  return join(root, LOCAL_TRASH_DIR, stamp, ...path.split('/'));
}

/**
 * trashLocal moves the file at `abs` (library path `path`) into the local
 * trash batch `stamp`. Returns false when there was no file to move.
 */
export async function trashLocal(root: string, stamp: string, path: string, abs: string): Promise<boolean> {
  try {
    await stat(abs);
  } catch {
    return false;
  }
  const to = localTrashPath(root, stamp, path);
  await mkdir(dirname(to), { recursive: true });
  await rename(abs, to);
  await pruneEmpty(dirname(abs), root);
  return true;
}

/**
 * pruneEmpty removes empty folders from `dir` up to, not including, `stop`:
 * an album whose last file moved away leaves no empty folder behind.
 */
export async function pruneEmpty(dir: string, stop: string): Promise<void> {
  while (dir.startsWith(stop) && dir !== stop) {
    try {
      await rmdir(dir);
    } catch {
      return;
    }
    dir = dirname(dir);
  }
}
