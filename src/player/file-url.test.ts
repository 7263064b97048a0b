import { describe, expect, it } from 'vitest';
import { fileUrlToPath, isFileUrl } from './file-url.js';

describe('fileUrlToPath', () => {
  it.each([
    ['file:///tmp/music/ArtistA/Album1/01%20First.wav', '/tmp/music/ArtistA/Album1/01 First.wav'],
    ['file://localhost/home/bob/x%23y%3F.mp3', '/home/bob/x#y?.mp3'],
    ['FILE:///home/bob/%C3%A9t%C3%A9.flac', '/home/bob/été.flac'],
    ['file:///C:/Music/DJ%20Sets/x.mp3', 'C:\\Music\\DJ Sets\\x.mp3'],
    ['file://nas/share/x.mp3', '\\\\nas\\share\\x.mp3'],
  ])('%s → %s', (url, path) => {
    expect(fileUrlToPath(url)).toEqual({ path });
  });

  it.each([
    ['http://radio.example/stream', 'not a file:// URL'],
    ['file:relative.mp3', 'not a file:// URL'],
    ['file:///tmp/bad%ZZ.mp3', 'percent-encoding'],
    ['file:///tmp/a%00b.mp3', 'NUL'],
    ['file:///', 'no file'],
  ])('refuses %s', (url, why) => {
    const got = fileUrlToPath(url);
    expect('error' in got && got.error).toContain(why);
  });

  it('tells file URLs from streams', () => {
    expect(isFileUrl('File:///x')).toBe(true);
    expect(isFileUrl('https://x')).toBe(false);
  });
});
