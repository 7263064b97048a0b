/**
 * The service scenarios (issue 10, "Speed"): cratesync's service
 * (`service run`, service-process.ts) with default settings (quiet period
 * 1 s), against s3rver through the counting proxy, which tells the moment
 * s3rver answers each object's upload (CountingProxy.onStored): from then on
 * the object is readable. Each part is skipped when its flag is 0:
 * - latency: a library of the `service` set, pushed first, so the service
 *   starts idle; then, one at a time and each once the service is idle again,
 *   a new file of {@link LATENCY_FILE_SIZE} is written in full outside the
 *   library (same filesystem) and renamed into place. A sample runs from the
 *   rename to its object stored; a HEAD straight to s3rver confirms its size.
 * - burst: then, into the same library while the same service runs, a set of
 *   files copied in at once; from the copy's end (all written, as a push
 *   finds them; the service may have begun) to the last of them stored, the
 *   time from the copy's start reported too. Against `cratesync push` of the
 *   same files into a fresh bucket (through the same proxy, the service
 *   stopped), spawn to exit. Both in files/s.
 * - idle: a library of the scale sets' small files, pushed with the CLI (same
 *   state home), then the service started on it: its start-up run must send
 *   nothing. Once it is idle, for the window asked: CPU time of its process
 *   (utime + stime, /proc) as % of one core; VmRSS sampled every second;
 *   VmHWM at the end; requests it sent. Nothing asks the service anything
 *   during the window.
 * Everything here is measured, never asserted: a figure out of line is a
 * target missed (scenario-report.ts), a run gone wrong a problem.
 */
import { cp, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3rver } from '../test/support/s3rver.js';
import { makeMp3 } from '../test/fixtures/mp3.js';
import type { CountingProxy } from './counting-proxy.js';
import type { LibrarySet } from './library.js';
import { cpuSeconds } from './measure.js';
import type { BenchPaths } from './paths.js';
import { round, runPhase, type PhaseContext } from './phase.js';
import type { ServiceBurst, ServiceIdle, ServiceLatency, ServiceScenario } from './results.js';
import { procMemory, startService, writeServiceConfig, type BenchService } from './service-process.js';
import { baseEnv, type Tool } from './tools.js';
import { faults, judge, listPrefix, MUSIC_PREFIX } from './verify.js';

/** Size of every file the latency scenario writes. */
export const LATENCY_FILE_SIZE = 256 * 1024;
/** Size of every file of the burst set. */
export const BURST_FILE_SIZE = 64 * 1024;
/** Files of the library the latency and burst scenarios start from (of --small-size). */
export const SERVICE_BASE_FILES = 1000;
/** A change not stored within this long is counted as lost, and the next one made. */
const LATENCY_WAIT_MS = 30_000;
/** How often VmRSS is sampled in the idle window. */
const RSS_SAMPLE_MS = 1000;
/** Library folders the scenarios write into (new to the library). */
const LATENCY_FOLDER = 'Service Latency';
const BURST_FOLDER = 'Service Burst';

export interface ServicePlan {
  /** The library the latency and burst scenarios start from; absent when both are skipped. */
  base?: LibrarySet;
  latency: number;
  burst?: LibrarySet;
  idle?: { set: LibrarySet; seconds: number };
}

export interface ServiceEnv {
  /** cratesync, for its pushes. */
  tool: Tool;
  server: S3rver;
  proxy: CountingProxy;
  paths: BenchPaths;
  ctx: PhaseContext;
}

/** runServiceScenarios runs the parts of `plan` (see the top); a part that fails is a problem, never a throw. */
export async function runServiceScenarios(plan: ServicePlan, env: ServiceEnv): Promise<ServiceScenario> {
  const out: ServiceScenario = { settings: 'default service settings (quiet period 1 s), push mode, default --transfers', valid: true, problems: [], warnings: [] };
  /** failer is how a part (or parts) says what went wrong: it no longer counts, and neither does the whole. */
  const failer =
    (parts: Array<{ valid: boolean } | undefined>, label: string) =>
    (p: string): void => {
      out.problems.push(`${label}: ${p}`);
      out.valid = false;
      for (const x of parts) if (x) x.valid = false;
    };
  if (plan.base && (plan.latency > 0 || plan.burst)) {
    if (plan.latency > 0) out.latency = { changes: plan.latency, fileSize: LATENCY_FILE_SIZE, libraryFiles: plan.base.count, samplesMs: [], lost: 0, valid: true };
    if (plan.burst) out.burst = { files: plan.burst.count, bytes: plan.burst.bytes, stored: 0, valid: true };
    const parts = { latency: failer([out.latency], 'latency'), burst: failer([out.burst], 'burst'), both: failer([out.latency, out.burst], 'latency/burst') };
    try {
      await changesScenarios(plan.base, plan.latency, plan.burst, env, out, parts);
    } catch (err) {
      parts.both((err as Error).message);
    }
  }
  if (plan.idle) {
    const idle: ServiceIdle = (out.idle = { files: plan.idle.set.count, seconds: plan.idle.seconds, rssSamples: 0, valid: true });
    const fail = failer([idle], 'idle');
    try {
      await idleScenario(plan.idle.set, idle, env, fail, (...w) => out.warnings.push(...w.map((x) => `idle: ${x}`)));
    } catch (err) {
      fail((err as Error).message);
    }
  }
  return out;
}

type Fail = (p: string) => void;

/** A service on a fresh copy of a set, pushed first, with its own bucket and state home. */
interface Prepared {
  library: string;
  bucket: string;
  scratch: string;
  configFile: string;
  home: string;
  env: NodeJS.ProcessEnv;
}

/**
 * prepare makes `name`'s scratch folder, bucket and config for `library`
 * and pushes the library with the CLI (same config and home as the service
 * gets, so the service's start-up run finds it all done).
 */
async function prepare(name: string, library: string | ((scratch: string) => Promise<string>), files: number, env: ServiceEnv, fail: Fail): Promise<Prepared> {
  const { server, proxy, paths, ctx, tool } = env;
  const scratch = join(paths.tmp, name);
  await mkdir(scratch, { recursive: true });
  const lib = typeof library === 'string' ? library : await library(scratch);
  const bucket = `bench-${name}`;
  await server.createBucket(bucket);
  const home = join(scratch, 'cratesync-home');
  await mkdir(home, { recursive: true });
  const configFile = await writeServiceConfig(scratch, { library: lib, remote: `s3://${bucket}/dj`, endpoint: proxy.endpoint });
  const penv = await baseEnv(scratch, { CRATESYNC_HOME: home, NO_COLOR: '1' });
  const push = await runPhase(tool, { command: process.execPath, args: [paths.cli, '--config', configFile, 'push', '--json'], env: penv }, name, 'push', { transferred: files }, scratch, ctx);
  push.problems.forEach(fail);
  return { library: lib, bucket, scratch, configFile, home, env: penv };
}

async function launch(p: Prepared, env: ServiceEnv): Promise<BenchService> {
  return startService({ cli: env.paths.cli, configFile: p.configFile, home: p.home, env: p.env, timeoutMs: env.ctx.timeoutMs });
}

/** changesScenarios runs latency then burst on one service (see the top). */
async function changesScenarios(
  base: LibrarySet,
  latency: number,
  burst: LibrarySet | undefined,
  env: ServiceEnv,
  out: ServiceScenario,
  fail: { latency: Fail; burst: Fail; both: Fail },
): Promise<void> {
  const { server, proxy, ctx } = env;
  const p = await prepare('service-changes', async (scratch) => {
    const lib = join(scratch, 'library');
    // A real copy, not links: the service watches it and the scenarios write into it.
    await cp(base.dir, lib, { recursive: true });
    await mkdir(join(lib, LATENCY_FOLDER));
    return lib;
  }, base.count, env, fail.both);
  const stored = watchStored(proxy, p.bucket);
  const s3 = new S3Client({ endpoint: server.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  ctx.log('service: starting on the pushed library…');
  const service = await launch(p, env);
  try {
    const first = await service.waitIdle(ctx.timeoutMs, (s) => s.totals.runs >= 1);
    if (first.totals.uploaded > 0) fail.both(`the start-up run uploaded ${first.totals.uploaded} files of a library pushed just before`);
    if (out.latency) {
      try {
        await latencyScenario(service, p, latency, out.latency, stored, s3, ctx, fail.latency);
      } catch (err) {
        fail.latency((err as Error).message);
      }
    }
    if (burst && out.burst) {
      try {
        await burstScenario(service, p, burst, out.burst, stored, env, fail.burst);
      } catch (err) {
        fail.burst((err as Error).message);
      }
    }
  } finally {
    await service.stop();
    for (const f of service.faults()) fail.both(f);
    out.warnings.push(...service.warnings().map((w) => `latency/burst: ${w}`));
    stored.close();
    s3.destroy();
    await rm(join(server.dir, p.bucket), { recursive: true, force: true });
  }
  if (burst && out.burst?.serviceMs !== undefined) await burstPush(burst, out.burst, env, fail.burst);
}

async function latencyScenario(
  service: BenchService,
  p: Prepared,
  changes: number,
  out: ServiceLatency,
  stored: StoredWatch,
  s3: S3Client,
  ctx: PhaseContext,
  fail: Fail,
): Promise<void> {
  const incoming = join(p.scratch, 'incoming');
  await mkdir(incoming, { recursive: true });
  const width = String(changes).length;
  ctx.log(`service latency: ${changes} changes, one at a time…`);
  for (let i = 1; i <= changes; i++) {
    await service.waitIdle(ctx.timeoutMs);
    const name = `${String(i).padStart(width, '0')} Latency Track ${i}.mp3`;
    const rel = `${LATENCY_FOLDER}/${name}`;
    const key = `${MUSIC_PREFIX}${rel}`;
    const tmp = join(incoming, `${i}.tmp`);
    await writeFile(tmp, makeMp3({ seed: `bench:latency:${i}`, targetBytes: LATENCY_FILE_SIZE, title: `Latency Track ${i}`, artist: 'Bench', album: 'Latency' }));
    const t0 = performance.now();
    await rename(tmp, join(p.library, LATENCY_FOLDER, name));
    const at = await stored.wait([key], LATENCY_WAIT_MS);
    if (at === undefined) {
      out.lost++;
      fail(`${rel} not stored within ${LATENCY_WAIT_MS / 1000} s of its rename`);
      continue;
    }
    out.samplesMs.push(round(at - t0));
    const head = await s3.send(new HeadObjectCommand({ Bucket: p.bucket, Key: key })).catch((err: Error) => err);
    if (head instanceof Error) fail(`${key} was stored but HEAD failed: ${head.message}`);
    else if (head.ContentLength !== LATENCY_FILE_SIZE) fail(`${key} holds ${head.ContentLength} bytes, not ${LATENCY_FILE_SIZE}`);
    if (i % 50 === 0 || i === changes) ctx.log(`service latency: ${i}/${changes}, p50 so far ${((percentile(out.samplesMs, 0.5) ?? 0) / 1000).toFixed(3)} s`);
  }
  Object.assign(out, latencyFigures(out.samplesMs));
}

async function burstScenario(service: BenchService, p: Prepared, set: LibrarySet, out: ServiceBurst, stored: StoredWatch, env: ServiceEnv, fail: Fail): Promise<void> {
  const { server, ctx } = env;
  const before = await service.waitIdle(ctx.timeoutMs);
  const prefix = `${MUSIC_PREFIX}${BURST_FOLDER}/`;
  const keys = set.files.map((f) => prefix + f.path);
  ctx.log(`service burst: copying ${set.count} files into the library…`);
  const t0 = performance.now();
  const waiting = stored.wait(keys, ctx.timeoutMs);
  await cp(set.dir, join(p.library, BURST_FOLDER), { recursive: true });
  const written = performance.now();
  out.copyMs = round(written - t0);
  const at = await waiting;
  out.stored = stored.count(keys);
  if (at === undefined) {
    fail(`${out.stored} of ${set.count} files stored within the --timeout`);
    return;
  }
  out.serviceMs = round(at - written);
  out.fromCopyStartMs = round(at - t0);
  out.serviceFilesPerS = round(set.count / (out.serviceMs / 1000));
  const after = await service.waitIdle(ctx.timeoutMs);
  out.runs = after.totals.runs - before.totals.runs;
  out.uploaded = after.totals.uploaded - before.totals.uploaded;
  const wrong = faults(judge(set.files, await listPrefix(server.endpoint, p.bucket, prefix), prefix));
  if (wrong) fail(`bucket after the burst: ${wrong}`);
  ctx.log(`service burst: ${set.count} files stored ${(out.serviceMs / 1000).toFixed(2)} s after the copy (which took ${(out.copyMs / 1000).toFixed(2)} s), ${out.runs} runs`);
}

/** burstPush pushes the burst set with the CLI into a fresh bucket: what the burst is held against. */
async function burstPush(set: LibrarySet, out: ServiceBurst, env: ServiceEnv, fail: Fail): Promise<void> {
  const { server, proxy, paths, ctx, tool } = env;
  const bucket = 'bench-service-push';
  await server.createBucket(bucket);
  const scratch = join(paths.tmp, 'service-push');
  await mkdir(scratch, { recursive: true });
  const cmd = await tool.prepare({ dir: set.dir, bucket, endpoint: proxy.endpoint, scratch });
  const push = await runPhase(tool, cmd, 'service burst', 'push', { transferred: set.count }, scratch, ctx);
  push.problems.forEach(fail);
  out.push = push.result;
  const wrong = faults(judge(set.files, await listPrefix(server.endpoint, bucket, MUSIC_PREFIX)));
  if (wrong) fail(`bucket after the push: ${wrong}`);
  await rm(join(server.dir, bucket), { recursive: true, force: true });
  if (push.problems.length || wrong) return;
  out.pushFilesPerS = round(set.count / (push.result.ms / 1000));
  if (out.serviceFilesPerS !== undefined) out.ratio = Math.round((out.serviceFilesPerS / out.pushFilesPerS) * 1000) / 1000;
}

async function idleScenario(set: LibrarySet, out: ServiceIdle, env: ServiceEnv, fail: Fail, warn: (...w: string[]) => void): Promise<void> {
  const { server, proxy, ctx } = env;
  // The set's own folder: a service in push mode writes nothing into its library.
  const p = await prepare('service-idle', set.dir, set.count, env, fail);
  ctx.log(`service idle: starting on ${set.count} pushed files…`);
  const t0 = performance.now();
  const service = await launch(p, env);
  try {
    const first = await service.waitIdle(ctx.timeoutMs, (s) => s.totals.runs >= 1);
    out.startupMs = round(performance.now() - t0);
    out.startupUploaded = first.totals.uploaded;
    out.watcher = first.watcher.state;
    if (first.totals.uploaded > 0) fail(`the start-up run uploaded ${first.totals.uploaded} files of a library pushed just before`);
    if (first.watcher.state !== 'watching') fail(`the watcher is ${first.watcher.state}${first.watcher.warning ? `: ${first.watcher.warning}` : ''}`);
    ctx.log(`service idle: idle after ${(out.startupMs / 1000).toFixed(1)} s; measuring ${out.seconds} s…`);
    proxy.take();
    const cpu0 = cpuSeconds(service.pid);
    const w0 = performance.now();
    const rss: number[] = [];
    const sampler = setInterval(() => {
      const m = procMemory(service.pid);
      if (m) rss.push(m.rssKiB);
    }, RSS_SAMPLE_MS);
    try {
      await sleep(out.seconds * 1000);
    } finally {
      clearInterval(sampler);
    }
    const cpu1 = cpuSeconds(service.pid);
    const windowS = (performance.now() - w0) / 1000;
    const mem = procMemory(service.pid);
    out.requests = proxy.take().requests;
    if (!service.alive() || cpu0 === undefined || cpu1 === undefined || !mem) {
      fail('the service ended during the window');
      return;
    }
    rss.push(mem.rssKiB);
    out.cpuSeconds = round(cpu1 - cpu0);
    out.cpuPercent = Math.round(((cpu1 - cpu0) / windowS) * 100 * 1000) / 1000;
    out.rssMaxKiB = Math.max(...rss);
    out.rssMeanKiB = Math.round(rss.reduce((a, b) => a + b, 0) / rss.length);
    out.rssFirstKiB = rss[0];
    out.rssLastKiB = rss[rss.length - 1];
    out.rssSamples = rss.length;
    out.hwmKiB = mem.hwmKiB;
    ctx.log(`service idle: CPU ${out.cpuPercent}% of one core, RSS max ${Math.round(out.rssMaxKiB / 1024)} MiB, VmHWM ${Math.round(out.hwmKiB / 1024)} MiB, ${out.requests} requests`);
  } finally {
    await service.stop();
    for (const f of service.faults()) fail(f);
    warn(...service.warnings());
    await rm(join(server.dir, p.bucket), { recursive: true, force: true });
  }
}

/** Which objects of one bucket s3rver has stored, and when (performance.now()), as the proxy tells. */
interface StoredWatch {
  /**
   * wait resolves with the time the last of `keys` was stored, once all
   * are (at once when they already are), or undefined after `timeoutMs`.
   */
  wait(keys: string[], timeoutMs: number): Promise<number | undefined>;
  /** count is how many of `keys` are stored. */
  count(keys: string[]): number;
  close(): void;
}

function watchStored(proxy: CountingProxy, bucket: string): StoredWatch {
  const at = new Map<string, number>();
  const waiters = new Set<{ left: Set<string>; done: (t: number) => void }>();
  const off = proxy.onStored((b, key) => {
    if (b !== bucket || at.has(key)) return;
    const t = performance.now();
    at.set(key, t);
    for (const w of waiters) {
      w.left.delete(key);
      if (w.left.size === 0) w.done(t);
    }
  });
  return {
    wait(keys, timeoutMs) {
      const left = new Set(keys.filter((k) => !at.has(k)));
      if (left.size === 0) return Promise.resolve(Math.max(...keys.map((k) => at.get(k)!)));
      return new Promise((resolve) => {
        const w = {
          left,
          done: (t: number) => {
            clearTimeout(timer);
            waiters.delete(w);
            resolve(t);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(w);
          resolve(undefined);
        }, timeoutMs);
        waiters.add(w);
      });
    },
    count: (keys) => keys.filter((k) => at.has(k)).length,
    close: off,
  };
}

/** percentile is the nearest-rank `q` quantile (0 < q ≤ 1) of `samples`; undefined when there are none. */
export function percentile(samples: readonly number[], q: number): number | undefined {
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length))) - 1];
}

/** latencyFigures sums up latency samples (ms): p50, p99 (nearest rank), max, min, mean; nothing when there are none. */
export function latencyFigures(samples: readonly number[]): Pick<ServiceLatency, 'p50Ms' | 'p99Ms' | 'maxMs' | 'minMs' | 'meanMs'> {
  if (samples.length === 0) return {};
  return {
    p50Ms: percentile(samples, 0.5)!,
    p99Ms: percentile(samples, 0.99)!,
    maxMs: Math.max(...samples),
    minMs: Math.min(...samples),
    meanMs: round(samples.reduce((a, b) => a + b, 0) / samples.length),
  };
}
