/**
 * Failures mid-run, end to end: a file whose upload keeps failing is reported
 * while the others go on, transient faults are retried, a corrupted upload is
 * never left behind as a good object, and a run killed with SIGKILL is
 * finished by the next one without sending again what was done.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeLibrary } from '../fixtures/audio.js';
import { BIN, cliJson } from '../support/cli.js';
import { startS3rver, type S3rver } from '../support/s3rver.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';

const CREDS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_PROFILE: undefined };

describe('faults during push', () => {
  let server: S3rver;
  let proxy: FaultProxy;
  let lib: string;
  let paths: string[];
  let bucket = 0;

  beforeAll(async () => {
    server = await startS3rver();
    proxy = await startFaultProxy(server.endpoint);
    lib = await mkdtemp(join(tmpdir(), 'cs-lib-'));
    paths = (await makeLibrary(lib, { albums: 4, tracksPerAlbum: 5, seed: 11 })).filter((p) => /\.(mp3|flac)$/.test(p));
  });
  afterAll(async () => {
    await proxy.stop();
    await server.stop();
    await rm(lib, { recursive: true, force: true });
  });

  async function fresh() {
    bucket++;
    await server.createBucket(`faults${bucket}`);
    const home = await mkdtemp(join(tmpdir(), 'cs-home-'));
    return { home, url: `s3://faults${bucket}/dj`, env: { ...CREDS, AWS_ENDPOINT_URL: proxy.endpoint } };
  }

  it('a file that keeps failing is reported, the rest go on, and a re-run sends only it', async () => {
    const { home, url, env } = await fresh();
    const victim = paths[3]!;
    proxy.rules.push({ method: 'PUT', pathIncludes: `music/${victim}`, action: 'status-503', times: 1000 });
    const first = await cliJson({ home, env }, 'push', lib, url);
    proxy.rules.length = 0;
    expect(first.code).toBe(1);
    expect(first.json.summary.failed).toBe(1);
    expect(first.json.actions.find((a: any) => a.path === victim)).toMatchObject({ status: 'failed' });
    expect(first.json.actions.find((a: any) => a.path === victim).error).toMatch(/SlowDown|reduce your request rate/i);
    expect(first.json.summary.transferred).toBe(paths.length - 1);

    const second = await cliJson({ home, env }, 'push', lib, url);
    expect(second.code, second.stderr).toBe(0);
    expect(second.json.actions.filter((a: any) => a.status === 'done').map((a: any) => a.path)).toEqual([victim]);
  });

  it('a connection reset mid-body and a corrupted body are retried and end in a correct object', async () => {
    const { home, url, env } = await fresh();
    proxy.rules.push({ method: 'PUT', pathIncludes: `music/${paths[0]}`, action: 'reset-mid-body', times: 1 });
    proxy.rules.push({ method: 'PUT', pathIncludes: `music/${paths[1]}`, action: 'corrupt-body', times: 1 });
    const r = await cliJson({ home, env }, 'push', lib, url);
    proxy.rules.length = 0;
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.summary.transferred).toBe(paths.length);
    // A pull from the server itself (no proxy) gets exactly the library's bytes back.
    const out = await mkdtemp(join(tmpdir(), 'cs-pull-'));
    const pull = await cliJson({ home: await mkdtemp(join(tmpdir(), 'cs-home-')), env: { ...CREDS, AWS_ENDPOINT_URL: server.endpoint } }, 'pull', out, url, '--include', paths[1]!);
    expect(pull.code, pull.stderr).toBe(0);
    expect(pull.json.summary.transferred).toBe(1);
    expect(await readFile(join(out, paths[1]!))).toEqual(await readFile(join(lib, paths[1]!)));
  });

  it('a run killed with SIGKILL mid-push is completed by the next run without re-sending finished files', async () => {
    const { home, url, env } = await fresh();
    // Slow every upload down a little so the kill lands mid-run: each PUT answers 503 once.
    for (const p of paths) proxy.rules.push({ method: 'PUT', pathIncludes: `music/${p}`, action: 'status-503', times: 1 });
    const child = spawn(process.execPath, [BIN, 'push', lib, url, '--transfers', '2'], {
      env: { ...process.env, ...env, CRATESYNC_HOME: home },
      stdio: 'ignore',
    });
    // Kill once a few uploads went through.
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        const done = proxy.requests.filter((q) => q.method === 'PUT' && q.path.includes(`faults${bucket}/`)).length;
        if (done >= paths.length / 2) {
          clearInterval(t);
          child.kill('SIGKILL');
          resolve();
        }
      }, 5);
    });
    await new Promise((r) => child.on('close', r));
    proxy.rules.length = 0;
    const before = proxy.requests.length;

    const rerun = await cliJson({ home, env }, 'push', lib, url);
    expect(rerun.code, rerun.stderr).toBe(0);
    const sent = rerun.json.summary.transferred;
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThan(paths.length);
    const puts = proxy.requests.slice(before).filter((q) => q.method === 'PUT' && q.path.includes('/music/'));
    expect(puts.length).toBe(sent);

    const third = await cliJson({ home, env }, 'push', lib, url);
    expect(third.json.summary.transferred).toBe(0);
  });
});
