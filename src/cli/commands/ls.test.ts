import { describe, expect, it } from 'vitest';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { longLine, objectJson, splitArgs } from './ls.js';
import { printable } from '../format.js';
import { UsageError } from '../../errors.js';

describe('printable', () => {
  it('escapes what could add lines, move the cursor or reverse a name', () => {
    expect(printable('a\nb\tc\r')).toBe('a\\x0ab\\x09c\\x0d');
    expect(printable('\x1b[2J')).toBe('\\x1b[2J');
    expect(printable('x\u0085y\u2028z\u202e')).toBe('x\\x85y\\u{2028}z\\u{202e}');
    expect(printable('Björk – Jóga ♪')).toBe('Björk – Jóga ♪');
  });
});

describe('longLine', () => {
  const o = { key: 'music/a/b.mp3', size: 16_400, tags: { artist: 'Björk', title: 'Jóga', album: 'Homogenic', year: 1997 }, writer: 'ann@m1', writtenAt: Date.UTC(2026, 10, 20, 22, 1, 4) };
  it('gives path, size, artist – title, album, year, writer and time, tab-separated', () => {
    expect(longLine('a/b.mp3', o)).toBe('a/b.mp3\t16.4 KB\tBjörk – Jóga\tHomogenic\t1997\tann@m1\t2026-11-20T22:01:04Z');
  });
  it('shows - for what the catalog does not know, and ignores tags of the wrong type', () => {
    expect(longLine('x.mp3', { key: 'music/x.mp3', size: 3 })).toBe('x.mp3\t3 B\t-\t-\t-\t-\t-');
    const odd = { key: 'music/x.mp3', size: 3, tags: { artist: 7, title: 'T\nfake line', year: '1990' } } as never;
    expect(longLine('x.mp3', odd)).toBe('x.mp3\t3 B\tT\\x0afake line\t-\t-\t-\t-');
  });
  it('--json keeps every field', () => {
    expect(objectJson('a/b.mp3', { ...o, md5: 'm', etag: 'e', audioHash: 'h', mtime: new Date(0) })).toEqual({
      path: 'a/b.mp3', key: 'music/a/b.mp3', size: 16_400, md5: 'm', etag: 'e', audioHash: 'h', tags: o.tags, writer: 'ann@m1',
      writtenAt: '2026-11-20T22:01:04Z', mtime: '1970-01-01T00:00:00Z',
    });
  });
});

describe('splitArgs', () => {
  it('takes a URL or a folder path first as the remote, anything else as the pattern', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cs-ls-'));
    expect(await splitArgs(['s3://b/dj', 'björk'], undefined)).toEqual({ remote: 's3://b/dj', terms: ['björk'] });
    expect(await splitArgs(['file:///x'], undefined)).toEqual({ remote: 'file:///x', terms: [] });
    expect(await splitArgs([dir, '*.flac'], undefined)).toEqual({ remote: dir, terms: ['*.flac'] });
    // Spelled as a path: the remote, even when missing (listing it then says so).
    expect(await splitArgs([join(dir, 'missing'), 'x'], undefined)).toEqual({ remote: join(dir, 'missing'), terms: ['x'] });
    expect(await splitArgs(['~/backup'], undefined)).toEqual({ remote: '~/backup', terms: [] });
    expect(await splitArgs(['björk', 'hunter'], undefined)).toEqual({ terms: ['björk', 'hunter'] });
    expect(await splitArgs([], undefined)).toEqual({ terms: [] });
  });

  it('takes a bare folder name for a word unless it holds a remote layout', async () => {
    const cwd = process.cwd();
    const dir = await mkdtemp(join(tmpdir(), 'cs-ls-'));
    await mkdir(join(dir, 'Björk'));
    await mkdir(join(dir, 'backup', 'music'), { recursive: true });
    process.chdir(dir);
    try {
      expect(await splitArgs(['Björk'], undefined)).toEqual({ terms: ['Björk'] });
      expect(await splitArgs(['./Björk'], undefined)).toEqual({ remote: './Björk', terms: [] });
      expect(await splitArgs(['backup', 'x'], undefined)).toEqual({ remote: 'backup', terms: ['x'] });
    } finally {
      process.chdir(cwd);
    }
  });

  it('with --remote, every argument is the pattern; a second remote is a usage error', async () => {
    expect(await splitArgs(['björk'], 's3://b/dj')).toEqual({ remote: 's3://b/dj', terms: ['björk'] });
    await expect(splitArgs(['s3://c/x'], 's3://b/dj')).rejects.toBeInstanceOf(UsageError);
  });
});
