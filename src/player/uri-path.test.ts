import { describe, expect, it } from 'vitest';
import { uriToPath } from './uri-path.js';

describe('uriToPath', () => {
  it('decodes the forms players write, keeping the player OS’s spelling', () => {
    expect(uriToPath('file:///home/me/My%20Music%20&%20%231%20100%25/Bj%C3%B6rk/a.mp3')).toBe('/home/me/My Music & #1 100%/Björk/a.mp3');
    expect(uriToPath('file://localhost/Users/me/Music/a.m4a')).toBe('/Users/me/Music/a.m4a');
    expect(uriToPath('file://localhost/C:/Users/me/Music/a%20b.mp3')).toBe('C:\\Users\\me\\Music\\a b.mp3');
    expect(uriToPath('file:///D:/DJ/x.flac')).toBe('D:\\DJ\\x.flac');
    expect(uriToPath('FILE://LOCALHOST//nas/share/x.mp3')).toBe('\\\\nas\\share\\x.mp3');
  });

  const refused: Array<[string, RegExp]> = [
    ['http://example.com/a.mp3', /scheme http: is not a local file/],
    ['/home/me/a.mp3', /not a URI/],
    ['file:/home/me/a.mp3', /not of the form/],
    ['file://nas/share/a.mp3', /host nas is not this machine/],
    ['file://localhost', /no path/],
    ['file:///home/me/%ZZ.mp3', /malformed percent-encoding/],
    ['file:///home/me/%C3.mp3', /invalid UTF-8/],
    ['file:///home/me/a%00.mp3', /NUL/],
    ['file:///C:/Music/%5C..%5Cwin.ini', /backslash/],
    ['file:///home/me/../etc/passwd', /segment/],
    ['file:///home/me/./a.mp3', /segment/],
    ['file:///home//me/a.mp3', /segment/],
    ['file:///home/me/', /segment/],
    ['file:///C:/Music/../x.mp3', /segment/],
  ];
  for (const [uri, why] of refused) {
    it(`refuses ${uri}`, () => {
      expect(() => uriToPath(uri)).toThrow(why);
    });
  }
});
