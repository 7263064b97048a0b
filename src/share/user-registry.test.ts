/**
 * The users registry against both real remotes: a folder and s3rver. Forged
 * objects in the bucket are skipped with a problem naming their key; bad
 * names never become keys.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Remote } from '../remote/remote.js';
import type { Problem } from '../core/problem.js';
import { FolderRemote } from '../remote/folder/folder-remote.js';
import { S3Remote } from '../remote/s3/s3-remote.js';
import { startS3rver, type S3rver } from '../../test/support/s3rver.js';
import { UsageError } from '../errors.js';
import {
  checkUserName,
  MAX_MACHINES,
  MAX_USER_OBJECT_BYTES,
  readRegistry,
  readUser,
  registerMachine,
  registryRoot,
  rootProblem,
  userKey,
} from './user-registry.js';

process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
delete process.env.AWS_SESSION_TOKEN;
delete process.env.AWS_PROFILE;

let server: S3rver | undefined;
let buckets = 0;
afterAll(() => server?.stop());

const T0 = new Date('2026-11-01T10:00:00.000Z');
const T1 = new Date('2026-11-02T12:30:00.000Z');
const me = { id: 'laptop-a1b2c3', os: 'linux', root: '/home/alice/Music', version: '0.1.0' };
const put = (remote: Remote, key: string, text: string) => remote.put(key, { data: Buffer.from(text) });

const remotes: Array<[string, () => Promise<Remote>]> = [
  ['folder', async () => new FolderRemote(await mkdtemp(join(tmpdir(), 'cs-registry-')), { createRoot: false })],
  [
    's3rver',
    async () => {
      server ??= await startS3rver();
      const bucket = `registry-${++buckets}`;
      await server.createBucket(bucket);
      return new S3Remote({ bucket, prefix: 'dj/', endpoint: server.endpoint });
    },
  ],
];

describe.each(remotes)('users registry on the %s remote', (_kind, open) => {
  it('registering twice moves lastSeen and keeps firstSeen; a second machine is added beside', async () => {
    const remote = await open();
    try {
      const first = await registerMachine(remote, 'alice', me, T0);
      expect(first.machines).toEqual([{ ...me, firstSeen: T0.toISOString(), lastSeen: T0.toISOString() }]);
      const again = await registerMachine(remote, 'alice', { ...me, root: '/home/alice/Music2' }, T1);
      expect(again.machines).toEqual([{ ...me, root: '/home/alice/Music2', firstSeen: T0.toISOString(), lastSeen: T1.toISOString() }]);

      const win = { id: 'desktop-ffee00', os: 'windows', root: 'C:/Users/alice/Music' };
      await registerMachine(remote, 'alice', win, T0);
      await registerMachine(remote, 'bob', { id: 'mac-000001', os: 'macos', root: '/Users/bob/Music' }, T1);

      const problems: Problem[] = [];
      const users = await readRegistry(remote, problems);
      expect(problems).toEqual([]);
      expect(users.map((u) => u.name)).toEqual(['alice', 'bob']);
      // Most recently seen first.
      expect(users[0]!.machines.map((m) => [m.id, m.os, m.root])).toEqual([
        [me.id, 'linux', '/home/alice/Music2'],
        [win.id, 'windows', 'C:/Users/alice/Music'],
      ]);
      expect(await readUser(remote, 'bob', problems)).toEqual(users[1]);
      expect(await readUser(remote, 'carol', problems)).toBeUndefined();
      expect(problems).toEqual([]);
    } finally {
      await remote.close();
    }
  });

  it('keeps at most 32 machines, dropping the least recently seen, never the one registering', async () => {
    const remote = await open();
    try {
      for (let i = 0; i < MAX_MACHINES + 3; i++) {
        await registerMachine(remote, 'dj', { id: `m-${i}`, os: 'linux', root: `/music/${i}` }, new Date(T0.getTime() + i * 60_000));
      }
      // A machine whose last visit is the oldest of all registers again: it stays, the oldest other goes.
      const u = await registerMachine(remote, 'dj', { id: 'late', os: 'linux', root: '/late' }, new Date(T0.getTime() - 60_000));
      expect(u.machines).toHaveLength(MAX_MACHINES);
      expect(u.machines.map((m) => m.id)).toContain('late');
      expect(u.machines.map((m) => m.id)).not.toContain('m-3');
      expect(u.machines.map((m) => m.id)).toContain('m-4');
      expect((await readUser(remote, 'dj', []))?.machines).toHaveLength(MAX_MACHINES);
    } finally {
      await remote.close();
    }
  });

  it('skips forged objects with a problem naming each key, and reads the good ones', async () => {
    const remote = await open();
    try {
      await registerMachine(remote, 'alice', me, T0);
      const good = (name: string, machine: Record<string, unknown> = {}) =>
        JSON.stringify({ v: 1, name, machines: [{ id: 'x-1', os: 'linux', root: '/m', firstSeen: T0.toISOString(), lastSeen: T0.toISOString(), ...machine }] });
      const forged: Record<string, string> = {
        '.cratesync/users/notjson.json': '{ v: 1, name',
        '.cratesync/users/wrongname.json': good('alice'),
        '.cratesync/users/huge.json': JSON.stringify({ v: 1, name: 'huge', machines: [], pad: 'x'.repeat(MAX_USER_OBJECT_BYTES) }),
        '.cratesync/users/relroot.json': good('relroot', { root: 'Music/x' }),
        '.cratesync/users/dotroot.json': good('dotroot', { root: '/home/../etc' }),
        '.cratesync/users/nulroot.json': good('nulroot', { root: '/home/\u0000x' }),
        '.cratesync/users/longroot.json': good('longroot', { root: `/${'a'.repeat(4096)}` }),
        '.cratesync/users/baddate.json': good('baddate', { lastSeen: 'yesterday' }),
        '.cratesync/users/v2.json': JSON.stringify({ v: 2, name: 'v2', machines: [] }),
        '.cratesync/users/many.json': JSON.stringify({ v: 1, name: 'many', machines: Array.from({ length: MAX_MACHINES + 1 }, (_, i) => ({ id: `m${i}`, os: 'linux', root: '/m', firstSeen: T0.toISOString(), lastSeen: T0.toISOString() })) }),
        '.cratesync/users/a b.json': good('a b'),
        '.cratesync/users/sub/deep.json': good('deep'),
        '.cratesync/users/readme.txt': 'hello',
      };
      for (const [k, text] of Object.entries(forged)) await put(remote, k, text);

      const problems: Problem[] = [];
      const users = await readRegistry(remote, problems);
      expect(users.map((u) => u.name)).toEqual(['alice']);
      expect(problems.map((p) => p.path).sort()).toEqual(Object.keys(forged).sort());
      const why = Object.fromEntries(problems.map((p) => [p.path, p.message]));
      expect(why['.cratesync/users/huge.json']).toMatch(/over the limit/);
      expect(why['.cratesync/users/wrongname.json']).toMatch(/not the one its key names/);
      expect(why['.cratesync/users/notjson.json']).toMatch(/not valid JSON/);
      expect(why['.cratesync/users/relroot.json']).toMatch(/machines\.0\.root: must be absolute/);
      expect(why['.cratesync/users/nulroot.json']).toMatch(/control characters/);

      // readUser of a forged object: nothing, and a problem naming it.
      const one: Problem[] = [];
      expect(await readUser(remote, 'huge', one)).toBeUndefined();
      expect(await readUser(remote, 'relroot', one)).toBeUndefined();
      expect(one.map((p) => p.path)).toEqual(['.cratesync/users/huge.json', '.cratesync/users/relroot.json']);

      // The owner's next registration replaces a broken object of its own.
      const fixed = await registerMachine(remote, 'relroot', me, T1);
      expect(fixed.machines.map((m) => m.id)).toEqual([me.id]);
      expect(await readUser(remote, 'relroot', [])).toEqual(fixed);
    } finally {
      await remote.close();
    }
  });

  it('refuses bad user names before they become keys, and writes nothing', async () => {
    const remote = await open();
    try {
      for (const bad of ['../x', 'a/b', '', 'x'.repeat(70), '.', '..', 'a\\b', 'a b', 'a\u0000']) {
        await expect(registerMachine(remote, bad, me, T0), JSON.stringify(bad)).rejects.toBeInstanceOf(UsageError);
        await expect(readUser(remote, bad, []), JSON.stringify(bad)).rejects.toBeInstanceOf(UsageError);
        expect(() => userKey(bad)).toThrow(UsageError);
      }
      const keys: string[] = [];
      for await (const o of remote.list('')) keys.push(o.key);
      expect(keys).toEqual([]);
    } finally {
      await remote.close();
    }
  });

  it('refuses to register a root that is not absolute', async () => {
    const remote = await open();
    try {
      await expect(registerMachine(remote, 'alice', { ...me, root: 'Music' }, T0)).rejects.toThrow(/root: must be absolute/);
      await expect(registerMachine(remote, 'alice', { ...me, root: '/a/../b' }, T0)).rejects.toThrow(UsageError);
    } finally {
      await remote.close();
    }
  });
});

describe('names and roots', () => {
  it('checkUserName keeps good names (in NFC) and names the source of a bad one', () => {
    expect(checkUserName('alice')).toBe('alice');
    expect(checkUserName('dj.k-9_x')).toBe('dj.k-9_x');
    expect(checkUserName('Jo\u0308rg')).toBe('J\u00f6rg');
    expect(userKey('alice')).toBe('.cratesync/users/alice.json');
    expect(() => checkUserName('a/b', '--user')).toThrow('--user "a/b": must be 1–64 letters, digits, dots, dashes or underscores');
  });

  it('registryRoot spells Windows roots with / and an upper-case drive', () => {
    expect(registryRoot('c:\\Users\\x\\Music', 'win32')).toBe('C:/Users/x/Music');
    expect(registryRoot('D:\\', 'win32')).toBe('D:/');
    expect(registryRoot('/home/x/Music/', 'linux')).toBe('/home/x/Music');
    expect(registryRoot('/', 'linux')).toBe('/');
    for (const r of ['C:/Users/x/Music', 'D:/', '/', '/Volumes/USB/DJ Music', '//nas/share/music']) expect(rootProblem(r), r).toBeUndefined();
    for (const r of ['', 'Music', 'C:Music', 'C:\\Music', '/a/./b', '/a\nb']) expect(rootProblem(r), JSON.stringify(r)).toBeDefined();
  });
});
