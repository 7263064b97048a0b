/**
 * Tag-independent audio identity. Retagging a track (new title, a cover, an
 * ID3v1 block added by some player) changes its bytes and MD5 but not its
 * audio; hashing only the byte range that holds audio lets the engine see
 * that two files are the same recording. The range is found per format from
 * a few small positional reads at the head and tail — never the whole file —
 * and the hashing itself is one sequential pass that also yields the MD5 and
 * multipart ETag of the whole content.
 */
import { createHash, type Hash } from 'node:crypto';
import { read as readFd } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { FileError } from '../errors.js';
import { Md5Parts } from '../core/etag.js';

/** Byte range [start, end) of a file that holds only audio data. */
export interface AudioRegion {
  start: number;
  end: number;
}

/** What {@link hashFile} learns in one pass. */
export interface FileHashes {
  size: number;
  /** Hex MD5 of the whole content. */
  md5: string;
  /** Hex SHA-256 of the audio region; absent when the format is not recognised. */
  audioHash?: string;
  /** The multipart ETag for `partSize`; present only when a part size was given. */
  etag?: string;
}

const READ_CHUNK = 1024 * 1024;
/** Files up to this size are read in one positional read instead of streamed. */
const SMALL_FILE = 64 * 1024;
/** Head and tail bytes read once and kept, so the small header reads mostly cost nothing. */
const WINDOW = 4096;

/**
 * hashFile reads `path` once, sequentially, and returns its size, MD5, the
 * multipart ETag for `opts.partSize` (when given), and the SHA-256 of the
 * bytes in its {@link audioRegion}. Throws on I/O errors, and a FileError when
 * the file shrinks while being read.
 */
export async function hashFile(path: string, opts: { partSize?: number } = {}): Promise<FileHashes> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const r = new Reader(fh, size);
    // A small file is read whole, in one read: the header reads are then served from memory, and no stream is set up.
    if (size <= SMALL_FILE) return await hashWith(r, await r.keep(0, size), opts);
    const hasher = await Hasher.start(r, opts);
    // `end` pins the pass to the stat'ed size, so md5 and region describe the same bytes.
    const stream = fh.createReadStream({ start: 0, end: size - 1, highWaterMark: READ_CHUNK, autoClose: false });
    for await (const chunk of stream as AsyncIterable<Buffer>) hasher.feed(chunk);
    if (hasher.pos !== size) throw new FileError(path, 'file changed while being read');
    return hasher.finish(size);
  } finally {
    await fh.close();
  }
}

/**
 * hashBytes is hashFile for content already in memory (a small file read
 * whole, so that hashing and tag parsing share one read).
 */
export async function hashBytes(data: Buffer, opts: { partSize?: number } = {}): Promise<FileHashes> {
  const r = new Reader(undefined, data.length);
  r.hold(0, data);
  return hashWith(r, data, opts);
}

async function hashWith(r: Reader, data: Buffer, opts: { partSize?: number }): Promise<FileHashes> {
  const hasher = await Hasher.start(r, opts);
  hasher.feed(data);
  return hasher.finish(data.length);
}

/** Hasher feeds a sequential pass to the content MD5 and, within the audio region, the SHA-256. */
class Hasher {
  pos = 0;
  private readonly whole: Md5Parts;
  private readonly audio: Hash | undefined;

  private constructor(
    private readonly region: AudioRegion | undefined,
    partSize: number | undefined,
  ) {
    this.whole = new Md5Parts(partSize);
    this.audio = region ? createHash('sha256') : undefined;
  }

  static async start(r: Reader, opts: { partSize?: number }): Promise<Hasher> {
    return new Hasher(await regionOf(r), opts.partSize);
  }

  feed(chunk: Buffer): void {
    this.whole.update(chunk);
    const { audio, region, pos } = this;
    if (audio && region) {
      const from = Math.max(region.start - pos, 0);
      const to = Math.min(region.end - pos, chunk.length);
      if (from < to) audio.update(from === 0 && to === chunk.length ? chunk : chunk.subarray(from, to));
    }
    this.pos += chunk.length;
  }

  finish(size: number): FileHashes {
    const out: FileHashes = { size, ...this.whole.digest() };
    if (this.audio) out.audioHash = this.audio.digest('hex');
    return out;
  }
}

/**
 * audioRegion finds the bytes of `file` (`size` bytes long) that hold only
 * audio, by format as told by magic bytes, not by name:
 * - MP3 (MPEG audio layers I–III): after any ID3v2 tags, before any trailing
 *   ID3v1, APEv2, Lyrics3v2 and appended ID3v2 tags, in any order;
 * - FLAC (optionally behind ID3v2 tags): the frames after the metadata blocks,
 *   before any trailing tags as for MP3;
 * - MP4/M4A: the payload of the `mdat` atom(s), first to last;
 * - WAV: the `data` chunk payload; AIFF/AIFC: the `SSND` sample data.
 * Anything else — other formats, corrupt or truncated files, an empty audio
 * part — gives undefined; only I/O errors throw.
 */
export async function audioRegion(file: FileHandle | number | string, size: number): Promise<AudioRegion | undefined> {
  if (typeof file === 'string') {
    const fh = await open(file, 'r');
    try {
      return await audioRegion(fh, size);
    } finally {
      await fh.close();
    }
  }
  return regionOf(new Reader(file, size));
}

async function regionOf(r: Reader): Promise<AudioRegion | undefined> {
  await r.keep(0, r.size <= 2 * WINDOW ? r.size : WINDOW);
  const region = await findRegion(r);
  return region && region.start < region.end ? region : undefined;
}

async function findRegion(r: Reader): Promise<AudioRegion | undefined> {
  const head = await r.at(0, 12);
  const id = (from: number, to: number) => head.toString('latin1', from, to);
  if (id(4, 8) === 'ftyp') return mp4Region(r);
  if (id(0, 4) === 'RIFF' && id(8, 12) === 'WAVE') return iffRegion(r, 'data', 'LE');
  if (id(0, 4) === 'FORM' && (id(8, 12) === 'AIFF' || id(8, 12) === 'AIFC')) return iffRegion(r, 'SSND', 'BE');
  const start = await skipId3v2(r, 0);
  if (start === undefined) return undefined;
  if ((await r.at(start, 4)).toString('latin1') === 'fLaC') return flacRegion(r, start);
  const first = await firstMpegFrame(r, start, start > 0);
  if (first === undefined) return undefined;
  const end = await stripTrailers(r, first);
  return end === undefined ? undefined : { start: first, end };
}

/** skipId3v2 steps over consecutive ID3v2 tags at `pos`; undefined when one runs past the end. */
async function skipId3v2(r: Reader, pos: number): Promise<number | undefined> {
  for (;;) {
    const h = await r.at(pos, 10);
    if (h.length < 10 || h.toString('latin1', 0, 3) !== 'ID3' || h[3]! > 4 || (h[6]! | h[7]! | h[8]! | h[9]!) & 0x80) return pos;
    pos += 10 + synchsafe(h, 6) + (h[5]! & 0x10 ? 10 : 0); // footer flag
    if (pos > r.size) return undefined;
  }
}

/**
 * firstMpegFrame finds the first frame at `pos`, or, behind an ID3v2 tag
 * (`scan`), within the next few KiB: some taggers write padding past the
 * size they declare, and those bytes belong to the tag, not the audio. A
 * frame counts only if the next one follows where its length says, which
 * rules out stray 0xFFE sync patterns in other data.
 */
async function firstMpegFrame(r: Reader, pos: number, scan: boolean): Promise<number | undefined> {
  const window = (await r.keep(pos, WINDOW)).subarray(0, scan ? WINDOW : 4); // kept: frame checks read here
  for (let i = 0; i + 4 <= window.length; i++) {
    if (window[i] === 0xff && (await isMpegFrame(r, pos + i))) return pos + i;
    if (!scan) break;
  }
  return undefined;
}

async function isMpegFrame(r: Reader, pos: number): Promise<boolean> {
  const h = await r.at(pos, 4);
  const len = mpegFrameLength(h);
  if (len < 0) return false;
  if (len === 0 || pos + len + 4 > r.size) return true; // free format, or the only frame
  const next = await r.at(pos + len, 4);
  return mpegFrameLength(next) >= 0 && (next[1]! & 0x1e) === (h[1]! & 0x1e); // same version and layer
}

/**
 * stripTrailers moves the end of the audio back over trailing tags — ID3v1
 * (128 bytes), APEv2 (footer at the end), Lyrics3v2, appended ID3v2.4 ('3DI'
 * footer) — until none is left. Undefined when a tag claims more bytes than there are.
 */
async function stripTrailers(r: Reader, start: number): Promise<number | undefined> {
  let end = r.size;
  if (end > WINDOW) await r.keep(end - WINDOW, WINDOW);
  for (;;) {
    const at = Math.max(start, end - 160);
    const t = await r.at(at, end - at);
    const has = (tag: string, back: number) => end - back >= start && t.toString('latin1', t.length - back, t.length - back + tag.length) === tag;
    let len: number;
    // Longest magic first: an ID3v1 body could hold 'TAG' by chance far more easily than 'APETAGEX'.
    if (has('APETAGEX', 32)) {
      const footer = t.subarray(t.length - 32);
      len = footer.readUInt32LE(12) + (footer.readUInt32LE(20) & 0x80000000 ? 32 : 0); // size excludes the header
      if (footer.readUInt32LE(12) < 32) return undefined;
    } else if (has('LYRICS200', 9)) {
      const digits = t.toString('latin1', t.length - 15, t.length - 9);
      if (!/^\d{6}$/.test(digits)) return undefined;
      len = Number(digits) + 15;
      if (end - len < start || (await r.at(end - len, 11)).toString('latin1') !== 'LYRICSBEGIN') return undefined;
    } else if (has('TAG', 128)) len = 128;
    else if (has('3DI', 10)) len = 20 + synchsafe(t, t.length - 4);
    else return end;
    if (end - len < start) return undefined;
    end -= len;
  }
}

/** flacRegion walks the metadata blocks after 'fLaC' at `pos` to the first frame. */
async function flacRegion(r: Reader, pos: number): Promise<AudioRegion | undefined> {
  pos += 4;
  for (let first = true; ; first = false) {
    const h = await r.at(pos, 4);
    const type = h[0]! & 0x7f;
    if (h.length < 4 || type === 127 || (first && type !== 0)) return undefined; // STREAMINFO comes first
    pos += 4 + h.readUIntBE(1, 3);
    if (pos > r.size) return undefined;
    if (h[0]! & 0x80) break; // last-metadata-block flag
  }
  const sync = await r.at(pos, 2);
  if (sync[0] !== 0xff || (sync[1]! & 0xfe) !== 0xf8) return undefined;
  const end = await stripTrailers(r, pos);
  return end === undefined ? undefined : { start: pos, end };
}

/** mp4Region walks the top-level atoms; audio is the payload of the first through the last `mdat`. */
async function mp4Region(r: Reader): Promise<AudioRegion | undefined> {
  let region: AudioRegion | undefined;
  for (let pos = 0; pos + 8 <= r.size; ) {
    const h = await r.at(pos, 16);
    let [len, header] = [h.readUInt32BE(0), 8];
    if (len === 1) {
      if (h.length < 16) return undefined;
      [len, header] = [Number(h.readBigUInt64BE(8)), 16];
    } else if (len === 0) len = r.size - pos; // runs to the end of the file
    if (len < header || pos + len > r.size) return undefined;
    if (h.toString('latin1', 4, 8) === 'mdat') region = { start: region?.start ?? pos + header, end: pos + len };
    pos += len;
  }
  return region;
}

/** iffRegion finds chunk `want` in a RIFF (little-endian) or IFF (big-endian) file; chunks are word-aligned. */
async function iffRegion(r: Reader, want: 'data' | 'SSND', order: 'LE' | 'BE'): Promise<AudioRegion | undefined> {
  for (let pos = 12; pos + 8 <= r.size; ) {
    const h = await r.at(pos, 16);
    const len = order === 'LE' ? h.readUInt32LE(4) : h.readUInt32BE(4);
    const end = pos + 8 + len;
    if (end > r.size) return undefined;
    if (h.toString('latin1', 0, 4) === want) {
      if (want === 'data') return { start: pos + 8, end };
      if (len < 8) return undefined;
      const start = pos + 16 + h.readUInt32BE(8); // SSND: offset and blockSize precede the samples
      return start <= end ? { start, end } : undefined;
    }
    pos = end + (len & 1);
  }
  return undefined;
}

const KBPS = [
  [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448], // MPEG-1 layer I
  [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384], // MPEG-1 layer II
  [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320], // MPEG-1 layer III
  [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256], // MPEG-2/2.5 layer I
  [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160], // MPEG-2/2.5 layers II, III
];

/** mpegFrameLength gives the length of the MPEG audio frame whose header starts `h`: 0 for free format, -1 if no valid header. */
function mpegFrameLength(h: Buffer): number {
  if (h.length < 4 || h[0] !== 0xff || (h[1]! & 0xe0) !== 0xe0) return -1;
  const version = (h[1]! >> 3) & 3; // 0: 2.5, 1: reserved, 2: 2, 3: 1
  const layer = (h[1]! >> 1) & 3; // 1: III, 2: II, 3: I; 0 is reserved (and ADTS AAC)
  const [bitrate, rate, padding] = [h[2]! >> 4, (h[2]! >> 2) & 3, (h[2]! >> 1) & 1];
  if (version === 1 || layer === 0 || bitrate === 15 || rate === 3) return -1;
  const kbps = KBPS[version === 3 ? 3 - layer : layer === 3 ? 3 : 4]![bitrate]!;
  if (kbps === 0) return 0;
  const hz = [44100, 48000, 32000][rate]! / (version === 3 ? 1 : version === 2 ? 2 : 4);
  if (layer === 3) return (Math.floor((12000 * kbps) / hz) + padding) * 4;
  return Math.floor(((layer === 1 && version !== 3 ? 72000 : 144000) * kbps) / hz) + padding;
}

function synchsafe(b: Buffer, at: number): number {
  return ((b[at]! & 0x7f) << 21) | ((b[at + 1]! & 0x7f) << 14) | ((b[at + 2]! & 0x7f) << 7) | (b[at + 3]! & 0x7f);
}

/** Reader does positional reads, served from kept head/tail windows when they cover the range. */
class Reader {
  private readonly kept: { pos: number; buf: Buffer }[] = [];

  constructor(
    private readonly file: FileHandle | number | undefined,
    readonly size: number,
  ) {}

  /** hold serves later reads inside [pos, pos+buf.length) from `buf`. */
  hold(pos: number, buf: Buffer): void {
    this.kept.push({ pos, buf });
  }

  /** keep reads [pos, pos+len) and serves later reads inside it from memory; it returns those bytes. */
  async keep(pos: number, len: number): Promise<Buffer> {
    const buf = await this.at(pos, len);
    this.kept.push({ pos, buf });
    return buf;
  }

  /** at returns the bytes [pos, pos+len) within the file; shorter only at its end. */
  async at(pos: number, len: number): Promise<Buffer> {
    const end = Math.min(this.size, pos + len);
    if (pos < 0 || pos >= end) return Buffer.alloc(0);
    for (const k of this.kept) {
      if (pos >= k.pos && end <= k.pos + k.buf.length) return k.buf.subarray(pos - k.pos, end - k.pos);
    }
    const buf = Buffer.alloc(end - pos);
    if (this.file === undefined) return buf.subarray(0, 0); // in-memory content: nothing beyond what is held
    const n = typeof this.file === 'number' ? await readAt(this.file, buf, pos) : (await this.file.read(buf, 0, buf.length, pos)).bytesRead;
    return buf.subarray(0, n);
  }
}

function readAt(fd: number, buf: Buffer, pos: number): Promise<number> {
  return new Promise((resolve, reject) => readFd(fd, buf, 0, buf.length, pos, (err, n) => (err ? reject(err) : resolve(n))));
}
