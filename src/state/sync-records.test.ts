import { describe, expect, it } from 'vitest';
import { openStateDb } from './state-db.js';
import { FileIndex } from './file-index.js';
import { RemoteMirror } from './remote-mirror.js';
import { SyncRecords } from './sync-records.js';

const A = 'a'.repeat(32);
const B = 'b'.repeat(32);

describe('SyncRecords.recordIdentical', () => {
  it('records, inside SQLite, every path whose indexed content the mirror holds under its key', () => {
    const db = openStateDb(':memory:');
    const index = new FileIndex(db);
    const s3 = new RemoteMirror(db, 's3://b/dj');
    const folder = new RemoteMirror(db, 'file:///r');
    const file = (path: string, md5: string) => ({ path, size: 3, mtimeMs: 1, inode: 1, md5, audioHash: 'f'.repeat(64) });
    index.put(file('same.mp3', A), file('differs.mp3', A), file('changed.mp3', A), file('mine.mp3', A));
    index.flush();
    s3.put({ key: 'music/same.mp3', size: 3, etag: A, md5: A });
    s3.put({ key: 'music/differs.mp3', size: 3, etag: B, md5: B });
    s3.put({ key: 'music/changed.mp3', size: 3, etag: A, md5: A });
    s3.flush();
    folder.put({ key: 'music/mine.mp3', size: 3, md5: A, mtime: new Date(1234.9) });
    folder.flush();

    const records = new SyncRecords(db, 's3://b/dj');
    records.recordIdentical('music/', ['changed.mp3']);
    expect(records.get('same.mp3')).toMatchObject({ key: 'music/same.mp3', md5: A, etag: A, audioHash: 'f'.repeat(64) });
    expect(records.get('differs.mp3')).toBeUndefined();
    expect(records.get('changed.mp3')).toBeUndefined(); // its file changed since indexed
    expect(records.unconfirmed().has('music/same.mp3')).toBe(false);

    // Folders have no ETags: the fingerprint is the mtime (whole ms) and size, as remote-listing.ts makes it.
    const folderRecords = new SyncRecords(db, 'file:///r');
    folderRecords.recordIdentical('music/', []);
    expect(folderRecords.get('mine.mp3')?.etag).toBe('mtime:1234:3');
    expect(folderRecords.unconfirmed().size).toBe(0);
    db.close();
  });
});
