/**
 * The bench's service scenarios (bench/service.ts) on tiny sets: the real
 * service (built CLI) against s3rver through the counting proxy. What is
 * checked is that every part measures what it says (samples taken, files
 * stored, the start-up run a no-op, the figures filled in), never how fast.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CopyObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startS3rver, type S3rver } from '../support/s3rver.js';
import { startCountingProxy, type CountingProxy } from '../../bench/counting-proxy.js';
import { ensureSet } from '../../bench/library.js';
import { benchPaths } from '../../bench/paths.js';
import { discoverTools } from '../../bench/tools.js';
import { latencyFigures, percentile, runServiceScenarios } from '../../bench/service.js';
import { scenarioTargets } from '../../bench/scenario-report.js';

let server: S3rver;
let proxy: CountingProxy;
let tmp: string;

beforeAll(async () => {
  server = await startS3rver();
  proxy = await startCountingProxy(server.endpoint, { metaPrefix: 'dj/.cratesync/' });
  tmp = await mkdtemp(join(tmpdir(), 'cs-bench-service-'));
});

afterAll(async () => {
  await proxy?.stop();
  await server?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('latency figures', () => {
  it('takes nearest-rank percentiles', () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(samples, 0.5)).toBe(50);
    expect(percentile(samples, 0.99)).toBe(99);
    expect(percentile([7], 0.99)).toBe(7);
    expect(percentile([], 0.5)).toBeUndefined();
    expect(latencyFigures([3, 1, 2])).toEqual({ p50Ms: 2, p99Ms: 3, maxMs: 3, minMs: 1, meanMs: 2 });
    expect(latencyFigures([])).toEqual({});
  });
});

describe('counting proxy onStored', () => {
  it('tells each object stored outside the metadata prefix, once s3rver has answered, and nothing else', async () => {
    await server.createBucket('stored');
    const heard: string[] = [];
    const off = proxy.onStored((bucket, key) => heard.push(`${bucket}/${key}`));
    const s3 = new S3Client({ endpoint: proxy.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, maxAttempts: 1 });
    try {
      await s3.send(new PutObjectCommand({ Bucket: 'stored', Key: 'dj/music/A Folder/01 Track.mp3', Body: 'x' }));
      await s3.send(new PutObjectCommand({ Bucket: 'stored', Key: 'dj/.cratesync/catalog/log/1', Body: 'meta' }));
      await s3.send(new CopyObjectCommand({ Bucket: 'stored', Key: 'dj/music/copy.mp3', CopySource: 'stored/dj/music/A%20Folder/01%20Track.mp3' }));
      await expect(s3.send(new PutObjectCommand({ Bucket: 'no-such-bucket', Key: 'dj/music/lost.mp3', Body: 'x' }))).rejects.toThrow();
      off();
      await s3.send(new PutObjectCommand({ Bucket: 'stored', Key: 'dj/music/after.mp3', Body: 'x' }));
    } finally {
      s3.destroy();
    }
    expect(heard).toEqual(['stored/dj/music/A Folder/01 Track.mp3', 'stored/dj/music/copy.mp3']);
  });
});

describe('service scenarios', () => {
  it('measure latency, a burst against push, and idle CPU and RSS of the real service', { timeout: 180_000 }, async () => {
    const paths = { ...benchPaths(), tmp: join(tmp, 'work') };
    const data = join(tmp, 'data');
    await mkdir(paths.tmp, { recursive: true });
    await mkdir(data, { recursive: true });
    const { tools } = discoverTools(['cratesync'], paths, undefined);
    const tool = tools[0];
    if (!tool) throw new Error('cratesync is not built: run npm run build');
    const base = await ensureSet(data, { name: 'service', count: 3, size: 4096 });
    const burst = await ensureSet(data, { name: 'burst', count: 5, size: 8192 });
    const idle = await ensureSet(data, { name: 'scale', count: 6, size: 2048, maxSize: 4096 });
    const log: string[] = [];
    const ctx = { serverPid: undefined, preload: paths.preload, timeoutMs: 60_000, log: (s: string) => log.push(s) };

    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const timersBefore = timers();

    const s = await runServiceScenarios({ base, latency: 2, burst, idle: { set: idle, seconds: 1 } }, { tool, server, proxy, paths, ctx });

    // No timer of the scenarios outlives them: one would keep the bench from exiting once its report is out.
    expect(timers()).toBe(timersBefore);

    expect(s.problems).toEqual([]);
    expect(s.valid).toBe(true);
    expect(s.latency).toMatchObject({ changes: 2, lost: 0, valid: true });
    expect(s.latency?.samplesMs).toHaveLength(2);
    expect(s.latency?.p99Ms).toBeDefined();
    expect(s.burst).toMatchObject({ files: 5, stored: 5, uploaded: 5, valid: true });
    expect(s.burst?.push?.code).toBe(0);
    expect(s.burst?.ratio).toBeDefined();
    expect(s.idle).toMatchObject({ files: 6, startupUploaded: 0, watcher: 'watching', requests: 0, valid: true });
    expect(s.idle?.cpuPercent).toBeDefined();
    expect(s.idle?.rssMaxKiB).toBeGreaterThan(0);
    expect(s.idle?.hwmKiB).toBeGreaterThanOrEqual(s.idle!.rssMaxKiB!);
    // Every target is judged (met or missed), none left n/a.
    const { targets } = scenarioTargets({ service: s });
    expect(targets).toHaveLength(5);
    for (const t of targets) expect(typeof t.met).toBe('boolean');
  });
});
