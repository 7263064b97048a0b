import { describe, expect, it } from 'vitest';
import { openStateDb } from './state-db.js';
import { RemoteMirror } from './remote-mirror.js';
import { PlaylistMirror } from './remote-playlists.js';

describe('ListingSweep', () => {
  it('gives the rows of a page, and at the end the rows no page showed; sweeps at once stay apart', () => {
    const db = openStateDb(':memory:');
    try {
      const a = new RemoteMirror(db, 's3://b/a');
      const b = new RemoteMirror(db, 's3://b/b');
      a.put({ key: 'music/1.mp3', size: 1, etag: '"e1"', md5: 'm1', writtenAt: 7, tags: { title: 'x' } });
      a.put({ key: 'music/2.mp3', size: 2, mtime: new Date(2000) });
      a.put({ key: 'music/3.mp3', size: 3 });
      b.put({ key: 'music/1.mp3', size: 9 });
      const sa = a.sweep();
      const sb = b.sweep();
      const known = sa.known(['music/1.mp3', 'music/2.mp3', 'music/none.mp3']);
      expect([...known.keys()].sort()).toEqual(['music/1.mp3', 'music/2.mp3']);
      expect(known.get('music/1.mp3')).toEqual({ key: 'music/1.mp3', size: 1, etag: '"e1"', md5: 'm1', writtenAt: 7 });
      expect(known.get('music/2.mp3')).toEqual({ key: 'music/2.mp3', size: 2, mtime: new Date(2000) });
      sa.seen(['music/1.mp3', 'music/2.mp3', 'music/none.mp3']);
      sb.seen(['music/other.mp3']);
      expect(sa.unseen().map((r) => r.key)).toEqual(['music/3.mp3']);
      expect(sb.unseen().map((r) => r.key)).toEqual(['music/1.mp3']);
      sa.close();
      // A closed sweep's keys are gone; a new one starts from nothing.
      expect(a.sweep().unseen().map((r) => r.key).sort()).toEqual(['music/1.mp3', 'music/2.mp3', 'music/3.mp3']);
      expect(sb.unseen().map((r) => r.key)).toEqual(['music/1.mp3']);
    } finally {
      db.close();
    }
  });

  it('sweeps the playlist mirror the same way', () => {
    const db = openStateDb(':memory:');
    try {
      const p = new PlaylistMirror(db, 'file:///r');
      p.put({ key: 'playlists/ann/a.m3u8', size: 1, writtenAt: 3 });
      p.put({ key: 'playlists/ann/b.m3u8', size: 1 });
      const s = p.sweep();
      expect(s.known(['playlists/ann/a.m3u8']).get('playlists/ann/a.m3u8')?.writtenAt).toBe(3);
      s.seen(['playlists/ann/a.m3u8']);
      expect(s.unseen()).toEqual([{ key: 'playlists/ann/b.m3u8', size: 1 }]);
      s.close();
    } finally {
      db.close();
    }
  });
});
