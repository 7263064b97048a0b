/**
 * FolderRemote: a remote that is a directory, local or mounted (USB disk, NAS
 * share). Keys map to paths under the root. Writes go to a hidden temporary
 * file next to the destination, are hashed while written and fsynced, and are
 * renamed into place only once verified, so a crash or a full disk never
 * leaves a half-written file under a real name.
 *
 * Symbolic links inside the root are never followed: the folder is shared,
 * and a link planted there (`music/Artist -> /elsewhere`, `music/x.mp3 ->
 * /etc/hostname`) would make a write land outside the remote or a read leak a
 * file that is not the remote's. Listings skip links; files are opened with
 * O_NOFOLLOW; and before any operation on a key every folder on its path
 * below the root is checked to be a real directory (a link there is a
 * FileError naming the key). The root itself may be a link (a mount point
 * reached through one). A link swapped in between that check and the
 * operation is not caught: the check is against planted links, not races.
 */
import { createHash } from 'node:crypto';
import { constants as fsc, lstatSync } from 'node:fs';
import { copyFile, link, lstat, mkdir, open, opendir, rename, rm, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { addAbortSignal, Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import {
  AccessDeniedError,
  ChecksumError,
  CratesyncError,
  FileError,
  NotFoundError,
  PreconditionError,
  UnreachableError,
} from '../../errors.js';
import { fileError, oneChunk, Progress, READ_CHUNK, readLocal, syncDir, writeAll } from '../local-io.js';
import type { ByteRange, ListOptions, NameRules, OpenedRead, PutBody, Remote, TransferOptions, TransferResult } from '../remote.js';
import { rangeWithin } from '../byte-range.js';
import type { RemoteObject } from '../../core/remote-object.js';
import { checkFolderKey, isTempName, tempName } from './folder-names.js';

export interface FolderRemoteOptions {
  /**
   * Create the root directory (and its parents) on the first write when it
   * does not exist. Default true: the default remote lives under the user
   * data directory, which may not exist yet. Pass false for user-given paths
   * where a missing root more likely means an unmounted disk, so that nothing
   * is written to the mount point itself.
   */
  createRoot?: boolean;
}

/** linkError refuses `key` because `at` (a key prefix, or the key) is a symbolic link. */
function linkError(key: string, at: string): FileError {
  return new FileError(key, `${at === key ? 'is' : `${at} is`} a symbolic link, which a folder remote never follows`);
}

const errCode = (err: unknown): string | undefined => (err as { code?: string } | null)?.code;
const isAbort = (err: unknown): boolean => (err as { name?: string } | null)?.name === 'AbortError';

/** Opening for reading without following a link in the last component (ELOOP then); Windows has no such flag. */
const READ_NOFOLLOW = fsc.O_RDONLY | (fsc.O_NOFOLLOW ?? 0);

export class FolderRemote implements Remote {
  readonly kind = 'folder' as const;
  readonly url: string;
  readonly names: NameRules = { check: checkFolderKey };
  /** Absolute path of the root directory. */
  readonly root: string;
  private readonly createRoot: boolean;

  constructor(root: string, options: FolderRemoteOptions = {}) {
    this.root = path.resolve(root);
    this.url = pathToFileURL(this.root).href;
    this.createRoot = options.createRoot ?? true;
  }

  /**
   * Walks the tree depth-first, one directory handle open at a time, so that
   * memory holds only the directories still to visit. A missing root (or
   * prefix directory) lists nothing: an empty remote. An unreadable directory
   * is an AccessDeniedError, because an incomplete listing is not safe to
   * plan a sync from. Symbolic links are neither listed nor descended into:
   * the listing is what the remote holds as regular files.
   */
  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<RemoteObject> {
    const cut = prefix.lastIndexOf('/');
    const start = cut >= 0 ? prefix.slice(0, cut) : '';
    // [key of the directory, its absolute path]; only the start is checked, as a key.
    const stack: Array<[string, string]> = [[start, start === '' ? this.root : this.pathOf(start)]];
    // A link on the way to the start is skipped like any other: nothing under it is listed.
    if (start !== '' && (await this.linkOnPath(start.split('/'))) !== undefined) return;
    for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
      options.signal?.throwIfAborted();
      const [rel, dirPath] = top;
      let dir;
      try {
        dir = await opendir(dirPath, { bufferSize: 256 });
      } catch (err) {
        if (errCode(err) === 'ENOTDIR' && rel === '') throw new UnreachableError(`folder remote ${this.root} is not a directory`);
        if (errCode(err) === 'ENOENT' || errCode(err) === 'ENOTDIR') continue;
        throw this.remoteError(err);
      }
      for await (const ent of dir) {
        const key = rel === '' ? ent.name : `${rel}/${ent.name}`;
        // Dirent types come from the directory entry itself (lstat's view): a
        // link is neither a file nor a directory here.
        if (ent.isDirectory()) {
          if (`${key}/`.startsWith(prefix)) stack.push([key, path.join(dirPath, ent.name)]);
          continue;
        }
        if (!ent.isFile() || !key.startsWith(prefix) || isTempName(ent.name)) continue;
        if (options.startAfter !== undefined && Buffer.compare(Buffer.from(key), Buffer.from(options.startAfter)) <= 0) continue;
        // lstat, not stat: should the entry have been swapped for a link
        // meanwhile, it is not followed. A synchronous lstat costs a few
        // microseconds; the thread-pool hop of an async one costs several
        // times that, which dominates listing a large folder.
        let st;
        try {
          st = lstatSync(path.join(dirPath, ent.name), { bigint: false });
        } catch (err) {
          if (errCode(err) === 'ENOENT') continue; // vanished meanwhile
          throw this.remoteError(err);
        }
        if (st?.isFile()) yield { key, size: st.size, mtime: st.mtime };
      }
    }
  }

  /** A link at `key` is no object of the remote: NotFoundError, like a directory. */
  async stat(key: string): Promise<RemoteObject> {
    try {
      const st = await lstat(await this.checkedPath(key));
      if (!st.isFile()) throw new NotFoundError(key);
      return { key, size: st.size, mtime: st.mtime };
    } catch (err) {
      throw this.remoteError(err, key);
    }
  }

  async read(key: string): Promise<Buffer> {
    let fh: FileHandle | undefined;
    try {
      fh = await this.openForRead(key);
      return await fh.readFile();
    } catch (err) {
      throw this.remoteError(err, key);
    } finally {
      await fh?.close().catch(() => {});
    }
  }

  /** Streams the file at `key` (or a range of it) from one handle opened without following links. */
  async openRead(key: string, range?: ByteRange, options: { signal?: AbortSignal } = {}): Promise<OpenedRead> {
    let fh: FileHandle | undefined;
    try {
      options.signal?.throwIfAborted();
      fh = await this.openForRead(key);
      const { size } = await fh.stat();
      const { start, end } = rangeWithin(key, size, range);
      if (end < start) {
        await fh.close();
        return { body: Readable.from([]), size, start, end };
      }
      const body = fh.createReadStream({ start, end, highWaterMark: READ_CHUNK, autoClose: true });
      fh = undefined; // the stream closes it
      if (options.signal) addAbortSignal(options.signal, body);
      return { body, size, start, end };
    } catch (err) {
      await fh?.close().catch(() => {});
      throw this.remoteError(err, key);
    }
  }

  /** Reads the file at `key` to give its MD5: folders have no ETags to go by. */
  async md5(key: string): Promise<string> {
    let fh: FileHandle | undefined;
    try {
      fh = await this.openForRead(key);
      const hash = createHash('md5');
      for await (const chunk of fh.createReadStream({ highWaterMark: READ_CHUNK, autoClose: false })) hash.update(chunk as Buffer);
      return hash.digest('hex');
    } catch (err) {
      throw this.remoteError(err, key);
    } finally {
      await fh?.close().catch(() => {});
    }
  }

  async put(key: string, body: PutBody, options: TransferOptions = {}): Promise<TransferResult> {
    const dest = this.pathOf(key);
    const dir = path.dirname(dest);
    const progress = new Progress(options.onProgress);
    let fh: FileHandle | undefined;
    let tmp: string | undefined;
    try {
      await this.checkParents(key);
      await this.ensureDir(dir);
      const opened = await this.openTemp(dir, path.basename(dest));
      ({ fh, tmp } = opened);
      const hash = createHash('md5');
      const source = 'data' in body ? oneChunk(body.data) : readLocal(body.path, options.signal);
      const size = await writeAll(source, opened.fh, dest, (c) => (hash.update(c), progress.add(c.length)), options.signal);
      await opened.fh.sync();
      await opened.fh.close();
      fh = undefined;
      const md5 = hash.digest('hex');
      if (options.expectMd5 && md5 !== options.expectMd5.toLowerCase()) {
        throw new ChecksumError(`${this.describeKey(key)}: read bytes with MD5 ${md5}, expected ${options.expectMd5}`);
      }
      if (options.ifAbsent) {
        // link() fails when the name is taken, where rename() would replace it: a create that cannot clobber.
        try {
          await link(tmp, dest);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new PreconditionError(`${this.describeKey(key)}: another writer stored this key meanwhile`);
          throw err;
        }
        await rm(tmp, { force: true });
      } else await rename(tmp, dest);
      await syncDir(dir);
      return { size, md5 };
    } catch (err) {
      await fh?.close().catch(() => {});
      if (tmp) await rm(tmp, { force: true }).catch(() => {});
      await this.prune(dir); // directories made for a file that never arrived
      progress.rollback();
      throw this.remoteError(err);
    }
  }

  /** Copies the file into `dest`, fsynced; on any failure `dest` is removed. */
  async get(key: string, dest: string, options: TransferOptions = {}): Promise<TransferResult> {
    const src = this.pathOf(key);
    const progress = new Progress(options.onProgress);
    let out: FileHandle | undefined;
    let inFh: FileHandle | undefined;
    try {
      inFh = await this.openForRead(key);
      const fh = await open(dest, 'w').catch((err: unknown) => Promise.reject(fileError(dest, err)));
      out = fh;
      const hash = createHash('md5');
      const input = inFh.createReadStream({ highWaterMark: READ_CHUNK, autoClose: false });
      const size = await writeAll(input, fh, dest, (c) => (hash.update(c), progress.add(c.length)), options.signal);
      await fh.sync();
      await fh.close();
      out = undefined;
      const md5 = hash.digest('hex');
      if (options.expectMd5 && md5 !== options.expectMd5.toLowerCase()) {
        throw new ChecksumError(`${this.describeKey(key)}: read bytes with MD5 ${md5}, expected ${options.expectMd5}`);
      }
      return { size, md5 };
    } catch (err) {
      await out?.close().catch(() => {});
      await rm(dest, { force: true }).catch(() => {});
      progress.rollback();
      if (err instanceof CratesyncError || isAbort(err)) throw err;
      // Errors carrying the source path are about the key; the rest about `dest`.
      if ((err as { path?: string }).path === src) throw this.remoteError(err, key);
      throw fileError(dest, err);
    } finally {
      await inFh?.close().catch(() => {});
    }
  }

  /** Removes the file, then every directory it leaves empty up to (not including) the root. */
  async delete(key: string): Promise<void> {
    const file = this.pathOf(key);
    try {
      await this.checkParents(key);
      await unlink(file);
    } catch (err) {
      if (errCode(err) === 'ENOENT' || errCode(err) === 'ENOTDIR') return;
      throw this.remoteError(err);
    }
    await this.prune(path.dirname(file));
  }

  async move(from: string, to: string): Promise<RemoteObject> {
    const src = this.pathOf(from);
    const dst = this.pathOf(to);
    await this.checkSource(from);
    await this.checkParents(to);
    await this.ensureDir(path.dirname(dst));
    try {
      await rename(src, dst);
    } catch (err) {
      if (errCode(err) !== 'EXDEV') throw this.remoteError(err, from);
      // A mount point inside the root: rename cannot cross it.
      await this.copy(from, to);
      await this.delete(from);
    }
    await this.prune(path.dirname(src));
    return this.stat(to);
  }

  /** Copies through a temporary file (a reflink where the file system can) so `to` appears whole or not at all. */
  async copy(from: string, to: string): Promise<RemoteObject> {
    const src = this.pathOf(from);
    const dst = this.pathOf(to);
    await this.checkSource(from);
    await this.checkParents(to);
    await this.ensureDir(path.dirname(dst));
    const tmp = path.join(path.dirname(dst), tempName(path.basename(dst)));
    try {
      await copyFile(src, tmp, fsc.COPYFILE_FICLONE | fsc.COPYFILE_EXCL);
      await rename(tmp, dst);
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => {});
      throw this.remoteError(err, errCode(err) === 'ENOENT' && (err as { path?: string }).path === src ? from : undefined);
    }
    return this.stat(to);
  }

  async close(): Promise<void> {}

  /** The absolute path of `key`; refuses keys that could escape the root. */
  private pathOf(key: string): string {
    const reason = checkFolderKey(key);
    if (reason) throw new FileError(key, reason);
    return path.join(this.root, ...key.split('/'));
  }

  /**
   * checkParents makes sure every folder on `key`'s path below the root is a
   * real directory, not a symbolic link (FileError naming the key and the
   * link). Folders not there yet pass: they will be made as directories.
   */
  private async checkParents(key: string): Promise<void> {
    const link = await this.linkOnPath(key.split('/').slice(0, -1));
    if (link !== undefined) throw linkError(key, link);
  }

  /** linkOnPath gives the first of the folders `parts` (below the root) that is a symbolic link, as a key prefix. */
  private async linkOnPath(parts: string[]): Promise<string | undefined> {
    let dir = this.root;
    for (let i = 0; i < parts.length; i++) {
      dir = path.join(dir, parts[i] as string);
      let st;
      try {
        st = await lstat(dir);
      } catch (err) {
        if (errCode(err) === 'ENOENT' || errCode(err) === 'ENOTDIR') return undefined;
        throw this.remoteError(err);
      }
      if (st.isSymbolicLink()) return parts.slice(0, i + 1).join('/');
      if (!st.isDirectory()) return undefined; // a file where a folder should be: the operation itself fails on it
    }
    return undefined;
  }

  /** checkedPath is the path of `key` once its folders are checked (see {@link checkParents}). */
  private async checkedPath(key: string): Promise<string> {
    const p = this.pathOf(key);
    await this.checkParents(key);
    return p;
  }

  /** checkSource refuses a source key that is a link or lies below one (copy and move must not take a file from elsewhere). */
  private async checkSource(key: string): Promise<void> {
    const p = await this.checkedPath(key);
    const st = await lstat(p).catch((err: unknown) => Promise.reject(this.remoteError(err, key)));
    if (st.isSymbolicLink()) throw linkError(key, key);
  }

  /** openForRead opens the file at `key` for reading without following any link in its path. */
  private async openForRead(key: string): Promise<FileHandle> {
    const p = await this.checkedPath(key);
    let fh: FileHandle;
    try {
      fh = await open(p, READ_NOFOLLOW);
    } catch (err) {
      if (errCode(err) === 'ELOOP') throw linkError(key, key);
      throw err;
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new NotFoundError(key);
      // Where O_NOFOLLOW does not exist (Windows), a link is caught here instead.
      if (fsc.O_NOFOLLOW === undefined && (await lstat(p)).isSymbolicLink()) throw linkError(key, key);
      return fh;
    } catch (err) {
      await fh.close().catch(() => {});
      throw err;
    }
  }

  private describeKey(key: string): string {
    return `${this.url}/${key}`;
  }

  /** Creates `dir` and its parents, honouring `createRoot`. */
  private async ensureDir(dir: string): Promise<void> {
    if (!this.createRoot) {
      const problem = await this.rootProblem();
      if (problem) throw problem;
    }
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      throw (await this.rootProblem()) ?? this.remoteError(err);
    }
  }

  /** Opens a fresh temporary file in `dir` for a file to be named `base`. */
  private async openTemp(dir: string, base: string): Promise<{ fh: FileHandle; tmp: string }> {
    for (let attempt = 1; ; attempt++) {
      const tmp = path.join(dir, tempName(base));
      try {
        return { fh: await open(tmp, 'wx'), tmp };
      } catch (err) {
        // A concurrent delete of the directory's last file may have pruned
        // the directory we just made: make it again.
        if (errCode(err) !== 'ENOENT' || attempt >= 3) throw err;
        await this.ensureDir(dir);
      }
    }
  }

  /** Removes empty directories from `dir` upwards, stopping at the root or the first non-empty one. */
  private async prune(dir: string): Promise<void> {
    while (dir.startsWith(this.root + path.sep)) {
      try {
        await rmdir(dir);
      } catch {
        return; // not empty (or already gone, or not ours to remove): stop
      }
      dir = path.dirname(dir);
    }
  }

  private async rootProblem(): Promise<UnreachableError | undefined> {
    try {
      if (!(await stat(this.root)).isDirectory()) return new UnreachableError(`folder remote ${this.root} is not a directory`);
    } catch (err) {
      if (errCode(err) === 'ENOENT') return new UnreachableError(`folder remote ${this.root} does not exist`);
    }
    return undefined;
  }

  /**
   * Maps a file-system error about the remote: a missing path is NotFoundError
   * when it concerns `key`; no permission or a read-only file system makes
   * the whole remote unusable (AccessDeniedError); anything else is kept.
   */
  private remoteError(err: unknown, key?: string): unknown {
    const code = errCode(err);
    if (err instanceof CratesyncError || isAbort(err)) return err;
    if (key !== undefined && (code === 'ENOENT' || code === 'ENOTDIR')) return new NotFoundError(key);
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      const what = code === 'EROFS' ? 'read-only file system' : 'permission denied';
      const where = (err as { path?: string }).path;
      return new AccessDeniedError(`folder remote ${this.root}: ${what}${where ? ` (${where})` : ''}`, { cause: err });
    }
    return err;
  }
}
