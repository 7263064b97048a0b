import { describe, expect, it } from 'vitest';
import type { CollectionTrack } from './rekordbox/collection-reader.js';
import { matchTracks, playlistPaths, rankRoots, type KnownPaths } from './collection-index.js';

function known(objects: Array<[path: string, size: number, md5?: string]>): KnownPaths {
  const paths = new Set(objects.map(([p]) => p));
  return {
    has: (p) => paths.has(p),
    byNameSize: (name, size) => objects.filter(([p, s]) => s === size && p.slice(p.lastIndexOf('/') + 1).toLowerCase() === name).map(([p]) => p),
    withMd5: (md5) => objects.filter(([, , m]) => m === md5).map(([p]) => p),
    folded: (p) => [...paths].find((q) => q.toLowerCase() === p.toLowerCase()),
  };
}

const bucket = known([
  ['House/A/one.mp3', 100],
  ['House/A/two.mp3', 200],
  ['House/B/three.mp3', 300],
  ['Techno/four.flac', 400],
  ['Elsewhere/renamed five.mp3', 500, 'f'.repeat(32)],
  ['Dupes/x/six.mp3', 600],
  ['Dupes/y/six.mp3', 600],
]);

const t = (id: string, location: string, size?: number): CollectionTrack => ({ id, location, ...(size !== undefined ? { size } : {}) });

describe('matching a collection to the bucket', () => {
  it('finds the root that makes the most Locations land, even when it is a Windows drive the pusher never synced from', () => {
    const tracks = [t('1', 'D:/DJ Music/House/A/one.mp3'), t('2', 'D:/DJ Music/House/A/two.mp3'), t('3', 'D:/DJ Music/Techno/four.flac')];
    expect(rankRoots(tracks, bucket)[0]).toBe('d:/dj music');
  });

  it('breaks a tie between roots in favour of a library root the users registry names', () => {
    // Two roots make the Location land: the longer wins, unless the registry names the other.
    const b = known([['x/one.mp3', 1], ['one.mp3', 1]]);
    const tracks = [t('1', '/media/usb/x/one.mp3')];
    expect(rankRoots(tracks, b)[0]).toBe('/media/usb/x');
    expect(rankRoots(tracks, b, ['/media/usb/'])[0]).toBe('/media/usb');
  });

  it('matches by root, case-insensitively for Windows paths, then by name and size, then by content; lists the rest', async () => {
    const tracks = [
      t('1', 'D:/DJ Music/House/A/one.mp3', 100),
      t('2', 'd:/dj music/house/a/TWO.mp3', 200),
      t('3', 'D:/Old Drive/misc/three.mp3', 300), // moved: only name + size match
      t('4', 'D:/DJ Music/gone/five.mp3', 500), // renamed in the bucket: content
      t('5', 'D:/DJ Music/nowhere.mp3', 999),
      t('6', 'E:/y/six.mp3', 600), // two same-named candidates: the one in the same folder
      { id: '7', locationError: 'http://evil/x.mp3: not a file Location' },
    ];
    const md5 = async (loc: string) => (loc.endsWith('five.mp3') ? 'f'.repeat(32) : undefined);
    const { tracks: out } = await matchTracks({ tracks }, bucket, md5);
    const by = Object.fromEntries(out.map((x) => [x.id, [x.path, x.by]]));
    expect(by['1']).toEqual(['House/A/one.mp3', 'root']);
    expect(by['2']).toEqual(['House/A/two.mp3', 'root']);
    expect(by['3']).toEqual(['House/B/three.mp3', 'name']);
    expect(by['4']).toEqual(['Elsewhere/renamed five.mp3', 'hash']);
    expect(by['6']).toEqual(['Dupes/y/six.mp3', 'name']);
    const unmatched = out.filter((x) => !x.path);
    expect(unmatched.map((x) => x.id)).toEqual(['5', '7']);
    expect(unmatched[0]?.location).toBe('D:/DJ Music/nowhere.mp3');
    expect(unmatched[1]?.why).toMatch(/http:\/\/evil/);
  });

  it('matches a macOS NFD spelling to the NFC path in the bucket', async () => {
    const b = known([['Björk/Jóga.mp3', 10]]);
    const { tracks } = await matchTracks({ tracks: [t('1', '/Volumes/USB/Music/Björk/Jóga.mp3'.normalize('NFD'))] }, b);
    expect(tracks[0]?.path).toBe('Björk/Jóga.mp3');
  });

  it('lists the playlists each track is in, by path', () => {
    const tree = {
      type: 'folder' as const,
      name: 'ROOT',
      children: [
        { type: 'folder' as const, name: 'Sets', children: [{ type: 'playlist' as const, name: 'Peak Time', keyType: 0 as const, tracks: ['1', '2'] }] },
        { type: 'playlist' as const, name: 'Warmup', keyType: 1 as const, tracks: ['2'] },
      ],
    };
    const m = playlistPaths(tree);
    expect(m.get('1')).toEqual(['Sets/Peak Time']);
    expect(m.get('2')).toEqual(['Sets/Peak Time', 'Warmup']);
  });
});
