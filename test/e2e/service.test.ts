/**
 * The service end to end: the real `cratesync service run` process against
 * s3rver (through a logging proxy), a real library folder changed the way
 * people change theirs, and the bucket checked after each change.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdir, mkdtemp, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { startS3rver, type S3rver } from '../support/s3rver.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { listObjects, s3Client } from '../support/s3-objects.js';
import { cli } from '../support/cli.js';
import { settled, startService, waitFor, type ServiceProcess } from '../support/service-process.js';

const CREDS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_PROFILE: undefined };
const tmp = (name: string) => mkdtemp(join(tmpdir(), `cs-svc-${name}-`));
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

let server: S3rver;
let proxy: FaultProxy;
let s3: S3Client;
let buckets = 0;
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

interface Machine {
  home: string;
  lib: string;
  config: string;
  bucket: string;
  env: Record<string, string | undefined>;
  /** music/ keys of the bucket → MD5 */
  music(): Promise<Map<string, string>>;
  /** every key of the bucket under the remote root */
  all(): Promise<Map<string, string>>;
  start(): Promise<ServiceProcess>;
}

async function machine(o: { bucket?: string; service?: Record<string, unknown>; lib?: string } = {}): Promise<Machine> {
  const bucket = o.bucket ?? `svc${++buckets}`;
  if (!o.bucket) await server.createBucket(bucket);
  const home = await tmp('home');
  const lib = o.lib ?? join(await tmp('lib'), 'Music');
  await mkdir(lib, { recursive: true });
  const config = join(home, 'config.json');
  await writeFile(config, JSON.stringify({ library: lib, remote: `s3://${bucket}/dj`, service: { quiet: '300ms', ...o.service } }));
  const env = { ...CREDS, AWS_ENDPOINT_URL: proxy.endpoint };
  const keys = async (prefix: string) => {
    const out = new Map<string, string>();
    for (const [k, etag] of await listObjects(s3, bucket, `dj/${prefix}`)) out.set(k.slice(`dj/${prefix}`.length), etag);
    return out;
  };
  const m: Machine = {
    home,
    lib,
    config,
    bucket,
    env,
    music: () => keys('music/'),
    all: () => keys(''),
    async start() {
      const s = await startService(home, config, env);
      running.push(s);
      return s;
    },
  };
  return m;
}

/** The library's files → MD5, as the music/ keys should be. */
async function libraryHashes(lib: string): Promise<Map<string, string>> {
  const { readdir } = await import('node:fs/promises');
  const out = new Map<string, string>();
  for (const e of await readdir(lib, { recursive: true, withFileTypes: true })) {
    if (!e.isFile() || e.name.startsWith('.')) continue;
    const abs = join(e.parentPath, e.name);
    if (abs.split('/').some((p) => p.startsWith('.'))) continue;
    out.set(abs.slice(lib.length + 1), md5(await readFile(abs)));
  }
  return out;
}

const sameAsLibrary = (m: Machine) => async () => {
  const [a, b] = await Promise.all([m.music(), libraryHashes(m.lib)]);
  return a.size === b.size && [...b].every(([k, v]) => a.get(k) === v);
};

const audio = (n: number, seed = '') => Buffer.concat([Buffer.from(`ID3-${seed}-${n}-`), randomBytes(2000 + (n % 7) * 100)]);

async function writeFiles(dir: string, names: string[], seed = ''): Promise<void> {
  await mkdir(dir, { recursive: true });
  await Promise.all(names.map((n, i) => writeFile(join(dir, n), audio(i, seed))));
}

const bucketPuts = (bucket: string, from = 0) =>
  proxy.requests.slice(from).filter((q) => q.method === 'PUT' && q.path.startsWith(`/${bucket}/dj/music/`) && !q.path.includes('uploadId='));

describe('the service', () => {
  it('follows the library: new, changed, renamed, moved and deleted files and folders, alone and in bursts', async () => {
    const m = await machine({ service: { delete: true } });
    await writeFiles(join(m.lib, 'Album A'), ['01.mp3', '02.mp3', '03.mp3'], 'a');
    const s = await m.start();
    await waitFor('the first run', sameAsLibrary(m));

    // A new file, then an edit of it.
    await writeFile(join(m.lib, 'Album A', '04.mp3'), audio(4, 'new'));
    await waitFor('a new file', sameAsLibrary(m));
    await writeFile(join(m.lib, 'Album A', '04.mp3'), audio(4, 'edited'));
    await waitFor('an edited file', sameAsLibrary(m));

    // A rename and a folder move are server-side copies: no audio bytes sent.
    let mark = proxy.requests.length;
    await rename(join(m.lib, 'Album A', '01.mp3'), join(m.lib, 'Album A', '01 renamed.mp3'));
    await waitFor('a renamed file', sameAsLibrary(m));
    await rename(join(m.lib, 'Album A'), join(m.lib, 'Album B'));
    await waitFor('a moved folder', sameAsLibrary(m));
    const sent = bucketPuts(m.bucket, mark);
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.filter((q) => !q.copySource && q.bytes > 0)).toEqual([]);

    // A delete goes to the remote trash (delete: true), not away.
    await rm(join(m.lib, 'Album B', '02.mp3'));
    await waitFor('a deleted file', sameAsLibrary(m));
    expect([...(await m.all()).keys()].some((k) => k.includes('trash') && k.endsWith('02.mp3'))).toBe(true);

    // A burst of hundreds: a copied folder tree, and files written one after another.
    const src = await tmp('burst');
    await writeFiles(join(src, 'Burst', 'CD1'), Array.from({ length: 150 }, (_, i) => `${String(i).padStart(3, '0')}.mp3`), 'b1');
    await writeFiles(join(src, 'Burst', 'CD2'), Array.from({ length: 150 }, (_, i) => `${String(i).padStart(3, '0')}.mp3`), 'b2');
    await cp(join(src, 'Burst'), join(m.lib, 'Burst'), { recursive: true });
    for (let i = 0; i < 200; i++) await writeFile(join(m.lib, `single-${i}.mp3`), audio(i, 'single'));
    await waitFor('a burst', sameAsLibrary(m), 60_000);
    expect((await m.music()).size).toBe(3 + 300 + 200);
    // Each file of the burst was sent once.
    const puts = bucketPuts(m.bucket).filter((q) => q.path.includes('/Burst/') || q.path.includes('/single-'));
    expect(new Set(puts.map((q) => q.path)).size).toBe(puts.length);
    // A deleted folder: all its files go to the remote trash.
    await rm(join(m.lib, 'Burst', 'CD2'), { recursive: true });
    await waitFor('a deleted folder', sameAsLibrary(m), 60_000);
    expect([...(await m.all()).keys()].filter((k) => k.includes('trash') && k.includes('Burst/CD2/'))).toHaveLength(150);
    const st = await s.status();
    expect(st.lastErrors).toEqual([]);
    expect(st.watcher.state).toBe('watching');
  });

  it('sends a file written slowly over seconds once, complete', async () => {
    const m = await machine();
    await writeFiles(m.lib, ['seed.mp3']);
    await m.start();
    await waitFor('the first run', sameAsLibrary(m));
    const mark = proxy.requests.length;
    const f = await open(join(m.lib, 'slow.mp3'), 'w');
    const parts: Buffer[] = [];
    for (let i = 0; i < 16; i++) {
      const part = randomBytes(8192);
      parts.push(part);
      await f.write(part);
      await f.sync();
      await new Promise((r) => setTimeout(r, 200));
    }
    await f.close();
    await waitFor('the slow file', sameAsLibrary(m));
    expect((await m.music()).get("slow.mp3")).toBe(md5(Buffer.concat(parts)));
    expect(bucketPuts(m.bucket, mark).filter((q) => q.path.replace(/\?.*$/, '').endsWith('/slow.mp3'))).toHaveLength(1);
  });

  it('killed with SIGKILL in the middle of a burst, loses nothing and sends nothing twice once restarted', async () => {
    const m = await machine();
    await writeFiles(m.lib, ['seed.mp3']);
    const first = await m.start();
    await waitFor('the first run', sameAsLibrary(m));
    // Uploads go slowly through the proxy, so that the kill falls in the middle.
    proxy.rules.push({ method: 'PUT', pathIncludes: `/${m.bucket}/dj/music/burst/`, action: 'hold', times: 1e9 });
    const names = Array.from({ length: 200 }, (_, i) => `${String(i).padStart(3, '0')}.mp3`);
    await writeFiles(join(m.lib, 'burst'), names, 'kill');
    let released = 0;
    await waitFor('uploads under way', async () => {
      released += proxy.release();
      return (await m.music()).size >= 1 + 20 ? true : undefined;
    });
    first.child.kill('SIGKILL');
    await first.exited;
    running.splice(running.indexOf(first), 1);
    proxy.rules.length = 0;
    released += proxy.release();
    expect(released).toBeGreaterThan(0);
    const landed = new Set([...(await m.music()).keys()]);
    expect(landed.size).toBeLessThan(1 + names.length);
    const mark = proxy.requests.length;

    await m.start();
    await waitFor('the burst after the restart', sameAsLibrary(m), 60_000);
    // What had landed and been recorded was not sent again; nothing was kept aside as a duplicate.
    const again = bucketPuts(m.bucket, mark).filter((q) => !q.copySource && q.bytes > 0).map((q) => decodeURIComponent(q.path.slice(`/${m.bucket}/dj/music/`.length).replace(/\?.*$/, '')));
    expect(again.filter((p) => landed.has(p)).length).toBeLessThanOrEqual(16);
    expect([...(await m.all()).keys()].filter((k) => k.includes('trash'))).toEqual([]);
  });

  it('one service per config: a second one refuses, naming the first', async () => {
    const m = await machine();
    const s = await m.start();
    const second = await cli({ home: m.home, env: m.env }, '--config', m.config, 'service', 'run');
    expect(second.code).not.toBe(0);
    expect(second.stderr).toContain(`pid ${s.pid}`);
    expect(second.stderr).toContain(`port ${s.port}`);
    const start = await cli({ home: m.home, env: m.env }, '--config', m.config, 'service', 'start');
    expect(start.code).toBe(0);
    expect(start.stdout).toContain(`already runs`);
  });

  it('the control API refuses requests without the token, with a wrong one, from a foreign Origin or Host', async () => {
    const m = await machine();
    const s = await m.start();
    expect((await s.api('/api/status')).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${s.port}/api/status`)).status).toBe(401);
    expect((await fetch(`http://127.0.0.1:${s.port}/api/status`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await s.api('/api/pause', { method: 'POST', headers: { origin: 'http://evil.example' } })).status).toBe(403);
    const hostStatus = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: s.port, path: '/api/status', headers: { host: `evil.example:${s.port}`, authorization: `Bearer ${s.token}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(hostStatus).toBe(403);
    expect((await s.status()).state).not.toBe('paused');
  });

  it('a library folder that disappears puts the service in error and trashes nothing; it resumes when the folder is back', async () => {
    const m = await machine({ service: { delete: true } });
    await writeFiles(join(m.lib, 'Album'), ['1.mp3', '2.mp3', '3.mp3']);
    const s = await m.start();
    await waitFor('the first run', sameAsLibrary(m));
    // Ended, too: what follows its transfers (the users registry) is written before it counts.
    await waitFor('the first run ended', async () => (await s.status()).totals.runs >= 1);
    const before = await m.all();
    const aside = `${m.lib}-away`;
    await rename(m.lib, aside);
    const err = await waitFor('state error', async () => {
      const st = await s.status();
      return st.state === 'error' ? st : undefined;
    });
    expect(err.reason).toMatch(/missing/);
    await s.api('/api/rescan', { method: 'POST' });
    await new Promise((r) => setTimeout(r, 1500));
    expect(await m.all()).toEqual(before);
    await rename(aside, m.lib);
    await waitFor('back to idle', async () => (await s.status()).state === 'idle');
    await writeFile(join(m.lib, 'Album', '4.mp3'), audio(4));
    await waitFor('a change after the folder came back', sameAsLibrary(m));
    expect([...(await m.all()).keys()].filter((k) => k.includes('trash'))).toEqual([]);
  });

  it('push run while the service runs is carried out by the service', async () => {
    const m = await machine();
    await writeFiles(m.lib, ['a.mp3']);
    const s = await m.start();
    await settled(s);
    await s.api('/api/pause', { method: 'POST' });
    await writeFiles(m.lib, ['b.mp3'], 'b');
    await s.api('/api/resume', { method: 'POST' });
    const runsBefore = (await s.status()).totals.runs;
    const r = await cli({ home: m.home, env: m.env }, '--config', m.config, 'push');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`service (pid ${s.pid}) holds this library`);
    expect(r.stdout).toMatch(/^push: /);
    expect((await s.status()).totals.runs).toBeGreaterThan(runsBefore);
    await waitFor('b on the remote', sameAsLibrary(m));
    const status = await cli({ home: m.home, env: m.env }, '--config', m.config, 'status');
    expect(status.stdout).toContain(`a cratesync service runs for this library (pid ${s.pid})`);
  });

  it('in sync mode, a change pushed from a second machine reaches the first within the pull interval', async () => {
    const a = await machine({ service: { mode: 'sync', pullInterval: '2s' } });
    await writeFiles(a.lib, ['a.mp3']);
    await a.start();
    await waitFor('the first run', sameAsLibrary(a));
    const b = await machine({ bucket: a.bucket });
    const pulled = await cli({ home: b.home, env: b.env }, '--config', b.config, 'pull');
    expect(pulled.code, pulled.stderr).toBe(0);
    await writeFile(join(b.lib, 'from-b.mp3'), audio(9, 'b'));
    const pushed = await cli({ home: b.home, env: b.env }, '--config', b.config, 'push');
    expect(pushed.code, pushed.stderr).toBe(0);
    await waitFor('the file from b in a', async () => (await readFile(join(a.lib, 'from-b.mp3')).catch(() => undefined))?.equals(await readFile(join(b.lib, 'from-b.mp3'))));
    // A pulled file is not sent back.
    const mark = proxy.requests.length;
    await new Promise((r) => setTimeout(r, 1500));
    expect(bucketPuts(a.bucket, mark).filter((q) => q.path.replace(/\?.*$/, '').endsWith('/from-b.mp3'))).toEqual([]);
  });

  it('rereads its config on SIGHUP and on the reload route, keeping its queue; a bad config is refused and the old one kept', async () => {
    const m = await machine();
    await writeFiles(m.lib, ['a.mp3']);
    const s = await m.start();
    await waitFor('the first run', sameAsLibrary(m));
    expect((await s.api('/api/pause', { method: 'POST' })).status).toBe(200);
    await writeFile(join(m.lib, 'queued.mp3'), audio(1, 'q'));
    await waitFor('the change queued', async () => (await s.status()).queue.length > 0);
    const config = JSON.parse(await readFile(m.config, 'utf8'));
    await writeFile(m.config, JSON.stringify({ ...config, exclude: ['**/*.skip.mp3'], transfers: 3 }));
    s.child.kill('SIGHUP');
    await waitFor('the reload', () => s.logs.some((l) => l.msg === 'config reloaded' && l.transfers === 3));
    await writeFile(join(m.lib, 'x.skip.mp3'), audio(2, 's'));
    expect((await s.api('/api/resume', { method: 'POST' })).status).toBe(200);
    await waitFor('the queued change', async () => (await m.music()).has('queued.mp3'));
    await settled(s);
    expect((await m.music()).has('x.skip.mp3')).toBe(false);

    await writeFile(m.config, JSON.stringify({ ...config, transfers: 0 }));
    const bad = await s.api('/api/reload', { method: 'POST' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('transfers');
    await writeFile(join(m.lib, 'y.skip.mp3'), audio(3, 's'));
    await writeFile(join(m.lib, 'after.mp3'), audio(4, 's'));
    await waitFor('a change after the refused reload', async () => (await m.music()).has('after.mp3'));
    expect((await m.music()).has('y.skip.mp3')).toBe(false);
  });

  it('stops gracefully with transfers in flight: they are abandoned cleanly and sent by the next start', async () => {
    const m = await machine();
    await writeFiles(m.lib, ['seed.mp3']);
    const s = await m.start();
    await waitFor('the first run', sameAsLibrary(m));
    proxy.rules.push({ method: 'PUT', pathIncludes: `/${m.bucket}/dj/music/held/`, action: 'hang', times: 1e9 });
    await writeFiles(join(m.lib, 'held'), ['1.mp3', '2.mp3', '3.mp3']);
    await waitFor('uploads in flight', async () => ((await s.status()).run?.transfers.length ?? 0) > 0);
    const stop = await cli({ home: m.home, env: m.env }, '--config', m.config, 'service', 'stop');
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout).toContain(`stopped (pid ${s.pid})`);
    expect(await s.exited).toBe(0);
    running.splice(running.indexOf(s), 1);
    proxy.rules.length = 0;
    expect([...(await m.music()).keys()].filter((k) => k.startsWith('held/'))).toEqual([]);
    await m.start();
    await waitFor('the held files after the restart', sameAsLibrary(m));
  });
});
