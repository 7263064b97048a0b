/**
 * Opening this machine's copy of a song, when it has one identical to the
 * object: streaming it from disk spares the remote a GET and the client a
 * proxied transfer.
 */
import { constants as fsc } from 'node:fs';
import { open, realpath, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { ServeContext } from './route-types.js';
import type { IndexedSong } from '../state/subsonic-index.js';
import { localCopyOf } from '../state/local-copies.js';
import { statChanged } from '../state/library-join.js';

const READ_NOFOLLOW = fsc.O_RDONLY | (fsc.O_NOFOLLOW ?? 0);

/** An opened library file and its size. The caller closes `fh`. */
export interface OpenedCopy {
  fh: FileHandle;
  size: number;
}

/**
 * openLocalCopy opens the library file holding `song`'s content: one the
 * sync records say was synced to its key with its MD5, which the file
 * index saw with that content, and which has not changed since (size, mtime
 * and inode as the index has them). The file must resolve, links followed,
 * to a regular file inside the library root: a link leading elsewhere is
 * not served. Undefined whenever any of that does not hold, or there is no
 * library: the caller streams from the remote.
 */
export async function openLocalCopy(serve: ServeContext, song: IndexedSong): Promise<OpenedCopy | undefined> {
  if (serve.library === undefined || !song.md5) return undefined;
  const copy = localCopyOf(serve.db, serve.remote.url, song.key, song.md5);
  if (!copy) return undefined;
  let fh: FileHandle | undefined;
  try {
    const root = await realpath(serve.library);
    const wanted = path.resolve(root, ...copy.path.split('/'));
    if (!inside(root, wanted)) return undefined;
    const real = await realpath(wanted);
    if (!inside(root, real)) return undefined;
    fh = await open(real, READ_NOFOLLOW);
    const st = await fh.stat();
    if (!st.isFile() || statChanged(copy, { size: st.size, mtimeMs: st.mtimeMs, inode: st.ino })) {
      await fh.close();
      return undefined;
    }
    return { fh, size: st.size };
  } catch {
    // Gone, unreadable, swapped meanwhile: the remote has it.
    await fh?.close().catch(() => {});
    return undefined;
  }
}

function inside(root: string, p: string): boolean {
  return p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}
