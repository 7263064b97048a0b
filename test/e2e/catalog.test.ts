/**
 * The remote catalog end to end, the real CLI against s3rver: `push --full`
 * believes the listing over the catalog; `trash restore` writes to the
 * catalog as this machine; `catalog compact` removes the logs a snapshot
 * holds and a machine joining afterwards still gets every file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, unlink } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { makeLibrary } from '../fixtures/audio.js';
import { cli, cliJson, type CliEnv } from '../support/cli.js';
import { startS3rver, type S3rver } from '../support/s3rver.js';
import { catalogLogs, listObjects, putObject, s3Client } from '../support/s3-objects.js';

const CREDS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_PROFILE: undefined };
const tmp = (name: string) => mkdtemp(join(tmpdir(), `cs-${name}-`));
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const done = (r: { json: any }) => r.json.actions.filter((a: any) => a.status === 'done');

let server: S3rver;
let s3: S3Client;
let buckets = 0;
beforeAll(async () => {
  server = await startS3rver();
  s3 = s3Client(server.endpoint);
});
afterAll(async () => {
  s3.destroy();
  await server.stop();
});

async function setup(): Promise<{ bucket: string; url: string; lib: string; e: CliEnv }> {
  const bucket = `catalog${++buckets}`;
  await server.createBucket(bucket);
  const lib = await tmp('lib');
  await makeLibrary(lib, { albums: 2, tracksPerAlbum: 2, seed: buckets });
  return { bucket, url: `s3://${bucket}/dj`, lib, e: { home: await tmp('home'), env: { ...CREDS, AWS_ENDPOINT_URL: server.endpoint } } };
}

describe('catalog end to end', () => {
  it('push --full right after every object was removed by another tool sends everything again', async () => {
    const { bucket, url, lib, e } = await setup();
    const first = await cliJson(e, 'push', lib, url);
    expect(first.code, first.stderr).toBe(0);
    const music = [...(await listObjects(s3, bucket, 'dj/music/')).keys()];
    expect(music.length).toBeGreaterThan(0);
    for (const Key of music) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key }));

    const full = await cliJson(e, 'push', lib, url, '--full');
    expect(full.code, full.stderr).toBe(0);
    expect(full.json.summary.transferred).toBe(music.length);
    expect([...(await listObjects(s3, bucket, 'dj/music/')).keys()].sort()).toEqual(music.sort());
  });

  it('trash restore writes to the catalog under the machine id the library runs use', async () => {
    const { bucket, url, lib, e } = await setup();
    expect((await cli(e, 'init', '--library', lib, '--remote', url)).code).toBe(0);
    expect((await cliJson(e, 'push')).code).toBe(0);
    const keys = [...(await listObjects(s3, bucket, 'dj/music/')).keys()];
    const gone = keys.map((k) => k.slice('dj/music/'.length)).filter((p) => p.endsWith('.mp3'))[0]!;
    await unlink(join(lib, gone));
    const del = await cliJson(e, 'push', '--delete');
    expect(del.code, del.stderr).toBe(0);
    const batch = (await cliJson(e, 'trash', 'list')).json[0].stamp as string;
    const restore = await cliJson(e, 'trash', 'restore', batch);
    expect(restore.code, restore.stderr).toBe(0);

    const machineOf = (key: string) => /\d{8}T\d{9}Z-(.+)-[0-9a-f]{6}\.json\.gz$/.exec(key)?.[1];
    const logs = await catalogLogs(s3, bucket, 'dj');
    const restored = logs.filter((l) => l.doc.entries.some((x) => x.op === 'put' && x.key === `music/${gone}`));
    expect(restored.length).toBe(2); // the first push, then the restore
    const machines = new Set(logs.map((l) => machineOf(l.key)));
    expect(machines.size).toBe(1);
    expect(new Set(logs.map((l) => l.doc.writer)).size).toBe(1);
  });

  it('catalog compact removes the logs a snapshot holds; a machine joining later still gets every file', async () => {
    const { bucket, url, e } = await setup();
    // Sixty runs of long ago, each storing one track.
    const HOUR = 3_600_000;
    const start = Date.now() - 300 * HOUR;
    const tracks = new Map<string, Buffer>();
    for (let i = 0; i < 60; i++) {
      const at = start + i * HOUR;
      const body = Buffer.from(`track ${i} `.repeat(50));
      const key = `music/old/t${String(i).padStart(3, '0')}.mp3`;
      tracks.set(key.slice('music/'.length), body);
      await putObject(s3, bucket, `dj/${key}`, body);
      const stamp = new Date(at).toISOString().replace(/[-:.]/g, '');
      const doc = { v: 1, writer: `dj${i % 3}@host${i % 3}`, entries: [{ op: 'put', key, size: body.length, md5: md5(body), at }] };
      await putObject(s3, bucket, `dj/.cratesync/catalog/log/${stamp}-host${i % 3}-abc${String(i % 10)}${String(i % 10)}${String(i % 10)}.json.gz`, gzipSync(JSON.stringify(doc)));
    }
    const compact = await cli(e, 'catalog', 'compact', url);
    expect(compact.code, compact.stderr).toBe(0);
    expect(compact.stdout).toMatch(/^wrote snapshot \.cratesync\/catalog\/snap\/\S+ \(60 objects\)$/m);
    expect(compact.stdout).toMatch(/^removed 59 log objects \(\.cratesync\/catalog\/log\/\S+ … \S+\); kept 1$/m);
    expect(compact.stdout).toMatch(/^removed 0 old snapshots$/m);
    expect([...(await listObjects(s3, bucket, 'dj/.cratesync/catalog/log/')).keys()]).toHaveLength(1);

    const fresh = await tmp('fresh');
    const pull = await cliJson({ ...e, home: await tmp('home2') }, 'pull', fresh, url);
    expect(pull.code, pull.stderr).toBe(0);
    expect(done(pull)).toHaveLength(60);
    for (const [path, body] of tracks) expect(await readFile(join(fresh, path))).toEqual(body);
  });
});
