import { describe, expect, it } from 'vitest';
import { openStateDb } from './state-db.js';
import { RemoteMirror } from './remote-mirror.js';

describe('RemoteMirror.inKeyOrder', () => {
  it('streams the objects under a prefix in key order, with everything known, and only this remote', () => {
    const db = openStateDb(':memory:');
    try {
      const mirror = new RemoteMirror(db, 's3://b/dj');
      const other = new RemoteMirror(db, 's3://b/other');
      const keys = ['music/b.mp3', 'music/a/z.flac', 'music/%_.mp3', 'music0', 'musi', '.cratesync/catalog/log/x.json.gz', 'music/Ä.mp3', 'music/a.mp3'];
      for (const key of keys) mirror.put({ key, size: key.length });
      mirror.put({ key: 'music/c.mp3', size: 1, tags: { artist: 'Air' }, writer: 'ann@m1', writtenAt: 5, md5: 'm' });
      other.put({ key: 'music/other.mp3', size: 1 });
      other.flush();
      const seen = [...mirror.inKeyOrder('music/')];
      expect(seen.map((o) => o.key)).toEqual(['music/%_.mp3', 'music/a.mp3', 'music/a/z.flac', 'music/b.mp3', 'music/c.mp3', 'music/Ä.mp3']);
      expect(seen[4]).toEqual({ key: 'music/c.mp3', size: 1, tags: { artist: 'Air' }, writer: 'ann@m1', writtenAt: 5, md5: 'm' });
      expect([...mirror.inKeyOrder('')].length).toBe(keys.length + 1);
    } finally {
      db.close();
    }
  });

  it('reads 100,000 rows in order', () => {
    const db = openStateDb(':memory:');
    try {
      const mirror = new RemoteMirror(db, 'file:///r');
      const n = 100_000;
      mirror.batch(() => {
        for (let i = n - 1; i >= 0; i--) mirror.putNow({ key: `music/${String(i).padStart(6, '0')}.mp3`, size: i, tags: { artist: `A${i}`, title: `T${i}` } });
      });
      let count = 0;
      let ordered = true;
      let last = '';
      for (const o of mirror.inKeyOrder('music/')) {
        ordered &&= o.key > last && o.tags?.artist === `A${o.size}`;
        last = o.key;
        count++;
      }
      expect(count).toBe(n);
      expect(ordered).toBe(true);
    } finally {
      db.close();
    }
  });
});
