/**
 * No-op at scale: sets of many small files (2–4 KiB, in the small set's
 * Artist/Album tree), each pushed into a fresh bucket then pushed again
 * unchanged, as the main sets are (set-run.ts). What matters here is how the
 * no-op and the memory grow with the file count, so by default only cratesync
 * runs every size; aws runs the sizes up to {@link SCALE_AWS_MAX} (its
 * 100,000-file initial push alone takes many minutes) and rclone none (against
 * s3rver its "no-op" uploads everything again; see the notes of the report).
 */
import type { S3rver } from '../test/support/s3rver.js';
import type { LibrarySet, SetSpec } from './library.js';
import { SCALE_AWS_MAX, type BenchOptions } from './options.js';
import type { BenchPaths } from './paths.js';
import type { PhaseContext } from './phase.js';
import type { ScaleScenario } from './results.js';
import { describeSet, runSet } from './set-run.js';
import type { Tool } from './tools.js';

/** The smallest and largest file of a scale set. */
export const SCALE_MIN_SIZE = 2048;
export const SCALE_MAX_SIZE = 4096;

/** scaleSpec describes the scale set of `count` files (one name for every size: a smaller set is the start of a larger one). */
export function scaleSpec(count: number): SetSpec {
  return { name: 'scale', count, size: SCALE_MIN_SIZE, maxSize: SCALE_MAX_SIZE };
}

/** scaleLabel names a scale set in the report, the JSON and its bucket. */
export function scaleLabel(count: number): string {
  return `scale-${count}`;
}

/**
 * scaleTools picks, from the tools that can run, those that run the set of
 * `count` files: those of `--scale-tools` when given, else those of `--tools`
 * that the default described at the top lets run at that size.
 */
export function scaleTools(count: number, tools: Tool[], opts: BenchOptions): Tool[] {
  if (opts.scaleTools) return tools.filter((t) => opts.scaleTools!.includes(t.name));
  return tools.filter((t) => opts.tools.includes(t.name) && (t.name === 'cratesync' || (t.name === 'aws' && count <= SCALE_AWS_MAX)));
}

/** runScale runs every scale set with its tools; `sets` are ascending by size. */
export async function runScale(sets: LibrarySet[], tools: Tool[], opts: BenchOptions, server: S3rver, paths: BenchPaths, ctx: PhaseContext): Promise<ScaleScenario> {
  const out: ScaleScenario = { sets: [], runs: [] };
  for (const set of sets) {
    const label = scaleLabel(set.count);
    out.sets.push(await describeSet(set, label, ctx.log));
    for (const tool of scaleTools(set.count, tools, opts)) out.runs.push(await runSet(tool, set, label, server, paths, ctx));
  }
  return out;
}
