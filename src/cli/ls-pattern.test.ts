import { describe, expect, it } from 'vitest';
import { isGlob, lsMatcher, type LsEntry } from './ls-pattern.js';

const track: LsEntry = {
  path: 'Electronic/Homogenic (1997)/01 Hunter.flac',
  tags: { artist: 'Björk', title: 'Hunter', album: 'Homogenic', albumArtist: 'Björk', genre: 'Art Pop', year: 1997 },
};
const bare: LsEntry = { path: 'Live/set 2024.mp3' };
const sees = (terms: string[], e: LsEntry) => lsMatcher(terms)(e);

describe('lsMatcher', () => {
  it('matches everything without terms', () => {
    expect(sees([], track)).toBe(true);
    expect(sees([''], bare)).toBe(true);
  });

  it('finds words in any letter case in the path or the artist, title, album, album artist, genre', () => {
    expect(sees(['björk'], track)).toBe(true); // only in the tags
    expect(sees(['BJÖRK'], track)).toBe(true);
    expect(sees(['electronic'], track)).toBe(true); // only in the path
    expect(sees(['art pop'], track)).toBe(true); // two words, one field
    expect(sees(['hunter', 'homogenic'], track)).toBe(true);
    expect(sees(['set'], bare)).toBe(true);
  });

  it('needs every word', () => {
    expect(sees(['björk', 'radiohead'], track)).toBe(false);
    expect(sees(['björk radiohead'], track)).toBe(false);
    expect(sees(['björk'], bare)).toBe(false);
  });

  it('compares NFC with NFD spellings', () => {
    expect(sees(['Bjo\u0308rk'], track)).toBe(true);
    expect(sees(['björk'], { path: 'Bjo\u0308rk/x.mp3' })).toBe(true);
  });

  it('does not let a word span two fields, nor look in other tags', () => {
    expect(sees(['hunterhomogenic'], track)).toBe(false);
    expect(sees(['1997'], { path: 'x.mp3', tags: { year: 1997, comment: '1997' } })).toBe(false);
  });

  it('ignores tags that are not strings (the catalog is untrusted)', () => {
    const odd = { path: 'a.mp3', tags: { artist: 42, title: ['x'], album: { y: 1 } } } as unknown as LsEntry;
    expect(sees(['42'], odd)).toBe(false);
    expect(sees(['x'], odd)).toBe(false);
    expect(sees(['a.mp3'], { path: 'a.mp3', tags: 'junk' } as unknown as LsEntry)).toBe(true);
  });

  it('takes an argument with a glob character as a glob on the path, with the --include grammar', () => {
    expect(isGlob('*.flac')).toBe(true);
    expect(isGlob('Björk')).toBe(false);
    expect(sees(['*.flac'], track)).toBe(true); // no slash: the file name, anywhere
    expect(sees(['*.flac'], bare)).toBe(false);
    expect(sees(['Live/**'], bare)).toBe(true); // a slash: the whole path
    expect(sees(['Live/**'], track)).toBe(false);
    expect(sees(['Electronic/*.flac'], track)).toBe(false);
    expect(sees(['Electronic/**/*.flac'], track)).toBe(true);
    expect(sees(['set {2023,2024}.mp3'], bare)).toBe(true); // spaces inside a glob are not word breaks
  });

  it('combines globs and words, every one must match', () => {
    expect(sees(['*.flac', 'björk'], track)).toBe(true);
    expect(sees(['*.mp3', 'björk'], track)).toBe(false);
    expect(sees(['*.flac', 'radiohead'], track)).toBe(false);
  });
});
