import { describe, expect, it } from 'vitest';
import { FileError } from '../errors.js';
import { parseM3u8, playlistRelative, renderM3u8 } from './m3u8.js';

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

describe('parseM3u8', () => {
  it('reads what renderM3u8 writes back, with the line of each path', () => {
    const entries = [
      { path: 'House/A - One.mp3', durationSec: 301, artist: 'A', title: 'One' },
      { path: 'Déjà Vu.flac', title: 'Déjà Vu' },
      { path: ' leading blank.mp3' },
    ];
    expect(parseM3u8(renderM3u8(entries))).toEqual([
      { ...entries[0], line: 3 },
      { ...entries[1], line: 5 },
      { path: ' leading blank.mp3', line: 7 },
    ]);
  });

  it('takes a BOM, CR LF line ends, plain M3U and comments', () => {
    const text = '\uFEFF#EXTM3U\r\n#PLAYLIST:x\r\n\r\na.mp3\r\n#EXTINF:12.5,Only Title\r\nb.mp3\r\n#EXTINF:-1 tvg-id="x",\r\nc.mp3';
    expect(parseM3u8(text)).toEqual([
      { path: 'a.mp3', line: 4 },
      { path: 'b.mp3', durationSec: 12.5, title: 'Only Title', line: 6 },
      { path: 'c.mp3', line: 8 },
    ]);
  });
});
