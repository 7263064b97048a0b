import { describe, expect, it } from 'vitest';
import { fixtureLocation } from '../../../test/fixtures/rekordbox.js';
import { decodeLocation, encodeLocation, isWindowsPath, joinPath, LocationError, relativeTo, toLocationPath } from './location.js';

const NFD_U = 'U\u0308'; // Ü as macOS may spell it

/** [Location as Rekordbox writes it (XML-unescaped), the path it names]. */
const MATRIX: Array<[string, string]> = [
  ['file://localhost/D:/DJ%20Music/House/track.mp3', 'D:/DJ Music/House/track.mp3'],
  ['file://localhost/C:/Users/Bob/Music/Rock%20&%20Roll%20(Live).mp3', 'C:/Users/Bob/Music/Rock & Roll (Live).mp3'],
  ['file://localhost/Volumes/USB/DJ%20Music/D%C3%A9j%C3%A0%20Vu.mp3', '/Volumes/USB/DJ Music/Déjà Vu.mp3'],
  ['file://localhost/Volumes/USB/%C3%9Cber.mp3', '/Volumes/USB/Über.mp3'],
  ['file://localhost/Volumes/USB/U%CC%88ber.mp3', `/Volumes/USB/${NFD_U}ber.mp3`],
  ['file://localhost/home/bob/music/100%25%20Pure%20%231%20%5Bedit%5D%3F.flac', '/home/bob/music/100% Pure #1 [edit]?.flac'],
  ["file://localhost/home/bob/music/Don't,Stop;a=b+c$@x:y~!*.mp3", "/home/bob/music/Don't,Stop;a=b+c$@x:y~!*.mp3"],
  ['file://localhost/home/bob/%E6%97%A5%E6%9C%AC/%F0%9F%8E%B5.mp3', '/home/bob/日本/🎵.mp3'],
];

describe('decodeLocation / encodeLocation', () => {
  for (const [loc, path] of MATRIX) {
    it(`${loc} ↔ ${path}`, () => {
      expect(decodeLocation(loc)).toBe(path);
      expect(encodeLocation(path)).toBe(loc);
    });
  }

  it('agrees with the fixture generator on every OS root, NFC and NFD', () => {
    for (const root of ['D:/DJ Music', '/Volumes/USB/DJ Music', '/home/alice/music']) {
      for (const rel of ['Rock & Roll.mp3', "Don't (Stop), #2 [100%].mp3", 'Ünder/Déjà Vu.wav', 'a b/c~d@e.flac']) {
        for (const nfd of [false, true]) {
          const loc = fixtureLocation(root, rel, nfd);
          const path = decodeLocation(loc);
          expect(path).toBe(`${root}/${rel}`.normalize(nfd ? 'NFD' : 'NFC'));
          expect(encodeLocation(path)).toBe(loc);
        }
      }
    }
  });

  it('encodes each ASCII character as Rekordbox does, and decodes it back', () => {
    const kept = new Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/");
    for (let c = 1; c < 0x80; c++) {
      const ch = String.fromCharCode(c);
      const hex = '%' + c.toString(16).toUpperCase().padStart(2, '0');
      const loc = encodeLocation(`/a${ch}b.mp3`);
      expect(loc, `char ${c}`).toBe(`file://localhost/a${kept.has(ch) ? ch : hex}b.mp3`);
      if (ch !== '/' && ch !== '\\') expect(decodeLocation(loc)).toBe(`/a${ch}b.mp3`);
    }
  });

  it('accepts file:///, an upper-case LOCALHOST and lower-case hex', () => {
    expect(decodeLocation('file:///Volumes/USB/a%20b.mp3')).toBe('/Volumes/USB/a b.mp3');
    expect(decodeLocation('file:///D:/a%c3%a9.mp3')).toBe('D:/aé.mp3');
    expect(decodeLocation('FILE://LocalHost/home/x.mp3')).toBe('/home/x.mp3');
    expect(decodeLocation('file://localhost/d:/x.mp3')).toBe('d:/x.mp3');
  });

  const refused: Array<[string, RegExp]> = [
    ['http://example.com/x.mp3', /scheme http: is not a local file/],
    ['smb://server/share/x.mp3', /scheme smb:/],
    ['file://server/share/x.mp3', /host server is not this machine/],
    ['x.mp3', /relative path/],
    ['Music/x.mp3', /relative path/],
    ['/home/bob/x.mp3', /relative path/],
    ['file:Music/x.mp3', /not of the form file:\/\/localhost/],
    ['file://localhost/D:/DJ%20Music/../../Windows/x.dll', /'\.\.' segment/],
    ['file://localhost/home/bob/%2E%2E/alice/x.mp3', /'\.\.' segment/],
    ['file://localhost/home/bob/..%2F..%2Fetc/passwd', /'\.\.' segment/],
    ['file://localhost/home/./x.mp3', /'\.' segment/],
    ['file://localhost/home//x.mp3', /empty segment/],
    ['file://localhost/home/bob/', /names a folder/],
    ['file://localhost/home/bob/x%00.mp3', /NUL/],
    ['file://localhost/D:/a%5C..%5C..%5Cx', /backslash/],
    ['file://localhost/home/bob/100%.mp3', /malformed percent-encoding at '%\.m'/],
    ['file://localhost/home/bob/%zz.mp3', /malformed percent-encoding at '%zz'/],
    ['file://localhost/home/bob/%C3.mp3', /invalid UTF-8/],
    ['file://localhost/home/bob/%FF.mp3', /invalid UTF-8/],
    ['file://localhost', /no path/],
  ];
  for (const [value, message] of refused) {
    it(`refuses ${value}`, () => {
      let err: unknown;
      try {
        decodeLocation(value);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(LocationError);
      expect((err as LocationError).message).toContain(`Location ${JSON.stringify(value)}: `);
      expect((err as LocationError).message).toMatch(message);
    });
  }
});

describe('relativeTo', () => {
  it('compares Windows paths case-insensitively, drive letter included', () => {
    expect(relativeTo('d:/dj music/House/x.mp3', 'D:/DJ Music')).toBe('House/x.mp3');
    expect(relativeTo('D:/DJ Music/House/x.mp3', 'd:/DJ MUSIC/')).toBe('House/x.mp3');
    expect(relativeTo('E:/DJ Music/x.mp3', 'D:/DJ Music')).toBeUndefined();
    expect(relativeTo('D:/x.mp3', 'D:/')).toBe('x.mp3');
  });

  it('compares other paths exactly', () => {
    expect(relativeTo('/home/bob/Music/x.mp3', '/home/bob/Music')).toBe('x.mp3');
    expect(relativeTo('/home/bob/music/x.mp3', '/home/bob/Music')).toBeUndefined();
    expect(relativeTo('/Volumes/USB/x.mp3', '/')).toBe('Volumes/USB/x.mp3');
  });

  it('compares in NFC and keeps the spelling of the path below the root', () => {
    expect(relativeTo(`/Volumes/${NFD_U}SB/Déjà.mp3`.normalize('NFD'), '/Volumes/ÜSB')).toBe('Déjà.mp3'.normalize('NFD'));
    expect(relativeTo('D:/ÜBER/x.mp3', `d:/${NFD_U.toLowerCase()}ber`)).toBe('x.mp3');
  });

  it('is undefined outside the root, for the root itself and across OS styles', () => {
    expect(relativeTo('/home/bobby/x.mp3', '/home/bob')).toBeUndefined();
    expect(relativeTo('/home/bob', '/home/bob')).toBeUndefined();
    expect(relativeTo('/home/bob/', '/home/bob')).toBeUndefined();
    expect(relativeTo('D:/home/bob/x.mp3', '/home/bob')).toBeUndefined();
    expect(relativeTo('/D:/x.mp3', 'D:/')).toBeUndefined();
  });
});

describe('paths', () => {
  it('joinPath keeps one separator', () => {
    expect(joinPath('D:/DJ Music', 'a/b.mp3')).toBe('D:/DJ Music/a/b.mp3');
    expect(joinPath('D:/', 'a.mp3')).toBe('D:/a.mp3');
    expect(joinPath('/', 'a.mp3')).toBe('/a.mp3');
    expect(joinPath('/home/bob/', 'a.mp3')).toBe('/home/bob/a.mp3');
  });

  it('isWindowsPath and toLocationPath', () => {
    expect(isWindowsPath('C:/x')).toBe(true);
    expect(isWindowsPath('/Volumes/C:/x')).toBe(false);
    expect(toLocationPath('C:\\Users\\Bob\\Music', 'win32')).toBe('C:/Users/Bob/Music');
    expect(toLocationPath('/home/bob/a\\b', 'linux')).toBe('/home/bob/a\\b');
  });
});
