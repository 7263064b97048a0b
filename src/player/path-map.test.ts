import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import { mapPlayerPath, parsePathMapping, type PathMapping } from './path-map.js';

const none: PathMapping[] = [];
const maps: PathMapping[] = [
  { from: 'C:\\Music', to: '/home/me/Music' },
  { from: 'C:\\Music\\Live', to: '/srv/live/' },
  { from: '\\\\nas\\share', to: '/mnt/nas' },
  { from: '/media/old', to: '/media/new' },
];

describe('mapPlayerPath', () => {
  const cases: [string, PathMapping[], NodeJS.Platform, string | undefined][] = [
    // WSL default for drive paths off Windows
    ['C:\\Users\\me\\a.mp3', none, 'linux', '/mnt/c/Users/me/a.mp3'],
    ['d:/Music/b.flac', none, 'linux', '/mnt/d/Music/b.flac'],
    ['C:\\', none, 'linux', '/mnt/c'],
    // Windows paths on Windows stay, with backslashes
    ['C:\\Users\\me\\a.mp3', none, 'win32', 'C:\\Users\\me\\a.mp3'],
    ['C:/Users/me/a.mp3', none, 'win32', 'C:\\Users\\me\\a.mp3'],
    ['\\\\nas\\share\\a.mp3', none, 'win32', '\\\\nas\\share\\a.mp3'],
    // POSIX paths stay off Windows; impossible on Windows
    ['/home/me/a.mp3', none, 'linux', '/home/me/a.mp3'],
    ['/home/me/a.mp3', none, 'darwin', '/home/me/a.mp3'],
    ['/home/me/a.mp3', none, 'win32', undefined],
    // UNC off Windows without a mapping, relative paths, `..`: undefined
    ['\\\\nas\\share\\a.mp3', none, 'linux', undefined],
    ['Music\\a.mp3', none, 'linux', undefined],
    ['a.mp3', none, 'win32', undefined],
    ['C:\\Music\\..\\Windows\\x.dll', maps, 'linux', undefined],
    // explicit mappings: case-insensitive, either slash, component boundary
    ['C:\\Music\\A\\1.mp3', maps, 'linux', '/home/me/Music/A/1.mp3'],
    ['c:/music/A/1.mp3', maps, 'linux', '/home/me/Music/A/1.mp3'],
    ['C:\\MUSIC', maps, 'linux', '/home/me/Music'],
    ['C:\\Musical\\1.mp3', maps, 'linux', '/mnt/c/Musical/1.mp3'],
    // the longest `from` wins, whatever the order of the list
    ['C:\\Music\\Live\\x.mp3', maps, 'linux', '/srv/live/x.mp3'],
    ['C:\\Music\\Live\\x.mp3', [...maps].reverse(), 'linux', '/srv/live/x.mp3'],
    ['\\\\NAS\\Share\\d\\e.mp3', maps, 'linux', '/mnt/nas/d/e.mp3'],
    ['//nas/share/d/e.mp3', maps, 'linux', '/mnt/nas/d/e.mp3'],
    // POSIX `from` compares exactly
    ['/media/old/x.mp3', maps, 'linux', '/media/new/x.mp3'],
    ['/media/OLD/x.mp3', maps, 'linux', '/media/OLD/x.mp3'],
    ['/media/older/x.mp3', maps, 'linux', '/media/older/x.mp3'],
    // onto Windows: the rest joined with backslashes
    ['/home/me/Music/a/b.mp3', [{ from: '/home/me/Music', to: 'D:\\Music' }], 'win32', 'D:\\Music\\a\\b.mp3'],
    ['C:\\Music\\a\\b.mp3', [{ from: 'C:\\Music', to: 'E:\\' }], 'win32', 'E:\\a\\b.mp3'],
    // a drive path never matches a UNC mapping
    ['C:\\nas\\share\\x.mp3', [{ from: '\\\\nas\\share', to: '/n' }], 'linux', '/mnt/c/nas/share/x.mp3'],
  ];
  it.each(cases)('%s (%#) on %s', (p, m, platform, want) => {
    expect(mapPlayerPath(p, m, platform)).toBe(want);
  });
});

describe('parsePathMapping', () => {
  it('splits at the first "="', () => {
    expect(parsePathMapping('C:\\Music=/home/me/Music')).toEqual({ from: 'C:\\Music', to: '/home/me/Music' });
    expect(parsePathMapping('/a=/b=c')).toEqual({ from: '/a', to: '/b=c' });
    expect(parsePathMapping('\\\\nas\\music=/mnt/nas')).toEqual({ from: '\\\\nas\\music', to: '/mnt/nas' });
  });
  it.each(['C:\\Music', '=/x', 'C:\\Music=', 'Music=/x', 'C:\\Music=relative/dir'])('refuses %s naming --map', (text) => {
    expect(() => parsePathMapping(text)).toThrow(UsageError);
    expect(() => parsePathMapping(text)).toThrow(/^--map /);
  });
});
