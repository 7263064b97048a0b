/**
 * In-process tests of the engine as the service runs it: a LibrarySession
 * held across runs, runSync with scopes, stops, listeners and a remote that
 * misbehaves on cue (test/support/fake-remote.ts). No CLI, no timing: every
 * stop is triggered by something the run itself does.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AccessDeniedError, SafetyError, TransientError, UsageError } from '../errors.js';
import { makeFilter } from '../library/filter.js';
import { makeLibrary } from '../../test/fixtures/audio.js';
import { makeMp3 } from '../../test/fixtures/mp3.js';
import { FakeRemote } from '../../test/support/fake-remote.js';
import { LibrarySession } from './library-session.js';
import { runSync, SCOPE_LIMIT, type RunOptions } from './engine.js';
import type { RunEvent } from './events.js';
import { MUSIC_PREFIX } from './layout.js';
import { SidesReader } from './sides.js';
import { TreeWalk, type Walked } from '../library/walk.js';

let dir: string;
let root: string;
const open: LibrarySession[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cratesync-engine-'));
  root = join(dir, 'library');
  await mkdir(root);
});
afterEach(async () => {
  for (const s of open.splice(0)) s.close();
  await rm(dir, { recursive: true, force: true });
});

async function session(o: { stateFile?: string; mode?: 'write' | 'read'; createRoot?: boolean; root?: string } = {}): Promise<LibrarySession> {
  const s = await LibrarySession.open({ root: o.root ?? root, stateFile: o.stateFile ?? ':memory:', user: 'tester', mode: o.mode ?? 'write', ...(o.createRoot ? { createRoot: true } : {}) });
  open.push(s);
  return s;
}

/** A run's options: a push of everything, nothing deleted, events kept in `events`. */
function opts(remote: FakeRemote, events: RunEvent[] = [], more: Partial<RunOptions> = {}): RunOptions {
  return {
    direction: 'push',
    remote,
    filter: makeFilter(),
    delete: false,
    maxDelete: { percent: 50 },
    dryRun: false,
    transfers: 4,
    listeners: [(e) => events.push(e)],
    ...more,
  };
}

const music = (remote: FakeRemote) => remote.keys(MUSIC_PREFIX);
const musicCalls = (remote: FakeRemote, method: string) => remote.log.filter((c) => c.method === method && c.key.startsWith(MUSIC_PREFIX)).length;
const hashOf = (file: string) => (existsSync(file) ? createHash('md5').update(readFileSync(file)).digest('hex') : 'absent');

/** checkStream asserts what every run's events promise: one run, in order, no gaps, started and ended once. */
function checkStream(events: readonly RunEvent[]): void {
  expect(events[0]?.type).toBe('run-started');
  expect(events.at(-1)?.type).toBe('run-ended');
  expect(events.filter((e) => e.type === 'run-started' || e.type === 'run-ended')).toHaveLength(2);
  expect(new Set(events.map((e) => e.runId)).size).toBe(1);
  events.forEach((e, i) => {
    expect(e.seq).toBe(i + 1);
    if (i > 0) expect(e.at).toBeGreaterThanOrEqual(events[i - 1]?.at ?? 0);
  });
}

/** checkActions asserts that every action started ends once, finished or failed, under its own id. */
function checkActions(events: readonly RunEvent[]): void {
  const started = events.filter((e) => e.type === 'action-started').map((e) => e.id);
  expect(new Set(started).size).toBe(started.length);
  for (const id of started) {
    const ends = events.filter((e) => (e.type === 'action-finished' || e.type === 'action-failed') && e.id === id);
    expect(ends, `action ${id}`).toHaveLength(1);
  }
  // Action ids are only those of started actions (or of error actions, which fail without starting).
  for (const e of events) {
    if (e.type === 'action-finished' || e.type === 'action-progress') expect(started).toContain(e.id);
  }
}

/** writeTiny writes `n` tiny files (a walk costs per file, not per byte). */
async function writeTiny(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const d = join(root, `d${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(d, { recursive: true });
    writeFileSync(join(d, `f${i}.mp3`), `tiny ${i}`);
  }
}

describe('runSync with a library session', () => {
  it('pushes a library, then a second run sends nothing; events are in order, one end per action, progress adds up', async () => {
    const files = await makeLibrary(root, { albums: 3, tracksPerAlbum: 3, extras: true });
    const remote = new FakeRemote();
    const s = await session();
    const events: RunEvent[] = [];
    const first = await runSync(s, opts(remote, events));
    const audio = files.filter((f) => makeFilter().file(f));
    expect(first.exec?.failed).toEqual([]);
    expect(music(remote)).toEqual(audio.map((f) => MUSIC_PREFIX + f).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    checkStream(events);
    checkActions(events);
    const uploads = events.filter((e) => e.type === 'action-finished' && e.action.kind === 'upload');
    expect(uploads).toHaveLength(audio.length);
    for (const e of uploads) {
      if (e.type !== 'action-finished') continue;
      const sent = events.reduce((sum, p) => sum + (p.type === 'action-progress' && p.id === e.id ? p.bytes : 0), 0);
      expect(sent, e.action.path).toBe(e.action.size);
      expect(e.action.size).toBe(remote.bytes(e.action.key)?.length);
    }
    const planned = events.find((e) => e.type === 'planned');
    expect(planned).toMatchObject({ files: audio.length });

    remote.resetCounts();
    const again: RunEvent[] = [];
    const second = await runSync(s, opts(remote, again));
    expect(remote.calls.put + remote.calls.copy).toBe(0);
    expect(second.plan.actions.every((a) => a.kind === 'skip')).toBe(true);
    expect(second.exec).toMatchObject({ done: [], failed: [], bytes: 0 });
    checkStream(again);
    expect(again.some((e) => e.type === 'action-started')).toBe(false);
    expect(again[0]?.runId).not.toBe(events[0]?.runId);
  });

  describe('scoped runs', () => {
    it('read only the scope and the old half of a rename; out-of-scope problems and files are left alone', async () => {
      const files = await makeLibrary(root, { albums: 3, tracksPerAlbum: 3 });
      const remote = new FakeRemote();
      const s = await session();
      await runSync(s, opts(remote));
      const before = new Map(music(remote).map((k) => [k, remote.bytes(k)]));
      const [edited, renamed] = files as [string, string];
      await writeFile(join(root, edited), makeMp3({ title: 'edited', seed: 'edited' }));
      await writeFile(join(root, 'New Artist/new.mp3'.replace('/', '-')), makeMp3({ title: 'added', seed: 'added' }));
      const added = 'New Artist-new.mp3';
      const movedTo = `Moved/${renamed.split('/').at(-1) ?? 'x'}`;
      await mkdir(join(root, 'Moved'));
      await rename(join(root, renamed), join(root, movedTo));
      // Out of scope: a broken link (a walk problem) and a new file, both of which a whole walk would meet.
      await mkdir(join(root, 'Elsewhere'));
      await symlink(join(dir, 'nowhere.mp3'), join(root, 'Elsewhere/broken.mp3'));
      await writeFile(join(root, 'Elsewhere/unscoped.mp3'), makeMp3({ seed: 'unscoped' }));

      remote.resetCounts();
      const events: RunEvent[] = [];
      const r = await runSync(s, opts(remote, events, { scope: [edited, added, movedTo] }));
      expect(r.scoped).toBe(true);
      const touched = r.plan.actions.map((a) => [a.kind, a.reason, a.path]);
      expect(touched).toEqual(
        expect.arrayContaining([
          ['upload', expect.stringMatching(/^(content-differs|tags-changed)$/), edited],
          ['upload', 'new', added],
          ['copy-remote', 'moved', movedTo],
          ['trash-remote', 'moved', renamed],
        ]),
      );
      expect(new Set(r.plan.actions.map((a) => a.path))).toEqual(new Set([edited, added, movedTo, renamed]));
      const move = r.plan.actions.find((a) => a.kind === 'copy-remote');
      expect(move).toMatchObject({ from: MUSIC_PREFIX + renamed, fromPath: renamed });
      expect(r.plan.actions.find((a) => a.kind === 'trash-remote')).toMatchObject({ movedTo });
      expect(r.problems).toEqual([]);
      expect(events.some((e) => e.type === 'problem')).toBe(false);
      expect(r.exec?.failed).toEqual([]);

      // The remote changed exactly there: one put per changed file, a copy for the move (and one
      // keeping the edited file's old version in trash), the old key gone.
      expect(musicCalls(remote, 'put')).toBe(2);
      const writes = remote.log.filter((c) => c.method !== 'list' && c.method !== 'read' && c.method !== 'stat' && c.key.startsWith(MUSIC_PREFIX));
      expect(new Set(writes.map((c) => c.key.slice(MUSIC_PREFIX.length)))).toEqual(new Set([edited, added, renamed]));
      expect(remote.log.filter((c) => c.method === 'copy' && c.key === MUSIC_PREFIX + renamed)).toHaveLength(1);
      expect(remote.bytes(MUSIC_PREFIX + 'Elsewhere/unscoped.mp3')).toBeUndefined();
      expect(remote.bytes(MUSIC_PREFIX + renamed)).toBeUndefined();
      expect(remote.bytes(MUSIC_PREFIX + movedTo)?.equals(before.get(MUSIC_PREFIX + renamed) ?? Buffer.alloc(0))).toBe(true);
      for (const f of files.filter((f) => f !== edited && f !== renamed)) {
        expect(remote.bytes(MUSIC_PREFIX + f)?.equals(before.get(MUSIC_PREFIX + f) ?? Buffer.alloc(0)), f).toBe(true);
      }

      // A whole run afterwards meets what the scope left out.
      const whole = await runSync(s, opts(remote));
      expect(whole.scoped).toBe(false);
      expect(whole.problems.map((p) => p.path)).toContain('Elsewhere/broken.mp3');
      expect(whole.plan.actions.filter((a) => a.kind !== 'skip').map((a) => a.path)).toEqual(['Elsewhere/unscoped.mp3']);
    });

    it(`a scope of more than SCOPE_LIMIT paths reads the whole library`, async () => {
      await makeLibrary(root, { albums: 1, tracksPerAlbum: 2 });
      const remote = new FakeRemote();
      const s = await session();
      const scope = Array.from({ length: SCOPE_LIMIT + 1 }, (_, i) => `nothing/${i}.mp3`);
      const events: RunEvent[] = [];
      const r = await runSync(s, opts(remote, events, { scope }));
      expect(r.scoped).toBe(false);
      expect(events[0]).toMatchObject({ type: 'run-started', scoped: false });
      expect(music(remote)).toHaveLength(2);
      // At the limit, the scope is kept.
      const atLimit = await runSync(s, opts(remote, [], { scope: scope.slice(0, SCOPE_LIMIT) }));
      expect(atLimit.scoped).toBe(true);
      expect(atLimit.plan.actions).toEqual([]);
    });

    it('a scoped deletion is judged against the whole library for the delete limit', async () => {
      await writeTiny(20);
      const remote = new FakeRemote();
      const s = await session();
      await runSync(s, opts(remote));
      expect(music(remote)).toHaveLength(20);
      await rm(join(root, 'd0/f7.mp3'));
      const r = await runSync(s, opts(remote, [], { scope: ['d0/f7.mp3'], delete: true, maxDelete: { percent: 50 } }));
      expect(r.scoped).toBe(true);
      expect(r.plan.actions.map((a) => [a.kind, a.reason, a.path])).toEqual([['trash-remote', 'deleted-locally', 'd0/f7.mp3']]);
      expect(r.exec?.failed).toEqual([]);
      expect(music(remote)).toHaveLength(19);
      expect(remote.keys('.cratesync/trash/').some((k) => k.endsWith('/music/d0/f7.mp3'))).toBe(true);
    });
  });

  describe('stopping a run', () => {
    it('a stop as the scan starts rejects with AbortError, ends interrupted and sends nothing', async () => {
      await writeTiny(3000);
      const remote = new FakeRemote();
      const s = await session();
      const ac = new AbortController();
      const events: RunEvent[] = [];
      const stop = (e: RunEvent) => {
        if (e.type === 'phase' && e.phase === 'scan') ac.abort();
      };
      await expect(runSync(s, opts(remote, events, { signal: ac.signal, listeners: [(e) => events.push(e), stop] }))).rejects.toMatchObject({ name: 'AbortError' });
      checkStream(events);
      expect(events.at(-1)).toMatchObject({ type: 'run-ended', totals: { interrupted: true, done: 0 } });
      expect(events.some((e) => e.type === 'phase' && e.phase === 'compare')).toBe(false);
      expect(remote.calls.put).toBe(0);
    });

    it('a stop while the walk is under way (at its first batch) rejects, takes no further batch and sends nothing', async () => {
      await writeTiny(1000);
      const remote = new FakeRemote();
      const s = await session();
      const ac = new AbortController();
      // The walk works in time slices and hands over a batch after each: here
      // every slice ends after one folder (of 100 files), and the stop comes
      // with the first batch, so a walk that did not heed it would hand over nine more.
      const realRun = TreeWalk.prototype.run;
      const slices = vi.spyOn(TreeWalk.prototype, 'run').mockImplementation(function (this: TreeWalk) {
        return realRun.call(this, -1);
      });
      const realTake = SidesReader.prototype.take;
      const take = vi.spyOn(SidesReader.prototype, 'take').mockImplementation(function (this: SidesReader, batch: Walked) {
        ac.abort();
        realTake.call(this, batch);
      });
      const events: RunEvent[] = [];
      try {
        await expect(runSync(s, opts(remote, events, { signal: ac.signal }))).rejects.toMatchObject({ name: 'AbortError' });
        expect(take).toHaveBeenCalledTimes(1);
        expect(take.mock.calls[0]?.[0].length).toBe(100);
      } finally {
        take.mockRestore();
        slices.mockRestore();
      }
      checkStream(events);
      expect(events.at(-1)).toMatchObject({ type: 'run-ended', totals: { interrupted: true } });
      expect(events.some((e) => e.type === 'planned')).toBe(false);
      expect(remote.calls.put).toBe(0);
    });

    it('a stop while files are hashed rejects, starts no more hashing and sends nothing', async () => {
      await writeTiny(200);
      const remote = new FakeRemote();
      const s = await session();
      await runSync(s, opts(remote));
      // Every file changes: each must be hashed before planning.
      for (let i = 0; i < 200; i++) writeFileSync(join(root, `d${Math.floor(i / 100)}`, `f${i}.mp3`), `changed ${i}!`);
      remote.resetCounts();
      const ac = new AbortController();
      let hashed = 0;
      const put = s.index.put.bind(s.index);
      s.index.put = (rec) => {
        put(rec);
        if (++hashed === 10) ac.abort();
      };
      const events: RunEvent[] = [];
      await expect(runSync(s, opts(remote, events, { signal: ac.signal }))).rejects.toMatchObject({ name: 'AbortError' });
      // Hashing runs four at a time: at most the ones in flight finish after the stop.
      expect(hashed).toBeGreaterThanOrEqual(10);
      expect(hashed).toBeLessThan(10 + 4);
      expect(events.some((e) => e.type === 'phase' && e.phase === 'compare')).toBe(true);
      expect(events.some((e) => e.type === 'planned')).toBe(false);
      expect(events.at(-1)).toMatchObject({ type: 'run-ended', totals: { interrupted: true } });
      expect(musicCalls(remote, 'put')).toBe(0);
    });

    it('a stop mid-transfer ends the run with what finished, starts no more puts, and the next run sends the rest', async () => {
      await writeTiny(30);
      const remote = new FakeRemote();
      const s = await session();
      remote.hold('put', (k) => k.startsWith(MUSIC_PREFIX));
      const ac = new AbortController();
      const events: RunEvent[] = [];
      let putsAtStop = -1;
      const running = runSync(s, opts(remote, events, { signal: ac.signal, transfers: 4 }));
      await remote.whenHeld(1);
      expect(events.some((e) => e.type === 'action-started')).toBe(true);
      putsAtStop = musicCalls(remote, 'put');
      ac.abort();
      const r = await running;
      expect(musicCalls(remote, 'put')).toBe(putsAtStop);
      expect(putsAtStop).toBeLessThanOrEqual(4);
      expect(r.exec).toBeDefined();
      expect(r.exec?.done).toEqual([]);
      expect(r.exec?.failed).toEqual([]);
      expect(music(remote)).toEqual([]);
      checkStream(events);
      expect(events.at(-1)).toMatchObject({ type: 'run-ended', totals: { interrupted: true, done: 0, bytes: 0 } });
      // Progress of the stopped transfers is taken back.
      expect(events.reduce((n, e) => n + (e.type === 'action-progress' ? e.bytes : 0), 0)).toBe(0);

      remote.release();
      const next = await runSync(s, opts(remote));
      expect(next.exec?.failed).toEqual([]);
      expect(next.exec?.done).toHaveLength(30);
      expect(music(remote)).toHaveLength(30);
    });
  });

  it('a listener that throws is cut off; the run sends everything and the others hear every event', async () => {
    await writeTiny(12);
    const remote = new FakeRemote();
    const s = await session();
    let thrown = 0;
    const heard: RunEvent[] = [];
    const r = await runSync(s, {
      ...opts(remote),
      listeners: [
        () => {
          thrown++;
          throw new Error('broken display');
        },
        (e) => heard.push(e),
      ],
    });
    expect(thrown).toBe(1);
    expect(r.exec?.failed).toEqual([]);
    expect(r.exec?.done).toHaveLength(12);
    expect(music(remote)).toHaveLength(12);
    checkStream(heard);
    checkActions(heard);
    expect(heard.filter((e) => e.type === 'action-finished')).toHaveLength(12);
  });

  it('transient failures are retried, with the attempts told', async () => {
    await writeTiny(3);
    const remote = new FakeRemote();
    const s = await session();
    const key = `${MUSIC_PREFIX}d0/f1.mp3`;
    remote.fail('put', new TransientError('503 Slow Down'), { key, times: 2 });
    const events: RunEvent[] = [];
    const r = await runSync(s, opts(remote, events));
    expect(r.exec?.failed).toEqual([]);
    expect(music(remote)).toHaveLength(3);
    const retries = events.filter((e) => e.type === 'action-retrying');
    expect(retries.map((e) => e.type === 'action-retrying' && [e.action.key, e.attempt])).toEqual([
      [key, 1],
      [key, 2],
    ]);
    expect(remote.log.filter((c) => c.method === 'put' && c.key === key)).toHaveLength(3);
    checkActions(events);
  });

  it('two machines pushing one new path at once: the other version is kept in remote trash, not overwritten', async () => {
    await writeTiny(3);
    const remote = new FakeRemote();
    const s = await session();
    const key = `${MUSIC_PREFIX}d0/f1.mp3`;
    const theirs = Buffer.from('their version of f1');
    let planted = false;
    // The other machine's upload lands after this run planned the path as new, before its own put.
    remote.onCall = (method, k) => {
      if (method === 'put' && k === key && !planted) {
        planted = true;
        remote.plant(key, theirs);
      }
    };
    const events: RunEvent[] = [];
    const r = await runSync(s, opts(remote, events));
    expect(r.exec?.failed).toEqual([]);
    expect((await remote.read(key)).toString()).toBe('tiny 1');
    const kept = remote.keys('.cratesync/trash/').filter((k) => k.endsWith('/d0/f1.mp3'));
    expect(kept).toHaveLength(1);
    expect((await remote.read(kept[0] as string)).equals(theirs)).toBe(true);
    const said = events.filter((e) => e.type === 'problem' && e.source === 'transfer');
    expect(said).toHaveLength(1);
    expect(r.problems.map((p) => p.path)).toEqual(['d0/f1.mp3']);
  });

  it('a fatal error stops the run: no more transfers, exec.fatal and run-ended say why', async () => {
    await writeTiny(10);
    const remote = new FakeRemote();
    const s = await session();
    remote.fail('put', new AccessDeniedError('fake: access denied'), { key: (k) => k.startsWith(MUSIC_PREFIX) });
    const events: RunEvent[] = [];
    const r = await runSync(s, opts(remote, events, { transfers: 1 }));
    expect(r.exec?.fatal).toBeInstanceOf(AccessDeniedError);
    expect(musicCalls(remote, 'put')).toBe(1);
    expect(music(remote)).toEqual([]);
    expect(r.exec?.failed).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({ type: 'run-ended', totals: { fatal: 'fake: access denied', interrupted: false } });
    checkActions(events);
  });
});

describe('LibrarySession', () => {
  it('a read session plans from a copy of the state: the state file is unchanged and no lock is taken', async () => {
    await writeTiny(10);
    const stateFile = join(dir, 'state', 'state.db');
    const remote = new FakeRemote();
    const w = await session({ stateFile });
    await runSync(w, opts(remote));
    w.close();
    // What the read run would learn: a changed file and a new one.
    await writeFile(join(root, 'd0/f1.mp3'), 'changed');
    await writeFile(join(root, 'd0/new.mp3'), 'new');
    const files = [stateFile, `${stateFile}-wal`, `${stateFile}-shm`];
    const before = files.map(hashOf);

    const r = await session({ stateFile, mode: 'read' });
    expect(existsSync(`${stateFile}.lock`)).toBe(false);
    const status = await runSync(r, opts(remote, [], { dryRun: true }));
    expect(status.plan.actions.filter((a) => a.kind === 'upload').map((a) => a.path).sort()).toEqual(['d0/f1.mp3', 'd0/new.mp3']);
    await expect(runSync(r, opts(remote))).rejects.toThrow(/read-only/);
    r.close();
    expect(files.map(hashOf)).toEqual(before);
    expect(existsSync(`${stateFile}.lock`)).toBe(false);
  });

  it('a read session opens while a write session holds the lock; a second write session is refused naming the holder', async () => {
    await writeTiny(2);
    const stateFile = join(dir, 'state.db');
    const remote = new FakeRemote();
    const w = await session({ stateFile });
    await runSync(w, opts(remote));
    w.flush();
    expect(existsSync(`${stateFile}.lock`)).toBe(true);
    const r = await session({ stateFile, mode: 'read' });
    expect((await runSync(r, opts(remote, [], { dryRun: true }))).plan.actions.every((a) => a.kind === 'skip')).toBe(true);
    await expect(session({ stateFile })).rejects.toThrow(new RegExp(`another cratesync run \\(pid ${process.pid}\\)`));
    w.close();
    expect(existsSync(`${stateFile}.lock`)).toBe(false);
    const again = await session({ stateFile });
    again.close();
  });

  it('a first pull with createRoot makes the missing library folder', async () => {
    const fresh = join(dir, 'new', 'library');
    const s = await session({ root: fresh, createRoot: true });
    expect(existsSync(fresh)).toBe(true);
    const remote = new FakeRemote();
    await remote.put(`${MUSIC_PREFIX}a/b.mp3`, { data: Buffer.from('bytes') });
    const r = await runSync(s, { ...opts(remote), direction: 'pull' });
    expect(r.exec?.failed).toEqual([]);
    expect(readFileSync(join(fresh, 'a/b.mp3'), 'utf8')).toBe('bytes');
  });

  it('never synced, missing and not to be created: UsageError', async () => {
    await expect(session({ root: join(dir, 'absent') })).rejects.toBeInstanceOf(UsageError);
    expect(existsSync(join(dir, 'absent'))).toBe(false);
  });

  it('a synced library whose folder is missing, or empty but for hidden entries, is refused', async () => {
    await writeTiny(2);
    const stateFile = join(dir, 'state.db');
    const s = await session({ stateFile });
    await runSync(s, opts(new FakeRemote()));
    s.close();
    await rm(root, { recursive: true });
    const missing = session({ stateFile, createRoot: true });
    await expect(missing).rejects.toBeInstanceOf(SafetyError);
    await expect(missing).rejects.toThrow(/missing/);
    expect(existsSync(root)).toBe(false);
    await expect(session({ stateFile, mode: 'read' })).rejects.toThrow(/missing/);

    await mkdir(join(root, '.cratesync-trash'), { recursive: true });
    await writeFile(join(root, '.DS_Store'), 'x');
    const empty = session({ stateFile });
    await expect(empty).rejects.toBeInstanceOf(SafetyError);
    await expect(empty).rejects.toThrow(/empty/);
    // A refused open leaves no lock behind.
    expect(existsSync(`${stateFile}.lock`)).toBe(false);
  });
});

describe('a file still being written', () => {
  it('is not sent when it changed between the walk and its read; the next run sends it whole', async () => {
    const s = await session();
    const remote = new FakeRemote();
    const file = join(root, 'growing.mp3');
    writeFileSync(file, Buffer.alloc(4000, 1));
    // The writer goes on once the plan is made: what the walk saw is no longer the file.
    const grow = (e: RunEvent) => {
      if (e.type === 'planned') writeFileSync(file, Buffer.alloc(9000, 2));
    };
    const first = await runSync(s, opts(remote, [], { listeners: [grow] }));
    expect(first.exec?.failed.map((f) => f.path)).toEqual(['growing.mp3']);
    expect(first.exec?.failed[0]?.message).toMatch(/changed while it was read/);
    expect(music(remote)).toEqual([]);
    const second = await runSync(s, opts(remote));
    expect(second.exec?.failed).toEqual([]);
    expect(remote.bytes(`${MUSIC_PREFIX}growing.mp3`)?.length).toBe(9000);
  });
});

describe('an upload whose record a crash lost', () => {
  it('finds its own identical object in place of a free key: nothing kept aside in trash, the record made', async () => {
    const s = await session();
    const remote = new FakeRemote();
    await runSync(s, opts(remote)); // the catalog is current, the remote empty
    const data = Buffer.alloc(5000, 7);
    writeFileSync(join(root, 'landed.mp3'), data);
    // The object landed, but the run that sent it died before its record and mirror entry were written.
    remote.plant(`${MUSIC_PREFIX}landed.mp3`, data);
    const events: RunEvent[] = [];
    const r = await runSync(s, opts(remote, events));
    expect(r.exec?.failed).toEqual([]);
    expect(r.problems).toEqual([]);
    expect(remote.keys().filter((k) => k.includes('trash'))).toEqual([]);
    const again = await runSync(s, opts(remote));
    expect(again.plan.actions.filter((a) => a.kind !== 'skip')).toEqual([]);
  });
});
