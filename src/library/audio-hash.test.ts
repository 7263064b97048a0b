import { createHash } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFlac, retagFlac } from '../../test/fixtures/flac.js';
import { apeTag, id3v1, id3v2, id3v2Size, lyrics3v2 } from '../../test/fixtures/id3.js';
import { makeMp3, retagMp3 } from '../../test/fixtures/mp3.js';
import { Prng } from '../../test/fixtures/random.js';
import type { AudioTags } from '../../test/fixtures/tags.js';
import { audioRegion, hashFile } from './audio-hash.js';

const TAGS: AudioTags = { title: 'Svefn-g-englar', artist: 'Sigur Rós', album: 'Ágætis byrjun', year: 1999, track: 2, genre: 'Ambient' };
const MiB = 1024 * 1024;

let dir: string;
let n = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cratesync-audio-hash-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function put(buf: Buffer): Promise<string> {
  const path = join(dir, `f${n++}`); // no extension: formats are told by content
  await writeFile(path, buf);
  return path;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

/** expectSameAudio hashes every variant: one audioHash for all, a different md5 each. */
async function expectSameAudio(variants: Buffer[]): Promise<string> {
  const hashes = await Promise.all(variants.map(async (v) => hashFile(await put(v))));
  expect(new Set(hashes.map((h) => h.md5)).size).toBe(variants.length);
  expect(hashes[0]!.audioHash).toMatch(/^[0-9a-f]{64}$/);
  for (const h of hashes) expect(h.audioHash).toBe(hashes[0]!.audioHash);
  return hashes[0]!.audioHash!;
}

/** id3v24Appended builds an ID3v2.4 tag with a footer ('3DI'), as appended at the end of a file. */
function id3v24Appended(): Buffer {
  const tag = id3v2({ title: 'appended' });
  tag[3] = 4;
  tag[5] = 0x10; // footer present
  const footer = Buffer.from(tag.subarray(0, 10));
  footer.write('3DI', 0, 'latin1');
  return Buffer.concat([tag, footer]);
}

describe('audioHash of MP3', () => {
  it('ignores every kind of tag around the frames', async () => {
    const base = makeMp3({ ...TAGS, seed: 'mp3' });
    const frames = base.subarray(id3v2Size(base));
    const hash = await expectSameAudio([
      base,
      retagMp3(base, { ...TAGS, title: 'Starálfur' }, { sameSize: true }),
      retagMp3(base, { title: 'Other' }, { cover: true, id3v1: true, apeTag: true }),
      makeMp3({ ...TAGS, seed: 'mp3', id3v1: true, apeTag: true, lyrics3: 'la la', padding: 0 }),
      frames, // no tags at all
      Buffer.concat([id3v2({ title: 'first' }), base]), // two ID3v2 tags in a row
      Buffer.concat([id3v2(TAGS), Buffer.alloc(300), frames]), // padding past the declared size
      Buffer.concat([base, lyrics3v2('words'), apeTag(TAGS), id3v1(TAGS)]), // other trailer order
      Buffer.concat([base, id3v24Appended()]),
    ]);
    expect(hash).toBe(sha256(frames));
  });

  it('differs between seeds', async () => {
    const [a, b] = await Promise.all(['x', 'y'].map(async (seed) => hashFile(await put(makeMp3({ ...TAGS, seed })))));
    expect(a!.audioHash).not.toBe(b!.audioHash);
  });

  it('slices the region correctly across read chunks', async () => {
    const buf = makeMp3({ ...TAGS, targetBytes: 3 * MiB + 123, cover: true, apeTag: true, id3v1: true });
    const path = await put(buf);
    const region = await audioRegion(path, buf.length);
    expect(region).toEqual({ start: id3v2Size(buf), end: buf.length - 128 - apeTag(TAGS).length });
    expect((await hashFile(path)).audioHash).toBe(sha256(buf.subarray(region!.start, region!.end)));
  });
});

describe('audioHash of FLAC', () => {
  it('ignores tags, pictures, padding and ID3 around the stream', async () => {
    const base = makeFlac({ ...TAGS, seed: 'flac' });
    await expectSameAudio([
      base,
      retagFlac(base, { ...TAGS, title: 'Olsen Olsen' }, { sameSize: true }),
      retagFlac(base, { title: 'x' }, { cover: true, padding: 0 }),
      retagFlac(base, TAGS, { padding: 10_000 }),
      Buffer.concat([id3v2(TAGS), base, id3v1(TAGS)]),
    ]);
  });

  it('differs between seeds', async () => {
    const [a, b] = await Promise.all([1, 2].map(async (seed) => hashFile(await put(makeFlac({ seed })))));
    expect(a!.audioHash).not.toBe(b!.audioHash);
  });
});

/** iff builds a RIFF (LE) or FORM (BE) file; odd chunks get their pad byte. */
function iff(magic: 'RIFF' | 'FORM', form: string, chunks: [string, Buffer][]): Buffer {
  const le = magic === 'RIFF';
  const body = chunks.map(([id, data]) => {
    const head = Buffer.alloc(8);
    head.write(id, 0, 'latin1');
    if (le) head.writeUInt32LE(data.length, 4);
    else head.writeUInt32BE(data.length, 4);
    return Buffer.concat([head, data, Buffer.alloc(data.length & 1)]);
  });
  const all = Buffer.concat([Buffer.from(`${magic}....${form}`, 'latin1'), ...body]);
  if (le) all.writeUInt32LE(all.length - 8, 4);
  else all.writeUInt32BE(all.length - 8, 4);
  return all;
}

function atom(type: string, payload: Buffer, large = false): Buffer {
  const head = Buffer.alloc(large ? 16 : 8);
  head.write(type, 4, 'latin1');
  if (large) {
    head.writeUInt32BE(1, 0);
    head.writeBigUInt64BE(BigInt(payload.length + 16), 8);
  } else head.writeUInt32BE(payload.length + 8, 0);
  return Buffer.concat([head, payload]);
}

describe('audioRegion of containers', () => {
  const pcm = Buffer.from(Array.from({ length: 1001 }, (_, i) => (i * 37) & 0xff));
  const ssnd = (offset: number) => Buffer.concat([Buffer.from([0, 0, 0, offset, 0, 0, 0, 0]), Buffer.alloc(offset, 9), pcm]);
  const ftyp = atom('ftyp', Buffer.from('M4A \0\0\0\0M4A mp42isom', 'latin1'));
  const moov = atom('moov', atom('udta', Buffer.from('tags live here', 'latin1')));
  const cases: [string, Buffer][] = [
    ['WAV', iff('RIFF', 'WAVE', [['fmt ', Buffer.alloc(16, 1)], ['LIST', Buffer.alloc(7, 2)], ['data', pcm], ['id3 ', id3v2(TAGS)]])],
    ['AIFF', iff('FORM', 'AIFF', [['COMM', Buffer.alloc(18, 1)], ['NAME', Buffer.from('odd')], ['SSND', ssnd(0)], ['ID3 ', id3v2(TAGS)]])],
    ['AIFC with an SSND offset', iff('FORM', 'AIFC', [['FVER', Buffer.alloc(4)], ['SSND', ssnd(4)]])],
    ['M4A', Buffer.concat([ftyp, moov, atom('free', Buffer.alloc(10)), atom('mdat', pcm)])],
    ['M4A with moov last and a 64-bit mdat', Buffer.concat([ftyp, atom('mdat', pcm, true), moov])],
    ['M4A with a to-end mdat', Buffer.concat([ftyp, moov, Buffer.from([0, 0, 0, 0, 0x6d, 0x64, 0x61, 0x74]), pcm])],
  ];
  it.each(cases)('%s: the audio payload', async (_, buf) => {
    const path = await put(buf);
    const region = await audioRegion(path, buf.length);
    expect(region).toBeDefined();
    expect(buf.subarray(region!.start, region!.end).equals(pcm)).toBe(true);
    expect((await hashFile(path)).audioHash).toBe(sha256(pcm));
  });
});

describe('unknown, truncated and corrupt files', () => {
  const mp3 = makeMp3({ ...TAGS, apeTag: true });
  const flac = makeFlac(TAGS);
  const badId3 = Buffer.from(mp3);
  badId3[6] = 0x7f; // ID3v2 size far past the end
  const badBlock = Buffer.from(flac);
  badBlock[4 + 38] = 0x05; // second block header mangled: length runs past the end
  badBlock.writeUIntBE(0xfffff0, 4 + 38 + 1, 3);
  const noStreamInfo = Buffer.from(flac);
  noStreamInfo[4] = 0x02;
  const badApe = Buffer.from(mp3);
  badApe.writeUInt32LE(0x7fffffff, mp3.length - 32 + 12);
  const noise = Buffer.alloc(5000);
  new Prng('noise').fill(noise);
  const wav = iff('RIFF', 'WAVE', [['fmt ', Buffer.alloc(16)], ['data', Buffer.alloc(100, 1)]]);
  const cases: [string, Buffer][] = [
    ['ID3v2 size past EOF', badId3],
    ['FLAC block length past EOF', badBlock],
    ['FLAC without STREAMINFO first', noStreamInfo],
    ['FLAC without frames', flac.subarray(0, flac.indexOf(Buffer.from([0xff, 0xf8])))],
    ['APE footer larger than the file', badApe],
    ['WAV data chunk cut short', wav.subarray(0, wav.length - 10)],
    ['M4A atom running past EOF', Buffer.concat([atom('ftyp', Buffer.alloc(8)), atom('mdat', Buffer.alloc(50)).subarray(0, 30)])],
    ['Ogg', Buffer.concat([Buffer.from('OggS\0\x02', 'latin1'), Buffer.alloc(200, 3)])],
    ['ID3v2 followed by no audio', Buffer.concat([id3v2(TAGS), Buffer.from('plain text, not frames')])],
    ['text', Buffer.from('notes about the library\n')],
    ['random bytes', noise],
    ['a lone MPEG frame header before random bytes', Buffer.concat([Buffer.from([0xff, 0xfb, 0x90, 0x00]), noise])],
    ['empty', Buffer.alloc(0)],
  ];
  it.each(cases)('%s: no audioHash, no throw', async (_, buf) => {
    const h = await hashFile(await put(buf));
    expect(h).toEqual({ size: buf.length, md5: md5(buf) });
  });
});

describe('hashFile', () => {
  it('gives the content MD5 and the multipart ETag in one pass', async () => {
    const buf = makeMp3({ targetBytes: 2 * MiB + MiB / 2 });
    const path = await put(buf);
    const parts = [0, 1, 2].map((i) => createHash('md5').update(buf.subarray(i * MiB, (i + 1) * MiB)).digest());
    const etag = `${createHash('md5').update(Buffer.concat(parts)).digest('hex')}-3`;
    expect(await hashFile(path, { partSize: MiB })).toEqual({ size: buf.length, md5: md5(buf), etag, audioHash: expect.any(String) });
    expect((await hashFile(path)).etag).toBeUndefined();
  });

  it('throws for a missing file', async () => {
    await expect(hashFile(join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('audioRegion', () => {
  it('accepts a path, a FileHandle or a numeric fd', async () => {
    const buf = makeFlac({ cover: true });
    const path = await put(buf);
    const want = { start: buf.indexOf(Buffer.from([0xff, 0xf8])), end: buf.length };
    expect(await audioRegion(path, buf.length)).toEqual(want);
    const fh = await open(path, 'r');
    try {
      expect(await audioRegion(fh, buf.length)).toEqual(want);
    } finally {
      await fh.close();
    }
    const fd = openSync(path, 'r');
    try {
      expect(await audioRegion(fd, buf.length)).toEqual(want);
    } finally {
      closeSync(fd);
    }
  });
});
