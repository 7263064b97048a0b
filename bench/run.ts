/**
 * `npm run bench`: cratesync against aws-cli and rclone on a local s3rver.
 * A report, not a test: it prints a table, ratios and whether the targets
 * are met, then the same as JSON (also written to `.bench/results.json` and
 * to `--json FILE`). Progress goes to stderr.
 *
 * For each set (small files, big files) and each tool, into a fresh bucket:
 * an initial push, a check of the bucket, then an immediate no-op re-run.
 * Exits 0 when every run was valid, 1 when some were not (the numbers for
 * those rows do not count), 2 on bad flags.
 */
import { statfsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { startS3rver, type S3rver } from '../test/support/s3rver.js';
import { ensureSet, statTree, warmCache, type LibrarySet, type SetSpec } from './library.js';
import { childPid, cpuSeconds, measure, timed, type Command, type Measured } from './measure.js';
import { parseOptions, USAGE, type BenchOptions } from './options.js';
import { benchPaths, type BenchPaths } from './paths.js';
import { compare, renderReport, type BenchResults, type PhaseResult, type RunRow, type SetRow } from './report.js';
import { discoverTools, type Tool } from './tools.js';
import { judge, listPrefix, MUSIC_PREFIX, rewritten, storeSnapshot } from './verify.js';

const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);

async function main(argv: string[]): Promise<number> {
  let opts: BenchOptions;
  try {
    opts = parseOptions(argv);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const started = new Date();
  const t0 = performance.now();
  const loadAtStart = loadavg()[0] ?? 0;
  const paths = benchPaths();
  await rm(paths.tmp, { recursive: true, force: true });
  await mkdir(paths.tmp, { recursive: true });
  await mkdir(paths.data, { recursive: true });

  const { tools, skipped } = discoverTools(opts.tools, paths, opts.transfers);
  for (const t of tools) log(`${t.name}: ${t.version}`);
  for (const s of skipped) log(`skipping ${s}`);

  const specs: SetSpec[] = [
    { name: 'small', count: opts.small, size: opts.smallSize },
    { name: 'big', count: opts.big, size: opts.bigSize },
  ].filter((s) => s.count > 0);
  const sets: LibrarySet[] = [];
  for (const spec of specs) {
    log(`set ${spec.name}: ${spec.count} × ${spec.size} bytes…`);
    const set = await ensureSet(paths.data, spec);
    log(`set ${spec.name}: ${set.cached ? 'cached' : `generated in ${(set.generateMs / 1000).toFixed(1)} s`} at ${set.dir}`);
    sets.push(set);
  }

  const store = opts.store ?? memoryStore(sets);
  const server = await startS3rver(store ? { parent: store } : {});
  const serverPid = childPid('s3rver-launcher');
  log(`s3rver at ${server.endpoint} (pid ${serverPid ?? '?'}, data in ${server.dir}${store ? '' : ', on disk'})`);
  const setRows: SetRow[] = [];
  const runs: RunRow[] = [];
  try {
    for (const set of sets) {
      await warmCache(set);
      const floor = await statFloor(set);
      log(`${set.name}: stat floor ${(floor / 1000).toFixed(3)} s`);
      setRows.push({ name: set.name, files: set.count, bytes: set.bytes, fileSize: set.size, dir: set.dir, cached: set.cached, generateMs: Math.round(set.generateMs), statFloorMs: round(floor) });
      for (const tool of tools) runs.push(await runTool(tool, set, { ...server, pid: serverPid }, paths, opts));
    }
  } finally {
    await server.stop();
  }

  const { comparisons, targets } = compare(runs, setRows);
  const results: BenchResults = {
    startedAt: started.toISOString(),
    durationMs: Math.round(performance.now() - t0),
    machine: {
      node: process.version,
      platform: `${platform()} ${release()}`,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
      memoryMiB: Math.round(totalmem() / 1048576),
      loadAvg1m: { start: loadAtStart, end: loadavg()[0] ?? 0 },
    },
    params: { small: opts.small, smallSize: opts.smallSize, big: opts.big, bigSize: opts.bigSize, tools: opts.tools, transfers: opts.transfers ?? 'default' },
    tools: Object.fromEntries(tools.map((t) => [t.name, { version: t.version, rssProbe: t.probe }])),
    skippedTools: skipped,
    server: `s3rver (npm), one process on 127.0.0.1, run with --openssl-legacy-provider, objects in ${server.dir}`,
    sets: setRows,
    runs,
    comparisons,
    targets,
  };
  const json = `${JSON.stringify(results, null, 2)}\n`;
  process.stdout.write(renderReport(results));
  process.stdout.write(`\n${json}`);
  await writeFile(paths.results, json);
  if (opts.jsonFile) await writeFile(resolve(opts.jsonFile), json);
  log(`results written to ${paths.results}${opts.jsonFile ? ` and ${resolve(opts.jsonFile)}` : ''}; total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return runs.every((r) => r.valid) ? 0 : 1;
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

/** runTool pushes `set` with `tool` into a fresh bucket, checks the bucket, then times the no-op re-run. */
async function runTool(tool: Tool, set: LibrarySet, server: S3rver & { pid: number | undefined }, paths: BenchPaths, opts: BenchOptions): Promise<RunRow> {
  const bucket = `bench-${set.name}-${tool.name}`;
  await server.createBucket(bucket);
  const scratch = join(paths.tmp, `${set.name}-${tool.name}`);
  await mkdir(scratch, { recursive: true });
  const cmds = await tool.prepare({ set, bucket, endpoint: server.endpoint, scratch });
  const row: RunRow = { set: set.name, tool: tool.name, files: set.count, bytes: set.bytes, valid: true, problems: [] };
  const fail = (p: string) => {
    row.problems.push(p);
    row.valid = false;
  };
  const run = async (phase: 'initial' | 'noop', cmd: Command): Promise<PhaseResult> => {
    log(`${set.name} ${tool.name}: ${phase}…`);
    const serverCpu0 = server.pid ? cpuSeconds(server.pid) : undefined;
    const m = await measure(cmd, { probe: tool.probe, rssFile: join(scratch, `rss-${phase}`), preload: paths.preload, timeoutMs: opts.timeoutMs });
    const serverCpu1 = server.pid ? cpuSeconds(server.pid) : undefined;
    const exit = exitProblem(m);
    if (exit) fail(`${phase}: ${exit}`);
    const checked = tool.check(phase, m.stdout, set);
    for (const p of checked.problems) fail(`${phase}: ${p}`);
    log(`${set.name} ${tool.name}: ${phase} ${(m.ms / 1000).toFixed(2)} s, exit ${m.code ?? m.signal}, peak RSS ${m.peakRssKiB ?? '?'} KiB, CPU ${m.cpuSeconds?.toFixed(2) ?? '?'} s`);
    return {
      ms: round(m.ms),
      code: m.code,
      rssProbe: m.rssProbe,
      ...(m.peakRssKiB !== undefined ? { peakRssKiB: m.peakRssKiB } : {}),
      ...(m.cpuSeconds !== undefined ? { cpuSeconds: round(m.cpuSeconds) } : {}),
      ...(serverCpu0 !== undefined && serverCpu1 !== undefined ? { serverCpuSeconds: round(serverCpu1 - serverCpu0) } : {}),
      ...(Object.keys(checked.info).length ? { info: checked.info } : {}),
    };
  };

  row.initial = await run('initial', cmds.initial);
  try {
    const v = judge(set.files, await listPrefix(server.endpoint, bucket, MUSIC_PREFIX));
    if (v.missing || v.wrongSize || v.extra) {
      fail(`bucket after the initial push: ${v.missing} missing, ${v.wrongSize} with the wrong size, ${v.extra} unexpected (${v.examples.join('; ')})`);
    }
  } catch (err) {
    fail(`could not list the bucket after the initial push: ${(err as Error).message}`);
  }
  const before = await storeSnapshot(server.dir, bucket).catch(() => undefined);
  row.noop = await run('noop', cmds.noop);
  const after = before && (await storeSnapshot(server.dir, bucket).catch(() => undefined));
  if (before && after) row.noop.rewritten = rewritten(before, after);
  // The bucket has been checked: free its room (the store may be memory).
  await rm(join(server.dir, bucket), { recursive: true, force: true });
  return row;
}

/**
 * memoryStore picks /dev/shm for s3rver's objects when it is a tmpfs with room
 * for the largest set twice over: on a disk, kernel write-back of tens of
 * thousands of small files made s3rver's system time (and so every tool's
 * figures) swing by 2× from one run to the next. Every tool meets the same
 * store, so the comparison stays fair.
 */
function memoryStore(sets: LibrarySet[]): string | undefined {
  const need = 2 * Math.max(0, ...sets.map((s) => s.bytes)) + 256 * 1024 * 1024;
  try {
    const fs = statfsSync('/dev/shm');
    const TMPFS_MAGIC = 0x01021994;
    return fs.type === TMPFS_MAGIC && fs.bavail * fs.bsize > need ? '/dev/shm' : undefined;
  } catch {
    return undefined;
  }
}

function exitProblem(m: Measured): string | undefined {
  if (m.timedOut) return `killed at the --timeout; stderr: ${tail(m.stderr)}`;
  if (m.code !== 0) return `exit ${m.code ?? m.signal}; stderr: ${tail(m.stderr)}`;
  return undefined;
}

function tail(s: string): string {
  const t = s.trim();
  return t.length > 600 ? `…${t.slice(-600)}` : t || '(empty)';
}

/** round keeps two decimals: plenty for milliseconds and CPU seconds, and short in JSON. */
function round(n: number): number {
  return Math.round(n * 100) / 100;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
