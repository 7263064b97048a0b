/**
 * An existing DJ-Tools "beatcloud" bucket, filled by `aws s3 sync` under
 * `dj/music/`, is used as-is: identical objects are recognised (also under
 * NFD spellings that macOS uploads leave), not uploaded again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client, PutObjectCommand } from '@aws-sdk/client-s3';
import { makeLibrary } from '../fixtures/audio.js';
import { makeMp3 } from '../fixtures/mp3.js';
import { cliJson } from '../support/cli.js';
import { startS3rver, type S3rver } from '../support/s3rver.js';

const CREDS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_PROFILE: undefined };
const hasAws = spawnSync('aws', ['--version']).status === 0;

describe('adopting a beatcloud bucket', () => {
  let server: S3rver;
  let lib: string;
  let paths: string[];
  beforeAll(async () => {
    server = await startS3rver();
    lib = await mkdtemp(join(tmpdir(), 'cs-lib-'));
    paths = await makeLibrary(lib, { albums: 2, tracksPerAlbum: 3, seed: 5 });
  });
  afterAll(async () => {
    await server.stop();
    await rm(lib, { recursive: true, force: true });
  });

  it('recognises objects another tool uploaded, including NFD keys, and uploads only what is new', async () => {
    await server.createBucket('beatcloud');
    const s3 = new S3Client({ endpoint: server.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    // What `aws s3 sync` leaves: one PUT per file, keys as the OS spelled them (NFD on macOS).
    for (const p of paths.slice(0, -1)) {
      await s3.send(new PutObjectCommand({ Bucket: 'beatcloud', Key: `dj/music/${p.normalize('NFD')}`, Body: await readFile(join(lib, p)) }));
    }
    s3.destroy();
    const home = await mkdtemp(join(tmpdir(), 'cs-home-'));
    const r = await cliJson({ home, env: { ...CREDS, AWS_ENDPOINT_URL: server.endpoint } }, 'push', lib, 's3://beatcloud/dj');
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.actions.filter((a: any) => a.status === 'done').map((a: any) => a.path)).toEqual([paths[paths.length - 1]]);
    expect(r.json.summary.unchanged).toBe(paths.length - 1);
  });

  it.skipIf(!hasAws)('recognises what the real aws s3 sync uploaded (single and multipart)', async () => {
    await server.createBucket('awscli');
    await mkdir(join(lib, 'Big'), { recursive: true });
    await writeFile(join(lib, 'Big', 'long mix.mp3'), makeMp3({ seed: 'big', targetBytes: 9 * 1024 * 1024, title: 'Long Mix' }));
    const env = { ...process.env, ...CREDS, AWS_CA_BUNDLE: undefined, AWS_DEFAULT_REGION: 'us-east-1', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' };
    execFileSync('aws', ['s3', 'sync', lib, 's3://awscli/dj/music', '--endpoint-url', server.endpoint, '--only-show-errors'], { env: env as NodeJS.ProcessEnv });
    const home = await mkdtemp(join(tmpdir(), 'cs-home-'));
    const r = await cliJson({ home, env: { ...CREDS, AWS_ENDPOINT_URL: server.endpoint } }, 'push', lib, 's3://awscli/dj');
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.summary.transferred).toBe(0);
    expect(r.json.summary.unchanged).toBe(paths.length + 1);
    await rm(join(lib, 'Big'), { recursive: true });
  });
});
