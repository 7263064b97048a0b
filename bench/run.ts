/**
 * `npm run bench`: cratesync against aws-cli and rclone on a local s3rver.
 * A report, not a test: it prints a table, ratios and whether the targets
 * are met, then the same as JSON (also written to `.bench/results.json` and
 * to `--json FILE`). Progress goes to stderr.
 *
 * Scenarios, each skipped when its flag is 0 (or empty), in this order:
 * - the main sets (small files, big files; set-run.ts): for each tool, into a
 *   fresh bucket, an initial push, a check of the bucket, then an immediate
 *   no-op re-run;
 * - rename and retag (changes.ts): a push, a change to the library (an album
 *   folder renamed; tags rewritten), the push again, with the bytes each tool
 *   sends counted by a proxy (counting-proxy.ts);
 * - no-op at scale (scale.ts): the main sets' scenario on 20,000 and 100,000
 *   small files;
 * - join (join.ts): a fresh machine pulling from a bucket whose catalog 1,000
 *   runs wrote, after a writer's push has snapshotted it (cratesync only);
 * - service (service.ts): the service's change latency, a burst of new files
 *   against push, and its CPU and memory while idle (cratesync only);
 * - collection (collection.ts): a big Rekordbox collection pushed by one
 *   user and pulled, rewritten, by another, on a folder remote (cratesync
 *   only; `--collection-only` runs it alone, and then no s3rver is started);
 * - players (players.ts): a big Strawberry database attached to a library
 *   already on the remote, then rating edits in the player through the
 *   service while the player keeps writing (cratesync only).
 * Exits 0 when every run was valid, 1 when some were not (the numbers for
 * those rows do not count), 2 on bad flags.
 */
import { statfsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { startS3rver } from '../test/support/s3rver.js';
import { changeScenario, renameChange, retagChange, runChange, type Change } from './changes.js';
import { startCountingProxy, type CountingProxy } from './counting-proxy.js';
import { ensureSet, type LibrarySet, type SetSpec } from './library.js';
import { childPid } from './measure.js';
import { parseOptions, SCALE_AWS_MAX, USAGE, type BenchOptions } from './options.js';
import { benchPaths } from './paths.js';
import type { PhaseContext } from './phase.js';
import { compare, renderReport } from './report.js';
import type { BenchResults, ChangeScenario, CollectionScenario, JoinScenario, PlayersScenario, RunRow, SubsonicScenario, ScaleScenario, ServiceScenario, SetRow } from './results.js';
import { runCollection } from './collection.js';
import { runScale, scaleLabel, scaleSpec } from './scale.js';
import { runJoin } from './join.js';
import { runPlayers } from './players.js';
import { runSubsonic } from './subsonic.js';
import { scenarioTargets } from './scenario-report.js';
import { describeSet, runSet } from './set-run.js';
import { BURST_FILE_SIZE, LATENCY_FILE_SIZE, runServiceScenarios, SERVICE_BASE_FILES, type ServicePlan } from './service.js';
import { discoverTools } from './tools.js';

const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);

/** Size of every track of the rename scenario's album. */
const RENAME_FILE_SIZE = 64 * 1024;
/** The retag scenario's library has at least this many files (of --small-size), however few it retags. */
const RETAG_LIBRARY_MIN = 1000;
/** Where cratesync keeps its own objects under the remote root `dj/`: not audio. */
const META_PREFIX = 'dj/.cratesync/';

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

  // --scale-tools may name tools --tools leaves out: they run the scale sets only.
  const wanted = [...new Set([...opts.tools, ...(opts.scaleTools ?? [])])];
  const { tools: available, skipped } = discoverTools(wanted, paths, opts.transfers);
  const tools = available.filter((t) => opts.tools.includes(t.name));
  for (const t of available) log(`${t.name}: ${t.version}`);
  for (const s of skipped) log(`skipping ${s}`);

  const ensure = async (spec: SetSpec, label = spec.name): Promise<LibrarySet> => {
    log(`set ${label}: ${spec.count} × ${spec.size}${spec.maxSize ? `–${spec.maxSize}` : ''} bytes…`);
    const set = await ensureSet(paths.data, spec);
    log(`set ${label}: ${set.cached ? 'cached' : `generated in ${(set.generateMs / 1000).toFixed(1)} s`} at ${set.dir}`);
    return set;
  };
  const sets: LibrarySet[] = [];
  for (const spec of [
    { name: 'small', count: opts.small, size: opts.smallSize },
    { name: 'big', count: opts.big, size: opts.bigSize },
  ]) {
    if (spec.count > 0) sets.push(await ensure(spec));
  }
  const changes: Change[] = [];
  if (opts.rename > 0) changes.push(renameChange(await ensure({ name: 'rename', count: opts.rename, size: RENAME_FILE_SIZE, layout: 'album' })));
  if (opts.retag > 0) changes.push(retagChange(await ensure({ name: 'retag', count: Math.max(RETAG_LIBRARY_MIN, opts.retag), size: opts.smallSize }), opts.retag));
  const scaleSets: LibrarySet[] = [];
  for (const n of opts.scale) scaleSets.push(await ensure(scaleSpec(n), scaleLabel(n)));
  const servicePlan: ServicePlan = { latency: opts.serviceLatency };
  if (opts.serviceLatency > 0 || opts.serviceBurst > 0) servicePlan.base = await ensure({ name: 'service', count: SERVICE_BASE_FILES, size: opts.smallSize });
  if (opts.serviceBurst > 0) servicePlan.burst = await ensure({ name: 'burst', count: opts.serviceBurst, size: BURST_FILE_SIZE });
  if (opts.serviceIdleS > 0) servicePlan.idle = { set: await ensure(scaleSpec(opts.serviceIdleFiles), scaleLabel(opts.serviceIdleFiles)), seconds: opts.serviceIdleS };
  const serviceSets = [servicePlan.base, servicePlan.burst, servicePlan.idle?.set].filter((x): x is LibrarySet => x !== undefined);
  // The players scenario's library is the scale set of its size (cached, shared with the scale scenario).
  const playersSet = opts.playersSongs > 0 ? await ensure(scaleSpec(opts.playersSongs), scaleLabel(opts.playersSongs)) : undefined;

  const cratesync = available.find((t) => t.name === 'cratesync');
  // Only the collection scenario left (it runs on a folder remote): no server to share the cores with it.
  const needServer = sets.length > 0 || changes.length > 0 || scaleSets.length > 0 || (cratesync !== undefined && (opts.join > 0 || serviceSets.length > 0 || playersSet !== undefined || opts.subsonicTracks > 0));
  const store = opts.store ?? memoryStore([...sets, ...changes.map((c) => c.set), ...scaleSets, ...serviceSets, ...(playersSet ? [playersSet] : [])]);
  // Deletes in parallel (aws, rclone, cratesync's trash moves) would otherwise meet s3rver's spurious 500s.
  const server = needServer ? await startS3rver({ ...(store ? { parent: store } : {}), fixDeleteRace: true }) : undefined;
  const serverPid = server ? childPid('s3rver-launcher') : undefined;
  if (server) log(`s3rver at ${server.endpoint} (pid ${serverPid ?? '?'}, data in ${server.dir}${store ? '' : ', on disk'})`);
  const ctx: PhaseContext = { serverPid, preload: paths.preload, timeoutMs: opts.timeoutMs, log };
  const setRows: SetRow[] = [];
  const runs: RunRow[] = [];
  const changed: Partial<Record<Change['name'], ChangeScenario>> = {};
  let scale: ScaleScenario | undefined;
  let join: JoinScenario | undefined;
  let service: ServiceScenario | undefined;
  let collection: CollectionScenario | undefined;
  let players: PlayersScenario | undefined;
  let subsonic: SubsonicScenario | undefined;
  let proxy: CountingProxy | undefined;
  try {
    if (server) {
      for (const set of sets) {
        setRows.push(await describeSet(set, set.name, log));
        for (const tool of tools) runs.push(await runSet(tool, set, set.name, server, paths, ctx));
      }
      if (changes.length || (cratesync && (opts.join > 0 || serviceSets.length || playersSet))) {
        proxy = await startCountingProxy(server.endpoint, { metaPrefix: META_PREFIX });
        log(`counting proxy at ${proxy.endpoint}`);
      }
      for (const change of changes) {
        const scenario = (changed[change.name] = changeScenario(change));
        for (const tool of tools) scenario.runs.push(await runChange(tool, change, { server, proxy: proxy!, paths, ctx }));
      }
      if (scaleSets.length) scale = await runScale(scaleSets, available, opts, server, paths, ctx);
      if (opts.join > 0 && cratesync) join = await runJoin(cratesync, opts.join, { server, proxy: proxy!, paths, ctx });
      if (serviceSets.length && cratesync) service = await runServiceScenarios(servicePlan, { tool: cratesync, server, proxy: proxy!, paths, ctx });
      if (playersSet && cratesync) players = await runPlayers(playersSet, opts.playersEdits, { tool: cratesync, server, proxy: proxy!, paths, ctx });
      if (opts.subsonicTracks > 0 && cratesync) subsonic = await runSubsonic(opts.subsonicTracks, { tool: cratesync, server, paths, ctx });
    }
    if (opts.collectionTracks > 0 && cratesync) collection = await runCollection(cratesync, opts.collectionTracks, { paths, ctx });
    else if (opts.collectionTracks > 0) log('collection: skipped (cratesync is not among the tools)');
  } finally {
    await proxy?.stop();
    await server?.stop();
  }

  const mainFigures = compare(runs, setRows);
  const scenarioFigures = scenarioTargets({ ...changed, ...(scale ? { scale } : {}), ...(join ? { join } : {}), ...(service ? { service } : {}), ...(collection ? { collection } : {}), ...(players ? { players } : {}), ...(subsonic ? { subsonic } : {}) });
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
    params: {
      small: opts.small,
      smallSize: opts.smallSize,
      big: opts.big,
      bigSize: opts.bigSize,
      tools: opts.tools,
      transfers: opts.transfers ?? 'default',
      rename: opts.rename,
      renameFileSize: RENAME_FILE_SIZE,
      retag: opts.retag,
      retagLibrary: opts.retag > 0 ? Math.max(RETAG_LIBRARY_MIN, opts.retag) : 0,
      scale: opts.scale,
      scaleTools: opts.scaleTools ?? `default: cratesync at every size, aws up to ${SCALE_AWS_MAX}`,
      join: opts.join,
      serviceLatency: opts.serviceLatency,
      serviceLatencyFileSize: LATENCY_FILE_SIZE,
      serviceBase: opts.serviceLatency > 0 || opts.serviceBurst > 0 ? SERVICE_BASE_FILES : 0,
      serviceBurst: opts.serviceBurst,
      serviceBurstFileSize: BURST_FILE_SIZE,
      serviceIdleS: opts.serviceIdleS,
      serviceIdleFiles: opts.serviceIdleS > 0 ? opts.serviceIdleFiles : 0,
      collectionTracks: opts.collectionTracks,
      playersSongs: opts.playersSongs,
      playersEdits: opts.playersSongs > 0 ? opts.playersEdits : 0,
      subsonicTracks: opts.subsonicTracks,
    },
    tools: Object.fromEntries(available.map((t) => [t.name, { version: t.version, rssProbe: t.probe }])),
    skippedTools: skipped,
    server: server
      ? `s3rver (npm), one process on 127.0.0.1, run with --openssl-legacy-provider and its delete race fixed, objects in ${server.dir}`
      : 'none (no scenario that needs one ran)',
    sets: setRows,
    runs,
    ...changed,
    ...(scale ? { scale } : {}),
    ...(join ? { join } : {}),
    ...(service ? { service } : {}),
    ...(collection ? { collection } : {}),
    ...(players ? { players } : {}),
    ...(subsonic ? { subsonic } : {}),
    comparisons: [...mainFigures.comparisons, ...scenarioFigures.comparisons],
    targets: [...mainFigures.targets, ...scenarioFigures.targets],
  };
  const json = `${JSON.stringify(results, null, 2)}\n`;
  process.stdout.write(renderReport(results));
  process.stdout.write(`\n${json}`);
  await writeFile(paths.results, json);
  if (opts.jsonFile) await writeFile(resolve(opts.jsonFile), json);
  log(`results written to ${paths.results}${opts.jsonFile ? ` and ${resolve(opts.jsonFile)}` : ''}; total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const allRuns = [...runs, ...Object.values(changed).flatMap((c) => c.runs), ...(scale?.runs ?? [])];
  return allRuns.every((r) => r.valid) && (join?.valid ?? true) && (service?.valid ?? true) && (collection?.valid ?? true) && (players?.valid ?? true) && (subsonic?.valid ?? true) ? 0 : 1;
}

/**
 * memoryStore picks /dev/shm for s3rver's objects when it is a tmpfs with room
 * for the largest set twice over: on a disk, kernel write-back of tens of
 * thousands of small files made s3rver's system time (and so every tool's
 * figures) swing by 2× from one run to the next. Every tool meets the same
 * store, so the comparison stays fair. Each object costs s3rver three files
 * (object, metadata, MD5), each at least a 4 KiB page there.
 */
function memoryStore(sets: LibrarySet[]): string | undefined {
  const need = 2 * Math.max(0, ...sets.map((s) => s.bytes + s.count * 3 * 4096)) + 256 * 1024 * 1024;
  try {
    const fs = statfsSync('/dev/shm');
    const TMPFS_MAGIC = 0x01021994;
    return fs.type === TMPFS_MAGIC && fs.bavail * fs.bsize > need ? '/dev/shm' : undefined;
  } catch {
    return undefined;
  }
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
