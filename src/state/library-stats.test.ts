import { describe, expect, it } from 'vitest';
import { openStateDb } from './state-db.js';
import { libraryTotals } from './library-stats.js';

describe('libraryTotals', () => {
  it('counts files and bytes by lowercase extension of the last path segment', () => {
    const db = openStateDb(':memory:');
    const put = db.prepare('INSERT INTO files (path, size, mtime_ms, inode, md5, scanned_at) VALUES (?, ?, 0, 0, ?, 0)');
    const files: Array<[string, number]> = [
      ['Björk/Homogenic/01 Hunter.MP3', 100],
      ['Björk/Homogenic/02 Jóga.mp3', 200],
      ['Sigur Rós/Ágætis byrjun (1999)/01 Intro.flac', 1000],
      ['Sigur Rós/Ágætis byrjun (1999)/cover.jpg', 5],
      ['v1.0 live/README', 3],
      ['loose.mp3', 50],
      ['.hidden.m4a', 7],
      ['a.b.c/.profile', 1],
      ['trailing.', 2],
    ];
    for (const [p, s] of files) put.run(p, s, p);
    expect(libraryTotals(db)).toEqual({
      files: 9,
      bytes: 1368,
      formats: [
        { ext: 'flac', files: 1, bytes: 1000 },
        { ext: 'mp3', files: 3, bytes: 350 },
        { ext: 'm4a', files: 1, bytes: 7 },
        { ext: '', files: 3, bytes: 6 },
        { ext: 'jpg', files: 1, bytes: 5 },
      ],
    });
    expect(libraryTotals(openStateDb(':memory:'))).toEqual({ files: 0, bytes: 0, formats: [] });
  });
});
