/**
 * Browsing and restoring trash batches, remote or local. Restoring never
 * overwrites: whatever stands at a restored file's place now goes to a new
 * trash batch first.
 */
import { readdir, stat, mkdir, rename } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { Remote } from '../remote/remote.js';
import { NotFoundError, UsageError } from '../errors.js';
import { LOCAL_TRASH_DIR, TRASH_PREFIX, trashStamp } from './layout.js';
import { keepRemoteVersion, moveWithin, pruneEmpty, trashLocal } from './trash.js';

export interface TrashItem {
  /** Key or library path the item had, and gets back on restore. */
  path: string;
  size: number;
}

export interface TrashBatch {
  stamp: string;
  items: TrashItem[];
  bytes: number;
}

function group(items: Array<{ stamp: string; item: TrashItem }>): TrashBatch[] {
  const map = new Map<string, TrashBatch>();
  for (const { stamp, item } of items) {
    const b = map.get(stamp) ?? { stamp, items: [], bytes: 0 };
    b.items.push(item);
    b.bytes += item.size;
    map.set(stamp, b);
  }
  return [...map.values()].sort((a, b) => a.stamp.localeCompare(b.stamp));
}

/** remoteTrash lists the trash batches of `remote`, oldest first. */
export async function remoteTrash(remote: Remote): Promise<TrashBatch[]> {
  const items: Array<{ stamp: string; item: TrashItem }> = [];
  for await (const o of remote.list(TRASH_PREFIX)) {
    const rest = o.key.slice(TRASH_PREFIX.length);
    const slash = rest.indexOf('/');
    if (slash <= 0) continue;
    items.push({ stamp: rest.slice(0, slash), item: { path: rest.slice(slash + 1), size: o.size } });
  }
  return group(items);
}

/** localTrash lists the trash batches of the library at `root`, oldest first. */
export async function localTrash(root: string): Promise<TrashBatch[]> {
  const base = join(root, LOCAL_TRASH_DIR);
  const items: Array<{ stamp: string; item: TrashItem }> = [];
  async function visit(dir: string): Promise<void> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const abs = join(dir, e.name);
      if (e.isDirectory()) await visit(abs);
      else if (e.isFile()) {
        const [stamp, ...rest] = relative(base, abs).split(sep);
        if (stamp && rest.length > 0) items.push({ stamp, item: { path: rest.join('/'), size: (await stat(abs)).size } });
      }
    }
  }
  await visit(base);
  return group(items);
}

function pick(batches: TrashBatch[], stamp: string, only?: (path: string) => boolean): TrashItem[] {
  const b = batches.find((x) => x.stamp === stamp);
  if (!b) throw new UsageError(`no trash batch ${stamp} (see cratesync trash list)`);
  return only ? b.items.filter((i) => only(i.path)) : b.items;
}

/**
 * restoreRemote moves the items of batch `stamp` (those `only` admits) back
 * to their keys; an object now at such a key is kept in a new batch first.
 * Returns the restored keys.
 */
export async function restoreRemote(remote: Remote, stamp: string, only?: (path: string) => boolean): Promise<string[]> {
  const items = pick(await remoteTrash(remote), stamp, only);
  const keep = trashStamp();
  const done: string[] = [];
  for (const item of items) {
    try {
      await remote.stat(item.path);
      await keepRemoteVersion(remote, keep, item.path);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
    await moveWithin(remote, `${TRASH_PREFIX}${stamp}/${item.path}`, item.path);
    done.push(item.path);
  }
  return done;
}

/** restoreLocal does the same for the local trash of the library at `root`. */
export async function restoreLocal(root: string, stamp: string, only?: (path: string) => boolean): Promise<string[]> {
  const items = pick(await localTrash(root), stamp, only);
  const keep = trashStamp();
  const done: string[] = [];
  for (const item of items) {
    const target = join(root, ...item.path.split('/'));
    await trashLocal(root, keep, item.path, target);
    await mkdir(dirname(target), { recursive: true });
    const from = join(root, LOCAL_TRASH_DIR, stamp, ...item.path.split('/'));
    await rename(from, target);
    await pruneEmpty(dirname(from), join(root, LOCAL_TRASH_DIR));
    done.push(item.path);
  }
  return done;
}
