import { describe, expect, it } from 'vitest';
import { makeCollectionXml, SAMPLE } from '../../../test/fixtures/rekordbox.js';
import { XmlError } from '../../core/xml-scanner.js';
import { UsageError } from '../../errors.js';
import { findPlaylists, readCollection, type PlaylistNode } from './collection-reader.js';

async function* pieces(buf: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

const read = (xml: string, size = 13) => readCollection(pieces(Buffer.from(xml), size), 'alice.xml');

/** The tree as 'Folder/' and 'Playlist [ids]' lines. */
function outline(node: PlaylistNode, depth = 0): string[] {
  const pad = '  '.repeat(depth);
  if (node.type === 'playlist') return [`${pad}${node.name} k${node.keyType} [${node.tracks.join(' ')}]`];
  return [`${pad}${node.name}/`, ...node.children.flatMap((c) => outline(c, depth + 1))];
}

describe('readCollection', () => {
  it('reads tracks with decoded Locations and the playlist tree, KeyType 1 entries resolved to TrackIDs', async () => {
    const c = await read(makeCollectionXml({ root: 'D:/DJ Music', ...SAMPLE }));
    expect(c.product).toBe('rekordbox 6.8.5');
    expect(c.problems).toEqual([]);
    expect(c.tracks.map((t) => t.id)).toEqual(['90000001', '90000008', '90000015', '90000022', '90000029', '90000036']);
    expect(c.tracks[0]).toEqual({
      id: '90000001',
      location: 'D:/DJ Music/House/Rock & Roll (Extended Mix).mp3',
      size: 8_123_456,
      totalTime: 180,
      name: 'Rock & Roll',
      artist: "Guns N' Roses",
    });
    expect(c.tracks[1]?.location).toBe('D:/DJ Music/House/Déjà Vu, Part 2.mp3'.normalize('NFD'));
    expect(c.tracks[3]).toMatchObject({ name: 'Warehouse', artist: 'DJ "Q"', location: 'D:/DJ Music/Techno/Warehouse.wav' });
    expect(outline(c.playlists)).toEqual([
      'ROOT/',
      '  Sets/',
      '    Peak Time k0 [90000001 90000022 90000008]',
      '    Archive/',
      '      2024/',
      '        Warmup k1 [90000036 90000015]',
      '  Warmup k0 [90000029]',
      '  By Location k1 [90000008 90000036 90000001]',
    ]);
  });

  it('keeps a refused Location as locationError and counts playlist entries naming no track', async () => {
    const xml = makeCollectionXml({ root: '/Volumes/USB/DJ Music', ...SAMPLE })
      .replace('file://localhost/Volumes/USB/DJ%20Music/Techno/Warehouse.wav', 'smb://nas/Warehouse.wav')
      .replace('<TRACK Key="90000029"/>', '<TRACK Key="90000029"/><TRACK Key="404"/>')
      .replace('<TRACK Key="file://localhost/Volumes/USB/DJ%20Music/Misc/plain.mp3"/>', '<TRACK Key="file://localhost/Volumes/USB/DJ%20Music/Misc/gone.mp3"/>');
    const c = await read(xml);
    const warehouse = c.tracks.find((t) => t.id === '90000022');
    expect(warehouse?.location).toBeUndefined();
    expect(warehouse?.locationError).toMatch(/^Location "smb:\/\/nas\/Warehouse\.wav": scheme smb:/);
    expect(c.problems).toEqual([
      'playlist Sets/Archive/2024/Warmup: 1 of 2 entries name no track of the collection (left out)',
      'playlist Warmup: 1 of 2 entries name no track of the collection (left out)',
    ]);
    expect(outline(c.playlists)).toContain('  Warmup k0 [90000029]');
  });

  it('rejects a malformed collection with XmlError naming the line', async () => {
    const xml = makeCollectionXml({ root: 'D:/DJ Music', ...SAMPLE }).replace('</COLLECTION>', '</COLLECTIONS>');
    const line = xml.split('\n').findIndex((l) => l.includes('</COLLECTIONS>')) + 1;
    await expect(read(xml)).rejects.toThrow(XmlError);
    await expect(read(xml)).rejects.toThrow(new RegExp(`^alice\\.xml: line ${line}: </COLLECTIONS> does not close <COLLECTION>`));
  });

  it('gives an empty ROOT for a collection without playlists', async () => {
    const c = await read('<DJ_PLAYLISTS Version="1.0.0"><COLLECTION Entries="1"><TRACK TrackID="1" Location="file://localhost/x.mp3"/></COLLECTION></DJ_PLAYLISTS>');
    expect(c.tracks).toEqual([{ id: '1', location: '/x.mp3' }]);
    expect(c.playlists).toEqual({ type: 'folder', name: 'ROOT', children: [] });
  });
});

describe('findPlaylists', async () => {
  const { playlists } = await read(makeCollectionXml({ root: 'D:/DJ Music', ...SAMPLE }));
  const paths = (spec: string) => findPlaylists(playlists, spec).map((p) => p.path);

  it('finds a playlist by its path from under ROOT, or by a name found once', () => {
    expect(paths('Sets/Peak Time')).toEqual(['Sets/Peak Time']);
    expect(paths('Peak Time')).toEqual(['Sets/Peak Time']);
    expect(paths('Sets/Archive/2024/Warmup')).toEqual(['Sets/Archive/2024/Warmup']);
    expect(paths('Warmup')).toEqual(['Warmup']);
    expect(findPlaylists(playlists, 'By Location')[0]?.node.tracks).toEqual(['90000008', '90000036', '90000001']);
  });

  it('takes a folder as every playlist below it', () => {
    expect(paths('Sets')).toEqual(['Sets/Peak Time', 'Sets/Archive/2024/Warmup']);
    expect(paths('2024')).toEqual(['Sets/Archive/2024/Warmup']);
  });

  it('refuses an ambiguous name, listing the paths, and a name that matches nothing', () => {
    const twice: PlaylistNode = {
      type: 'folder',
      name: 'ROOT',
      children: [
        { type: 'folder', name: 'A', children: [{ type: 'playlist', name: 'Mix', keyType: 0, tracks: [] }] },
        { type: 'folder', name: 'B', children: [{ type: 'playlist', name: 'Mix', keyType: 0, tracks: [] }] },
      ],
    };
    expect(() => findPlaylists(twice, 'Mix')).toThrow(UsageError);
    expect(() => findPlaylists(twice, 'Mix')).toThrow('playlist "Mix" is ambiguous: it names "A/Mix", "B/Mix"; give its path');
    expect(findPlaylists(twice, 'B/Mix').map((p) => p.path)).toEqual(['B/Mix']);
    expect(() => findPlaylists(playlists, 'Nope')).toThrow('no playlist or folder "Nope" in the collection');
    expect(() => findPlaylists({ type: 'folder', name: 'ROOT', children: [{ type: 'folder', name: 'Empty', children: [] }] }, 'Empty')).toThrow('folder "Empty" holds no playlist');
  });
});
