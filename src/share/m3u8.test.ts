import { describe, expect, it } from 'vitest';
import { FileError } from '../errors.js';
import { playlistRelative, renderM3u8 } from './m3u8.js';

describe('renderM3u8', () => {
  it('writes the header, then #EXTINF and the path for each entry', () => {
    expect(
      renderM3u8([
        { path: '../../Music/House/Rock & Roll.mp3', durationSec: 241.6, artist: "Guns N' Roses", title: 'Rock & Roll' },
        { path: 'Déjà Vu.flac', title: 'Déjà\r\nVu' },
        { path: 'x.wav', artist: 'Only\nArtist' },
        { path: 'y.mp3', durationSec: Number.NaN },
      ]),
    ).toBe(
      '#EXTM3U\n' +
        "#EXTINF:242,Guns N' Roses - Rock & Roll\n../../Music/House/Rock & Roll.mp3\n" +
        '#EXTINF:-1,Déjà Vu\nDéjà Vu.flac\n' +
        '#EXTINF:-1,Only Artist\nx.wav\n' +
        '#EXTINF:-1,\ny.mp3\n',
    );
    expect(renderM3u8([])).toBe('#EXTM3U\n');
  });

  it('refuses a path with a line break, which would add an entry', () => {
    expect(() => renderM3u8([{ path: 'a\n#EXTINF:1,x\n/etc/passwd' }])).toThrow(FileError);
  });
});

describe('playlistRelative', () => {
  it('goes from the playlist file’s folder to the file, with /', () => {
    expect(playlistRelative('/lib/Playlists/alice/Peak Time.m3u8', '/lib/House/x.mp3')).toBe('../../House/x.mp3');
    expect(playlistRelative('/lib/Playlists/alice/Set.m3u8', '/lib/Playlists/alice/x.mp3')).toBe('x.mp3');
    expect(playlistRelative('/lib/Set.m3u8', '/lib/a b/Ü.mp3')).toBe('a b/Ü.mp3');
  });
});
