/**
 * The library watcher on the real file system: what it reports for the ways
 * people change a library (cp -r, mv, rm -r of the whole folder), what it
 * never reports (hidden names, the service's own writes), and the watch limit
 * met for real in a user namespace of its own (the machine's limit untouched).
 * Events are waited for by polling with a generous deadline, never by time.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { watchLibrary } from './library-watcher.js';
import { OwnWrites } from './own-writes.js';
import type { LibraryWatch, WatchChange, WatchSink, WatcherState } from './library-watcher.js';

class Recorder implements WatchSink {
  readonly seen: WatchChange[] = [];
  readonly rescans: string[] = [];
  readonly warnings: { message: string; state: WatcherState }[] = [];
  changes(batch: readonly WatchChange[]): void {
    this.seen.push(...batch);
  }
  rescan(reason: string): void {
    this.rescans.push(reason);
  }
  warn(message: string, state: WatcherState): void {
    this.warnings.push({ message, state });
  }
  has(path: string, kind?: WatchChange['kind']): boolean {
    return this.seen.some((c) => c.path === path && (kind === undefined || c.kind === kind));
  }
}

/** The sink of the test under way, shown when a wait times out. */
let current: Recorder | undefined;

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; the sink had: ${JSON.stringify(current)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const open: LibraryWatch[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((w) => w.close()));
});

async function watched(o: Parameters<typeof watchLibrary>[2] = {}) {
  const base = await mkdtemp(join(tmpdir(), 'cs-watch-'));
  const root = join(base, 'library');
  await mkdir(root);
  const sink = new Recorder();
  current = sink;
  const w = await watchLibrary(root, sink, o);
  open.push(w);
  return { base, root, sink, w };
}

/**
 * albumThenRootGone makes a folder with a file in the watched `root`, waits
 * until both are reported, removes the root and waits for the watcher to tell
 * it gone; returns how many changes had been seen before the removal.
 */
async function albumThenRootGone(root: string, sink: Awaited<ReturnType<typeof watched>>['sink']): Promise<number> {
  await mkdir(join(root, 'Album'));
  // A file written before the new folder's watch exists is covered by the folder's 'dir' only: wait for it.
  await until('the new folder', () => sink.has('Album', 'dir'));
  await writeFile(join(root, 'Album', 'a.flac'), 'x');
  await until('the first write', () => sink.has('Album/a.flac'));
  const before = sink.seen.length;
  await rm(root, { recursive: true });
  await until('the rescan', () => sink.rescans.includes('library folder is gone'));
  return before;
}

describe('watchLibrary', () => {
  it('reports a cp -r of a nested album whole: every file by its path or by a folder reported as dir', async () => {
    const { base, root, sink } = await watched();
    const album = join(base, 'src', 'Artist', 'Album');
    const files: string[] = [];
    for (let i = 0; i < 50; i++) {
      const rel = i % 2 ? `CD${1 + (i % 3)}/t${i}.flac` : `t${i}.flac`;
      await mkdir(dirname(join(album, rel)), { recursive: true });
      await writeFile(join(album, rel), `track ${i}`);
      files.push(`Artist/Album/${rel}`);
    }
    if (process.platform === 'win32') cpSync(join(base, 'src', 'Artist'), join(root, 'Artist'), { recursive: true });
    else execFileSync('cp', ['-r', join(base, 'src', 'Artist'), root]);
    const covered = (p: string) => sink.has(p) || sink.seen.some((c) => c.kind === 'dir' && p.startsWith(`${c.path}/`));
    await until('every copied file to be covered', () => files.every(covered));
    expect(files.filter((p) => !covered(p))).toEqual([]);
    expect(sink.seen.some((c) => c.kind === 'dir')).toBe(true);
    expect(sink.rescans).toEqual([]);
  });

  it('reports a rename as the delete of the old path and the create of the new one, and a folder moved out as a delete', async () => {
    const { base, root, sink } = await watched();
    await mkdir(join(root, 'Album'));
    // A file written before the new folder's watch exists is covered by the folder's 'dir' only: wait for it.
    await until('the new folder', () => sink.has('Album', 'dir'));
    await writeFile(join(root, 'Album', 'a.mp3'), 'a');
    await until('the first writes', () => sink.has('Album/a.mp3'));
    await rename(join(root, 'Album', 'a.mp3'), join(root, 'Album', 'b.mp3'));
    await until('the rename', () => sink.has('Album/a.mp3', 'delete') && sink.has('Album/b.mp3', 'change'));
    await rename(join(root, 'Album'), join(base, 'Album'));
    await until('the move out', () => sink.has('Album', 'delete'));
    await rename(join(base, 'Album'), join(root, 'Back'));
    await until('the move in', () => sink.has('Back', 'dir'));
  });

  it('never reports hidden names (trash, partial downloads) nor what o.ignore names', async () => {
    const ignored = new Set(['Album/pulled.flac']);
    const { root, sink } = await watched({ ignore: (p) => ignored.has(p) });
    await mkdir(join(root, 'Album'));
    await mkdir(join(root, '.cratesync-trash', 'Album'), { recursive: true });
    await until('the new folder', () => sink.has('Album', 'dir'));
    await writeFile(join(root, '.cratesync-trash', 'Album', 'old.flac'), 'x');
    await writeFile(join(root, 'Album', '.pulled.flac.cratesync-00ff.part'), 'x');
    await writeFile(join(root, 'Album', 'pulled.flac'), 'x');
    await writeFile(join(root, 'Album', '.DS_Store'), 'x');
    // Written last: once it is seen, the others would have been too.
    await writeFile(join(root, 'Album', 'mine.flac'), 'x');
    await until('the sentinel', () => sink.has('Album/mine.flac'));
    expect(sink.seen.filter((c) => c.path.split('/').some((n) => n.startsWith('.')) || ignored.has(c.path))).toEqual([]);
  });

  it('does not report a pull put in place (a partial download renamed) while OwnWrites holds its path', async () => {
    const own = new OwnWrites();
    const { root, sink } = await watched({ ignore: (p) => own.ignores(p) });
    own.begin('pulled.flac');
    await writeFile(join(root, '.pulled.flac.cratesync-0a1b.part'), 'downloaded');
    await rename(join(root, '.pulled.flac.cratesync-0a1b.part'), join(root, 'pulled.flac'));
    own.end('pulled.flac');
    await writeFile(join(root, 'mine.flac'), 'x');
    await until('the sentinel', () => sink.has('mine.flac'));
    expect(sink.seen).toEqual([{ path: 'mine.flac', kind: 'change' }]);
  });

  it('reports names in NFC', async () => {
    const { root, sink } = await watched();
    const nfd = 'Bjo\u0308rk.flac';
    await writeFile(join(root, nfd), 'x');
    await until('the file', () => sink.seen.length > 0);
    expect(sink.seen.map((c) => c.path)).toEqual([nfd.normalize('NFC')]);
  });

  it('tells a library folder deleted as "gone" from the watcher\'s own events, never as a deletion of its files', async () => {
    // No periodic root check in this test: the events alone must tell.
    const { root, sink, w } = await watched({ rootCheckMs: 3_600_000 });
    const before = await albumThenRootGone(root, sink);
    expect(sink.seen.slice(before)).toEqual([]);
    expect(w.state).toBe('off');
  });

  it('tells a library folder deleted as "gone", then watches again when it is back', async () => {
    const { root, sink, w } = await watched({ rootCheckMs: 50 });
    const before = await albumThenRootGone(root, sink);
    expect(sink.seen.slice(before).filter((c) => c.path === '')).toEqual([]);
    expect(w.state).toBe('off');
    expect(sink.warnings.at(-1)?.state).toBe('off');

    await mkdir(root);
    await until('watching again', () => w.state === 'watching');
    expect(sink.rescans).toContain('library folder is back');
    await writeFile(join(root, 'new.flac'), 'x');
    await until('a write in the folder back', () => sink.has('new.flac'));
  });

  it('starts with the library folder missing: state off and a rescan, never a throw', async () => {
    const base = await mkdtemp(join(tmpdir(), 'cs-watch-'));
    const sink = new Recorder();
    current = sink;
    const w = await watchLibrary(join(base, 'not-yet'), sink, { rootCheckMs: 50 });
    open.push(w);
    expect(w.state).toBe('off');
    expect(sink.rescans).toEqual(['library folder is gone']);
    await mkdir(join(base, 'not-yet'));
    await until('watching', () => w.state === 'watching');
    await writeFile(join(base, 'not-yet', 'a.flac'), 'x');
    await until('the write', () => sink.has('a.flac'));
  });

  it('watches a new folder at the root path again when the old one is replaced (a mount point after an unmount)', async () => {
    const { base, root, sink, w } = await watched({ rootCheckMs: 50 });
    await rename(root, join(base, 'old'));
    await mkdir(root);
    await until('a rescan', () => sink.rescans.length > 0);
    await until('watching', () => w.state === 'watching');
    await writeFile(join(root, 'x.flac'), 'x');
    await until('the write', () => sink.has('x.flac'));
  });
});

/**
 * The watch limit met for real: a user namespace of its own (unshare -Ur)
 * whose inotify watch limit is set low, so the machine's is untouched. Runs
 * the built module (npm test builds first); skipped where there is no build
 * or user namespaces are not allowed.
 */
const here = dirname(fileURLToPath(import.meta.url));
const built = join(here, '..', '..', 'dist', 'src', 'service', 'library-watcher.js');
const canUnshare =
  process.platform === 'linux' &&
  spawnSync('unshare', ['-Ur', 'sh', '-c', 'echo 40 > /proc/sys/user/max_inotify_watches'], { stdio: 'ignore' }).status === 0;

describe.skipIf(!canUnshare || !existsSync(built))('watchLibrary at the inotify watch limit (own user namespace)', () => {
  const child = `
    import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
    import { tmpdir } from 'node:os';
    import { join } from 'node:path';
    const { watchLibrary } = await import(process.env.BUILT);
    const calls = [];
    const sink = {
      changes: (b) => calls.push({ changes: b.map((c) => c.kind + ' ' + c.path) }),
      rescan: (reason) => calls.push({ rescan: reason }),
      warn: (message, state) => calls.push({ warn: message, state }),
    };
    const until = async (cond) => { const end = Date.now() + 10000; while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20)); };
    // A tree with more folders than the limit: the subscribe fails.
    const big = mkdtempSync(join(tmpdir(), 'cs-limit-'));
    for (let i = 0; i < 60; i++) mkdirSync(join(big, 'd' + i));
    const w1 = await watchLibrary(big, sink);
    const first = { state: w1.state, calls: calls.splice(0) };
    await w1.close();
    // A small tree that grows past the limit while watched.
    const small = mkdtempSync(join(tmpdir(), 'cs-limit-'));
    const w2 = await watchLibrary(small, sink, { rootCheckMs: 50, retryMs: 100 });
    const before = w2.state;
    for (let i = 0; i < 60; i++) mkdirSync(join(small, 'd' + i));
    await until(() => w2.state === 'polling');
    writeFileSync(join(small, 'd0', 'a.flac'), 'x');
    await until(() => calls.some((c) => c.changes && c.changes.includes('change d0/a.flac')));
    const second = { before, state: w2.state, calls: calls.splice(0) };
    // The limit raised (in this namespace only): the next retry watches everything again.
    writeFileSync('/proc/sys/user/max_inotify_watches', '100000');
    await until(() => w2.state === 'watching');
    writeFileSync(join(small, 'd59', 'b.flac'), 'x');
    await until(() => calls.some((c) => c.changes && c.changes.includes('change d59/b.flac')));
    const third = { state: w2.state, calls: calls.splice(0) };
    await w2.close();
    console.log(JSON.stringify({ first, second, third }));
  `;

  it('warns naming fs.inotify.max_user_watches with state polling, asks a rescan, keeps the folders it has, and watches all again once the limit is raised', () => {
    const r = spawnSync('unshare', ['-Ur', 'sh', '-c', `echo 40 > /proc/sys/user/max_inotify_watches && exec "${process.execPath}" --input-type=module -e "$CHILD"`], {
      env: { ...process.env, CHILD: child, BUILT: built },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as {
      first: { state: string; calls: { warn?: string; state?: string; rescan?: string }[] };
      second: { before: string; state: string; calls: { warn?: string; state?: string; rescan?: string; changes?: string[] }[] };
      third: { state: string; calls: { warn?: string; state?: string; rescan?: string; changes?: string[] }[] };
    };
    expect(out.first.state).toBe('polling');
    const warn1 = out.first.calls.find((c) => c.warn);
    expect(warn1?.warn).toMatch(/fs\.inotify\.max_user_watches/);
    expect(warn1?.warn).toMatch(/sysctl fs\.inotify\.max_user_watches=524288/);
    expect(warn1?.state).toBe('polling');
    expect(out.first.calls.some((c) => c.rescan)).toBe(true);

    expect(out.second.before).toBe('watching');
    expect(out.second.state).toBe('polling');
    expect(out.second.calls.filter((c) => c.warn).map((c) => c.state)).toEqual(['polling']);
    expect(out.second.calls.some((c) => c.rescan)).toBe(true);
    // A folder watched before the limit was met still reports.
    expect(out.second.calls.some((c) => c.changes?.includes('change d0/a.flac'))).toBe(true);

    expect(out.third.state).toBe('watching');
    expect(out.third.calls.filter((c) => c.warn)).toEqual([{ warn: 'the library is watched again', state: 'watching' }]);
    expect(out.third.calls.filter((c) => c.rescan)).toEqual([{ rescan: 'watching the library again' }]);
    expect(out.third.calls.some((c) => c.changes?.includes('change d59/b.flac'))).toBe(true);
  });
});
