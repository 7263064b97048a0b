/**
 * What a new user meets first: a pull onto a machine where the library folder
 * does not exist yet, an unplugged drive mistaken for an empty library, a
 * state folder that cannot be written, a bad endpoint, odd names, and the
 * warnings a run prints.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeLibrary } from '../fixtures/audio.js';
import { cli } from '../support/cli.js';
import { treeHashes } from '../support/tree.js';

describe('a new machine and a missing library', () => {
  let tmp: string;
  let lib: string;
  let remote: string;
  beforeEach(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'cs-new-'));
    lib = join(tmp, 'lib');
    remote = join(tmp, 'remote');
    await mkdir(lib);
    await mkdir(remote);
    await makeLibrary(lib, { albums: 1, tracksPerAlbum: 3, seed: 4 });
    const push = await cli({ home: join(tmp, 'home-a') }, 'push', lib, remote);
    expect(push.code, push.stderr).toBe(0);
  });
  afterEach(() => rm(tmp, { recursive: true, force: true }));

  it('a first pull (and a first sync) makes the library folder, as aws s3 sync and rclone do', async () => {
    const home = { home: join(tmp, 'home-b') };
    const fresh = join(tmp, 'NewMachine', 'Music');
    const pull = await cli(home, 'pull', fresh, remote);
    expect(pull.code, pull.stderr).toBe(0);
    expect(await treeHashes(fresh)).toEqual(await treeHashes(lib));
    const other = join(tmp, 'Other', 'Music');
    const sync = await cli({ home: join(tmp, 'home-c') }, 'sync', other, remote);
    expect(sync.code, sync.stderr).toBe(0);
    expect(await treeHashes(other)).toEqual(await treeHashes(lib));
    // A push has nothing to send from a folder that is not there: still an error.
    const push = await cli(home, 'push', join(tmp, 'nowhere'), remote);
    expect(push.code).toBe(2);
    expect(push.stderr).toMatch(/library folder .*nowhere does not exist/);
  });

  it('a library synced before whose folder is missing or empty (an unplugged drive) is refused, and nothing changes', async () => {
    const home = { home: join(tmp, 'home-a') };
    const moved = join(tmp, 'unplugged');
    await rm(lib, { recursive: true });
    for (const cmd of ['pull', 'sync', 'push']) {
      const r = await cli(home, cmd, lib, remote, '--delete');
      expect(r.code, `${cmd}: ${r.stderr}`).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/library folder .*lib is missing, but it was synced before: is its drive mounted\?/);
    }
    expect(existsSync(lib)).toBe(false);
    // A mount point left empty (hidden entries aside) is the same.
    await mkdir(join(lib, '.Trash-1000'), { recursive: true });
    for (const cmd of ['pull', 'push']) {
      const r = await cli(home, cmd, lib, remote, '--delete', '--max-delete', '100%');
      expect(r.code, `${cmd}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/library folder .*lib is empty, but it was synced before/);
    }
    expect(await readdir(lib)).toEqual(['.Trash-1000']);
    expect((await readdir(join(remote, 'music'), { recursive: true })).filter((n) => n.endsWith('.mp3') || n.endsWith('.flac')).length).toBeGreaterThan(0);
    expect(existsSync(join(remote, '.cratesync-trash'))).toBe(false);
    expect(moved).toBeTruthy();
  });
});

describe('bad input is named in one line', () => {
  let tmp: string;
  beforeEach(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'cs-bad-'));
  });
  afterEach(async () => {
    await chmod(join(tmp, 'home', 'data', 'state'), 0o755).catch(() => {});
    await rm(tmp, { recursive: true, force: true });
  });

  it('a state database that cannot be written names its file', async () => {
    if (process.getuid?.() === 0) {
      // root writes through permissions: a read-only state is then made by a file in the way of the state folder.
      const home = join(tmp, 'home');
      await mkdir(join(home, 'data'), { recursive: true });
      await writeFile(join(home, 'data', 'state'), 'not a folder');
    } else {
      await mkdir(join(tmp, 'home', 'data', 'state'), { recursive: true });
      await chmod(join(tmp, 'home', 'data', 'state'), 0o555);
    }
    const lib = join(tmp, 'lib');
    await mkdir(lib);
    await writeFile(join(lib, 'a.mp3'), 'abc');
    const r = await cli({ home: join(tmp, 'home') }, 'push', lib, join(tmp, 'remote'));
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/state/);
    expect(r.stderr).toMatch(new RegExp(`${join(tmp, 'home', 'data', 'state').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });

  it('a name with a newline never breaks a line of output, and the summary rate is rounded', async () => {
    const lib = join(tmp, 'lib');
    await mkdir(lib);
    await writeFile(join(lib, 'bad\nname.mp3'), 'abc');
    // A few bytes over a fraction of a second: a rate with a long fraction, before it is rounded.
    await writeFile(join(lib, 'ok.mp3'), 'xyz');
    await mkdir(join(tmp, 'remote'));
    const r = await cli({ home: join(tmp, 'home') }, 'push', lib, join(tmp, 'remote'));
    for (const line of r.stderr.split('\n').filter(Boolean)) expect(line).toMatch(/^(warning|upload|failed|error)\b|^\s/);
    expect(r.stderr).toContain('bad\\x0aname.mp3');
    expect(r.stdout).not.toMatch(/\d\.\d{4,} ?[KMG]?B\/s/);
  });

  it('every warning is named in text output, and a flood is grouped', async () => {
    const lib = join(tmp, 'lib');
    await mkdir(lib);
    await writeFile(join(lib, 'ok.mp3'), 'abc');
    // Two spellings of one name (NFC and NFD): the walk warns of each pair, whoever runs it.
    for (let i = 0; i < 40; i++) {
      await writeFile(join(lib, `Caf\u00e9 ${i}.mp3`), 'a');
      await writeFile(join(lib, `Cafe\u0301 ${i}.mp3`), 'b');
    }
    await mkdir(join(tmp, 'remote'));
    const r = await cli({ home: join(tmp, 'home') }, 'push', lib, join(tmp, 'remote'));
    expect(r.code, r.stderr).toBe(1);
    const warnings = r.stderr.split('\n').filter((l) => l.startsWith('warning:'));
    expect(warnings.filter((l) => /^warning: Café \d+\.mp3: two files have this name/.test(l))).toHaveLength(20);
    expect(warnings).toContainEqual(expect.stringMatching(/^warning: 20 more like: Café \d+\.mp3: two files have this name/));
    expect(r.stdout).toMatch(/40 warnings/);
  });
});
