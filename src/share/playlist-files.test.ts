import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { playlistFilePath, writePlaylist } from './playlist-files.js';
import { fileName } from '../library/names.js';

describe('playlist files', () => {
  it('makes every playlist name a file name that cannot climb out of its folder', () => {
    expect(fileName('..')).toBe('_');
    expect(fileName('.')).toBe('_');
    expect(fileName('a/b\\c:d')).toBe('a_b_c_d');
    expect(fileName('CON')).toBe('_CON');
    expect(fileName('Peak Time. ')).toBe('Peak Time');
    expect(fileName('x'.repeat(300)).length).toBe(200);
    expect(playlistFilePath('alice', 'Sets/../../etc/Peak Time')).toBe('Playlists/alice/Sets/_/_/etc/Peak Time.m3u8');
  });

  it('writes an M3U8 relative to itself, rewrites only on change, and keeps the replaced one in the trash', async () => {
    const root = await mkdtemp(join(tmpdir(), 'cs-pl-'));
    const file = playlistFilePath('bob', 'Sets/Warm');
    const track = { abs: join(root, 'House', 'A & B', 'one.mp3'), durationSec: 301, artist: 'A & B', title: 'One' };
    expect(await writePlaylist(root, file, [track])).toBe(true);
    const text = await readFile(join(root, file), 'utf8');
    expect(text).toBe('#EXTM3U\n#EXTINF:301,A & B - One\n../../../House/A & B/one.mp3\n');
    expect(await writePlaylist(root, file, [track])).toBe(false);
    expect(await writePlaylist(root, file, [])).toBe(true);
    const batches = await readdir(join(root, '.cratesync-trash'));
    expect(batches).toHaveLength(1);
    expect(await readFile(join(root, '.cratesync-trash', batches[0]!, file), 'utf8')).toBe(text);
  });
});
