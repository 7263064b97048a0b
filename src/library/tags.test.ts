import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeMp3 } from '../../test/fixtures/mp3.js';
import { makeFlac } from '../../test/fixtures/flac.js';
import { jpegCover, pngCover } from '../../test/fixtures/tags.js';
import { MAX_LYRICS_BYTES, readMedia, readTags } from './tags.js';
import { describeFile } from './scan.js';
import { stat } from 'node:fs/promises';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'cratesync-tags-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('readMedia', () => {
  it('reads bitrate, lyrics and the embedded cover of an MP3', async () => {
    const png = pngCover('mp3', 40);
    const file = path.join(dir, 'a.mp3');
    await writeFile(file, makeMp3({ title: 'A', lyrics: 'la la la\nsecond line', cover: png, seconds: 2 }));
    const { tags, cover } = await readMedia(file);
    expect(tags).toMatchObject({ title: 'A', bitrate: 128, lyrics: 'la la la\nsecond line', cover: `${sha256(png)}.png` });
    expect(Buffer.from(cover?.data ?? []).equals(png)).toBe(true);
    expect(cover?.name).toBe(tags.cover);
  });

  it('reads bitrate, lyrics and a JPEG cover of a FLAC', async () => {
    const jpg = jpegCover('flac');
    const data = makeFlac({ title: 'F', lyrics: 'flac words', cover: jpg, seconds: 1 });
    const file = path.join(dir, 'b.flac');
    await writeFile(file, data);
    const { tags, cover } = await readMedia(file, data);
    expect(tags.bitrate).toBeGreaterThan(0);
    expect(tags).toMatchObject({ lyrics: 'flac words', cover: `${sha256(jpg)}.jpg` });
    expect(Buffer.from(cover?.data ?? []).equals(jpg)).toBe(true);
  });

  it('keeps no cover when the picture is no image of a kept format, and bounds lyrics', async () => {
    const file = path.join(dir, 'c.mp3');
    const long = 'é'.repeat(MAX_LYRICS_BYTES); // two bytes each: twice the bound
    await writeFile(file, makeMp3({ lyrics: long, cover: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>') }));
    const { tags, cover } = await readMedia(file);
    expect(cover).toBeUndefined();
    expect(tags.cover).toBeUndefined();
    expect(Buffer.byteLength(tags.lyrics ?? '')).toBe(MAX_LYRICS_BYTES);
    expect(tags.lyrics).toBe('é'.repeat(MAX_LYRICS_BYTES / 2));
  });

  it('readTags names the cover but holds no picture bytes', async () => {
    const file = path.join(dir, 'd.mp3');
    await writeFile(file, makeMp3({ cover: true }));
    const tags = await readTags(file);
    expect(tags.cover).toMatch(/^[0-9a-f]{64}\.png$/);
    expect(JSON.stringify(tags).length).toBeLessThan(200);
  });
});

describe('describeFile with a cover store', () => {
  it('writes the cover once under its name; the record keeps only the name', async () => {
    const png = pngCover('store', 24);
    const file = path.join(dir, 'e.mp3');
    await writeFile(file, makeMp3({ title: 'E', cover: png }));
    const st = await stat(file);
    const covers = path.join(dir, 'covers');
    const w = { path: 'e.mp3', abs: file, size: st.size, mtimeMs: st.mtimeMs, inode: st.ino };
    const rec = await describeFile(w, undefined, { coversDir: covers });
    expect(rec.tags?.cover).toBe(`${sha256(png)}.png`);
    expect((await readFile(path.join(covers, `${sha256(png)}.png`))).equals(png)).toBe(true);
    await describeFile(w, undefined, { coversDir: covers });
    expect(await readdir(covers)).toEqual([`${sha256(png)}.png`]);
    expect(JSON.stringify(rec.tags)).not.toContain('data');
  });
});
