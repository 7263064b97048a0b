import { mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileError, NotFoundError, UnreachableError } from '../../errors.js';
import { FolderRemote } from './folder-remote.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'cratesync-folder-edge-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const keys = async (remote: FolderRemote, prefix = '') => {
  const out: string[] = [];
  for await (const o of remote.list(prefix)) out.push(o.key);
  return out.sort();
};

describe('FolderRemote specifics', () => {
  it('treats a missing root as empty, creates it on put, or refuses with createRoot: false', async () => {
    const root = path.join(dir, 'a', 'b');
    expect(await keys(new FolderRemote(root))).toEqual([]);
    await expect(new FolderRemote(root).stat('x')).rejects.toBeInstanceOf(NotFoundError);
    await new FolderRemote(root).delete('x');
    const strict = new FolderRemote(path.join(dir, 'unmounted'), { createRoot: false });
    await expect(strict.put('x.mp3', { data: Buffer.from('x') })).rejects.toThrow(UnreachableError);
    await expect(strict.put('x.mp3', { data: Buffer.from('x') })).rejects.toThrow('does not exist');
    await new FolderRemote(root).put('x/y.mp3', { data: Buffer.from('y') });
    expect(await keys(new FolderRemote(root))).toEqual(['x/y.mp3']);
  });

  it('reports a root that is a file as unreachable', async () => {
    const file = path.join(dir, 'file');
    await writeFile(file, 'x');
    const remote = new FolderRemote(file);
    await expect(keys(remote)).rejects.toThrow(UnreachableError);
    await expect(remote.put('a.mp3', { data: Buffer.from('x') })).rejects.toThrow('is not a directory');
  });

  it('prunes directories a delete or move empties, but never the root', async () => {
    const remote = new FolderRemote(dir);
    await remote.put('A/B/C/x.mp3', { data: Buffer.from('x') });
    await remote.put('A/keep.mp3', { data: Buffer.from('k') });
    await remote.move('A/B/C/x.mp3', 'Z/x.mp3');
    expect(await readdir(path.join(dir, 'A'))).toEqual(['keep.mp3']);
    await remote.delete('Z/x.mp3');
    await remote.delete('A/keep.mp3');
    expect(await readdir(dir)).toEqual([]);
    expect((await stat(dir)).isDirectory()).toBe(true);
  });

  it('lists files through symlinks, skips its own temp files, filters partial prefixes', async () => {
    const remote = new FolderRemote(dir);
    await remote.put('dj/a.mp3', { data: Buffer.from('a') });
    await remote.put('djx/b.mp3', { data: Buffer.from('b') });
    await writeFile(path.join(dir, 'dj', '.a.mp3.cratesync-tmp-0123456789ab'), 'partial');
    await symlink(path.join(dir, 'dj', 'a.mp3'), path.join(dir, 'dj', 'link.mp3'));
    await symlink(dir, path.join(dir, 'dj', 'loop'));
    await symlink(path.join(dir, 'nowhere'), path.join(dir, 'dj', 'dangling.mp3'));
    expect(await keys(remote)).toEqual(['dj/a.mp3', 'dj/link.mp3', 'djx/b.mp3']);
    expect(await keys(remote, 'dj')).toEqual(['dj/a.mp3', 'dj/link.mp3', 'djx/b.mp3']);
    expect(await keys(remote, 'dj/')).toEqual(['dj/a.mp3', 'dj/link.mp3']);
    expect(await keys(remote, 'dj/l')).toEqual(['dj/link.mp3']);
  });

  it('refuses keys that would escape the root or that it cannot name', async () => {
    const remote = new FolderRemote(path.join(dir, 'root'));
    for (const key of ['../x.mp3', 'a/../../x.mp3', '/etc/passwd', 'a//b.mp3', 'a/./b.mp3', 'nul\0.mp3', 'a/.b.mp3.cratesync-tmp-0123456789ab']) {
      expect(remote.names.check(key)).toEqual(expect.any(String));
      await expect(remote.put(key, { data: Buffer.from('x') })).rejects.toBeInstanceOf(FileError);
    }
    expect(remote.names.check('a/' + 'é'.repeat(128) + '.mp3')).toMatch(/bytes/); // 256+ bytes, 133 characters
    await expect(readdir(dir)).resolves.toEqual([]);
  });

  it('keeps the temp name short enough for a 255-byte file name', async () => {
    const remote = new FolderRemote(dir);
    const key = `long/${'n'.repeat(251)}.mp3`;
    expect(remote.names.check(key)).toBeUndefined();
    await remote.put(key, { data: Buffer.from('x') });
    expect(await keys(remote)).toEqual([key]);
  });

  it('a failed get removes the half-written destination; a missing source file is a FileError', async () => {
    const remote = new FolderRemote(dir);
    await expect(remote.put('sub/dir/a.mp3', { path: path.join(dir, 'no-such-file') })).rejects.toBeInstanceOf(FileError);
    expect(await readdir(dir)).toEqual([]); // the directories made for it are gone again
    await remote.put('a.mp3', { data: Buffer.from('a') });
    const dest = path.join(dir, 'out');
    await expect(remote.get('a.mp3', dest, { expectMd5: '0'.repeat(32) })).rejects.toThrow();
    await expect(stat(dest)).rejects.toMatchObject({ code: 'ENOENT' });
    await mkdir(path.join(dir, 'isdir'));
    await expect(remote.stat('isdir')).rejects.toBeInstanceOf(NotFoundError);
  });
});
