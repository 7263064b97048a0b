import { describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { decodeIndex, encodeIndex, unsafeLibraryPath } from './collection-index-codec.js';
import { INDEX_KIND, type CollectionIndex } from './collection-index.js';

const good: CollectionIndex = {
  v: 1,
  kind: INDEX_KIND,
  user: 'alice',
  writer: 'alice@pc-1',
  at: 1,
  xml: { md5: 'a'.repeat(32), size: 10 },
  roots: ['D:/DJ Music'],
  tracks: [{ id: '1', path: 'House/one.mp3', by: 'root', size: 3, name: 'One', artist: 'A', time: 300 }],
  playlists: { type: 'folder', name: 'ROOT', children: [{ type: 'playlist', name: 'P', keyType: 0, tracks: ['1'] }] },
};

const forged = (patch: (d: any) => void) => {
  const d = structuredClone(good) as any;
  patch(d);
  return gzipSync(JSON.stringify(d));
};

describe('collection index codec', () => {
  it('round-trips a good index', async () => {
    expect(await decodeIndex(await encodeIndex(good), 'k')).toEqual(good);
  });

  it('refuses paths that would leave the library, naming the key and field', async () => {
    for (const p of ['../etc/passwd', '/etc/passwd', 'C:/x.mp3', 'a/../../b', 'a\\b', 'a//b', 'x\0y']) {
      expect(unsafeLibraryPath(p), p).toBeDefined();
      await expect(decodeIndex(forged((d) => (d.tracks[0].path = p)), '.cratesync/collections/bob/x.index.json.gz')).rejects.toThrow(
        /\.cratesync\/collections\/bob\/x\.index\.json\.gz: collection index: tracks\[0\]\.path/,
      );
    }
    expect(unsafeLibraryPath('House/A b (c)/d.mp3')).toBeUndefined();
  });

  it('refuses garbage, unknown fields, deep trees and bombs', async () => {
    await expect(decodeIndex(Buffer.from('not gzip'), 'k1')).rejects.toThrow(/^k1: unreadable/);
    await expect(decodeIndex(forged((d) => (d.extra = 1)), 'k2')).rejects.toThrow(/k2: .*Unrecognized key/i);
    // Deeper than a recursive walk survives: built as text (JSON.stringify itself would overflow).
    const n = 100_000;
    const deep = `${'{"type":"folder","name":"f","children":['.repeat(n)}{"type":"playlist","name":"x","keyType":0,"tracks":[]}${']}'.repeat(n)}`;
    const doc = JSON.stringify({ ...good, playlists: null }).replace('"playlists":null', `"playlists":${deep}`);
    await expect(decodeIndex(gzipSync(doc), 'k3')).rejects.toThrow(/k3: .*levels/);
    const bomb = gzipSync(Buffer.alloc(300 * 1024 * 1024, 0x20));
    await expect(decodeIndex(bomb, 'k4')).rejects.toThrow(/k4: unreadable collection index \(inflates past/);
  });
});

describe('reading which XML an index was made for', () => {
  it('reads the xml field from the head alone, and nothing from garbage', async () => {
    const { decodeIndexXml } = await import('./collection-index-codec.js');
    const big = { ...good, tracks: Array.from({ length: 20_000 }, (_, i) => ({ id: String(i), path: `A/${i}.mp3`, name: 'x'.repeat(50) })) };
    expect(await decodeIndexXml(await encodeIndex(big))).toEqual(good.xml);
    expect(await decodeIndexXml(Buffer.from('not gzip'))).toBeUndefined();
    expect(await decodeIndexXml(gzipSync(JSON.stringify({ ...good, xml: { md5: 'nope', size: 1 } })))).toBeUndefined();
  });
});
