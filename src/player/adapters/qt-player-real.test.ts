/**
 * The queue against the real applications, when they are installed (the
 * Debian packages `strawberry` and `clementine`; skipped otherwise): each
 * runs headless on a copy of its own database, at its default path under a
 * throw-away HOME, with the queue attached, and scans a folder of new WAV
 * files. Its own writes must go through our triggers without an error, and
 * queue exactly one change per new song.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openPlayerDb, withBusyRetry } from '../player-db.js';
import { ackChanges, attachQueue, detachQueue, queueHealth, queueLength, takeChanges } from '../player-queue.js';
import type { SqlitePlayerAdapter } from '../sqlite-adapter.js';
import { clementine } from './clementine.js';
import { strawberry } from './strawberry.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'fixtures', 'players');

function installed(bin: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
}

/** A mono 16-bit PCM WAV of `seconds` of silence. */
function wav(seconds: number): Buffer {
  const rate = 8000;
  const data = rate * 2 * seconds;
  const b = Buffer.alloc(44 + data);
  b.write('RIFF', 0);
  b.writeUInt32LE(36 + data, 4);
  b.write('WAVEfmt ', 8);
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(rate, 24);
  b.writeUInt32LE(rate * 2, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36);
  b.writeUInt32LE(data, 40);
  return b;
}

/**
 * Runs `bin` until `done()` holds, it exits, or `ms` pass; then stops it
 * (SIGTERM, and SIGKILL if it has not exited 10 s later). Returns its output.
 */
async function runUntil(bin: string, env: NodeJS.ProcessEnv, done: () => boolean, ms: number): Promise<string> {
  const app = spawn(bin, [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  app.stdout.on('data', (d: Buffer) => (log += d.toString()));
  app.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => app.once('exit', () => resolve()));
  const deadline = Date.now() + ms;
  try {
    while (!done() && app.exitCode === null && app.signalCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  } finally {
    app.kill('SIGTERM');
    const killer = setTimeout(() => app.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
  }
  return log;
}

const APPS: { bin: string; fixture: string; adapter: SqlitePlayerAdapter }[] = [
  { bin: 'strawberry', fixture: 'strawberry-1.0.14.db', adapter: strawberry },
  { bin: 'clementine', fixture: 'clementine-1.4.db', adapter: clementine },
];

describe.each(APPS)('the real $bin with the queue attached', ({ bin, fixture, adapter }) => {
  it.skipIf(!installed(bin))('scans new files: its writes succeed and each new song is one queued change', async () => {
    const root = mkdtempSync(join(tmpdir(), `cratesync-${bin}-`));
    const home = join(root, 'home');
    const music = join(root, 'music', 'Artist B', 'Album 2');
    mkdirSync(music, { recursive: true });
    writeFileSync(join(music, '01 Alpha.wav'), wav(1));
    writeFileSync(join(music, '02 Beta #2.wav'), wav(2));
    const file = adapter.defaultPaths({}, home, 'linux')[0] ?? '';
    mkdirSync(dirname(file), { recursive: true });
    copyFileSync(join(FIXTURES, fixture), file);
    // Setting up the copy as the user would in the player: its collection folder is ours.
    const setup = new Database(file);
    setup.prepare('UPDATE directories SET path = ?').run(join(root, 'music'));
    setup.exec('DELETE FROM subdirectories');
    setup.close();

    const db = openPlayerDb(file, adapter);
    attachQueue(db, adapter);
    // The app has no "scan then quit": run it until the scan lands. A Qt start
    // on a loaded machine has been seen to stall; a second start rescans what
    // the first did not record, and each start is bounded, as is its exit.
    let log = '';
    for (let attempt = 1; attempt <= 2 && queueLength(db) < 2; attempt++) {
      log += `--- start ${attempt}\n`;
      log += await runUntil(bin, { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, QT_QPA_PLATFORM: 'offscreen', XDG_RUNTIME_DIR: root }, () => queueLength(db) >= 2, 75_000);
    }
    expect(log, `${bin}'s output:\n${log}`).not.toMatch(/Unable to execute SQL query|cratesync_queue/);
    expect(queueLength(db), `${bin} queued too few changes; its output:\n${log}`).toBeGreaterThanOrEqual(2);
    const got = await withBusyRetry(() => takeChanges(db));
    expect(got.playlists).toEqual([]);
    const { songs } = adapter.readSongs(db, got.songs);
    expect(songs.map((s) => s.path).sort()).toEqual([join(music, '01 Alpha.wav'), join(music, '02 Beta #2.wav')]);
    ackChanges(db);
    expect(queueHealth(db, adapter)).toEqual({ state: 'attached' });
    detachQueue(db);
    db.close();
    // A Qt application's start and scan, beside other test files on a small machine, can take over a minute.
  }, 200_000);
});
