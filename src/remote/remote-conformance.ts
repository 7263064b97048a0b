/**
 * The conformance suite every Remote implementation must pass. A test file
 * calls describeRemoteConformance with a factory giving a fresh, empty remote
 * per test (and a cleanup for it). The suite exercises the contract of
 * remote.ts as the sync engine relies on it: byte-exact verified transfers,
 * NotFoundError, listing (prefixes, awkward names, paging past 1,000 keys),
 * checksum failures that leave nothing behind, progress accounting, large
 * (multipart-size) bodies and name rules.
 *
 * For remotes with a multipart threshold, the factory should lower it (e.g. 5
 * MiB parts, 8 MiB threshold) so the 12 MiB test body goes in parts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChecksumError, NotFoundError, RangeNotSatisfiableError } from '../errors.js';
import type { Readable } from 'node:stream';
import type { Remote, TransferOptions } from './remote.js';
import type { RemoteObject } from '../core/remote-object.js';

export interface ConformanceTarget {
  remote: Remote;
  cleanup(): Promise<void>;
}

const MiB = 1024 * 1024;
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

/** Keys a music library really has: spaces, URL-special characters, accents in both Unicode forms. */
export const AWKWARD_KEYS = [
  'Artist Name/Album (Deluxe) [2020]/01 - Intro.mp3',
  'hash#/Track #1.mp3',
  'plus+/a+b c.flac',
  'percent%/100% Pure%20Love.mp3',
  'amp&eq=/x&y=z;.mp3',
  'quote\'s/"quoted".ogg',
  'nfc/Caf\u00e9 del Mar.mp3',
  'nfc/Cafe\u0301 del Mar.mp3', // NFD spelling of the key above: a distinct key
  'unicode/日本語/曲 ♫.flac',
  'emoji/🎵 song.m4a',
];

/** Registers the suite. `skips` maps a test title to the reason it does not apply. */
export function describeRemoteConformance(
  name: string,
  factory: () => Promise<ConformanceTarget>,
  skips: Record<string, string> = {},
): void {
  describe(`${name} conformance`, () => {
    let target: ConformanceTarget;
    let work: string;
    let remote: Remote;

    beforeEach(async () => {
      target = await factory();
      remote = target.remote;
      work = await mkdtemp(path.join(tmpdir(), 'cratesync-conformance-'));
    });
    afterEach(async () => {
      await remote.close();
      await target.cleanup();
      await rm(work, { recursive: true, force: true });
    });

    const test = (title: string, fn: () => Promise<void>, timeout?: number) => {
      const reason = skips[title];
      if (reason) it.skip(`${title} (${reason})`, fn);
      else it(title, fn, timeout);
    };

    let n = 0;
    /** Downloads `key` to a fresh local file and returns its bytes and the transfer result. */
    const fetch = async (key: string, options?: TransferOptions) => {
      const dest = path.join(work, `get-${++n}`);
      const result = await remote.get(key, dest, options);
      return { bytes: await readFile(dest), result, dest };
    };
    const list = async (prefix: string): Promise<RemoteObject[]> => {
      const out: RemoteObject[] = [];
      for await (const o of remote.list(prefix)) out.push(o);
      return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    };

    test('put bytes, then stat and get them back', async () => {
      const data = randomBytes(70_001);
      const put = await remote.put('a/b.mp3', { data });
      expect(put).toMatchObject({ size: data.length, md5: md5(data) });
      expect(await remote.stat('a/b.mp3')).toMatchObject({ key: 'a/b.mp3', size: data.length });
      const { bytes, result } = await fetch('a/b.mp3');
      expect(bytes.equals(data)).toBe(true);
      expect(result).toMatchObject({ size: data.length, md5: md5(data) });
    });

    test('put a file and get it back byte-exact, with and without expectMd5', async () => {
      const data = randomBytes(300_000);
      const file = path.join(work, 'src.flac');
      await writeFile(file, data);
      expect(await remote.put('x/one.flac', { path: file })).toMatchObject({ size: data.length, md5: md5(data) });
      expect(await remote.put('x/two.flac', { path: file }, { expectMd5: md5(data) })).toMatchObject({ md5: md5(data) });
      for (const key of ['x/one.flac', 'x/two.flac']) {
        const { bytes, result } = await fetch(key, { expectMd5: md5(data) });
        expect(bytes.equals(data)).toBe(true);
        expect(result.md5).toBe(md5(data));
      }
    });

    test('stat and get of a missing key throw NotFoundError', async () => {
      await expect(remote.stat('nope/missing.mp3')).rejects.toBeInstanceOf(NotFoundError);
      await expect(remote.get('nope/missing.mp3', path.join(work, 'missing'))).rejects.toBeInstanceOf(NotFoundError);
    });

    test('delete removes an object; deleting a missing key is fine', async () => {
      await remote.put('d/x.mp3', { data: Buffer.from('x') });
      await remote.delete('d/x.mp3');
      await expect(remote.stat('d/x.mp3')).rejects.toBeInstanceOf(NotFoundError);
      await remote.delete('d/x.mp3');
      await remote.delete('never/was/here.mp3');
      expect(await list('')).toEqual([]);
    });

    test('put overwrites an existing object', async () => {
      await remote.put('o.mp3', { data: Buffer.from('first version') });
      const second = Buffer.from('second, longer version');
      await remote.put('o.mp3', { data: second });
      expect((await fetch('o.mp3')).bytes.equals(second)).toBe(true);
      expect((await remote.stat('o.mp3')).size).toBe(second.length);
    });

    test('list is recursive and honours the prefix', async () => {
      const keys = ['top.mp3', 'dj/a.mp3', 'dj/sub/b.mp3', 'dj/sub/deeper/c.mp3', 'djx/d.mp3', 'other/e.mp3'];
      for (const key of keys) await remote.put(key, { data: Buffer.from(key) });
      expect((await list('')).map((o) => o.key)).toEqual([...keys].sort());
      expect((await list('dj/')).map((o) => o.key)).toEqual(['dj/a.mp3', 'dj/sub/b.mp3', 'dj/sub/deeper/c.mp3']);
      expect((await list('dj/sub/')).map((o) => o.key)).toEqual(['dj/sub/b.mp3', 'dj/sub/deeper/c.mp3']);
      expect(await list('nothing/')).toEqual([]);
      const b = (await list('dj/sub/'))[0];
      expect(b).toMatchObject({ key: 'dj/sub/b.mp3', size: 'dj/sub/b.mp3'.length });
      expect(b?.mtime).toBeInstanceOf(Date);
    });

    test('list with startAfter gives only the keys sorting after it', async () => {
      const keys = ['log/20260101T000000000Z-a.json.gz', 'log/20260101T000000001Z-b.json.gz', 'log/20260102T000000000Z-a.json.gz'];
      for (const key of keys) await remote.put(key, { data: Buffer.from(key) });
      const after = async (startAfter: string) => {
        const out: string[] = [];
        for await (const o of remote.list('log/', { startAfter })) out.push(o.key);
        return out.sort();
      };
      expect(await after('log/20260101T000000000Z')).toEqual(keys);
      expect(await after(keys[0] ?? '')).toEqual(keys.slice(1));
      expect(await after('log/20260101T9')).toEqual(keys.slice(2));
      expect(await after('log/3')).toEqual([]);
    });

    test('read gives a whole small object; a missing one is NotFoundError', async () => {
      const data = Buffer.from('{"v":1}\n');
      await remote.put('meta/x.json', { data });
      expect((await remote.read('meta/x.json')).equals(data)).toBe(true);
      await expect(remote.read('meta/missing.json')).rejects.toBeInstanceOf(NotFoundError);
    });

    test('awkward keys round-trip through put, list, stat and get', async () => {
      for (const key of AWKWARD_KEYS) await remote.put(key, { data: Buffer.from(`content of ${key}`) });
      expect((await list('')).map((o) => o.key)).toEqual([...AWKWARD_KEYS].sort());
      for (const key of AWKWARD_KEYS) {
        const want = Buffer.from(`content of ${key}`);
        expect((await remote.stat(key)).size).toBe(want.length);
        expect((await fetch(key)).bytes.equals(want)).toBe(true);
      }
      expect((await list('nfc/')).map((o) => o.key)).toEqual(['nfc/Caf\u00e9 del Mar.mp3', 'nfc/Cafe\u0301 del Mar.mp3'].sort());
    });

    test('empty and one-byte objects', async () => {
      await remote.put('tiny/empty.txt', { data: new Uint8Array(0) });
      await remote.put('tiny/one.txt', { data: Buffer.from('1') });
      expect((await list('tiny/')).map((o) => [o.key, o.size])).toEqual([
        ['tiny/empty.txt', 0],
        ['tiny/one.txt', 1],
      ]);
      const empty = await fetch('tiny/empty.txt');
      expect(empty.bytes.length).toBe(0);
      expect(empty.result.md5).toBe(md5(new Uint8Array(0)));
      expect((await fetch('tiny/one.txt')).bytes.toString()).toBe('1');
    });

    test('list goes past 1,000 keys', async () => {
      const keys = Array.from({ length: 1205 }, (_, i) => `many/${String(i % 7)}/k${String(i).padStart(4, '0')}.mp3`);
      await inParallel(keys, 16, (key) => remote.put(key, { data: Buffer.from(key) }));
      await remote.put('manyx/outside.mp3', { data: Buffer.from('x') });
      const listed = await list('many/');
      expect(listed.length).toBe(1205);
      expect(listed.map((o) => o.key)).toEqual([...keys].sort());
    }, 120_000);

    test('put with a wrong expectMd5 throws ChecksumError and leaves no object', async () => {
      const data = randomBytes(10_000);
      const file = path.join(work, 'bad.mp3');
      await writeFile(file, data);
      const wrong = md5(Buffer.from('something else'));
      await expect(remote.put('bad/file.mp3', { path: file }, { expectMd5: wrong })).rejects.toBeInstanceOf(ChecksumError);
      await expect(remote.put('bad/data.mp3', { data }, { expectMd5: wrong })).rejects.toBeInstanceOf(ChecksumError);
      await expect(remote.stat('bad/file.mp3')).rejects.toBeInstanceOf(NotFoundError);
      await expect(remote.stat('bad/data.mp3')).rejects.toBeInstanceOf(NotFoundError);
      expect(await list('')).toEqual([]);
    });

    test('a file that grows while it is uploaded leaves no object, and never a cut-off one', async () => {
      // 3 MiB is a whole number of read chunks: the stored bytes would end exactly
      // where the hashed ones did. 12 MiB goes multipart where the remote has parts.
      for (const size of [3 * MiB, 12 * MiB]) {
        const data = randomBytes(size);
        const file = path.join(work, `growing-${size}.wav`);
        await writeFile(file, data);
        const old = Buffer.from('the version before');
        await remote.put(`grow/replaced-${size}.wav`, { data: old });
        for (const key of [`grow/new-${size}.wav`, `grow/replaced-${size}.wav`]) {
          await writeFile(file, data);
          let grown = false;
          // Still being written: more bytes arrive while the first ones are sent.
          const onProgress = () => {
            if (!grown) appendFileSync(file, randomBytes(MiB));
            grown = true;
          };
          await expect(remote.put(key, { path: file }, { expectMd5: md5(data), onProgress })).rejects.toThrow();
          expect(grown).toBe(true);
          // Nothing, or what stood there before; never the first bytes of the growing file.
          const left = await fetch(key).catch((err: unknown) => {
            expect(err).toBeInstanceOf(NotFoundError);
            return undefined;
          });
          if (key.includes('new')) expect(left).toBeUndefined();
          else if (left) expect(left.bytes.equals(old)).toBe(true);
        }
      }
      expect((await list('grow/new')).map((o) => o.key)).toEqual([]);
    }, 120_000);

    test('get with a wrong expectMd5 throws ChecksumError', async () => {
      await remote.put('g.mp3', { data: Buffer.from('the real bytes') });
      await expect(fetch('g.mp3', { expectMd5: md5(Buffer.from('other bytes')) })).rejects.toBeInstanceOf(ChecksumError);
    });

    test('copy and move', async () => {
      if (!remote.copy || !remote.move) return;
      const data = randomBytes(5000);
      await remote.put('cm/a.mp3', { data });
      expect(await remote.copy('cm/a.mp3', 'cm/b c.mp3')).toMatchObject({ key: 'cm/b c.mp3', size: data.length });
      expect((await fetch('cm/a.mp3')).bytes.equals(data)).toBe(true);
      expect((await fetch('cm/b c.mp3')).bytes.equals(data)).toBe(true);
      expect(await remote.move('cm/b c.mp3', 'moved/deep/ü+#.mp3')).toMatchObject({ key: 'moved/deep/ü+#.mp3', size: data.length });
      await expect(remote.stat('cm/b c.mp3')).rejects.toBeInstanceOf(NotFoundError);
      expect((await fetch('moved/deep/ü+#.mp3')).bytes.equals(data)).toBe(true);
      expect((await list('')).map((o) => o.key)).toEqual(['cm/a.mp3', 'moved/deep/ü+#.mp3']);
      await expect(remote.copy('cm/missing.mp3', 'cm/z.mp3')).rejects.toBeInstanceOf(NotFoundError);
      await expect(remote.move('cm/missing.mp3', 'cm/z.mp3')).rejects.toBeInstanceOf(NotFoundError);
    });

    test('onProgress deltas add up to the size', async () => {
      const data = randomBytes(3 * MiB + 17);
      const file = path.join(work, 'progress.mp3');
      await writeFile(file, data);
      let up = 0;
      await remote.put('p/file.mp3', { path: file }, { onProgress: (b) => (up += b) });
      expect(up).toBe(data.length);
      let upData = 0;
      await remote.put('p/data.mp3', { data }, { onProgress: (b) => (upData += b) });
      expect(upData).toBe(data.length);
      let down = 0;
      await fetch('p/file.mp3', { onProgress: (b) => (down += b) });
      expect(down).toBe(data.length);
    });

    test('a multipart-size upload round-trips', async () => {
      const data = randomBytes(12 * MiB + 123);
      const file = path.join(work, 'big.wav');
      await writeFile(file, data);
      let progress = 0;
      const put = await remote.put('big/take.wav', { path: file }, { onProgress: (b) => (progress += b) });
      expect(put).toMatchObject({ size: data.length, md5: md5(data) });
      expect(progress).toBe(data.length);
      expect((await remote.stat('big/take.wav')).size).toBe(data.length);
      const { bytes, result } = await fetch('big/take.wav');
      expect(result.md5).toBe(md5(data));
      expect(bytes.equals(data)).toBe(true);
      await remote.put('big/data.wav', { data }, { expectMd5: md5(data) });
      expect((await fetch('big/data.wav', { expectMd5: md5(data) })).bytes.equals(data)).toBe(true);
    }, 120_000);

    test('openRead streams the whole object and byte ranges of it', async () => {
      if (!remote.openRead) return;
      const data = randomBytes(200_003);
      await remote.put('r/song.flac', { data });
      const whole = await remote.openRead('r/song.flac');
      expect({ size: whole.size, start: whole.start, end: whole.end }).toEqual({ size: data.length, start: 0, end: data.length - 1 });
      expect((await drain(whole.body)).equals(data)).toBe(true);
      const middle = await remote.openRead('r/song.flac', { start: 1000, end: 65_535 + 1000 });
      expect({ size: middle.size, start: middle.start, end: middle.end }).toEqual({ size: data.length, start: 1000, end: 66_535 });
      expect((await drain(middle.body)).equals(data.subarray(1000, 66_536))).toBe(true);
      const open = await remote.openRead('r/song.flac', { start: 150_000 });
      expect({ start: open.start, end: open.end }).toEqual({ start: 150_000, end: data.length - 1 });
      expect((await drain(open.body)).equals(data.subarray(150_000))).toBe(true);
      // An end past the last byte is the last byte; one byte is a range too.
      const clamped = await remote.openRead('r/song.flac', { start: data.length - 1, end: data.length + 50 });
      expect({ start: clamped.start, end: clamped.end }).toEqual({ start: data.length - 1, end: data.length - 1 });
      expect((await drain(clamped.body)).equals(data.subarray(data.length - 1))).toBe(true);
    });

    test('openRead of a missing key is NotFoundError; a start past the end is RangeNotSatisfiableError with the size', async () => {
      if (!remote.openRead) return;
      await expect(remote.openRead('r/missing.mp3')).rejects.toBeInstanceOf(NotFoundError);
      await expect(remote.openRead('r/missing.mp3', { start: 10 })).rejects.toBeInstanceOf(NotFoundError);
      await remote.put('r/short.mp3', { data: Buffer.from('0123456789') });
      const past = await remote.openRead('r/short.mp3', { start: 10 }).catch((err: unknown) => err);
      expect(past).toBeInstanceOf(RangeNotSatisfiableError);
      expect((past as RangeNotSatisfiableError).size).toBe(10);
      await remote.put('r/empty.mp3', { data: new Uint8Array(0) });
      const empty = await remote.openRead('r/empty.mp3');
      expect({ size: empty.size, start: empty.start, end: empty.end }).toEqual({ size: 0, start: 0, end: -1 });
      expect((await drain(empty.body)).length).toBe(0);
    });

    test('names.check rejects an over-long name and accepts ordinary ones', async () => {
      expect(remote.names.check(`Artist/${'x'.repeat(1100)}.mp3`)).toEqual(expect.any(String));
      expect(remote.names.check('Artist/Album/01 Track.mp3')).toBeUndefined();
      for (const key of AWKWARD_KEYS) expect(remote.names.check(key)).toBeUndefined();
    });
  });
}

/** drain reads a stream to its end. */
async function drain(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Runs `fn` over `items` with at most `limit` calls in flight. */
async function inParallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
