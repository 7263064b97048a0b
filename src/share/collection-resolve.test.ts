import { describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findOnDisk, onDisk, resolveTracks, type ReaderFiles } from './collection-resolve.js';

const reader = (files: string[], md5s: Record<string, string>, objects: Record<string, [number, string?]>): ReaderFiles => ({
  root: '/lib',
  find: (p) => (files.includes(p) ? `/lib/${p}` : undefined),
  withMd5: (m) => Object.entries(md5s).filter(([, v]) => v === m).map(([k]) => k),
  objectMd5: (p) => objects[p]?.[1],
  objectSize: (p) => objects[p]?.[0],
});

describe("resolving another user's tracks to the reader's files", () => {
  it('prefers the same path, then the same content elsewhere, else missing; unsafe and vanished ones are unmatched', () => {
    const r = reader(['A/one.mp3', 'Mine/two (copy).mp3'], { 'Mine/two (copy).mp3': 'b'.repeat(32) }, {
      'A/one.mp3': [1],
      'B/two.mp3': [2, 'b'.repeat(32)],
      'C/three.mp3': [3],
    });
    const out = resolveTracks(
      [
        { id: '1', path: 'A/one.mp3' },
        { id: '2', path: 'B/two.mp3' },
        { id: '3', path: 'C/three.mp3' },
        { id: '4', path: '../../etc/passwd' },
        { id: '5', path: 'D/gone.mp3' },
        { id: '6', why: 'no object in the bucket is this file' },
      ],
      r,
    );
    expect([...out.values()].map((t) => [t.id, t.state, t.path, t.abs])).toEqual([
      ['1', 'have', 'A/one.mp3', '/lib/A/one.mp3'],
      ['2', 'same-content', 'Mine/two (copy).mp3', '/lib/Mine/two (copy).mp3'],
      ['3', 'missing', 'C/three.mp3', join('/lib', 'C', 'three.mp3')],
      ['4', 'unmatched', undefined, undefined],
      ['5', 'unmatched', 'D/gone.mp3', undefined],
      ['6', 'unmatched', undefined, undefined],
    ]);
    expect(out.get('3')?.size).toBe(3);
  });

  it('finds a file spelled in NFD on disk from its NFC library path', async () => {
    const root = await mkdtemp(join(tmpdir(), 'cs-nfd-'));
    await mkdir(join(root, 'Bjo\u0308rk'));
    await writeFile(join(root, 'Bjo\u0308rk', 'Jo\u0301ga.mp3'), 'x');
    expect(onDisk(root, 'Björk/Jóga.mp3')).toBe(join(root, 'Bjo\u0308rk', 'Jo\u0301ga.mp3'));
    expect(onDisk(root, 'Nope/x.mp3')).toBe(join(root, 'Nope', 'x.mp3'));
    expect(findOnDisk(root, 'Björk/Jóga.mp3')).toBe(join(root, 'Bjo\u0308rk', 'Jo\u0301ga.mp3'));
    expect(findOnDisk(root, 'Björk/Nope.mp3')).toBeUndefined();
    expect(findOnDisk(root, 'Nope/x.mp3')).toBeUndefined();
  });
});
