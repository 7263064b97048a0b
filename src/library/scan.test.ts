import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, utimes } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeLibrary } from '../../test/fixtures/audio.js';
import { openStateDb } from '../state/state-db.js';
import { FileIndex } from '../state/file-index.js';
import { makeFilter } from './filter.js';
import { hashFiles, scanLibrary } from './scan.js';

describe('scanLibrary + hashFiles', () => {
  it('records hashes and tags, and reads a file again only when its fingerprint changes', async () => {
    const root = await mkdtemp(join(tmpdir(), 'cs-scan-'));
    const paths = await makeLibrary(root, { albums: 1, tracksPerAlbum: 3, flacShare: 0.34, extras: true, seed: 9 });
    const index = new FileIndex(openStateDb(':memory:'));
    const filter = makeFilter();

    const first = await scanLibrary(root, { filter, index });
    expect(first.files.map((f) => f.path).sort()).toEqual(paths.filter((p) => filter.file(p)).sort());
    expect(first.files.every((f) => f.md5 === undefined)).toBe(true);
    const problems: never[] = [];
    expect(await hashFiles(first.files, index, problems)).toBe(first.files.length);
    index.flush();

    const track = first.files.find((f) => f.path.endsWith('.flac'))!;
    const stored = index.get(track.path)!;
    expect(stored.md5).toBe(createHash('md5').update(await readFile(track.abs)).digest('hex'));
    expect(stored.audioHash).toMatch(/^[0-9a-f]{64}$/);
    expect(stored.tags).toMatchObject({ track: expect.any(Number), artist: expect.any(String), title: expect.any(String) });
    expect(index.get(first.files.find((f) => f.path.endsWith('cover.jpg'))!.path)?.tags).toBeUndefined();

    const second = await scanLibrary(root, { filter, index });
    expect(second.files.every((f) => f.md5 !== undefined)).toBe(true);

    const t = new Date(Date.now() + 5000);
    await utimes(track.abs, t, t);
    const third = await scanLibrary(root, { filter, index });
    expect(third.files.filter((f) => f.md5 === undefined).map((f) => f.path)).toEqual([track.path]);
  });
});
