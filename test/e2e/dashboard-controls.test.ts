/**
 * The dashboard's control routes end to end: the real `cratesync service run`
 * process against s3rver, driven through its API as the page drives it —
 * remote trash listed and restored after a deletion; a real conflict (two
 * machines edited the same file) settled each way and the version not kept
 * restored from the library trash; settings refused and written, the next
 * run using them; the crew of two users, and one of their playlists pulled.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { makeLibrary } from '../fixtures/audio.js';
import { makeMp3, retagMp3 } from '../fixtures/mp3.js';
import { cliJson, type CliEnv } from '../support/cli.js';
import { startS3rver, type S3rver } from '../support/s3rver.js';
import { catalogLogs, getObject, listObjects, putObject, s3Client } from '../support/s3-objects.js';
import { settled, waitFor, type ServiceProcess } from '../support/service-process.js';
import { serviceMachine, type ServiceMachine, type ServiceMachineOptions } from '../support/service-machine.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

let server: S3rver;
let s3: S3Client;
let buckets = 0;
const running: ServiceProcess[] = [];

beforeAll(async () => {
  server = await startS3rver();
  s3 = s3Client(server.endpoint);
});
afterAll(async () => {
  s3.destroy();
  await server.stop();
});
afterEach(async () => {
  for (const s of running.splice(0)) {
    s.child.kill('SIGKILL');
    await s.exited;
  }
});

type Machine = ServiceMachine;

async function freshBucket(): Promise<string> {
  const bucket = `dash${++buckets}`;
  await server.createBucket(bucket);
  return bucket;
}

const machine = (bucket: string, o: ServiceMachineOptions): Promise<Machine> => serviceMachine(server.endpoint, bucket, running, o);

const json = async (r: Response) => ({ status: r.status, body: (await r.json()) as any });
const post = (s: ServiceProcess, path: string, body: unknown) => s.api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(json);
const put = (s: ServiceProcess, path: string, body: unknown) => s.api(path, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(json);
const get = (s: ServiceProcess, path: string) => s.api(path).then(json);

async function music(bucket: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const [k, etag] of await listObjects(s3, bucket, 'dj/music/')) out.set(k.slice('dj/music/'.length), etag);
  return out;
}

describe('dashboard controls against the real service', () => {
  it('lists the remote trash a deletion filled and restores the batch, recorded in the catalog', async () => {
    const bucket = await freshBucket();
    const m = await machine(bucket, { user: 'dj', service: { delete: true } });
    const files = (await makeLibrary(m.lib, { albums: 2, tracksPerAlbum: 3, flacShare: 0 })).filter((p) => p.endsWith('.mp3'));
    const s = await m.start();
    await settled(s);
    const gone = files[1]!;
    const bytes = await readFile(join(m.lib, gone));
    await rm(join(m.lib, gone));
    await waitFor('the deletion to reach the bucket', async () => !(await music(bucket)).has(gone));

    const trash = await get(s, '/api/trash');
    expect(trash.status).toBe(200);
    expect(trash.body.local).toEqual([]);
    expect(trash.body.remote).toHaveLength(1);
    const batch = trash.body.remote[0];
    expect(batch.items).toEqual([{ path: `music/${gone}`, size: bytes.length }]);

    expect(await post(s, '/api/trash/restore', { side: 'remote', stamp: 'no-such-batch' })).toMatchObject({ status: 404 });
    const r = await post(s, '/api/trash/restore', { side: 'remote', stamp: batch.stamp });
    expect(r).toEqual({ status: 200, body: { restored: [`music/${gone}`] } });
    expect((await music(bucket)).get(gone)).toBe(md5(bytes));
    expect((await get(s, '/api/trash')).body.remote).toEqual([]);
    // The other machines learn it from the catalog, as after `cratesync trash restore`.
    const logs = await catalogLogs(s3, bucket, 'dj');
    expect(logs.some((l) => l.doc.entries.some((e) => e.op === 'put' && e.key === `music/${gone}` && e.md5 === md5(bytes)))).toBe(true);
  });

  it('finds a real conflict of two machines, keeps theirs for one file and mine for another, and the version not kept comes back from the trash', async () => {
    const bucket = await freshBucket();
    const a = await machine(bucket, { user: 'dj' });
    const b = await machine(bucket, { user: 'dj', service: { mode: 'sync' } });
    const mp3s = (await makeLibrary(a.lib, { albums: 2, tracksPerAlbum: 2, flacShare: 0, seed: 'conflict' })).filter((p) => p.endsWith('.mp3'));
    const sync = (m: Machine) => cliJson(m.env, '--config', m.config, 'sync');
    expect((await sync(a)).code).toBe(0);
    expect((await sync(b)).code).toBe(0);
    const [p1, p2] = [mp3s[0]!, mp3s[1]!];
    const edit = async (m: Machine, p: string, title: string) => {
      const next = retagMp3(await readFile(join(m.lib, p)), { title, artist: 'Crew' });
      await writeFile(join(m.lib, p), next);
      return next;
    };
    const a1 = await edit(a, p1, 'A one');
    const a2 = await edit(a, p2, 'A two');
    const b1 = await edit(b, p1, 'B one');
    const b2 = await edit(b, p2, 'B two');
    expect((await sync(a)).code).toBe(0);

    // B's service meets both edits: two conflicts, A's versions kept beside B's.
    const s = await b.start();
    await settled(s);
    const { body } = await get(s, '/api/conflicts');
    expect(body.conflicts.map((c: any) => c.path)).toEqual([p1, p2].sort());
    const c1 = body.conflicts.find((c: any) => c.path === p1);
    expect(c1).toMatchObject({ mine: { size: b1.length, tags: { title: 'B one', artist: 'Crew' } }, theirs: { size: a1.length, tags: { title: 'A one', artist: 'Crew' }, writer: 'dj' } });
    expect(c1.mine.writer).toMatch(/^dj@/);
    expect(await readFile(join(b.lib, c1.copy))).toEqual(a1);
    const c2 = body.conflicts.find((c: any) => c.path === p2);

    const theirs = await post(s, '/api/conflicts/keep', { path: p1, keep: 'theirs' });
    expect(theirs).toMatchObject({ status: 200, body: { kept: p1, trashed: { path: p1 } } });
    const mine = await post(s, '/api/conflicts/keep', { path: p2, keep: 'mine' });
    expect(mine).toMatchObject({ status: 200, body: { kept: p2, trashed: { path: c2.copy } } });
    expect(await readFile(join(b.lib, p1))).toEqual(a1);
    expect(await readFile(join(b.lib, p2))).toEqual(b2);
    expect(existsSync(join(b.lib, c1.copy)) || existsSync(join(b.lib, c2.copy))).toBe(false);
    // The service sends the kept versions: the bucket holds A's for p1 and B's for p2.
    await waitFor('the kept versions in the bucket', async () => {
      const now = await music(bucket);
      return now.get(p1) === md5(a1) && now.get(p2) === md5(b2);
    });
    expect((await get(s, '/api/conflicts')).body.conflicts).toEqual([]);
    expect(await post(s, '/api/conflicts/keep', { path: p1, keep: 'mine' })).toMatchObject({ status: 404 });
    expect(await post(s, '/api/conflicts/keep', { path: `../${p1}`, keep: 'mine' })).toMatchObject({ status: 400, body: { error: expect.stringContaining('path') } });

    // B's own version of p1 is in the library trash: restored, it is the file again (and sent).
    const local = (await get(s, '/api/trash')).body.local as any[];
    expect(local.flatMap((x) => x.items.map((i: any) => i.path)).sort()).toEqual([p1, c2.copy].sort());
    const back = await post(s, '/api/trash/restore', { side: 'local', stamp: theirs.body.trashed.stamp, paths: [p1] });
    expect(back).toEqual({ status: 200, body: { restored: [p1] } });
    expect(await readFile(join(b.lib, p1))).toEqual(b1);
    await waitFor('the restored version in the bucket', async () => (await music(bucket)).get(p1) === md5(b1));
    void a2;
  });

  it('refuses a bad setting naming it and leaves the file alone; a good one is written, reloaded (event config) and used by the next run', async () => {
    const bucket = await freshBucket();
    const m = await machine(bucket, { user: 'dj', more: { exclude: ['*.tmp.mp3'] } });
    await mkdir(join(m.lib, 'Public'), { recursive: true });
    await writeFile(join(m.lib, 'Public', 'one.mp3'), makeMp3({ seed: 'one' }));
    const s = await m.start();
    await settled(s);
    expect(await get(s, '/api/settings')).toEqual({ status: 200, body: { include: [], exclude: ['*.tmp.mp3'], transfers: 16, mode: 'push', pullInterval: '5m' } });
    const before = await readFile(m.config, 'utf8');

    const bad = await put(s, '/api/settings', { transfers: 1000 });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain('transfers');
    expect(bad.body.error).toContain(m.config);
    const badInterval = await put(s, '/api/settings', { pullInterval: '1ms' });
    expect(badInterval).toMatchObject({ status: 400, body: { error: expect.stringContaining('service.pullInterval') } });
    expect(await put(s, '/api/settings', { remote: 's3://elsewhere' })).toMatchObject({ status: 400, body: { error: expect.stringContaining('remote') } });
    expect(await readFile(m.config, 'utf8')).toBe(before);

    const since = (await (await s.api('/api/events?timeout=0')).json() as any[]).at(-1)?.id ?? 0;
    const good = await put(s, '/api/settings', { exclude: ['*.tmp.mp3', 'Private/**'], transfers: 2 });
    expect(good).toEqual({ status: 200, body: { include: [], exclude: ['*.tmp.mp3', 'Private/**'], transfers: 2, mode: 'push', pullInterval: '5m' } });
    const file = JSON.parse(await readFile(m.config, 'utf8'));
    expect(file).toMatchObject({ library: m.lib, remote: `s3://${bucket}/dj`, user: 'dj', exclude: ['*.tmp.mp3', 'Private/**'], transfers: 2, service: { quiet: '300ms' } });
    const events = (await (await s.api(`/api/events?since=${since}&timeout=5&types=config`)).json()) as any[];
    expect(events.map((e) => e.type)).toEqual(['config']);

    // The next run uses it at once: Private/ stays home, Public/ goes.
    await mkdir(join(m.lib, 'Private'), { recursive: true });
    await writeFile(join(m.lib, 'Private', 'secret.mp3'), makeMp3({ seed: 'secret' }));
    await writeFile(join(m.lib, 'Public', 'two.mp3'), makeMp3({ seed: 'two' }));
    await waitFor('Public/two.mp3 in the bucket', async () => (await music(bucket)).has('Public/two.mp3'));
    await settled(s);
    expect([...(await music(bucket)).keys()].sort()).toEqual(['Public/one.mp3', 'Public/two.mp3']);
  });

  it('shows the crew of two users (machines, collections, playlists, what this library lacks) and pulls a playlist of the other', async () => {
    const bucket = await freshBucket();
    const alice = await machine(bucket, { user: 'alice' });
    const bob = await machine(bucket, { user: 'bob' });
    const tracks = (await makeLibrary(alice.lib, { albums: 2, tracksPerAlbum: 2, flacShare: 0, seed: 'alice' })).filter((p) => p.endsWith('.mp3'));
    const pushed = await cliJson(alice.env, '--config', alice.config, 'push');
    expect(pushed.code, pushed.stderr).toBe(0);
    // A playlist of hers as a player of hers would publish it (entries relative to music/), and one entry that climbs out.
    const set = [tracks[0]!, tracks[3]!];
    await putObject(s3, bucket, 'dj/playlists/alice/Warm Up.m3u8', Buffer.from(`#EXTM3U\n${set.join('\n')}\n../../etc/passwd\n`));
    await writeFile(join(bob.lib, 'Mine.mp3'), makeMp3({ seed: 'bob' }));

    const s = await bob.start();
    await settled(s);
    await waitFor('bob in the users registry', async () => (await listObjects(s3, bucket, 'dj/.cratesync/users/')).size === 2);
    const crew = await get(s, '/api/crew');
    expect(crew.status).toBe(200);
    const users = crew.body.users as any[];
    expect(users.map((u) => u.name)).toEqual(['alice', 'bob']);
    const [a, b] = users;
    expect(a.machines).toHaveLength(1);
    expect(a.machines[0]).toMatchObject({ id: expect.any(String), lastSeen: expect.any(Number) });
    expect(a.playlists).toEqual([{ name: 'Warm Up', tracks: 2, missing: 2 }]);
    const aliceBytes = (await Promise.all(tracks.map((t) => readFile(join(alice.lib, t))))).reduce((n, x) => n + x.length, 0);
    expect(a.lacking).toEqual({ files: tracks.length, bytes: aliceBytes });
    expect(b.machines).toHaveLength(1);
    expect(b.lacking).toEqual({ files: 0, bytes: 0 });
    expect(crew.body.problems.some((p: any) => p.path === 'playlists/alice/Warm Up.m3u8' && /passwd|inside/.test(p.message))).toBe(true);

    expect(await post(s, '/api/crew/pull', { user: 'alice', playlist: 'Cool Down' })).toMatchObject({ status: 404 });
    expect(await post(s, '/api/crew/pull', { user: 'alice' })).toMatchObject({ status: 400, body: { error: expect.stringContaining('playlist') } });
    const pull = await post(s, '/api/crew/pull', { user: 'alice', playlist: 'Warm Up' });
    expect(pull).toMatchObject({ status: 202, body: { runId: expect.any(String), tracks: 2, missing: 2 } });
    const m3u = join(bob.lib, 'Playlists', 'alice', 'Warm Up.m3u8');
    await waitFor('the playlist written', () => existsSync(m3u));
    for (const t of set) expect(await readFile(join(bob.lib, t))).toEqual(await readFile(join(alice.lib, t)));
    expect(existsSync(join(bob.lib, tracks[1]!))).toBe(false);
    const text = await readFile(m3u, 'utf8');
    for (const t of set) expect(text).toContain(`../../${t}`);
    expect(text).not.toContain('passwd');
    await settled(s);
    const after = (await get(s, '/api/crew')).body.users as any[];
    expect(after[0].playlists).toEqual([{ name: 'Warm Up', tracks: 2, missing: 0 }]);
    expect(after[0].lacking.files).toBe(tracks.length - 2);
    void getObject;
  });
});
