import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { makeCollectionXml, SAMPLE, writeBigCollection } from '../../../test/fixtures/rekordbox.js';
import { XmlError, XmlScanner } from '../../core/xml-scanner.js';
import { rewriteCollection, type RewriteMap } from './collection-rewriter.js';
import { joinPath, relativeTo } from './location.js';

const WIN = 'D:/DJ Music';
const LINUX = '/home/bob/music';
const MAC = '/Volumes/USB/DJ Music';

async function* pieces(buf: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

/** Moves every track under `from` to the same place under `to`; refuses the others. */
function mover(from: string, to: string, seen: Array<{ id: string; location?: string; error?: string }> = []): RewriteMap {
  return {
    track(t) {
      seen.push({ id: t.id, ...(t.location !== undefined ? { location: t.location } : {}), ...(t.error !== undefined ? { error: t.error } : {}) });
      const rel = t.location === undefined ? undefined : relativeTo(t.location, from);
      return rel === undefined ? undefined : joinPath(to, rel);
    },
  };
}

async function rewrite(input: Buffer, map: RewriteMap, size = input.length) {
  const out = new PassThrough();
  const got: Buffer[] = [];
  out.on('data', (b: Buffer) => got.push(b));
  const stats = await rewriteCollection(pieces(input, size), out, map, 'in.xml');
  return { bytes: Buffer.concat(got), stats };
}

/** Byte spans of the values the rewriter may change: COLLECTION TRACK Locations and KeyType 1 TRACK Keys. */
function valueSpans(doc: Buffer): Array<readonly [number, number]> {
  const spans: Array<readonly [number, number]> = [];
  const path: string[] = [];
  const byLocation: boolean[] = [];
  const s = new XmlScanner(
    {
      open(t) {
        if (t.name === 'NODE') byLocation.push(t.attr('KeyType') === '1');
        const parent = path[path.length - 1];
        path.push(t.name);
        if (t.name !== 'TRACK') return;
        const span = parent === 'COLLECTION' ? t.span('Location') : byLocation[byLocation.length - 1] ? t.span('Key') : undefined;
        if (span) spans.push(span);
      },
      close(name) {
        path.pop();
        if (name === 'NODE') byLocation.pop();
      },
    },
    'doc',
  );
  s.write(doc);
  s.end();
  return spans;
}

/** The bytes between the spans, in order. */
function between(doc: Buffer, spans: Array<readonly [number, number]>): Buffer[] {
  let at = 0;
  const out: Buffer[] = [];
  for (const [start, end] of spans) {
    out.push(doc.subarray(at, start));
    at = end;
  }
  out.push(doc.subarray(at));
  return out;
}

function values(doc: Buffer): string[] {
  return valueSpans(doc).map(([s, e]) => doc.toString('utf8', s, e));
}

describe('rewriteCollection', () => {
  const a = Buffer.from(makeCollectionXml({ root: WIN, ...SAMPLE }));

  it('Windows → Linux → Windows gives back the original bytes, in any chunking', async () => {
    for (const size of [a.length, 1, 7, 4096]) {
      const b = await rewrite(a, mover(WIN, LINUX), size);
      expect(b.bytes.equals(a), `chunks of ${size}`).toBe(false);
      const back = await rewrite(b.bytes, mover(LINUX, WIN), size);
      expect(back.bytes.equals(a), `chunks of ${size}`).toBe(true);
    }
  });

  it('macOS → Windows → macOS gives back the original bytes', async () => {
    const mac = Buffer.from(makeCollectionXml({ root: MAC, ...SAMPLE }));
    const win = await rewrite(mac, mover(MAC, WIN));
    expect((await rewrite(win.bytes, mover(WIN, MAC))).bytes.equals(mac)).toBe(true);
  });

  it('changes only Location and KeyType 1 Key values, each to the Rekordbox spelling of the new path', async () => {
    const b = await rewrite(a, mover(WIN, LINUX));
    const spansA = valueSpans(a);
    const spansB = valueSpans(b.bytes);
    expect(spansB).toHaveLength(spansA.length);
    const restA = between(a, spansA);
    const restB = between(b.bytes, spansB);
    restA.forEach((piece, k) => expect(restB[k]?.equals(piece), `bytes between values ${k - 1} and ${k}`).toBe(true));
    const expected = Buffer.from(makeCollectionXml({ root: LINUX, ...SAMPLE }));
    expect(values(b.bytes)).toEqual(values(expected));
    expect(values(b.bytes).every((v) => v.startsWith('file://localhost/home/bob/music/'))).toBe(true);
    expect(b.stats).toMatchObject({ tracks: 6, rewritten: 6, refused: 0, playlistKeys: 5, bytesIn: a.length, bytesOut: b.bytes.length });
  });

  it('hands the map each track with its decoded Location (NFD kept) or why it was refused', async () => {
    const seen: Array<{ id: string; location?: string; error?: string }> = [];
    await rewrite(Buffer.from(a.toString().replace('Misc/plain.mp3', 'Misc/../../../etc/passwd')), mover(WIN, LINUX, seen));
    expect(seen).toHaveLength(6);
    expect(seen[1]).toEqual({ id: '90000008', location: 'D:/DJ Music/House/Déjà Vu, Part 2.mp3'.normalize('NFD') });
    expect(seen[5]?.location).toBeUndefined();
    expect(seen[5]?.error).toMatch(/Location ".*": a '\.\.' segment/);
  });

  it('writes Location="" for a refused track, and "" for the KeyType 1 keys naming it; the value never reaches the output', async () => {
    const hostile = a
      .toString()
      .replaceAll('D:/DJ%20Music/Misc/plain.mp3', 'D:/DJ%20Music/../../Windows/evil.dll')
      .replace('file://localhost/D:/DJ%20Music/Techno/Warehouse.wav', 'http://evil.example/steal.wav')
      .replace('file://localhost/D:/DJ%20Music/Misc/%E6', 'file://localhost/E:/Elsewhere/%E6')
      .replace('<TRACK Key="file://localhost/D:/DJ%20Music/House/Rock', '<TRACK Key="file://localhost/C:/Users/alice/Secret/x.mp3"/>\n<TRACK Key="file://localhost/D:/DJ%20Music/House/Rock');
    const b = await rewrite(Buffer.from(hostile), mover(WIN, LINUX));
    const text = b.bytes.toString();
    for (const bad of ['evil', 'Windows', 'Elsewhere', 'http:', 'Secret']) expect(text).not.toContain(bad);
    // 3 Locations, 2 keys naming the refused track, 1 key naming no track of the collection.
    expect(values(b.bytes).filter((v) => v === '')).toHaveLength(3 + 2 + 1);
    expect(b.stats).toMatchObject({ tracks: 6, rewritten: 3, refused: 3, playlistKeys: 6 });
  });

  it('maps a KeyType 1 key spelled otherwise than its Location (NFC for NFD, lower-case hex) like that track', async () => {
    const nfd = 'file://localhost/D:/DJ%20Music/House/De%CC%81ja%CC%80%20Vu,%20Part%202.mp3';
    const nfc = 'file://localhost/D:/DJ%20Music/House/D%c3%a9j%c3%a0%20Vu,%20Part%202.mp3';
    const xml = a.toString().replace(`<TRACK Key="${nfd}"/>`, `<TRACK Key="${nfc}"/>`);
    expect(xml).toContain(nfc);
    const b = await rewrite(Buffer.from(xml), mover(WIN, LINUX));
    const moved = 'file://localhost/home/bob/music/House/De%CC%81ja%CC%80%20Vu,%20Part%202.mp3';
    expect(values(b.bytes).filter((v) => v === moved)).toHaveLength(2);
    expect(b.bytes.toString()).not.toContain('D:/');
  });

  it('rejects with XmlError naming the line of a malformation', async () => {
    const broken = Buffer.from(a.toString().replace('<TEMPO', '<TEMPO Bpm="1" Bpm="2"'));
    await expect(rewrite(broken, mover(WIN, LINUX), 64)).rejects.toThrow(XmlError);
    await expect(rewrite(broken, mover(WIN, LINUX), 64)).rejects.toThrow(/in\.xml: line 8: duplicate attribute Bpm/);
  });

  describe('a 50,000-track collection', () => {
    let dir = '';
    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('streams through in 64 KiB chunks: output flows before the input ends and every track is rewritten', async () => {
      dir = await mkdtemp(join(tmpdir(), 'cratesync-rewrite-'));
      const file = join(dir, 'big.xml');
      await writeBigCollection(file, 50_000, WIN);
      let inputDone = false;
      let writesBeforeEnd = 0;
      let largestWrite = 0;
      let bytes = 0;
      let last: Buffer = Buffer.alloc(0);
      const sink = new Writable({
        highWaterMark: 256 * 1024,
        write(chunk: Buffer, _enc, done) {
          if (!inputDone) writesBeforeEnd++;
          largestWrite = Math.max(largestWrite, chunk.length);
          bytes += chunk.length;
          last = chunk;
          setImmediate(done);
        },
      });
      async function* input() {
        for await (const chunk of createReadStream(file, { highWaterMark: 64 * 1024 })) yield chunk as Buffer;
        inputDone = true;
      }
      const stats = await rewriteCollection(input(), sink, mover(WIN, LINUX), 'big.xml');
      sink.end();
      await once(sink, 'finish');
      expect(stats.tracks).toBe(50_000);
      expect(stats.rewritten).toBe(50_000);
      expect(stats.playlistKeys).toBe(1000);
      expect(bytes).toBe(stats.bytesOut);
      expect(writesBeforeEnd).toBeGreaterThan(100);
      expect(largestWrite).toBeLessThan(1024 * 1024);
      expect(last.toString().endsWith('</DJ_PLAYLISTS>\n')).toBe(true);
    });
  });
});
