import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { conflictName } from './plan.js';
import { keepVersion, parseConflictCopy } from './conflict-copies.js';
import { localTrashPath } from './trash.js';

describe('parseConflictCopy', () => {
  it('finds the library file and the user in every name conflictName and the free-name numbering give', () => {
    for (const [path, writer] of [
      ['Artist/Album/01 Song.mp3', 'bob@laptop'],
      ['a.b.flac', 'anne-marie@x'],
      ['No Extension', undefined],
      ['Dir.v2/track', 'dj_2@m'],
      ['Ünïcode/Çafé.m4a', 'zoë@m'],
    ] as const) {
      const copy = conflictName(path, writer, '2026-11-30');
      const user = writer?.split('@')[0] ?? 'remote';
      expect(parseConflictCopy(copy), copy).toEqual({ path, user });
      const second = copy.includes('.', copy.lastIndexOf('2026-11-30')) ? copy.replace(/(\.[^./]+)$/, '-2$1') : `${copy}-2`;
      expect(parseConflictCopy(second), second).toEqual({ path, user });
    }
  });

  it('is undefined for other names', () => {
    for (const p of ['a.mp3', 'a.conflict.mp3', 'a.conflict-bob.mp3', '.conflict-bob-2026-11-30.mp3', 'd/.conflict-bob-2026-11-30.mp3', 'a.conflict--2026-11-30.mp3']) {
      expect(parseConflictCopy(p), p).toBeUndefined();
    }
  });
});

describe('keepVersion', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'cratesync-conflict-'));
    await mkdir(join(root, 'A'));
    await writeFile(join(root, 'A', 's.mp3'), 'mine');
    await writeFile(join(root, 'A', 's.conflict-bob-2026-11-30.mp3'), 'theirs');
  });
  afterEach(() => rm(root, { recursive: true, force: true }));
  const c = { path: 'A/s.mp3', copy: 'A/s.conflict-bob-2026-11-30.mp3' };

  it('mine: the copy goes to the library trash', async () => {
    const r = await keepVersion(root, c, 'mine', 'S1');
    expect(r).toEqual({ kept: 'A/s.mp3', trashed: { stamp: 'S1', path: c.copy } });
    expect(await readFile(join(root, 'A', 's.mp3'), 'utf8')).toBe('mine');
    expect(await readFile(localTrashPath(root, 'S1', c.copy), 'utf8')).toBe('theirs');
    await expect(readFile(join(root, c.copy))).rejects.toThrow();
  });

  it('theirs: the library file goes to the trash and the copy takes its place', async () => {
    const r = await keepVersion(root, c, 'theirs', 'S2');
    expect(r).toEqual({ kept: 'A/s.mp3', trashed: { stamp: 'S2', path: 'A/s.mp3' } });
    expect(await readFile(join(root, 'A', 's.mp3'), 'utf8')).toBe('theirs');
    expect(await readFile(localTrashPath(root, 'S2', 'A/s.mp3'), 'utf8')).toBe('mine');
    await expect(readFile(join(root, c.copy))).rejects.toThrow();
  });

  it('a file gone meanwhile is a FileError, and nothing moves', async () => {
    await rm(join(root, c.copy));
    await expect(keepVersion(root, c, 'mine', 'S3')).rejects.toThrow(/no longer there/);
    expect(await readFile(join(root, 'A', 's.mp3'), 'utf8')).toBe('mine');
  });
});
