/**
 * Conflict copies: a file changed on both sides keeps the remote's version
 * beside the library file, at `<name>.conflict-<user>-<date><ext>` (see
 * conflictName in plan.ts; `-2`, `-3`… when that name was taken). This module
 * finds them again (by the file index: no walk of the library) and settles
 * one by keeping either version; the other goes to the library's trash, from
 * which `cratesync trash restore --local` (or the dashboard) brings it back.
 * Nothing is deleted.
 */
import { rename, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { FileIndex } from '../state/file-index.js';
import type { RemoteMirror } from '../state/remote-mirror.js';
import type { Tags } from '../core/tags.js';
import { hasTags, readTags } from '../library/tags.js';
import { musicKey, trashStamp } from './layout.js';
import { localTrashPath, trashLocal } from './trash.js';
import { FileError } from '../errors.js';

/** What cratesync puts in a conflict copy's name. */
export const CONFLICT_MARK = '.conflict-';

/** One version of a conflicted file. */
export interface FileSide {
  size: number;
  /** ms since the epoch. */
  mtime: number;
  tags?: Tags;
  /** Who wrote it (a user, or `user@machine`), when known. */
  writer?: string;
}

export interface Conflict {
  /** The library file ("mine"). */
  path: string;
  /** The conflict copy beside it ("theirs"). */
  copy: string;
  mine: FileSide;
  theirs: FileSide;
}

/**
 * COPY_NAME matches a conflict copy's library path: the stem, the user, the
 * date, the free-name number and the extension (conflictName, freePath).
 */
const COPY_NAME = /^(.+)\.conflict-([\p{L}\p{N}_-]+?)-(\d{4}-\d{2}-\d{2})(?:-\d+)?(\.[^./]+)?$/u;

/** parseConflictCopy names the library file and the user of conflict copy `copy`; undefined for any other path. */
export function parseConflictCopy(copy: string): { path: string; user: string } | undefined {
  const m = COPY_NAME.exec(copy);
  if (!m?.[1] || !m[2] || m[1].endsWith('/')) return undefined;
  return { path: `${m[1]}${m[4] ?? ''}`, user: m[2] };
}

async function side(root: string, path: string, writer: string | undefined): Promise<FileSide | undefined> {
  const abs = join(root, ...path.split('/'));
  const st = await stat(abs).catch(() => undefined);
  if (!st?.isFile()) return undefined;
  let tags: Tags | undefined;
  if (hasTags(extname(path))) tags = await readTags(abs).catch(() => undefined);
  return { size: st.size, mtime: Math.round(st.mtimeMs), ...(tags ? { tags } : {}), ...(writer ? { writer } : {}) };
}

/**
 * listConflicts finds the conflict copies the file index knows whose library
 * file is there too, with both versions as they are on disk now (size, time,
 * tags read from the files). The library file's writer is who wrote its
 * object on the remote (the mirror); the copy's, the user its name holds.
 * Sorted by path.
 */
export async function listConflicts(o: { root: string; index: FileIndex; mirror: RemoteMirror }): Promise<Conflict[]> {
  const out: Conflict[] = [];
  for (const copy of o.index.pathsContaining(CONFLICT_MARK)) {
    const c = await findConflict(o, copy);
    if (c) out.push(c);
  }
  return out;
}

/** findConflict is the conflict of copy `copy`, or undefined when it is none (any more). */
export async function findConflict(o: { root: string; mirror: RemoteMirror }, copy: string): Promise<Conflict | undefined> {
  const named = parseConflictCopy(copy);
  if (!named) return undefined;
  const [mine, theirs] = await Promise.all([side(o.root, named.path, o.mirror.writerOf(musicKey(named.path))), side(o.root, copy, named.user)]);
  return mine && theirs ? { path: named.path, copy, mine, theirs } : undefined;
}

/** Where the version not kept went: its trash batch and its path there (as `trash restore --local` takes them). */
export interface Settled {
  /** The library path that holds the kept version. */
  kept: string;
  trashed: { stamp: string; path: string };
}

/**
 * keepVersion settles conflict `c`: `mine` moves the copy to the library's
 * trash; `theirs` moves the library file to the trash and the copy into its
 * place. Throws FileError when a file cannot be moved.
 */
export async function keepVersion(root: string, c: Pick<Conflict, 'path' | 'copy'>, keep: 'mine' | 'theirs', stamp = trashStamp()): Promise<Settled> {
  const abs = (p: string) => join(root, ...p.split('/'));
  const gone = keep === 'mine' ? c.copy : c.path;
  try {
    if (!(await trashLocal(root, stamp, gone, abs(gone)))) throw new FileError(gone, 'is no longer there');
  } catch (err) {
    if (err instanceof FileError) throw err;
    throw new FileError(gone, `not moved to the trash: ${(err as Error).message}`, { cause: err });
  }
  if (keep === 'theirs') {
    try {
      await rename(abs(c.copy), abs(c.path));
    } catch (err) {
      // The library file comes back from the trash: the library is as it was.
      await rename(localTrashPath(root, stamp, c.path), abs(c.path)).catch(() => {});
      throw new FileError(c.copy, `not moved to ${c.path}: ${(err as Error).message}`, { cause: err });
    }
  }
  return { kept: c.path, trashed: { stamp, path: gone } };
}
