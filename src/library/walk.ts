/**
 * Walking a library folder: every file the filter admits, with its stat
 * fingerprint. Symbolic links are followed (a library is often assembled
 * from links) with loop detection; a directory or file that cannot be read
 * is reported as a problem and the walk goes on.
 */
import { statSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { PathFilter } from './filter.js';
import { describe } from '../errors.js';

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
 * are pushed to `problems`; only an unreadable root throws.
 */
export async function walk(root: string, filter: PathFilter, problems: Problem[]): Promise<WalkedFile[]> {
  const out: WalkedFile[] = [];
  const seenPaths = new Set<string>();
  const rootStat = await stat(root);
  const visitedDirs = new Set<string>([`${rootStat.dev}:${rootStat.ino}`]);

  async function visitDir(abs: string, rel: string): Promise<void> {
    let entries;
    try {
      entries = await readdir(abs, { withFileTypes: true });
    } catch (err) {
      problems.push({ path: rel || '.', message: describe(err) });
      return;
    }
    const subdirs: Array<[string, string]> = [];
    for (const e of entries) {
      const name = e.name;
      const childAbs = join(abs, name);
      const childRel = (rel ? `${rel}/${name}` : name).normalize('NFC');
      if (e.isDirectory() || e.isSymbolicLink()) {
        if (filter.skipDir(name)) continue;
      }
      if (e.isFile() && !filter.file(childRel)) continue;
      if (!e.isFile() && !e.isDirectory() && !e.isSymbolicLink()) continue; // sockets, fifos, devices
      let st;
      try {
        // Synchronous on purpose: a stat is microseconds, the thread-pool hop of
        // an async one costs more than the call, and a walk is thousands of them.
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
    // Depth-first, a few directories at a time: bounded open handles, still parallel.
    for (let i = 0; i < subdirs.length; i += 8) {
      await Promise.all(subdirs.slice(i, i + 8).map(([a, r]) => visitDir(a, r)));
    }
  }

  await visitDir(root, '');
  return out;
}
