/**
 * Scanning a library: walk it, reuse what the file index knows of files whose
 * size, mtime and inode are unchanged, hash and read the tags of the others,
 * and save the result. A re-run of an unchanged library reads no file.
 */
import { extname } from 'node:path';
import type { FileIndex, FileRecord } from '../state/file-index.js';
import type { PathFilter } from './filter.js';
import { walk, type Problem, type WalkedFile } from './walk.js';
import { hashBytes, hashFile } from './audio-hash.js';
import { readFileSync } from 'node:fs';
import { hasTags, readTags } from './tags.js';
import { describe } from '../errors.js';
import { forEachLimit } from '../sync/queue.js';

/** Files up to this size are read whole into memory once while scanning. */
const WHOLE_READ = 256 * 1024;

/** A library file as the planner sees it. */
export interface LocalFile extends FileRecord {
  abs: string;
}

export interface ScanResult {
  files: LocalFile[];
  /** How many files were hashed this time (new or changed fingerprint). */
  hashed: number;
  problems: Problem[];
}

export interface ScanOptions {
  filter: PathFilter;
  index: FileIndex;
  /** Parallel file reads while hashing; hashing is CPU-bound, so a few suffice. */
  hashConcurrency?: number;
  /** Hears of each file hashed, for progress displays. */
  onHashed?: (file: WalkedFile) => void;
}

/**
 * scanLibrary returns every admitted file of `root` with its hashes. Files that
 * cannot be read are left out and reported in `problems`; they never stop the
 * scan. Only an unreadable root throws.
 */
export async function scanLibrary(root: string, options: ScanOptions): Promise<ScanResult> {
  const problems: Problem[] = [];
  const walked = await walk(root, options.filter, problems);
  const known = options.index.fingerprints();
  const files: LocalFile[] = [];
  const fresh: WalkedFile[] = [];
  for (const w of walked) {
    const k = known.get(w.path);
    if (k && k.size === w.size && k.mtimeMs === w.mtimeMs && k.inode === w.inode) {
      files.push({ ...k, abs: w.abs });
    } else {
      fresh.push(w);
    }
  }

  const updated: FileRecord[] = [];
  await forEachLimit(fresh, options.hashConcurrency ?? 4, async (w) => {
    try {
      const rec = await describeFile(w);
      files.push(rec);
      updated.push(rec);
      options.onHashed?.(w);
    } catch (err) {
      problems.push({ path: w.path, message: describe(err) });
    }
  });

  const present = new Set(walked.map((w) => w.path));
  const gone = [...known.keys()].filter((p) => !present.has(p));
  if (updated.length > 0 || gone.length > 0) options.index.update(updated, gone);
  return { files, hashed: updated.length, problems };
}

/**
 * describeFile hashes the file `w` and reads its tags. `w` carries the stat
 * taken before reading, so a change made while hashing shows as a new
 * fingerprint on the next scan. Throws when the file cannot be read; tags that
 * cannot be parsed are simply absent.
 */
export async function describeFile(w: WalkedFile): Promise<LocalFile> {
  // Most library files besides audio are small (covers, playlists, cue sheets), and a
  // test or bench library may be all small files: one synchronous read then serves
  // hashing and tag parsing alike, saving a dozen thread-pool round trips per file.
  const data = w.size <= WHOLE_READ ? readFileSync(w.abs) : undefined;
  const h = data ? await hashBytes(data) : await hashFile(w.abs);
  const rec: LocalFile = { path: w.path, abs: w.abs, size: h.size, mtimeMs: w.mtimeMs, inode: w.inode, md5: h.md5 };
  if (h.audioHash) rec.audioHash = h.audioHash;
  if (hasTags(extname(w.path))) {
    try {
      rec.tags = await readTags(w.abs, data);
    } catch {
      // Corrupt or tagless audio is still synced as a file; it just has no tags.
    }
  }
  return rec;
}
