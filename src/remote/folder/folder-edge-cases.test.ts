import { mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileError, NotFoundError, PreconditionError, UnreachableError } from '../../errors.js';
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
  it('put ifAbsent creates a free key, and on a taken one throws PreconditionError leaving it as it was', async () => {
    const remote = new FolderRemote(path.join(dir, 'r'));
    await remote.put('a/x.mp3', { data: Buffer.from('mine') }, { ifAbsent: true });
    await expect(remote.put('a/x.mp3', { data: Buffer.from('theirs') }, { ifAbsent: true })).rejects.toBeInstanceOf(PreconditionError);
    expect((await remote.read('a/x.mp3')).toString()).toBe('mine');
    expect(await keys(remote)).toEqual(['a/x.mp3']);
    await remote.put('a/x.mp3', { data: Buffer.from('theirs') });
    expect((await remote.read('a/x.mp3')).toString()).toBe('theirs');
  });

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

  it('lists no symlinks (to files, folders or nowhere), skips its own temp files, filters partial prefixes', async () => {
    const remote = new FolderRemote(dir);
    await remote.put('dj/a.mp3', { data: Buffer.from('a') });
    await remote.put('djx/b.mp3', { data: Buffer.from('b') });
    await writeFile(path.join(dir, 'dj', '.a.mp3.cratesync-tmp-0123456789ab'), 'partial');
    await symlink(path.join(dir, 'dj', 'a.mp3'), path.join(dir, 'dj', 'link.mp3'));
    await symlink(dir, path.join(dir, 'dj', 'loop'));
    await symlink(path.join(dir, 'nowhere'), path.join(dir, 'dj', 'dangling.mp3'));
    expect(await keys(remote)).toEqual(['dj/a.mp3', 'djx/b.mp3']);
    expect(await keys(remote, 'dj')).toEqual(['dj/a.mp3', 'djx/b.mp3']);
    expect(await keys(remote, 'dj/')).toEqual(['dj/a.mp3']);
    expect(await keys(remote, 'dj/l')).toEqual([]);
    expect(await keys(remote, 'dj/loop/')).toEqual([]);
  });

  describe('links planted by another member are never followed', () => {
    let outside: string;
    let root: string;
    let remote: FolderRemote;
    beforeEach(async () => {
      outside = path.join(dir, 'outside');
      root = path.join(dir, 'remote');
      await mkdir(outside);
      await writeFile(path.join(outside, 'secret.mp3'), 'not the remote\'s');
      remote = new FolderRemote(root);
      await remote.put('music/Own/t.mp3', { data: Buffer.from('own') });
      await symlink(outside, path.join(root, 'music', 'Artist'));
      await symlink(path.join(outside, 'secret.mp3'), path.join(root, 'music', 'leak.mp3'));
    });
    const outsideFiles = async () => (await readdir(outside)).sort();

    it('a link to a file is not listed, read, hashed, downloaded, copied or moved', async () => {
      expect(await keys(remote)).toEqual(['music/Own/t.mp3']);
      await expect(remote.stat('music/leak.mp3')).rejects.toBeInstanceOf(NotFoundError);
      await expect(remote.read('music/leak.mp3')).rejects.toThrow(/music\/leak\.mp3: is a symbolic link/);
      await expect(remote.md5('music/leak.mp3')).rejects.toThrow(/symbolic link/);
      const dest = path.join(dir, 'pulled.mp3');
      await expect(remote.get('music/leak.mp3', dest)).rejects.toBeInstanceOf(FileError);
      await expect(stat(dest)).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(remote.copy('music/leak.mp3', 'music/copied.mp3')).rejects.toThrow(/symbolic link/);
      await expect(remote.move('music/leak.mp3', 'music/moved.mp3')).rejects.toThrow(/symbolic link/);
      expect(await keys(remote)).toEqual(['music/Own/t.mp3']);
    });

    it('a link to a folder is not listed into, and nothing is written, read or deleted through it', async () => {
      expect(await keys(remote, 'music/Artist/')).toEqual([]);
      const err = await remote.put('music/Artist/new.mp3', { data: Buffer.from('x') }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FileError);
      expect((err as Error).message).toBe('music/Artist/new.mp3: music/Artist is a symbolic link, which a folder remote never follows');
      await expect(remote.put('music/Artist/sub/new.mp3', { data: Buffer.from('x') })).rejects.toThrow(/music\/Artist is a symbolic link/);
      await expect(remote.copy('music/Own/t.mp3', 'music/Artist/t.mp3')).rejects.toThrow(/symbolic link/);
      await expect(remote.move('music/Own/t.mp3', 'music/Artist/t.mp3')).rejects.toThrow(/symbolic link/);
      await expect(remote.delete('music/Artist/secret.mp3')).rejects.toThrow(/symbolic link/);
      await expect(remote.stat('music/Artist/secret.mp3')).rejects.toThrow(/symbolic link/);
      await expect(remote.read('music/Artist/secret.mp3')).rejects.toThrow(/symbolic link/);
      await expect(remote.get('music/Artist/secret.mp3', path.join(dir, 'x'))).rejects.toThrow(/symbolic link/);
      expect(await outsideFiles()).toEqual(['secret.mp3']);
      expect(await keys(remote)).toEqual(['music/Own/t.mp3']);
    });

    it('a link as the listed prefix itself lists nothing', async () => {
      await symlink(outside, path.join(root, 'linked'));
      expect(await keys(remote, 'linked/')).toEqual([]);
      expect(await keys(remote, 'linked/sub/')).toEqual([]);
    });
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
