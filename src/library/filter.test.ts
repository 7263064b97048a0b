import { describe, expect, it } from 'vitest';
import { makeFilter } from './filter.js';

describe('makeFilter', () => {
  it('admits music files and skips hidden, AppleDouble and non-music files', () => {
    const f = makeFilter();
    for (const p of ['a/b.mp3', 'a/B.FLAC', 'x.m4a', 'y.opus', 'z.aiff', 'p.m3u8', 'c/cover.jpg', 'd.cue', 'w.wma']) expect(f.file(p), p).toBe(true);
    for (const p of ['a/.hidden.mp3', 'a/._b.mp3', 'notes.txt', 'a/b.exe']) expect(f.file(p), p).toBe(false);
    expect(f.skipDir('.git')).toBe(true);
    expect(f.skipDir('Music')).toBe(false);
  });

  it('applies include and exclude globs, exclude winning; name globs and path globs both work', () => {
    const f = makeFilter({ include: ['*.flac', 'Live/**'], exclude: ['Björk/', '*demo*'] });
    expect(f.file('Sigur Rós/A/01.flac')).toBe(true);
    expect(f.file('Live/set.mp3')).toBe(true);
    expect(f.file('Sigur Rós/A/01.mp3')).toBe(false);
    expect(f.file('Björk/Vespertine (2001)/01.flac')).toBe(false);
    expect(f.file('Live/demo take.mp3')).toBe(false);
  });

  it('takes a custom extension list', () => {
    const f = makeFilter({ extensions: ['.MP3'] });
    expect(f.file('a.mp3')).toBe(true);
    expect(f.file('a.flac')).toBe(false);
  });

  it('keeps the library Playlists/ folder out of music, and narrows to exact paths when given', () => {
    const f = makeFilter();
    expect(f.file('Playlists/alice/Sets/Peak Time.m3u8')).toBe(false);
    expect(f.file('House/Playlists/x.m3u8')).toBe(true);
    const only = makeFilter({ paths: ['A/1.mp3', 'B/2.flac'], exclude: ['B/'] });
    expect(only.file('A/1.mp3')).toBe(true);
    expect(only.file('A/3.mp3')).toBe(false);
    expect(only.file('B/2.flac')).toBe(false);
  });
});
