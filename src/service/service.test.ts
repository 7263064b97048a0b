/**
 * The service in-process, with a watcher driven by the test (so that what it
 * "reports" is exact) and a fake remote: which runs it starts for what, and
 * its states. The real process and watcher are tested in test/e2e/service.test.ts.
 */
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeRemote } from '../../test/support/fake-remote.js';
import { LibrarySession } from '../sync/library-session.js';
import { MUSIC_PREFIX } from '../sync/layout.js';
import { FileError } from '../errors.js';
import type { WatchSink } from './library-watcher.js';
import type { ServiceEvent } from './service-events.js';
import { Service, type ServiceSettings } from './service.js';

let dir: string;
let root: string;
let service: Service | undefined;
let sink: WatchSink | undefined;

const settings = (more: Partial<ServiceSettings> = {}): ServiceSettings => ({
  filter: {},
  transfers: 4,
  mode: 'push',
  delete: true,
  maxDelete: { percent: 50 },
  pullIntervalMs: 60_000,
  rescanIntervalMs: 3_600_000,
  quietMs: 50,
  ...more,
});

async function start(remote: FakeRemote, more: Partial<ServiceSettings> = {}): Promise<Service> {
  const session = await LibrarySession.open({ root, stateFile: join(dir, 'state.db'), user: 'tester', mode: 'write' });
  service = await Service.start({
    session,
    remote,
    configFile: join(dir, 'config.json'),
    version: 'test',
    settings: settings(more),
    loadSettings: async () => settings(more),
    log: pino({ level: 'silent' }),
    watch: async (_root, s) => {
      sink = s;
      return { state: 'watching' as const, close: async () => {} };
    },
  });
  return service;
}

/** until waits for the service's event log to hold an event `pick` accepts (the service's own clock drives it). */
async function until<T>(s: Service, pick: (e: ServiceEvent) => T | undefined): Promise<T> {
  for (let i = 0; i < 400; i++) {
    for (const e of s.events.since(0)) {
      const v = pick(e);
      if (v !== undefined) return v;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('no such event');
}

/** runsStarted lists the `run-started` events so far: scoped or full. */
const runsStarted = (s: Service) =>
  s.events.since(0).flatMap((e) => (e.type === 'run' && e.event.type === 'run-started' ? [e.event.scoped ? 'scoped' : 'full'] : []));
const results = (s: Service) => s.events.since(0).filter((e) => e.type === 'run-result').length;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cratesync-service-'));
  root = join(dir, 'library');
  await mkdir(root);
});
afterEach(async () => {
  await service?.stop();
  service = undefined;
  await rm(dir, { recursive: true, force: true });
});

describe('Service', () => {
  it('starts with a full run, then carries out a reported change as a scoped run', async () => {
    await writeFile(join(root, 'a.mp3'), 'a');
    const remote = new FakeRemote();
    const s = await start(remote);
    await until(s, (e) => (e.type === 'run-result' ? true : undefined));
    expect(remote.keys(MUSIC_PREFIX)).toEqual([`${MUSIC_PREFIX}a.mp3`]);
    await writeFile(join(root, 'b.mp3'), 'bb');
    sink?.changes([{ path: 'b.mp3', kind: 'change' }]);
    await until(s, () => (results(s) >= 2 ? true : undefined));
    expect(runsStarted(s)).toEqual(['full', 'scoped']);
    expect(remote.keys(MUSIC_PREFIX)).toEqual([`${MUSIC_PREFIX}a.mp3`, `${MUSIC_PREFIX}b.mp3`]);
    expect(s.status()).toMatchObject({ state: 'idle', queue: { length: 0, failing: 0 }, totals: { runs: 2, uploaded: 2 } });
  });

  it('takes a flood of events that may have overflowed the watcher as a full rescan', async () => {
    const s = await start(new FakeRemote());
    await until(s, (e) => (e.type === 'run-result' ? true : undefined));
    const flood = Array.from({ length: 9000 }, (_, i) => ({ path: `f${i % 50}/x${i}.mp3`, kind: 'change' as const }));
    sink?.changes(flood);
    await until(s, () => (results(s) >= 2 ? true : undefined));
    expect(runsStarted(s)).toEqual(['full', 'full']);
  });

  it('a failing file is queued with its reason and a backoff; the others go through', async () => {
    await writeFile(join(root, 'ok.mp3'), 'ok');
    await writeFile(join(root, 'bad.mp3'), 'bad');
    const remote = new FakeRemote();
    remote.fail('put', new FileError('bad.mp3', 'cannot be read: fake'), { key: `${MUSIC_PREFIX}bad.mp3`, times: 1 });
    const s = await start(remote);
    await until(s, (e) => (e.type === 'run-result' ? true : undefined));
    const st = s.status();
    expect(remote.keys(MUSIC_PREFIX)).toEqual([`${MUSIC_PREFIX}ok.mp3`]);
    expect(st.state).toBe('idle');
    expect(st.queue).toMatchObject({ length: 1, failing: 1 });
    expect(st.queue.failures).toEqual([expect.objectContaining({ path: 'bad.mp3', attempts: 1, reason: expect.stringContaining('cannot be read: fake') })]);
    expect(st.lastErrors[0]).toMatchObject({ path: 'bad.mp3', reason: expect.stringContaining('cannot be read: fake') });
  });

  it('goes to error when the library folder disappears, sends nothing, and comes back by itself', async () => {
    await writeFile(join(root, 'a.mp3'), 'a');
    const remote = new FakeRemote();
    const s = await start(remote);
    await until(s, (e) => (e.type === 'run-result' ? true : undefined));
    await rename(root, `${root}-away`);
    sink?.changes([{ path: 'a.mp3', kind: 'delete' }]);
    const reason = await until(s, (e) => (e.type === 'state' && e.state === 'error' ? e.reason : undefined));
    expect(reason).toMatch(/missing/);
    expect(remote.keys()).not.toContainEqual(expect.stringContaining('trash'));
    await rename(`${root}-away`, root);
    await until(s, () => (s.status().state === 'idle' && results(s) >= 2 ? true : undefined));
    expect(remote.keys(MUSIC_PREFIX)).toEqual([`${MUSIC_PREFIX}a.mp3`]);
    expect(remote.keys()).not.toContainEqual(expect.stringContaining('trash'));
  });

  it('pause stops starting runs (changes still queued); resume carries them out', async () => {
    const remote = new FakeRemote();
    const s = await start(remote);
    await until(s, (e) => (e.type === 'run-result' ? true : undefined));
    s.pause();
    expect(s.status().state).toBe('paused');
    await writeFile(join(root, 'p.mp3'), 'p');
    sink?.changes([{ path: 'p.mp3', kind: 'change' }]);
    await until(s, () => (s.status().queue.length === 1 ? true : undefined));
    await new Promise((r) => setTimeout(r, 200));
    expect(remote.keys(MUSIC_PREFIX)).toEqual([]);
    s.resume();
    await until(s, () => (remote.keys(MUSIC_PREFIX).length === 1 ? true : undefined));
    expect(s.status().state).not.toBe('paused');
  });

  it('a full run stopped by a pause is done again on resume: its work is in no queue', async () => {
    for (const n of ['1', '2', '3']) await writeFile(join(root, `${n}.mp3`), n);
    const remote = new FakeRemote();
    remote.hold('put', (k) => k.startsWith(MUSIC_PREFIX));
    const s = await start(remote);
    // The start's full run is under way, its uploads held: pause stops it.
    await remote.whenHeld(1);
    s.pause();
    await until(s, (e) => (e.type === 'run-result' ? true : undefined));
    remote.release();
    s.resume();
    await until(s, () => (remote.keys(MUSIC_PREFIX).length === 3 ? true : undefined));
  });

  it('a run a client asks for and the delete limit refuses is told to the client, without holding the service back', async () => {
    for (const n of ['1', '2', '3', '4']) await writeFile(join(root, `${n}.mp3`), n);
    const remote = new FakeRemote();
    const s = await start(remote, { delete: false });
    await until(s, (e) => (e.type === 'run-result' ? true : undefined));
    for (const n of ['1', '2', '3']) await rm(join(root, `${n}.mp3`));
    const { runId } = s.run({ direction: 'push', delete: true, maxDelete: '50%' });
    const error = await until(s, (e) => (e.type === 'run-result' && e.runId === runId ? (e.error ?? 'no error') : undefined));
    expect(error).toMatch(/delete/i);
    expect(s.status().state).toBe('idle');
    expect(remote.keys(MUSIC_PREFIX)).toHaveLength(4);
    expect(() => s.run({ direction: 'push', maxDelete: 'lots' })).toThrow(/max-delete|maxDelete/);
  });
});

describe('Service and the crew', () => {
  it('a full push run registers this machine; uploads are told to the webhook, batched, and what waits is sent at stop', async () => {
    await writeFile(join(root, 'a.mp3'), 'a');
    const remote = new FakeRemote();
    const told: Array<{ url: string; who: string; paths: string[] }> = [];
    const session = await LibrarySession.open({ root, stateFile: join(dir, 'state.db'), user: 'tester', mode: 'write' });
    const more = { webhook: 'http://127.0.0.1:9/hook/SECRET' };
    const s = await Service.start({
      session,
      remote,
      configFile: join(dir, 'config.json'),
      version: '9.9.9',
      settings: settings(more),
      loadSettings: async () => settings(more),
      log: pino({ level: 'silent' }),
      watch: async (_root, w) => {
        sink = w;
        return { state: 'watching' as const, close: async () => {} };
      },
      user: 'tester',
      notify: async (url, o) => {
        told.push({ url, ...o });
        return { messages: 1 };
      },
    });
    service = s;
    await until(s, (e) => (e.type === 'run-result' ? true : undefined));
    expect(remote.keys('.cratesync/users/')).toEqual(['.cratesync/users/tester.json']);
    const entry = JSON.parse((await remote.read('.cratesync/users/tester.json')).toString('utf8'));
    expect(entry).toMatchObject({ v: 1, name: 'tester', machines: [{ id: session.machine, root, version: '9.9.9' }] });
    for (let i = 0; i < 200 && told.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(told).toEqual([{ url: more.webhook, who: session.writer, paths: ['a.mp3'] }]);

    // A scoped run's upload waits for the interval (a minute): the stop sends it.
    await writeFile(join(root, 'b.mp3'), 'bb');
    sink?.changes([{ path: 'b.mp3', kind: 'change' }]);
    await until(s, () => (results(s) >= 2 ? true : undefined));
    expect(runsStarted(s)).toEqual(['full', 'scoped']);
    expect(told).toHaveLength(1);
    await s.stop();
    service = undefined;
    expect(told.map((t) => t.paths)).toEqual([['a.mp3'], ['b.mp3']]);
  });
});

describe('Service and the dashboard\'s history', () => {
  it('records what runs did in the activity history; a retry makes a failing file due at once and it goes through', async () => {
    await writeFile(join(root, 'ok.mp3'), 'ok');
    await writeFile(join(root, 'bad.mp3'), 'bad');
    const remote = new FakeRemote();
    remote.fail('put', new FileError('bad.mp3', 'cannot be read: fake'), { key: `${MUSIC_PREFIX}bad.mp3`, times: 1 });
    const s = await start(remote);
    await until(s, (e) => (e.type === 'run-result' ? true : undefined));
    const failing = s.status().queue.failures[0];
    expect(failing).toMatchObject({ path: 'bad.mp3', attempts: 1 });
    expect(failing?.retryAt).toBeGreaterThan(Date.now());
    // Both went at once: in either order.
    expect(s.activity({}).rows.map((r) => [r.kind, r.reason, r.path, r.ok]).sort()).toEqual([
      ['upload', 'new', 'bad.mp3', false],
      ['upload', 'new', 'ok.mp3', true],
    ]);
    expect(s.activity({ q: 'BAD' }).rows[0]).toMatchObject({ kind: 'upload', reason: 'new', ok: false, error: expect.stringContaining('cannot be read: fake') });
    expect(s.activity({ q: 'ok.mp3' }).rows[0]).toMatchObject({ kind: 'upload', reason: 'new', ok: true, bytes: 2 });

    // Made due now, before the service's loop has had a turn: the backoff is cut short.
    const now = Date.now();
    expect(s.retry(['nothing-here.mp3'])).toBe(0);
    expect(s.retry()).toBe(1);
    expect(s.status().queue.failures[0]?.retryAt).toBeLessThanOrEqual(now + 1);
    await until(s, () => (s.status().queue.length === 0 ? true : undefined));
    expect(remote.keys(MUSIC_PREFIX)).toEqual([`${MUSIC_PREFIX}bad.mp3`, `${MUSIC_PREFIX}ok.mp3`]);
    expect(s.activity({ q: 'bad.mp3' }).rows.map((r) => r.ok)).toEqual([true, false]);
    expect(s.throughput().points.reduce((n, p) => n + p.files, 0)).toBe(2);

    const lib = s.library();
    expect(lib).toMatchObject({ files: 2, bytes: 5, formats: [{ ext: 'mp3', files: 2, bytes: 5 }], changes: { audio: 0, tagsOnly: 0 }, players: [], playlists: [] });
  });
});
