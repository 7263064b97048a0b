import { describe, expect, it } from 'vitest';
import { cached, openStateDb } from './state-db.js';
import { RemoteMirror } from './remote-mirror.js';

describe('cached statements', () => {
  it('prepares one statement per database and SQL text', () => {
    const a = openStateDb(':memory:');
    const b = openStateDb(':memory:');
    try {
      const sql = 'SELECT COUNT(*) FROM files';
      expect(cached(a, sql)).toBe(cached(a, sql));
      expect(cached(a, sql)).not.toBe(cached(b, sql));
      expect(cached(a, 'SELECT 1')).not.toBe(cached(a, sql));
      expect(cached(a, sql).pluck().get()).toBe(0);
    } finally {
      a.close();
      b.close();
    }
  });

  it('serves the per-object updates of a reconcile from one statement', () => {
    const db = openStateDb(':memory:');
    try {
      const mirror = new RemoteMirror(db, 's3://b/dj');
      mirror.batch(() => {
        for (let i = 0; i < 50; i++) mirror.putNow({ key: `music/${i}.mp3`, size: i, etag: `"e${i}"` });
      });
      let prepared = 0;
      const prepare = db.prepare.bind(db);
      db.prepare = ((sql: string) => {
        prepared++;
        return prepare(sql);
      }) as typeof db.prepare;
      mirror.batch(() => {
        for (let i = 0; i < 50; i++) mirror.touchNow(`music/${i}.mp3`, `"f${i}"`, undefined);
      });
      expect(prepared).toBeLessThanOrEqual(1);
      expect(mirror.get('music/7.mp3')?.etag).toBe('"f7"');
    } finally {
      db.close();
    }
  });
});
