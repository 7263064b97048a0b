/**
 * The catalog's objects as untrusted input: every field checked, sizes and
 * entry counts bounded before the content is trusted, a gzip bomb refused
 * without being inflated in full.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import {
  decodeLog,
  decodeSnapshot,
  encodeLog,
  encodeSnapshot,
  logKey,
  MAX_LOG_BYTES,
  MAX_LOG_ENTRIES,
  snapshotKey,
  type SnapshotDoc,
  loadCodec,
} from './catalog-codec.js';
import { gzipBomb } from '../../test/support/gzip-bomb.js';

// Decoding catalog objects needs the validators loaded (see loadCodec).
beforeAll(loadCodec);

const MD5 = createHash('md5').update('x').digest('hex');
const raw = (json: string) => gzipSync(json);
const entry = (more: Record<string, unknown> = {}) => ({ op: 'put', key: 'music/a.mp3', size: 1, md5: MD5, at: 1, ...more });
const log = (entries: unknown[]) => JSON.stringify({ v: 1, writer: 'w@m', entries });

describe('decodeLog', () => {
  it('accepts a well-formed log as it was written', () => {
    const doc = { v: 1 as const, writer: 'w@m', entries: [entry({ tags: { title: 'T', year: 1999 } }), { op: 'del', key: 'music/b.mp3', at: 2 }] };
    expect(decodeLog(encodeLog(doc as never), 'k')).toEqual(doc);
  });

  it.each([
    ['a key that is not a string', entry({ key: 5 }), /entries\[0\]\.key/],
    ['a key outside music/ and playlists/', entry({ key: '.cratesync/x' }), /entries\[0\]\.key: neither under music\/ nor a playlist key/],
    ['a playlist key that climbs out', entry({ key: 'playlists/alice/../../x.m3u8' }), /entries\[0\]\.key/],
    ['a playlist key with no user folder', entry({ key: 'playlists/x.m3u8' }), /entries\[0\]\.key/],
    ['a playlist key that is no M3U8', entry({ key: 'playlists/alice/x.xml' }), /entries\[0\]\.key/],
    ['a playlist key with a control character', entry({ key: 'playlists/alice/a\u0007b.m3u8' }), /entries\[0\]\.key/],
    ['a time of 1e400 (Infinity once parsed)', '1e400', /entries\[0\]\.at/],
    ['a negative time', entry({ at: -1 }), /entries\[0\]\.at/],
    ['an MD5 that is not 32 hex digits', entry({ md5: 'g'.repeat(32) }), /entries\[0\]\.md5: not an MD5/],
    ['a negative size', entry({ size: -1 }), /entries\[0\]\.size/],
    ['a fractional size', entry({ size: 1.5 }), /entries\[0\]\.size/],
    ['a size past the safe integers', entry({ size: 2 ** 60 }), /entries\[0\]\.size/],
    ['an unknown op', entry({ op: 'rename' }), /entries\[0\]/],
  ])('refuses %s, naming the log and the field', (_what, e, message) => {
    const json = e === '1e400' ? log([]).replace('[]', `[{"op":"put","key":"music/a.mp3","size":1,"at":1e400}]`) : log([e]);
    expect(() => decodeLog(raw(json), 'the-key')).toThrow(/^catalog log the-key: /);
    expect(() => decodeLog(raw(json), 'the-key')).toThrow(message);
  });

  it('drops tags of the wrong type or unknown, keeping the entry', () => {
    const doc = decodeLog(raw(log([entry({ tags: { title: 7, artist: 'A', extra: 'x' } })])), 'k');
    expect(doc.entries[0]).toMatchObject({ key: 'music/a.mp3', tags: { artist: 'A' } });
    expect((doc.entries[0] as { tags: object }).tags).not.toHaveProperty('title');
    expect((doc.entries[0] as { tags: object }).tags).not.toHaveProperty('extra');
  });

  it('names a newer version as such', () => {
    expect(() => decodeLog(raw(JSON.stringify({ v: 2 })), 'k')).toThrow(/unknown version 2 \(written by a newer cratesync\?\)/);
  });

  it('refuses a log of more entries than allowed before checking them', () => {
    const many = `[${Array.from({ length: 200_000 }, () => '{"op":"del","key":"music/x","at":1}').join(',')}]`;
    expect(() => decodeLog(raw(log([]).replace('[]', many)), 'k')).toThrow(`200000 entries, more than the ${MAX_LOG_ENTRIES} allowed`);
  });

  it('refuses a gzip bomb (a valid log padded past the bound) without inflating it whole', async () => {
    const bomb = await gzipBomb(log([entry()]), MAX_LOG_BYTES + 16 * 1024 * 1024);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    expect(() => decodeLog(bomb, 'k')).toThrow(`catalog log k is unreadable (inflates past ${MAX_LOG_BYTES / 1048576} MiB)`);
  });
});

describe('decodeSnapshot', () => {
  const covers = logKey(Date.UTC(2026, 0, 1), 'm');
  const doc = (more: Partial<SnapshotDoc> = {}): SnapshotDoc => ({
    v: 1,
    kind: 'snapshot',
    writer: 'w@m',
    covers,
    logs: [covers],
    entries: [{ key: 'music/a.mp3', size: 1, md5: MD5, at: 1, writer: 'w@m', log: covers }],
    ...more,
  });

  it('accepts a snapshot named for the log it covers', () => {
    const key = snapshotKey(covers, 'm');
    expect(decodeSnapshot(encodeSnapshot(doc()), key)).toEqual(doc());
  });

  it('refuses one whose name does not match what it covers, or that names a later log', () => {
    const later = logKey(Date.UTC(2026, 0, 2), 'm');
    expect(() => decodeSnapshot(encodeSnapshot(doc()), snapshotKey(later, 'm'))).toThrow(/does not match the log it says it covers/);
    expect(() => decodeSnapshot(encodeSnapshot(doc({ logs: [later] })), snapshotKey(covers, 'm'))).toThrow(/names a log after the one it covers/);
  });

  it('refuses entries that are not objects of the catalog', () => {
    const bad = doc({ entries: [{ key: 'music/a.mp3', size: 1, at: Infinity, writer: 'w', log: covers }] });
    expect(() => decodeSnapshot(encodeSnapshot(bad), snapshotKey(covers, 'm'))).toThrow(/entries\[0\]\.at/);
  });
});
