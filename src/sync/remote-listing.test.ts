import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Remote } from '../remote/remote.js';
import type { RemoteObject } from '../core/remote-object.js';
import type { Problem } from '../core/problem.js';
import { foldMusic, resolveRemote, type ListedObject } from './remote-listing.js';
import { multipartEtag } from '../core/etag.js';
import { NotFoundError } from '../errors.js';

const MiB = 1024 * 1024;

/** A remote that only lists what it is given (and may hash, like a folder). */
function fakeRemote(objects: RemoteObject[], md5?: (key: string) => Promise<string>): Remote {
  return {
    url: 'fake://',
    kind: 'folder',
    names: { check: () => undefined },
    async *list() {
      yield* objects;
    },
    stat: async () => { throw new Error('unused'); },
    put: async () => { throw new Error('unused'); },
    read: async () => { throw new Error('unused'); },
    get: async () => { throw new Error('unused'); },
    delete: async () => {},
    close: async () => {},
    ...(md5 ? { md5 } : {}),
  };
}

/** The ETag aws-cli gets for `data` uploaded in `partSize` parts. */
function awsEtag(data: Buffer, partSize: number): string {
  const parts: Buffer[] = [];
  for (let o = 0; o < data.length; o += partSize) parts.push(createHash('md5').update(data.subarray(o, o + partSize)).digest());
  return multipartEtag(parts);
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

describe('resolveRemote', () => {
  let dir: string;
  let big: Buffer;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cs-res-'));
    big = randomBytes(20 * MiB + 123);
    await writeFile(join(dir, 'big.flac'), big);
    await writeFile(join(dir, 'small.mp3'), Buffer.from('small'));
  });

  async function resolve(objects: ListedObject[], extra: Partial<Parameters<typeof resolveRemote>[0]> = {}) {
    const problems: Problem[] = [];
    const local = new Map([
      ['big.flac', { abs: join(dir, 'big.flac'), size: big.length, md5: md5(big) }],
      ['small.mp3', { abs: join(dir, 'small.mp3'), size: 5, md5: md5(Buffer.from('small')) }],
    ]);
    const remote = extra.remote ?? fakeRemote(objects);
    const out = await resolveRemote({ remote, objects: new Map(objects.map((o) => [o.path, o])), synced: new Map(), local, problems, ...extra });
    return { out, problems };
  }

  it('takes a plain ETag as the MD5', async () => {
    const { out } = await resolve([{ key: 'music/small.mp3', path: 'small.mp3', size: 5, etag: md5(Buffer.from('other')) }]);
    expect(out.get('small.mp3')?.md5).toBe(md5(Buffer.from('other')));
  });

  it('recognises an object aws-cli uploaded in 8 MiB parts by recomputing its multipart ETag', async () => {
    const { out } = await resolve([{ key: 'music/big.flac', path: 'big.flac', size: big.length, etag: awsEtag(big, 8 * MiB) }]);
    expect(out.get('big.flac')?.md5).toBe(md5(big));
  });

  it('recognises rclone-style 5 MiB parts too, and tells different content apart', async () => {
    const same = await resolve([{ key: 'music/big.flac', path: 'big.flac', size: big.length, etag: awsEtag(big, 5 * MiB) }]);
    expect(same.out.get('big.flac')?.md5).toBe(md5(big));
    const other = Buffer.from(big);
    other[7 * MiB] = other[7 * MiB]! ^ 1;
    const diff = await resolve([{ key: 'music/big.flac', path: 'big.flac', size: big.length, etag: awsEtag(other, 8 * MiB) }]);
    expect(diff.out.get('big.flac')?.md5).toBeUndefined();
  });

  it('trusts a sync record whose fingerprint matches, without reading', async () => {
    const etag = `${'c'.repeat(32)}-3`;
    const { out } = await resolve([{ key: 'music/big.flac', path: 'big.flac', size: big.length, etag }], {
      synced: new Map([['big.flac', { path: 'big.flac', key: 'music/big.flac', size: big.length, md5: 'd'.repeat(32), etag }]]),
    });
    expect(out.get('big.flac')?.md5).toBe('d'.repeat(32));
  });

  it('asks a remote without ETags to hash its copy when sizes agree', async () => {
    const asked: string[] = [];
    const remote = fakeRemote([], async (key) => {
      asked.push(key);
      return 'e'.repeat(32);
    });
    const { out } = await resolve(
      [
        { key: 'music/small.mp3', path: 'small.mp3', size: 5, mtime: new Date(1) },
        { key: 'music/big.flac', path: 'big.flac', size: 1, mtime: new Date(1) },
      ],
      { remote },
    );
    expect(asked).toEqual(['music/small.mp3']);
    expect(out.get('small.mp3')?.md5).toBe('e'.repeat(32));
    expect(out.get('big.flac')?.md5).toBeUndefined();
  });
});

describe('foldMusic', () => {
  it('folds NFC and NFD spellings into one path, preferring the NFC key, and reports the other', async () => {
    const nfc = 'music/Sigur Rós/x.mp3';
    const nfd = 'music/Sigur Ro\u0301s/x.mp3';
    const problems: Problem[] = [];
    const out = foldMusic([{ key: nfd, size: 1 }, { key: nfc, size: 2 }], problems);
    expect([...out.keys()]).toEqual(['Sigur Rós/x.mp3']);
    expect(out.get('Sigur Rós/x.mp3')?.key).toBe(nfc);
    expect(problems).toHaveLength(1);
  });

  it('skips keys no library walk would produce (a planted trash folder, hidden names), reporting them once', () => {
    const problems: Problem[] = [];
    const out = foldMusic(
      [
        { key: 'music/.cratesync-trash/2026-01-01T00-00-00.000Z/A/t.mp3', size: 1 },
        { key: 'music/.cratesync-trash/2026-01-01T00-00-00.000Z/A/u.mp3', size: 1 },
        { key: 'music/A/.hidden/t.mp3', size: 1 },
        { key: 'music/A/t.mp3', size: 1 },
      ],
      problems,
    );
    expect([...out.keys()]).toEqual(['A/t.mp3']);
    expect(problems.map((p) => p.path)).toEqual(['.cratesync-trash/', 'A/.hidden/']);
  });
});

describe('resolveRemote and objects gone from the remote', () => {
  it('drops from the mirror an object the remote no longer has, and leaves it out of the plan', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cs-gone-'));
    await writeFile(join(dir, 'a.mp3'), Buffer.from('abc'));
    const gone: ListedObject = { key: 'music/a.mp3', path: 'a.mp3', size: 3 };
    const remote = fakeRemote([gone], async (key) => {
      throw new NotFoundError(key);
    });
    const dropped: string[] = [];
    const problems: Problem[] = [];
    const out = await resolveRemote({
      remote,
      objects: new Map([['a.mp3', gone]]),
      synced: new Map(),
      local: new Map([['a.mp3', { abs: join(dir, 'a.mp3'), size: 3 }]]),
      problems,
      mirror: { dropMissing: (key) => void dropped.push(key) },
    });
    expect(dropped).toEqual(['music/a.mp3']);
    expect(out.has('a.mp3')).toBe(false);
    expect(problems[0]?.message).toMatch(/gone from the remote/);
  });
});
