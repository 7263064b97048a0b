/**
 * Walking a library folder: every file the filter admits, with its stat
 * fingerprint. Symbolic links are followed (a library is often assembled
 * from links) with loop detection; a directory or file that cannot be read
 * is reported as a problem and the walk goes on.
 */
import { readdirSync, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { join } from 'node:path';
import type { PathFilter } from './filter.js';
import { describe } from '../errors.js';
import { nfc } from './names.js';

/** How long the walk runs before letting the event loop turn. */
const YIELD_MS = 20;

export interface WalkedFile {
  /** NFC, '/'-separated, relative to the root: the file's identity everywhere. */
  path: string;
  /** Absolute path as spelled on disk (may be NFD on macOS volumes). */
  abs: string;
  size: number;
  mtimeMs: number;
  inode: number;
}

export interface Problem {
  path: string;
  message: string;
}

/**
 * walk lists the files under `root` that `filter` admits. Problems (unreadable
 * directories, broken links, loops, two names equal after NFC normalisation)
 * are pushed to `problems`, partial downloads left by an interrupted run to
 * `leftovers` (absolute paths); only an unreadable root throws.
 */
/** Temporary files of downloads (see sync/transfer.ts): `.<name>.cratesync-<hex>.part`. */
export const PART_FILE = /^\..+\.cratesync-[0-9a-f]+\.part$/;

export async function walk(root: string, filter: PathFilter, problems: Problem[], leftovers: string[] = []): Promise<WalkedFile[]> {
  const out: WalkedFile[] = [];
  const seenPaths = new Set<string>();
  const rootStat = await stat(root);
  const visitedDirs = new Set<string>([`${rootStat.dev}:${rootStat.ino}`]);

  // Synchronous on purpose: a readdir or stat takes microseconds, the
  // thread-pool hop of an async one costs more than the call, and a walk is
  // thousands of them. The event loop gets a turn every YIELD_MS so that a
  // listing started alongside (and a service's clients) are not starved.
  const pending: Array<[string, string]> = [[root, '']];
  let lastYield = performance.now();
  for (let next = pending.pop(); next; next = pending.pop()) {
    visitDir(...next);
    if (performance.now() - lastYield > YIELD_MS) {
      await yieldToLoop();
      lastYield = performance.now();
    }
  }
  return out;

  function visitDir(abs: string, rel: string): void {
    let entries;
    try {
      entries = readdirSync(abs, { withFileTypes: true });
    } catch (err) {
      problems.push({ path: rel || '.', message: describe(err) });
      return;
    }
    const subdirs: Array<[string, string]> = [];
    for (const e of entries) {
      const name = e.name;
      const childAbs = join(abs, name);
      // The parent is NFC already, and '/' composes with nothing: only the name needs it.
      const childRel = rel ? `${rel}/${nfc(name)}` : nfc(name);
      if (e.isDirectory() || e.isSymbolicLink()) {
        if (filter.skipDir(name)) continue;
      }
      if (e.isFile() && PART_FILE.test(name)) {
        leftovers.push(childAbs);
        continue;
      }
      if (e.isFile() && !filter.file(childRel)) continue;
      if (!e.isFile() && !e.isDirectory() && !e.isSymbolicLink()) continue; // sockets, fifos, devices
      let st;
      try {
        st = statSync(childAbs);
      } catch (err) {
        problems.push({ path: childRel, message: e.isSymbolicLink() ? `broken link: ${describe(err)}` : describe(err) });
        continue;
      }
      if (st.isDirectory()) {
        const id = `${st.dev}:${st.ino}`;
        if (visitedDirs.has(id)) {
          if (e.isSymbolicLink()) problems.push({ path: childRel, message: 'symbolic link loop (directory already visited), skipped' });
          continue;
        }
        visitedDirs.add(id);
        subdirs.push([childAbs, childRel]);
        continue;
      }
      if (!st.isFile() || !filter.file(childRel)) continue;
      if (seenPaths.has(childRel)) {
        problems.push({ path: childRel, message: 'two files have this name once Unicode-normalised (NFC); only one is synced' });
        continue;
      }
      seenPaths.add(childRel);
      out.push({ path: childRel, abs: childAbs, size: st.size, mtimeMs: st.mtimeMs, inode: st.ino });
    }
    // Depth-first, in name order: reversed onto the stack, popped in order.
    for (let i = subdirs.length - 1; i >= 0; i--) pending.push(subdirs[i] as [string, string]);
  }
}
