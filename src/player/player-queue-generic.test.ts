import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openPlayerDb } from './player-db.js';
import { ackChanges, attachQueue, detachQueue, queueHealth, queueLength, takeChanges } from './player-queue.js';
import type { SqlitePlayerAdapter } from './sqlite-adapter.js';

/** A player of our own making: the queue is generic, whatever the tables and names. */
const toy: SqlitePlayerAdapter = {
  kind: 'sqlite',
  name: 'beets',
  label: 'Toy',
  defaultPaths: () => [],
  recognize: () => undefined,
  watched: [
    { table: 'Odd "Songs"', kind: 'song', ref: 'Song ID', columns: ['Title', "it's"] },
    { table: 'entries', kind: 'playlist', ref: 'list' },
  ],
  readAll: () => ({ songs: [], playlists: [], problems: [] }),
  readSongs: () => ({ songs: [], problems: [] }),
  readPlaylists: () => ({ playlists: [], problems: [] }),
};

function toyDb(): { file: string; player: Database.Database } {
  const file = join(mkdtempSync(join(tmpdir(), 'cratesync-toy-')), 'toy.db');
  const player = new Database(file);
  player.exec(`CREATE TABLE "Odd ""Songs""" ("Song ID" INTEGER PRIMARY KEY, "Title" TEXT, "it's" INTEGER, other TEXT);
               CREATE TABLE entries (list INTEGER, song INTEGER UNIQUE);`);
  return { file, player };
}

describe('change queue on any schema', () => {
  it('quotes odd table and column names; an UPDATE that moves the ref queues old and new', () => {
    const { file, player } = toyDb();
    const db = openPlayerDb(file, toy);
    attachQueue(db, toy);
    expect(queueHealth(db, toy)).toEqual({ state: 'attached' });
    player.prepare(`INSERT INTO "Odd ""Songs""" ("Song ID", "Title", "it's") VALUES (5, 'a', 1)`).run();
    expect(takeChanges(db)).toEqual({ songs: ['5'], playlists: [] });
    ackChanges(db);
    player.prepare(`UPDATE "Odd ""Songs""" SET other = 'x' WHERE "Song ID" = 5`).run();
    expect(queueLength(db)).toBe(0);
    player.prepare(`UPDATE "Odd ""Songs""" SET "it's" = 2 WHERE "Song ID" = 5`).run();
    expect(takeChanges(db)).toEqual({ songs: ['5'], playlists: [] });
    ackChanges(db);
    player.prepare(`UPDATE "Odd ""Songs""" SET "Song ID" = 6 WHERE "Song ID" = 5`).run();
    expect(takeChanges(db)).toEqual({ songs: ['5', '6'], playlists: [] });
    detachQueue(db);
    db.close();
    player.close();
  });

  it("a NULL ref is not queued and never fails the player's write, nor does the player's OR-clause meet ours", () => {
    const { file, player } = toyDb();
    const db = openPlayerDb(file, toy);
    attachQueue(db, toy);
    player.prepare('INSERT INTO entries (list, song) VALUES (NULL, 1)').run();
    expect(queueLength(db)).toBe(0);
    player.prepare('INSERT INTO entries (list, song) VALUES (3, 2)').run();
    player.prepare('INSERT OR REPLACE INTO entries (list, song) VALUES (4, 2)').run();
    player.prepare('INSERT OR IGNORE INTO entries (list, song) VALUES (5, 2)').run();
    expect(takeChanges(db)).toEqual({ songs: [], playlists: ['3', '4'] });
    db.close();
    player.close();
  });
});
