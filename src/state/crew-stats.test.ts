import { describe, expect, it } from 'vitest';
import { openStateDb } from './state-db.js';
import { FileIndex } from './file-index.js';
import { RemoteMirror } from './remote-mirror.js';
import { indexedAmong, lackingByWriter } from './crew-stats.js';

const rec = (path: string) => ({ path, size: 1, mtimeMs: 1, inode: 1, md5: 'm' });

describe('crew stats and conflict copies from the index', () => {
  it('counts per writer the music objects the index lacks (playlists and other remotes aside)', () => {
    const db = openStateDb(':memory:');
    try {
      const index = new FileIndex(db);
      index.put(rec('a.mp3'), rec('b.mp3'));
      index.flush();
      const mirror = new RemoteMirror(db, 's3://b/dj');
      mirror.batch(() => {
        mirror.putNow({ key: 'music/a.mp3', size: 10, writer: 'alice@m1' });
        mirror.putNow({ key: 'music/c.mp3', size: 20, writer: 'alice@m1' });
        mirror.putNow({ key: 'music/d.mp3', size: 30, writer: 'alice@m2' });
        mirror.putNow({ key: 'music/e.mp3', size: 40, writer: 'bob@m3' });
        mirror.putNow({ key: 'music/f.mp3', size: 50 });
        mirror.putNow({ key: 'musicx/g.mp3', size: 60, writer: 'bob@m3' });
      });
      const other = new RemoteMirror(db, 's3://other');
      other.batch(() => other.putNow({ key: 'music/z.mp3', size: 70, writer: 'bob@m3' }));
      const rows = lackingByWriter(db, 's3://b/dj', 'music/').sort((x, y) => String(x.writer).localeCompare(String(y.writer)));
      expect(rows).toEqual([
        { writer: 'alice@m1', files: 1, bytes: 20 },
        { writer: 'alice@m2', files: 1, bytes: 30 },
        { writer: 'bob@m3', files: 1, bytes: 40 },
        { writer: null, files: 1, bytes: 50 },
      ]);
      expect([...indexedAmong(db, ['a.mp3', 'x.mp3', 'b.mp3'])].sort()).toEqual(['a.mp3', 'b.mp3']);
      expect(indexedAmong(db, []).size).toBe(0);
    } finally {
      db.close();
    }
  });

  it('finds conflict copies among 20,000 indexed files in one pass', () => {
    const db = openStateDb(':memory:');
    try {
      const index = new FileIndex(db);
      for (let i = 0; i < 20_000; i++) index.put(rec(`Artist ${i % 200}/Album/${i}.mp3`));
      index.put(rec('Artist 1/Album/1.conflict-bob-2026-11-30.mp3'), rec('Artist 2/Album/2.conflict-carol-2026-11-30-2.mp3'));
      index.flush();
      const t = performance.now();
      const found = index.pathsContaining('.conflict-');
      console.log(`conflict copies among 20,002 indexed files: ${(performance.now() - t).toFixed(1)} ms`);
      expect(found).toEqual(['Artist 1/Album/1.conflict-bob-2026-11-30.mp3', 'Artist 2/Album/2.conflict-carol-2026-11-30-2.mp3']);
    } finally {
      db.close();
    }
  });
});
