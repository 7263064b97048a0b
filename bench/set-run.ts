/**
 * The push-and-re-push scenario, for the main sets (small, big) and the
 * no-op-at-scale sets alike: for one set and one tool, into a fresh bucket,
 * an initial push, a check of the bucket, then an immediate no-op re-run,
 * watching s3rver's store for objects written again.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3rver } from '../test/support/s3rver.js';
import { statTree, warmCache, type LibrarySet } from './library.js';
import { timed } from './measure.js';
import type { BenchPaths } from './paths.js';
import { round, runPhase, type PhaseContext } from './phase.js';
import type { RunRow, SetRow } from './results.js';
import type { Tool } from './tools.js';
import { faults, judge, listPrefix, MUSIC_PREFIX, rewritten, storeSnapshot } from './verify.js';

/**
 * describeSet warms the page cache with the set (so whichever tool runs
 * first is not the one to pay for cold reads) and measures its stat floor;
 * `label` names it in the report. Throws when the set on disk is not whole.
 */
export async function describeSet(set: LibrarySet, label: string, log: (s: string) => void): Promise<SetRow> {
  await warmCache(set);
  const floor = await statFloor(set);
  log(`${label}: stat floor ${(floor / 1000).toFixed(3)} s`);
  return {
    name: label,
    files: set.count,
    bytes: set.bytes,
    fileSize: set.size,
    ...(set.maxSize !== undefined ? { maxFileSize: set.maxSize } : {}),
    dir: set.dir,
    cached: set.cached,
    generateMs: Math.round(set.generateMs),
    statFloorMs: round(floor),
  };
}

/**
 * runSet pushes `set` with `tool` into a fresh bucket, checks the bucket,
 * times the no-op re-run, then removes the bucket from s3rver's store (which
 * may be memory). `label` names the set in the row and the bucket.
 */
export async function runSet(tool: Tool, set: LibrarySet, label: string, server: S3rver, paths: BenchPaths, ctx: PhaseContext): Promise<RunRow> {
  const bucket = `bench-${label}-${tool.name}`;
  await server.createBucket(bucket);
  const scratch = join(paths.tmp, `${label}-${tool.name}`);
  await mkdir(scratch, { recursive: true });
  const cmd = await tool.prepare({ dir: set.dir, bucket, endpoint: server.endpoint, scratch });
  const row: RunRow = { set: label, tool: tool.name, files: set.count, bytes: set.bytes, valid: true, problems: [] };
  const fail = (p: string) => {
    row.problems.push(p);
    row.valid = false;
  };
  const name = `${label} ${tool.name}`;

  const initial = await runPhase(tool, cmd, name, 'initial', { transferred: set.count }, scratch, ctx);
  row.initial = initial.result;
  initial.problems.forEach(fail);
  try {
    const { value: listing, ms } = await timed(() => listPrefix(server.endpoint, bucket, MUSIC_PREFIX));
    const wrong = faults(judge(set.files, listing));
    if (wrong) fail(`bucket after the initial push: ${wrong}`);
    ctx.log(`${name}: bucket ${wrong ? 'wrong' : 'checked'}, ${listing.size} objects listed in ${(ms / 1000).toFixed(1)} s`);
  } catch (err) {
    fail(`could not list the bucket after the initial push: ${(err as Error).message}`);
  }
  const before = await storeSnapshot(server.dir, bucket).catch(() => undefined);
  const noop = await runPhase(tool, cmd, name, 'noop', { transferred: 0 }, scratch, ctx);
  row.noop = noop.result;
  noop.problems.forEach(fail);
  const after = before && (await storeSnapshot(server.dir, bucket).catch(() => undefined));
  if (before && after) row.noop.rewritten = rewritten(before, after);
  // The bucket has been checked: free its room.
  await rm(join(server.dir, bucket), { recursive: true, force: true });
  return row;
}

/** statFloor is the best of three walks + lstat of the set, in milliseconds. */
async function statFloor(set: LibrarySet): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const { value, ms } = await timed(() => statTree(set.dir));
    if (value.size !== set.count) throw new Error(`bench: ${set.dir} holds ${value.size} files, expected ${set.count}`);
    best = Math.min(best, ms);
  }
  return best;
}
