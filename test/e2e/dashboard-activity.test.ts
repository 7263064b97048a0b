/**
 * The dashboard's history, chart, retries and library data end to end: the
 * real `cratesync service run` process pushing a generated library to
 * s3rver (through the fault proxy), asked over its control API.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { startS3rver, type S3rver } from '../support/s3rver.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { listObjects, s3Client } from '../support/s3-objects.js';
import { settled, startService, waitFor, type ServiceProcess } from '../support/service-process.js';
import { makeLibrary } from '../fixtures/audio.js';
import { makeMp3, retagMp3 } from '../fixtures/mp3.js';
import type { ActivityPage, ActivityRow } from '../../src/state/activity-log.js';

const CREDS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_PROFILE: undefined };

let server: S3rver;
let proxy: FaultProxy;
let s3: S3Client;
const running: ServiceProcess[] = [];

beforeAll(async () => {
  server = await startS3rver();
  proxy = await startFaultProxy(server.endpoint);
  s3 = s3Client(server.endpoint);
});
afterAll(async () => {
  s3.destroy();
  await proxy.stop();
  await server.stop();
});
afterEach(async () => {
  for (const s of running.splice(0)) {
    s.child.kill('SIGKILL');
    await s.exited;
  }
});

async function json<T>(r: Promise<Response>): Promise<T> {
  const res = await r;
  const body = await res.text();
  if (!res.ok) throw new Error(`${res.status} ${body}`);
  return JSON.parse(body) as T;
}

describe('the dashboard\'s history over the control API', () => {
  it('lists the uploads of a push as new, a tag edit as tags-changed, a failing file, and a retry that sends it', async () => {
    const bucket = 'dashactivity';
    await server.createBucket(bucket);
    const home = await mkdtemp(join(tmpdir(), 'cs-dash-home-'));
    const lib = join(await mkdtemp(join(tmpdir(), 'cs-dash-lib-')), 'Music');
    const paths = await makeLibrary(lib, { albums: 3, tracksPerAlbum: 3, flacShare: 0.34 });
    const config = join(home, 'config.json');
    await writeFile(config, JSON.stringify({ library: lib, remote: `s3://${bucket}/dj`, service: { quiet: '300ms' } }));
    const s = await startService(home, config, { ...CREDS, AWS_ENDPOINT_URL: proxy.endpoint });
    running.push(s);
    const activity = (query = '') => json<ActivityPage>(s.api(`/api/activity?limit=500${query}`));
    const music = async () => new Set([...(await listObjects(s3, bucket, 'dj/music/')).keys()].map((k) => k.slice('dj/music/'.length)));

    // The first full run pushes the library: one upload row each, reason new.
    await settled(s);
    const first = await activity();
    expect(first.total).toBe(paths.length);
    expect(first.rows.map((r) => r.path).sort()).toEqual([...paths].sort());
    expect(first.rows.every((r) => r.kind === 'upload' && r.reason === 'new' && r.ok && r.bytes > 0)).toBe(true);
    expect(new Set(first.rows.map((r) => r.runId)).size).toBe(1);

    // A tag-only edit: the same audio frames, other tags.
    const mp3 = paths.find((p) => p.endsWith('.mp3')) as string;
    await writeFile(join(lib, mp3), retagMp3(await readFile(join(lib, mp3)), { title: 'Retitled', artist: 'Someone Else' }));
    const tagged = await waitFor('the tag edit in the history', async () => (await activity('&reasons=tags-changed')).rows[0]);
    expect(tagged).toMatchObject({ kind: 'upload', reason: 'tags-changed', path: mp3, ok: true });

    // A file the remote keeps refusing (503 SlowDown on its PUT): failing in the status and in the history.
    const victim = 'Failing/Retry Me.mp3';
    proxy.rules.push({ method: 'PUT', pathIncludes: `music/${victim}`, action: 'status-503', times: 1000 });
    await mkdir(dirname(join(lib, victim)), { recursive: true });
    await writeFile(join(lib, victim), makeMp3({ title: 'Retry Me', seed: 'victim' }));
    const failure = await waitFor('the failing file in the status', async () => (await s.status()).queue.failures.find((f: { path: string }) => f.path === victim));
    expect(failure.reason).toMatch(/SlowDown|reduce your request rate/i);
    const failed = (await activity(`&q=${encodeURIComponent('retry me')}`)).rows;
    expect(failed).toEqual([expect.objectContaining({ kind: 'upload', reason: 'new', path: victim, ok: false, bytes: 0, error: expect.stringMatching(/SlowDown|reduce your request rate/i) })]);

    // Fixed; a retry sends it now.
    proxy.rules.length = 0;
    expect(await json(s.api('/api/retry', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ paths: [victim] }) }))).toEqual({ retried: 1 });
    await waitFor('the retried file in the bucket', async () => (await music()).has(victim));
    await settled(s);
    const retried = (await activity(`&q=${encodeURIComponent('RETRY ME')}`)).rows;
    expect(retried.map((r) => r.ok)).toEqual([true, false]);
    expect((await s.status()).queue.failures).toEqual([]);

    // Bad input is named.
    const bad = await s.api('/api/activity?kinds=upload,teleport');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/^query kinds\.1: /);

    // The chart and the library page.
    const all = await activity();
    const sent = all.rows.filter((r: ActivityRow) => r.ok).reduce((n, r) => n + r.bytes, 0);
    const chart = await json<{ bucketMs: number; points: Array<{ at: number; bytes: number; files: number }> }>(s.api('/api/throughput'));
    expect(chart.points).toHaveLength(60);
    expect(chart.points.reduce((n, p) => n + p.files, 0)).toBe(paths.length + 2);
    expect(chart.points.reduce((n, p) => n + p.bytes, 0)).toBe(sent);
    const library = await json<{ files: number; formats: Array<{ ext: string; files: number }>; changes: { audio: number; tagsOnly: number } }>(s.api('/api/library'));
    expect(library.files).toBe(paths.length + 1);
    expect(Object.fromEntries(library.formats.map((f) => [f.ext, f.files]))).toEqual({
      mp3: paths.filter((p) => p.endsWith('.mp3')).length + 1,
      flac: paths.filter((p) => p.endsWith('.flac')).length,
    });
    expect(library.changes).toEqual({ audio: 0, tagsOnly: 1 });
  });
});
