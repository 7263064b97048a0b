/**
 * stream, download and getCoverArt: the routes that answer bytes. A song
 * streams from this machine's identical copy when it has one (see
 * local-copy.ts), else from the remote through openRead, with HTTP Range
 * either way; credentials never reach the client. Nothing is transcoded:
 * `format` and `maxBitRate` are accepted and ignored (`raw` is the only
 * format there is).
 */
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Handler, RouteTable, SubsonicRequest } from './route-types.js';
import type { IndexedSong } from '../state/subsonic-index.js';
import type { ByteRange, OpenedRead } from '../remote/remote.js';
import { badParameter, missingParameter, notFound, SubsonicError, SubsonicCode } from './api-error.js';
import { idKind } from '../core/subsonic-ids.js';
import { MUSIC_PREFIX } from '../sync/layout.js';
import { NotFoundError, RangeNotSatisfiableError } from '../errors.js';
import { parseRange, resolveRange, type RangeAsk } from './http-range.js';
import { openLocalCopy } from './local-copy.js';
import { coverBytes, coverSource, sizedCover, sizedMime } from './cover-art.js';
import { coverMime } from '../core/cover-name.js';
import { contentType } from './child.js';

/** The song `id` names, and its key is one the music tree can hold; else notFound (70). */
function songOf(req: SubsonicRequest): IndexedSong {
  const id = req.params.get('id');
  if (!id) throw missingParameter('id');
  const song = idKind(id) === 'song' ? req.serve.index.song(id) : undefined;
  if (!song || !isMusicKey(song.key)) throw notFound('Song');
  return song;
}

/** A key under music/ that names a file, never one that climbs out or holds empty parts. */
function isMusicKey(key: string): boolean {
  const rest = key.slice(MUSIC_PREFIX.length);
  return key.startsWith(MUSIC_PREFIX) && rest !== '' && !/[\\\0]/.test(key) && !rest.split('/').some((p) => p === '' || p === '.' || p === '..');
}

/**
 * serveSong answers a stream or download of the song the request names: a
 * range of it (206) or the whole (200), 416 for a range past the end, only
 * the headers for HEAD. The remote's read is aborted with the request.
 */
async function serveSong(req: SubsonicRequest, extra: Record<string, string>): Promise<Response> {
  const song = songOf(req);
  const ask = parseRange(req.raw.headers.get('range'));
  const head = req.raw.method === 'HEAD';
  const headers = { 'Content-Type': contentType(song.suffix), 'Accept-Ranges': 'bytes', ...extra };

  const local = await openLocalCopy(req.serve, song);
  if (local) {
    const range = resolveRange(ask, local.size);
    if (!range || head || range.end < range.start) await local.fh.close();
    if (!range) return unsatisfiable(local.size, headers);
    const body = head || range.end < range.start ? undefined : local.fh.createReadStream({ start: range.start, end: range.end, autoClose: true });
    return answer({ body, size: local.size, ...range }, ask, headers, req.raw.signal);
  }

  const remote = req.serve.remote;
  if (head) {
    const size = await remote.stat(song.key).then(
      (o) => o.size,
      (err: unknown) => Promise.reject(err instanceof NotFoundError ? notFound('Song') : err),
    );
    const range = resolveRange(ask, size);
    return range ? answer({ size, ...range }, ask, headers) : unsatisfiable(size, headers);
  }
  if (!remote.openRead) throw new SubsonicError(SubsonicCode.generic, 'This remote cannot stream');
  let opened: OpenedRead;
  try {
    opened = await remote.openRead(song.key, byteRange(ask, song.size), { signal: req.raw.signal });
  } catch (err) {
    if (err instanceof RangeNotSatisfiableError) return unsatisfiable(err.size, headers);
    if (err instanceof NotFoundError) throw notFound('Song');
    throw err;
  }
  return answer(opened, ask, headers, req.raw.signal);
}

/** byteRange turns what the client asks into what the remote reads; a suffix is counted from the size the index knows. */
function byteRange(ask: RangeAsk, size: number): ByteRange | undefined {
  switch (ask.kind) {
    case 'whole':
      return undefined;
    case 'suffix':
      // An empty suffix (or file) asks for nothing: a start past any end.
      return ask.length === 0 || size === 0 ? { start: Number.MAX_SAFE_INTEGER } : { start: Math.max(0, size - ask.length) };
    case 'from':
      return ask.end === undefined ? { start: ask.start } : { start: ask.start, end: ask.end };
  }
}

function answer(
  read: { body?: Readable | undefined; size: number; start: number; end: number },
  ask: RangeAsk,
  headers: Record<string, string>,
  signal?: AbortSignal,
): Response {
  const length = Math.max(0, read.end - read.start + 1);
  const partial = ask.kind !== 'whole';
  const h = new Headers({ ...headers, 'Content-Length': String(length) });
  if (partial) h.set('Content-Range', `bytes ${read.start}-${read.end}/${read.size}`);
  const body = read.body;
  if (body && signal) signal.addEventListener('abort', () => body.destroy(), { once: true });
  return new Response(body ? (Readable.toWeb(body) as ReadableStream<Uint8Array>) : null, { status: partial ? 206 : 200, headers: h });
}

function unsatisfiable(size: number, headers: Record<string, string>): Response {
  const h = new Headers({ 'Accept-Ranges': 'bytes', 'Content-Range': `bytes */${size}` });
  if (headers['Content-Type']) h.set('Content-Type', headers['Content-Type']);
  return new Response(null, { status: 416, headers: h });
}

/** A file name a Content-Disposition header carries safely: printable ASCII without quotes or separators, and the UTF-8 name beside it. */
export function attachment(key: string): string {
  const name = path.posix.basename(key) || 'download';
  const ascii = name.replace(/[^\x20-\x7e]|["\\/;%]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}

const stream: Handler = (req) => serveSong(req, {});

const download: Handler = (req) => {
  const song = songOf(req);
  return serveSong(req, { 'Content-Disposition': attachment(song.key) });
};

/** A day: a cover never changes under its name (it is named by its content). */
const COVER_CACHE = 'private, max-age=86400';

const getCoverArt: Handler = async (req) => {
  const id = req.params.get('id');
  if (!id) throw missingParameter('id');
  const sizeParam = req.params.get('size');
  let size: number | undefined;
  if (sizeParam !== undefined && sizeParam !== '') {
    size = Number(sizeParam);
    if (!Number.isInteger(size) || size < 1 || size > 2048) throw badParameter('size', 'must be a whole number of pixels from 1 to 2048');
  }
  const source = coverSource(req.serve.index, id);
  const cover = source && (await coverBytes(req.serve, source));
  if (!cover) throw notFound('Cover art');
  const etag = `"${cover.name}-${size ?? 'full'}"`;
  const headers = new Headers({ 'Cache-Control': COVER_CACHE, ETag: etag });
  if (req.raw.headers.get('if-none-match') === etag) return new Response(null, { status: 304, headers });
  let data = cover.data;
  let mime = coverMime(cover.name);
  if (size !== undefined) {
    try {
      data = await sizedCover(req.serve.coversDir, cover.name, cover.data, size);
      mime = sizedMime(cover.name);
    } catch (err) {
      req.serve.log.warn({ cover: cover.name, err: (err as Error).message }, 'a cover could not be resized');
      throw notFound('Cover art');
    }
  }
  headers.set('Content-Type', mime);
  headers.set('Content-Length', String(data.length));
  return new Response(req.raw.method === 'HEAD' ? null : new Uint8Array(data), { status: 200, headers });
};

/** The media routes, merged into the server's table by server.ts. */
export const mediaRoutes: RouteTable = { stream, download, getCoverArt };
