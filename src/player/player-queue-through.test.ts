import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ackChanges, attachQueue, detachQueue, queueHealth, takeChanges } from './player-queue.js';
import type { SqlitePlayerAdapter } from './sqlite-adapter.js';

// A player with the shapes refPrefix and through are for: two playlist tables numbered apart, and
// a table (albums) whose rows hold fields of the songs pointing at them.
const adapter: SqlitePlayerAdapter = {
  kind: 'sqlite',
  name: 'banshee',
  label: 'Test',
  defaultPaths: () => [],
  recognize: () => undefined,
  watched: [
    { table: 'songs', kind: 'song', ref: 'id', columns: ['title', 'album'] },
    { table: 'albums', kind: 'song', ref: 'id', columns: ['artist'], through: { table: 'songs', column: 'album', ref: 'id' } },
    { table: 'lists', kind: 'playlist', ref: 'id', columns: ['name'] },
    { table: 'smart', kind: 'playlist', ref: 'id', refPrefix: 's', columns: ['name'] },
  ],
  readAll: () => ({ songs: [], playlists: [], problems: [] }),
  readSongs: () => ({ songs: [], problems: [] }),
  readPlaylists: () => ({ playlists: [], problems: [] }),
};

function player(): Database.Database {
  const db = new Database(':memory:');
  db.exec(`CREATE TABLE songs (id INTEGER PRIMARY KEY, title TEXT, album INTEGER);
           CREATE TABLE albums (id INTEGER PRIMARY KEY, artist TEXT, plays INTEGER);
           CREATE TABLE lists (id INTEGER, name TEXT);
           CREATE TABLE smart (id INTEGER, name TEXT);
           INSERT INTO albums VALUES (1, 'A', 0), (2, 'B', 0);
           INSERT INTO songs VALUES (10, 'x', 1), (11, 'y', 1), (12, 'z', 2), (13, 'w', NULL);`);
  return db;
}

describe('queue triggers with refPrefix and through', () => {
  it('queues smart and static playlists with the same number apart, and a NULL ref fails no write', () => {
    const db = player();
    attachQueue(db, adapter);
    db.exec("INSERT INTO lists VALUES (1, 'a'); INSERT INTO smart VALUES (1, 'b'); INSERT INTO smart VALUES (NULL, 'c'); UPDATE smart SET name = 'd'");
    expect(takeChanges(db)).toEqual({ songs: [], playlists: ['1', 's1'] });
    db.close();
  });

  it('an album row changed in place queues its songs, only for the watched columns; it has no insert or delete trigger', () => {
    const db = player();
    attachQueue(db, adapter);
    expect(queueHealth(db, adapter)).toEqual({ state: 'attached' });
    db.exec('UPDATE albums SET plays = 5');
    db.exec("INSERT INTO albums VALUES (3, 'C', 0); DELETE FROM albums WHERE id = 3");
    expect(takeChanges(db)).toEqual({ songs: [], playlists: [] });
    db.exec("UPDATE albums SET artist = 'AA' WHERE id = 1");
    expect(takeChanges(db).songs).toEqual(['10', '11']);
    ackChanges(db);
    // A moved ref: the songs pointing at the old id (12), then a song moved to the new one (13).
    db.exec('UPDATE albums SET id = 5 WHERE id = 2; UPDATE songs SET album = 5 WHERE id = 13');
    expect(takeChanges(db).songs).toEqual(['12', '13']);
    detachQueue(db);
    expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE name LIKE 'cratesync%'").pluck().get()).toBe(0);
    db.close();
  });
});
