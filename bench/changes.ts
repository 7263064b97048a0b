/**
 * The scenarios that change a library between two pushes, and what the
 * second push costs:
 * - rename: a one-album library ({@link ALBUM_FOLDER}) whose album folder is
 *   renamed; aws runs with `--delete` (see RunTarget.mirror), rclone sync and
 *   a plain cratesync push as they are, and all must end with only the new
 *   keys under `dj/music/`;
 * - retag: the tags of some files rewritten at the same size, audio frames
 *   byte for byte the same (test/fixtures/mp3.ts retagMp3).
 *
 * For each tool, into a fresh bucket and through the counting proxy: a real
 * copy of the set into scratch (not hard links: cratesync tracks inodes, and
 * a change must not reach the cache or the next tool), an initial push and a
 * check of the bucket, the change, the measured push, and a check that
 * `dj/music/` holds exactly the changed library, content included (ETag =
 * MD5; every file here is below every tool's multipart threshold). Only
 * `dj/music/` is checked: cratesync moves replaced and deleted objects into
 * `dj/.cratesync/trash/`, which is counted but not judged. rclone lists with
 * `--fast-list` here (see RunTarget.fastList).
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { cp, mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { S3rver } from '../test/support/s3rver.js';
import { retagMp3 } from '../test/fixtures/mp3.js';
import type { CountingProxy } from './counting-proxy.js';
import { readTags } from '../src/library/tags.js';
import { ALBUM_FOLDER, type LibraryFile, type LibrarySet } from './library.js';
import type { BenchPaths } from './paths.js';
import { runPhase, type PhaseContext } from './phase.js';
import type { ChangeRow, ChangeScenario, SetInfo } from './results.js';
import type { Tool } from './tools.js';
import { faults, judge, listPrefix, MUSIC_PREFIX, type ExpectedFile } from './verify.js';

/** What the rename scenario renames {@link ALBUM_FOLDER} to (same parent folder). */
export const RENAMED_FOLDER = 'Velvet Harbour/New Album (Remastered)';

/**
 * How long after the initial push ends the change is made, at least: aws s3
 * sync sends a same-size file only when its mtime is newer than the object's
 * LastModified, and a tag edit is made long after an upload in real life, not
 * within the same second.
 */
const SETTLE_MS = 2000;

export interface Change {
  name: 'rename' | 'retag';
  /** The library before the change. */
  set: LibrarySet;
  /** The change, in words, for the report. */
  describe: string;
  changedFiles: number;
  changedBytes: number;
  /** See RunTarget.mirror. */
  mirror: boolean;
  /** apply makes the change in `dir`, a copy of the set, and returns the files the library holds afterwards. */
  apply(dir: string): Promise<LibraryFile[]>;
}

/** renameChange renames the album folder of an `album` set. */
export function renameChange(set: LibrarySet): Change {
  return {
    name: 'rename',
    set,
    describe: `renamed "${ALBUM_FOLDER}" to "${RENAMED_FOLDER}"`,
    changedFiles: set.count,
    changedBytes: set.bytes,
    mirror: true,
    async apply(dir) {
      await rename(join(dir, ALBUM_FOLDER), join(dir, RENAMED_FOLDER));
      return set.files.map((f) => ({ ...f, path: f.path.startsWith(`${ALBUM_FOLDER}/`) ? RENAMED_FOLDER + f.path.slice(ALBUM_FOLDER.length) : f.path }));
    },
  };
}

/**
 * retagChange gives `n` files of `set`, spread evenly over it, a new title
 * and comment, keeping their other tags, their audio and their size (the
 * tag's padding absorbs the difference, as taggers do).
 */
export function retagChange(set: LibrarySet, n: number): Change {
  const picked = Array.from({ length: Math.min(n, set.count) }, (_, i) => set.files[Math.floor((i * set.count) / n)]!);
  return {
    name: 'retag',
    set,
    describe: `retagged ${picked.length} of ${set.count} files (new title and comment, same size, same audio)`,
    changedFiles: picked.length,
    changedBytes: picked.reduce((s, f) => s + f.size, 0),
    mirror: false,
    async apply(dir) {
      for (const f of picked) {
        const file = join(dir, f.path);
        const old = readFileSync(file);
        // Every other tag is kept, as a tag editor would (music-metadata reads them).
        const { durationSec: _d, rating: _r, ...tags } = await readTags(file, old);
        const edited = retagMp3(old, { ...tags, title: `${tags.title ?? 'Untitled'} (Bench Edit)`, comment: 'retagged by the cratesync bench' }, { sameSize: true });
        writeFileSync(file, edited);
      }
      return set.files;
    },
  };
}

/** changeScenario is the report's frame of a change; its rows come from {@link runChange}. */
export function changeScenario(c: Change): ChangeScenario {
  const s = c.set;
  const set: SetInfo = { name: s.name, files: s.count, bytes: s.bytes, fileSize: s.size, dir: s.dir, cached: s.cached, generateMs: Math.round(s.generateMs) };
  return { name: c.name, change: c.describe, set, changedFiles: c.changedFiles, changedBytes: c.changedBytes, runs: [] };
}

export interface ChangeEnv {
  server: S3rver;
  /** In front of `server`; every tool is pointed at it. */
  proxy: CountingProxy;
  paths: BenchPaths;
  ctx: PhaseContext;
}

/** runChange runs change `c` with `tool` (see the top of this file) and frees the bucket afterwards. */
export async function runChange(tool: Tool, c: Change, env: ChangeEnv): Promise<ChangeRow> {
  const { server, proxy, paths, ctx } = env;
  const bucket = `bench-${c.name}-${tool.name}`;
  await server.createBucket(bucket);
  const scratch = join(paths.tmp, `${c.name}-${tool.name}`);
  const library = join(scratch, 'library');
  await mkdir(scratch, { recursive: true });
  // Timestamps kept: a library's files are older than its first upload (aws compares mtimes with LastModified).
  await cp(c.set.dir, library, { recursive: true, preserveTimestamps: true });
  const cmd = await tool.prepare({ dir: library, bucket, endpoint: proxy.endpoint, scratch, mirror: c.mirror, fastList: true });
  const row: ChangeRow = { tool: tool.name, valid: true, problems: [] };
  const fail = (p: string) => {
    row.problems.push(p);
    row.valid = false;
  };
  const label = `${c.name} ${tool.name}`;
  const check = async (when: string, files: ExpectedFile[]) => {
    try {
      const listing = await listPrefix(server.endpoint, bucket, 'dj/');
      const music = new Map([...listing].filter(([k]) => k.startsWith(MUSIC_PREFIX)));
      const wrong = faults(judge(files, music));
      if (wrong) fail(`bucket after the ${when}: ${wrong}`);
      return listing;
    } catch (err) {
      fail(`could not list the bucket after the ${when}: ${(err as Error).message}`);
      return undefined;
    }
  };

  proxy.take();
  const initial = await runPhase(tool, cmd, label, 'initial', { transferred: c.set.count }, scratch, ctx);
  row.initial = { ...initial.result, traffic: proxy.take() };
  initial.problems.forEach(fail);
  // Every tool must send the whole library the first time: less means the proxy miscounts, and no figure of the row holds.
  const sent = row.initial.traffic;
  if (sent.audioBytes < c.set.bytes || sent.objectsWritten !== c.set.count) {
    fail(`initial push: the proxy counted ${sent.audioBytes} audio bytes in ${sent.objectsWritten} objects, the library is ${c.set.bytes} bytes in ${c.set.count} files`);
  }
  const pushedAt = performance.now();
  await check('initial push', c.set.files);

  await sleep(Math.max(0, SETTLE_MS - (performance.now() - pushedAt)));
  const files = await applyChange(c, library);
  const push = await runPhase(tool, cmd, label, 'push', {}, scratch, ctx);
  row.push = { ...push.result, traffic: proxy.take() };
  push.problems.forEach(fail);
  const actions = push.result.info?.actions as Record<string, number> | undefined;
  if (actions) row.tagsChanged = Object.entries(actions).reduce((n, [k, v]) => n + (k.endsWith(': tags changed') ? v : 0), 0);
  const listing = await check('push after the change', files);
  if (listing) {
    const elsewhere: Record<string, number> = {};
    for (const key of listing.keys()) {
      if (key.startsWith(MUSIC_PREFIX)) continue;
      const where = key.split('/').slice(1, 3).join('/');
      elsewhere[where] = (elsewhere[where] ?? 0) + 1;
    }
    row.elsewhere = elsewhere;
  }
  ctx.log(`${label}: push sent ${row.push.traffic.audioBytes} audio bytes, ${row.push.traffic.objectsWritten} objects, ${row.push.traffic.copies} copies`);
  await rm(join(server.dir, bucket), { recursive: true, force: true });
  await rm(library, { recursive: true, force: true });
  return row;
}

/** applyChange makes the change and returns the files the bucket must then hold, with the MD5 of their content. */
async function applyChange(c: Change, library: string): Promise<ExpectedFile[]> {
  const files = await c.apply(library);
  return files.map((f) => ({ ...f, md5: createHash('md5').update(readFileSync(join(library, f.path))).digest('hex') }));
}
