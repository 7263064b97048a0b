/**
 * The dashboard's control routes in front of a real Service (in-process, a
 * fake remote, a watcher driven by the test) over real HTTP: trash restores
 * and conflict choices carried out between runs, never in the middle of one;
 * what they leave queued for the next run; settings written and reloaded;
 * bad input refused with the field named. The real process against s3rver
 * is tested in test/e2e/dashboard-controls.test.ts.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeRemote } from '../../test/support/fake-remote.js';
import { LibrarySession } from '../sync/library-session.js';
import { MUSIC_PREFIX } from '../sync/layout.js';
import type { WatchSink } from './library-watcher.js';
import type { ServiceEvent } from './service-events.js';
import { Service, type ServiceSettings } from './service.js';
import { startControlServer, type ControlServer } from './control-api.js';

const TOKEN = 't'.repeat(43);
let dir: string;
let root: string;
let configFile: string;
let service: Service | undefined;
let server: ControlServer | undefined;
let sink: WatchSink | undefined;
let base: string;

const settings = (more: Partial<ServiceSettings> = {}): ServiceSettings => ({
  filter: {},
  transfers: 4,
  mode: 'push',
  delete: false,
  maxDelete: { percent: 50 },
  pullIntervalMs: 60_000,
  rescanIntervalMs: 3_600_000,
  quietMs: 50,
  ...more,
});

async function start(remote: FakeRemote): Promise<Service> {
  const session = await LibrarySession.open({ root, stateFile: join(dir, 'state.db'), user: 'tester', mode: 'write' });
  service = await Service.start({
    session,
    remote,
    configFile,
    version: 'test',
    settings: settings(),
    // What the real service does, reduced: the file's transfers and exclude.
    loadSettings: async () => {
      const c = JSON.parse(await readFile(configFile, 'utf8')) as { transfers?: number; exclude?: string[] };
      return settings({ transfers: c.transfers ?? 4, filter: { exclude: c.exclude ?? [] } });
    },
    log: pino({ level: 'silent' }),
    watch: async (_root, s) => {
      sink = s;
      return { state: 'watching' as const, close: async () => {} };
    },
  });
  server = await startControlServer(service, { token: TOKEN });
  base = `http://127.0.0.1:${server.port}`;
  return service;
}

const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
const get = async (path: string) => {
  const r = await fetch(base + path, { headers: auth });
  return { status: r.status, body: (await r.json()) as any };
};
const send = async (method: string, path: string, body: unknown) => {
  const r = await fetch(base + path, { method, headers: auth, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as any };
};

/** until polls `check` (the service's own clock drives what it waits for). */
async function until<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const v = await check();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}
const results = (s: Service) => s.events.since(0).filter((e: ServiceEvent) => e.type === 'run-result').length;
const firstRun = (s: Service) => until('the first run', () => results(s) >= 1);

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cratesync-dash-controls-'));
  root = join(dir, 'library');
  configFile = join(dir, 'config.json');
  await mkdir(root);
  await writeFile(configFile, `{\n  "library": ${JSON.stringify(root)},\n  "remote": "s3://b/dj",\n  "service": { "quiet": "50ms" }\n}\n`);
});
afterEach(async () => {
  await server?.close();
  await service?.stop();
  server = undefined;
  service = undefined;
  await rm(dir, { recursive: true, force: true });
});

describe('trash through the API', () => {
  it('a remote restore waits for the run under way, then puts the batch back and records it in the catalog', async () => {
    await writeFile(join(root, 'a.mp3'), 'a');
    const remote = new FakeRemote();
    const s = await start(remote);
    await firstRun(s);
    remote.plant('.cratesync/trash/S1/music/old.mp3', Buffer.from('old'));
    expect((await get('/api/trash')).body).toEqual({ remote: [{ stamp: 'S1', items: [{ path: 'music/old.mp3', size: 3 }], bytes: 3 }], local: [] });

    // A run is under way (its upload held): the restore must wait for it.
    remote.hold('put');
    await writeFile(join(root, 'b.mp3'), 'bb');
    sink?.changes([{ path: 'b.mp3', kind: 'change' }]);
    await remote.whenHeld(1);
    let runsAtAnswer = -1;
    const restoring = send('POST', '/api/trash/restore', { side: 'remote', stamp: 'S1' }).then((r) => {
      runsAtAnswer = results(s);
      return r;
    });
    // A request that needs no turn goes through meanwhile, and the batch is still in the trash.
    expect((await get('/api/trash')).body.remote).toHaveLength(1);
    expect(runsAtAnswer).toBe(-1);
    remote.release();
    const r = await restoring;
    expect(r).toEqual({ status: 200, body: { restored: ['music/old.mp3'] } });
    expect(runsAtAnswer).toBe(2);
    // The history says so, by library path.
    const history = await get('/api/activity?kinds=restore');
    expect(history.body.rows.map((row: { path: string; reason: string }) => [row.path, row.reason])).toEqual([['old.mp3', 'remote-trash']]);
    expect(remote.bytes('music/old.mp3')?.toString()).toBe('old');
    expect(remote.keys('.cratesync/trash/')).toEqual([]);
    // Recorded as the CLI records it: the service's mirror knows it as this machine's write, and a catalog log tells the others.
    expect(s.controls.session.forRemote(remote).mirror.get('music/old.mp3')).toMatchObject({ size: 3, writer: s.controls.session.writer });
    expect(remote.keys('.cratesync/catalog/log/').length).toBeGreaterThan(0);
  });

  it('a restore asked for while the loop is between its checks is not slept over', async () => {
    const remote = new FakeRemote();
    const s = await start(remote);
    await firstRun(s);
    remote.plant('.cratesync/trash/S3/music/late.mp3', Buffer.from('late'));
    // Hold the loop inside its check of the library folder (an await), as a slow disk would.
    const session = s.controls.session;
    const real = session.checkRoot.bind(session);
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    let first = true;
    session.checkRoot = async () => {
      if (first) {
        first = false;
        entered();
        await gate;
      }
      return real();
    };
    await s.reload(); // wakes the loop with nothing to do
    await inside;
    const restoring = send('POST', '/api/trash/restore', { side: 'remote', stamp: 'S3' });
    const tasks = (s as unknown as { tasks: unknown[] }).tasks;
    await until('the restore to wait for its turn', () => tasks.length === 1);
    open();
    expect(await restoring).toEqual({ status: 200, body: { restored: ['music/late.mp3'] } });
  });

  it('a local restore puts the files back and queues them, and the next run sends them; bad requests are refused naming the field', async () => {
    const remote = new FakeRemote();
    await writeFile(join(root, 'keep.mp3'), 'k');
    const s = await start(remote);
    await firstRun(s);
    await mkdir(join(root, '.cratesync-trash', 'S2', 'x'), { recursive: true });
    await writeFile(join(root, '.cratesync-trash', 'S2', 'x', 'y.mp3'), 'yy');
    await writeFile(join(root, '.cratesync-trash', 'S2', 'x', 'z.mp3'), 'zz');
    expect((await get('/api/trash')).body.local).toEqual([{ stamp: 'S2', items: [{ path: 'x/y.mp3', size: 2 }, { path: 'x/z.mp3', size: 2 }], bytes: 4 }]);

    expect(await send('POST', '/api/trash/restore', { side: 'sideways', stamp: 'S2' })).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^request body: side: /) } });
    expect(await send('POST', '/api/trash/restore', { side: 'local', stamp: 'S2', paths: 'x/y.mp3' })).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^request body: paths: /) } });
    expect(await send('POST', '/api/trash/restore', { side: 'local', stamp: 'S2', extra: 1 })).toMatchObject({ status: 400, body: { error: expect.stringMatching(/extra/) } });
    expect(await send('POST', '/api/trash/restore', '{"side":')).toMatchObject({ status: 400, body: { error: 'request body: not JSON' } });
    expect(await send('POST', '/api/trash/restore', { side: 'local', stamp: 'nope' })).toMatchObject({ status: 404, body: { error: expect.stringMatching(/nope/) } });
    expect(await send('POST', '/api/trash/restore', { side: 'local', stamp: 'S2', paths: ['x/y.mp3', 'x/w.mp3'] })).toMatchObject({ status: 404, body: { error: expect.stringMatching(/x\/w\.mp3/) } });
    expect(existsSync(join(root, 'x'))).toBe(false);

    const r = await send('POST', '/api/trash/restore', { side: 'local', stamp: 'S2', paths: ['x/y.mp3'] });
    expect(r).toEqual({ status: 200, body: { restored: ['x/y.mp3'] } });
    expect(await readFile(join(root, 'x', 'y.mp3'), 'utf8')).toBe('yy');
    expect(existsSync(join(root, 'x', 'z.mp3'))).toBe(false);
    // No watcher reported it (the test drives the watcher): the queue did.
    await until('the restored file to be sent', () => remote.bytes(`${MUSIC_PREFIX}x/y.mp3`)?.toString() === 'yy');
    expect((await get('/api/trash')).body.local).toEqual([{ stamp: 'S2', items: [{ path: 'x/z.mp3', size: 2 }], bytes: 2 }]);
  });
});

describe('conflicts through the API', () => {
  it('lists both versions, keeps either one (the other to the library trash, restorable), and queues both paths', async () => {
    await mkdir(join(root, 'A'));
    await mkdir(join(root, 'B'));
    await writeFile(join(root, 'A', 's.mp3'), 'mine');
    await writeFile(join(root, 'A', 's.conflict-bob-2026-11-30.mp3'), 'theirs!');
    await writeFile(join(root, 'B', 't.mp3'), 'MINE');
    await writeFile(join(root, 'B', 't.conflict-carol-2026-11-29.mp3'), 'THEIRS!');
    await writeFile(join(root, 'B', 'plain.mp3'), 'p');
    const remote = new FakeRemote();
    const s = await start(remote);
    await firstRun(s);
    const { status, body } = await get('/api/conflicts');
    expect(status).toBe(200);
    const me = s.controls.session.writer;
    expect(body.conflicts).toEqual([
      { path: 'A/s.mp3', copy: 'A/s.conflict-bob-2026-11-30.mp3', mine: { size: 4, mtime: expect.any(Number), tags: {}, writer: me }, theirs: { size: 7, mtime: expect.any(Number), tags: {}, writer: 'bob' } },
      { path: 'B/t.mp3', copy: 'B/t.conflict-carol-2026-11-29.mp3', mine: { size: 4, mtime: expect.any(Number), tags: {}, writer: me }, theirs: { size: 7, mtime: expect.any(Number), tags: {}, writer: 'carol' } },
    ]);

    expect(await send('POST', '/api/conflicts/keep', { path: '../outside.mp3', keep: 'mine' })).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^request body: path: /) } });
    expect(await send('POST', '/api/conflicts/keep', { path: '/etc/passwd', keep: 'mine' })).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^request body: path: /) } });
    expect(await send('POST', '/api/conflicts/keep', { path: 'A/s.mp3', keep: 'both' })).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^request body: keep: /) } });
    expect(await send('POST', '/api/conflicts/keep', { path: 'B/plain.mp3', keep: 'mine' })).toMatchObject({ status: 404 });
    expect(await send('POST', '/api/conflicts/keep', { path: 'B/plain.mp3', keep: 'mine', copy: 'A/s.conflict-bob-2026-11-30.mp3' })).toMatchObject({ status: 404 });

    const theirs = await send('POST', '/api/conflicts/keep', { path: 'A/s.mp3', keep: 'theirs' });
    expect(theirs).toEqual({ status: 200, body: { kept: 'A/s.mp3', trashed: { stamp: expect.any(String), path: 'A/s.mp3' } } });
    expect(await readFile(join(root, 'A', 's.mp3'), 'utf8')).toBe('theirs!');
    expect(existsSync(join(root, 'A', 's.conflict-bob-2026-11-30.mp3'))).toBe(false);
    // Queued: the next run sends the kept version (no watcher told it).
    await until('the kept version to be sent', () => remote.bytes(`${MUSIC_PREFIX}A/s.mp3`)?.toString() === 'theirs!');

    const mine = await send('POST', '/api/conflicts/keep', { path: 'B/t.mp3', keep: 'mine' });
    expect(mine).toEqual({ status: 200, body: { kept: 'B/t.mp3', trashed: { stamp: expect.any(String), path: 'B/t.conflict-carol-2026-11-29.mp3' } } });
    expect(await readFile(join(root, 'B', 't.mp3'), 'utf8')).toBe('MINE');
    await until('no conflict left', async () => (await get('/api/conflicts')).body.conflicts.length === 0);
    expect(await send('POST', '/api/conflicts/keep', { path: 'A/s.mp3', keep: 'mine' })).toMatchObject({ status: 404 });

    // The version not kept is in the library trash, and comes back from it.
    const back = await send('POST', '/api/trash/restore', { side: 'local', stamp: theirs.body.trashed.stamp, paths: ['A/s.mp3'] });
    expect(back).toEqual({ status: 200, body: { restored: ['A/s.mp3'] } });
    expect(await readFile(join(root, 'A', 's.mp3'), 'utf8')).toBe('mine');
  });
});

describe('settings through the API', () => {
  it('shows the file and the defaults; a bad setting is refused naming it, the file untouched; a good one is written and reloaded', async () => {
    const s = await start(new FakeRemote());
    await firstRun(s);
    expect(await get('/api/settings')).toEqual({ status: 200, body: { include: [], exclude: [], transfers: 16, mode: 'push', pullInterval: '5m' } });
    const before = await readFile(configFile, 'utf8');
    const configEvents = () => s.events.since(0).filter((e) => e.type === 'config').length;

    for (const [patch, field] of [
      [{ transfers: 0 }, 'transfers'],
      [{ mode: 'mirror' }, 'service.mode'],
      [{ pullInterval: 'often' }, 'service.pullInterval'],
      [{ exclude: [''] }, 'exclude.0'],
      [{ library: '/elsewhere' }, 'library'],
    ] as const) {
      const r = await send('PUT', '/api/settings', patch);
      expect(r.status, JSON.stringify(patch)).toBe(400);
      expect(r.body.error, JSON.stringify(patch)).toContain(field);
    }
    expect(await readFile(configFile, 'utf8')).toBe(before);
    expect(configEvents()).toBe(0);

    const r = await send('PUT', '/api/settings', { transfers: 2, exclude: ['*.tmp'], pullInterval: '30s' });
    expect(r).toEqual({ status: 200, body: { include: [], exclude: ['*.tmp'], transfers: 2, mode: 'push', pullInterval: '30s' } });
    const json = JSON.parse(await readFile(configFile, 'utf8'));
    expect(json).toEqual({ library: root, remote: 's3://b/dj', service: { quiet: '50ms', pullInterval: '30s' }, exclude: ['*.tmp'], transfers: 2 });
    expect(configEvents()).toBe(1);
    expect(await get('/api/settings')).toEqual({ status: 200, body: r.body });
  });

  it('puts the old file back when the service refuses to reload the new one', async () => {
    const s = await start(new FakeRemote());
    await firstRun(s);
    const before = await readFile(configFile, 'utf8');
    // The reload reads the file again: make it fail as a reload of a broken environment would.
    (s as unknown as { o: { loadSettings: () => Promise<ServiceSettings> } }).o.loadSettings = async () => {
      const { ConfigError } = await import('../errors.js');
      throw new ConfigError(configFile, 'maxDelete', 'must be like "50%" or a count');
    };
    const r = await send('PUT', '/api/settings', { transfers: 3 });
    expect(r).toMatchObject({ status: 400, body: { error: expect.stringContaining('maxDelete') } });
    expect(await readFile(configFile, 'utf8')).toBe(before);
  });
});

describe('without a service behind', () => {
  it('a stand-in without controls answers 409, not a crash', async () => {
    const { fakeControl } = await import('../../test/support/fake-control.js');
    server = await startControlServer(fakeControl().control, { token: TOKEN });
    base = `http://127.0.0.1:${server.port}`;
    for (const path of ['/api/trash', '/api/conflicts', '/api/settings', '/api/crew']) {
      expect(await get(path), path).toEqual({ status: 409, body: { error: 'this service offers no dashboard controls' } });
    }
  });
});
