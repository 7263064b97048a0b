/**
 * FolderRemote: a remote that is a directory, local or mounted (USB disk, NAS
 * share). Keys map to paths under the root. Writes go to a hidden temporary
 * file next to the destination, are hashed while written and fsynced, and are
 * renamed into place only once verified, so a crash or a full disk never
 * leaves a half-written file under a real name.
 */
import { createHash } from 'node:crypto';
import { constants as fsc, createReadStream, statSync } from 'node:fs';
import { copyFile, mkdir, open, opendir, readFile, rename, rm, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  AccessDeniedError,
  ChecksumError,
  CratesyncError,
  FileError,
  NotFoundError,
  UnreachableError,
} from '../../errors.js';
import { fileError, md5File, oneChunk, Progress, READ_CHUNK, readLocal, syncDir, writeAll } from '../local-io.js';
import type { ListOptions, NameRules, PutBody, Remote, TransferOptions, TransferResult } from '../remote.js';
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

const errCode = (err: unknown): string | undefined => (err as { code?: string } | null)?.code;
const isAbort = (err: unknown): boolean => (err as { name?: string } | null)?.name === 'AbortError';

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
   * plan a sync from.
   */
  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<RemoteObject> {
    const cut = prefix.lastIndexOf('/');
    const start = cut >= 0 ? prefix.slice(0, cut) : '';
    // [key of the directory, its absolute path]; only the start is checked, as a key.
    const stack: Array<[string, string]> = [[start, start === '' ? this.root : this.pathOf(start)]];
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
        if (ent.isDirectory()) {
          if (`${key}/`.startsWith(prefix)) stack.push([key, path.join(dirPath, ent.name)]);
          continue;
        }
        if (!key.startsWith(prefix) || isTempName(ent.name)) continue;
        if (options.startAfter !== undefined && Buffer.compare(Buffer.from(key), Buffer.from(options.startAfter)) <= 0) continue;
        if (!ent.isFile() && !ent.isSymbolicLink()) continue;
        // stat follows symlinks: a link to a file is listed as that file;
        // links to directories are not followed (they could loop). A synchronous
        // stat costs a few microseconds; the thread-pool hop of an async one
        // costs several times that, which dominates listing a large folder.
        let st;
        try {
          st = statSync(path.join(dirPath, ent.name), { bigint: false });
        } catch (err) {
          if (errCode(err) === 'ENOENT') continue; // vanished meanwhile, or a dangling link
          throw this.remoteError(err);
        }
        if (st?.isFile()) yield { key, size: st.size, mtime: st.mtime };
      }
    }
  }

  async stat(key: string): Promise<RemoteObject> {
    try {
      const st = await stat(this.pathOf(key));
      if (!st.isFile()) throw new NotFoundError(key);
      return { key, size: st.size, mtime: st.mtime };
    } catch (err) {
      throw this.remoteError(err, key);
    }
  }

  async read(key: string): Promise<Buffer> {
    try {
      return await readFile(this.pathOf(key));
    } catch (err) {
      throw this.remoteError(err, key);
    }
  }

  /** Reads the file at `key` to give its MD5: folders have no ETags to go by. */
  async md5(key: string): Promise<string> {
    try {
      return (await md5File(this.pathOf(key))).md5;
    } catch (err) {
      throw this.remoteError(err, key);
    }
  }

  async put(key: string, body: PutBody, options: TransferOptions = {}): Promise<TransferResult> {
    const dest = this.pathOf(key);
    const dir = path.dirname(dest);
    const progress = new Progress(options.onProgress);
    let fh: FileHandle | undefined;
    let tmp: string | undefined;
    try {
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
      await rename(tmp, dest);
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
    try {
      if (!(await stat(src)).isFile()) throw new NotFoundError(key);
      const fh = await open(dest, 'w').catch((err: unknown) => Promise.reject(fileError(dest, err)));
      out = fh;
      const hash = createHash('md5');
      const input = createReadStream(src, { highWaterMark: READ_CHUNK });
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
    }
  }

  /** Removes the file, then every directory it leaves empty up to (not including) the root. */
  async delete(key: string): Promise<void> {
    const file = this.pathOf(key);
    try {
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
