/**
 * The join scenario: a fresh machine joining a bucket that many runs wrote.
 * The bucket's catalog is made directly with the catalog codec, as `--join N`
 * runs of five machines over the years would have left it: one log object
 * per run, a day apart, each naming one small real MP3 it stored under
 * `dj/music/`. Then, through the counting proxy:
 * - a writer pushes a one-file library as any machine would (fresh state:
 *   it reads every log); having read that many logs, it writes a snapshot
 *   on its own (src/sync/catalog-snapshots.ts);
 * - a fresh machine (fresh state home) pulls everything into an empty
 *   folder: the run the scenario is about, with the catalog objects it read
 *   (snapshots and logs, GETs counted by the proxy) and its time.
 * Only cratesync takes part: the other tools keep no catalog.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3rver } from '../test/support/s3rver.js';
import { makeMp3 } from '../test/fixtures/mp3.js';
import { encodeLog, logKey } from '../src/sync/catalog-codec.js';
import { forEachLimit } from '../src/core/concurrency.js';
import type { CountingProxy } from './counting-proxy.js';
import { timed } from './measure.js';
import type { BenchPaths } from './paths.js';
import { runPhase, type PhaseContext } from './phase.js';
import type { CountedPhase, JoinPull, JoinScenario } from './results.js';
import { baseEnv, type Tool } from './tools.js';
import { listPrefix, MUSIC_PREFIX } from './verify.js';

const DAY = 86_400_000;
const BUCKET = 'bench-join';
const SNAP_PREFIX = 'dj/.cratesync/catalog/snap/';



export interface JoinEnv {
  server: S3rver;
  proxy: CountingProxy;
  paths: BenchPaths;
  ctx: PhaseContext;
}

/** runJoin runs the scenario with `runs` runs (see the top); `tool` is cratesync. */
export async function runJoin(tool: Tool, runs: number, env: JoinEnv): Promise<JoinScenario> {
  const { server, proxy, paths, ctx } = env;
  const out: JoinScenario = { runs, seedMs: 0, snapshots: 0, valid: true, problems: [] };
  const fail = (p: string) => {
    out.problems.push(p);
    out.valid = false;
  };
  await server.createBucket(BUCKET);
  ctx.log(`join: writing ${runs} runs' logs and objects…`);
  out.seedMs = Math.round((await timed(() => seed(server.endpoint, runs))).ms);

  // The writer: a machine with a one-file library, pushing for the first time.
  const scratch = join(paths.tmp, 'join');
  const writerLib = join(scratch, 'writer-library');
  await mkdir(writerLib, { recursive: true });
  await writeFile(join(writerLib, 'writer.mp3'), makeMp3({ seed: 'join-writer', title: 'Writer' }));
  const writerScratch = join(scratch, 'writer');
  await mkdir(writerScratch, { recursive: true });
  const push = await tool.prepare({ dir: writerLib, bucket: BUCKET, endpoint: proxy.endpoint, scratch: writerScratch });
  proxy.take();
  const w = await runPhase(tool, push, 'join writer', 'push', { transferred: 1 }, writerScratch, ctx);
  out.writer = counted(w.result, proxy.take());
  w.problems.forEach(fail);
  out.snapshots = [...(await listPrefix(server.endpoint, BUCKET, SNAP_PREFIX)).keys()].length;
  if (out.snapshots === 0) fail('the writer wrote no snapshot');

  // The fresh machine: an empty folder, a fresh state home, pull.
  const freshScratch = join(scratch, 'fresh');
  const freshLib = join(freshScratch, 'library');
  await mkdir(freshLib, { recursive: true });
  const home = join(freshScratch, 'cratesync-home');
  await mkdir(home, { recursive: true });
  const pull = {
    command: process.execPath,
    args: [paths.cli, 'pull', freshLib, `s3://${BUCKET}/dj`, '--endpoint', proxy.endpoint, '--json'],
    env: await baseEnv(freshScratch, { CRATESYNC_HOME: home, NO_COLOR: '1' }),
  };
  proxy.take();
  const p = await runPhase(tool, pull, 'join fresh', 'pull', { transferred: runs + 1 }, freshScratch, ctx);
  out.pull = counted(p.result, proxy.take());
  p.problems.forEach(fail);
  out.files = [...(await listPrefix(server.endpoint, BUCKET, MUSIC_PREFIX)).keys()].length;
  ctx.log(`join: the fresh pull read ${out.pull.snapshotsRead} snapshot(s) and ${out.pull.logsRead} logs in ${(out.pull.ms / 1000).toFixed(2)} s`);
  return out;
}

function counted(result: CountedPhase | Omit<CountedPhase, 'traffic'>, traffic: CountedPhase['traffic']): JoinPull {
  return { ...result, traffic, logsRead: traffic.metaReads['catalog/log'] ?? 0, snapshotsRead: traffic.metaReads['catalog/snap'] ?? 0 };
}

/**
 * seed writes `runs` log objects a day apart, ending a day ago, from five
 * machines, each naming one small MP3 it stored (written too), straight to
 * s3rver.
 */
async function seed(endpoint: string, runs: number): Promise<void> {
  const s3 = new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  const start = Date.now() - runs * DAY;
  try {
    await forEachLimit(Array.from({ length: runs }, (_, i) => i), 16, async (i) => {
      const at = start + i * DAY;
      const machine = `host${i % 5}-bench`;
      const key = `music/Join/run-${String(i).padStart(5, '0')}.mp3`;
      const body = makeMp3({ seed: `join-${i}`, title: `Run ${i}` });
      const put = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `dj/${key}`, Body: body }));
      const md5 = (put.ETag ?? '').replace(/"/g, '');
      const doc = { v: 1 as const, writer: `dj@${machine}`, entries: [{ op: 'put' as const, key, size: body.length, md5, etag: put.ETag ?? md5, at }] };
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `dj/${logKey(at, machine)}`, Body: encodeLog(doc) }));
    });
  } finally {
    s3.destroy();
  }
}
