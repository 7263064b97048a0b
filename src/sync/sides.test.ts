/**
 * Reading both sides (walk + file index + mirror) on a real library and a real
 * state database: hashes are computed once and trusted while the fingerprint
 * holds, pairs identical on both sides are settled as paths, moved files keep
 * their hashes.
 */
import { describe, expect, it } from 'vitest';

const sorted = (xs: string[]) => [...xs].sort();
import { mkdtemp, readFile, rename, utimes } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeLibrary } from '../../test/fixtures/audio.js';
import { openStateDb } from '../state/state-db.js';
import { FileIndex } from '../state/file-index.js';
import { RemoteMirror } from '../state/remote-mirror.js';
import { makeFilter } from '../library/filter.js';
import { walk } from '../library/walk.js';
import { hashFiles, type LocalFile } from '../library/scan.js';
import { readSides, SidesReader } from './sides.js';
import { Walked } from '../library/walk.js';

describe('readSides + hashFiles', () => {
  it('hashes once, settles identical pairs as paths, re-reads only changed files, keeps the hashes of moved ones', async () => {
    const root = await mkdtemp(join(tmpdir(), 'cs-sides-'));
    const paths = await makeLibrary(root, { albums: 1, tracksPerAlbum: 3, flacShare: 0.34, extras: true, seed: 9 });
    const db = openStateDb(':memory:');
    const index = new FileIndex(db);
    const mirror = new RemoteMirror(db, 's3://b/dj');
    const filter = makeFilter();
    const sides = async () => readSides(index, mirror, await walk(root, filter, []), []);

    const first = await sides();
    const files = [...first.local.values()];
    expect(files.map((f) => f.path).sort()).toEqual(paths.filter((p) => filter.file(p)).sort());
    expect(files.every((f) => f.md5 === undefined)).toBe(true);
    expect(await hashFiles(files, index, [])).toBe(files.length);
    index.flush();

    const track = files.find((f) => f.path.endsWith('.flac'))!;
    const stored = index.get(track.path)!;
    expect(stored.md5).toBe(createHash('md5').update(await readFile(track.abs)).digest('hex'));
    expect(stored.audioHash).toMatch(/^[0-9a-f]{64}$/);
    expect(stored.tags).toMatchObject({ track: expect.any(Number), artist: expect.any(String), title: expect.any(String) });
    expect(index.get(files.find((f) => f.path.endsWith('cover.jpg'))!.path)?.tags).toBeUndefined();

    // The remote holds the flac with that content, and another version of a cover.
    const cover = files.find((f) => f.path.endsWith('cover.jpg'))!;
    mirror.put({ key: `music/${track.path}`, size: stored.size, etag: stored.md5, md5: stored.md5 });
    mirror.put({ key: `music/${cover.path}`, size: 1, etag: 'f'.repeat(32), md5: 'f'.repeat(32) });
    mirror.put({ key: 'music/only/there.mp3', size: 5, etag: 'e'.repeat(32), md5: 'e'.repeat(32) });
    mirror.flush();
    const second = await sides();
    expect(second.identical).toEqual([track.path]);
    expect(second.local.has(track.path)).toBe(false);
    expect([...second.local.values()].every((f) => f.md5 !== undefined)).toBe(true); // nothing to hash again
    expect([...second.objects.keys()].sort()).toEqual([cover.path, 'only/there.mp3'].sort());

    // Touched: no longer settled, hashed again; moved: the hashes follow the file.
    const t = new Date(Date.now() + 5000);
    await utimes(track.abs, t, t);
    const mp3 = files.find((f) => f.path.endsWith('.mp3'))!;
    const movedTo = mp3.path.replace(/\.mp3$/, ' (moved).mp3');
    await rename(mp3.abs, join(root, movedTo));
    const third = await sides();
    expect(third.identical).toEqual([]);
    expect(third.local.get(track.path)?.md5).toBeUndefined();
    expect(third.objects.get(track.path)?.md5).toBe(stored.md5); // its object is still there to compare with
    expect(third.local.get(movedTo)?.md5).toBe(index.get(movedTo)?.md5 ?? 'not indexed');
    expect(third.local.has(mp3.path)).toBe(false);
    db.close();
  });

  it('joins batches taken before and after the mirror is open, and reads only the objects not settled', async () => {
    const root = await mkdtemp(join(tmpdir(), 'cs-sides-'));
    await makeLibrary(root, { albums: 2, tracksPerAlbum: 3, flacShare: 0.5, extras: false, seed: 4 });
    const db = openStateDb(':memory:');
    const index = new FileIndex(db);
    const mirror = new RemoteMirror(db, 's3://b/dj');
    const filter = makeFilter();
    const walked = await walk(root, filter, [], [], { thread: false });
    const files: LocalFile[] = walked.files();
    await hashFiles(files, index, []);
    index.flush();
    for (const f of files) mirror.put({ key: `music/${f.path}`, size: f.size, etag: f.md5!, md5: f.md5! });
    mirror.flush();

    // Two batches: one arrives while the catalog is still being read, one after.
    const half = (from: number, to: number) => {
      const b = new Walked(root);
      for (let i = from; i < to; i++) b.add(walked.paths[i]!, walked.size(i), walked.mtimeMs(i), walked.inode(i));
      return b;
    };
    const read = () => {
      const reader = new SidesReader(index, mirror);
      reader.take(half(0, 2));
      reader.open();
      reader.take(half(2, walked.length));
      return reader.finish([]);
    };
    const noop = read();
    expect(sorted(noop.identical)).toEqual(sorted(files.map((f) => f.path)));
    expect(noop.local.size).toBe(0);
    expect(noop.objects.size).toBe(0);

    // One object now holds other content: that pair alone is read, with its hashes.
    const [changed, other] = files;
    mirror.put({ key: `music/${changed!.path}`, size: 3, etag: 'a'.repeat(32), md5: 'a'.repeat(32) });
    mirror.flush();
    const one = read();
    expect(one.identical).toHaveLength(files.length - 1);
    expect([...one.local.keys()]).toEqual([changed!.path]);
    expect(one.local.get(changed!.path)).toMatchObject({ md5: changed!.md5, audioHash: changed!.audioHash });
    expect([...one.objects.keys()]).toEqual([changed!.path]);

    // An object only the remote has, and a file deleted locally: every object not settled is there.
    mirror.put({ key: 'music/Only/There.mp3', size: 5, etag: 'e'.repeat(32), md5: 'e'.repeat(32) });
    mirror.flush();
    const rest = read();
    expect(sorted([...rest.objects.keys()])).toEqual(sorted([changed!.path, 'Only/There.mp3']));
    expect(rest.objects.has(other!.path)).toBe(false);
    db.close();
  });
});
