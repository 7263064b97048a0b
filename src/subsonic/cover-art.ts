/**
 * Cover art for getCoverArt: which picture an id stands for, its bytes (the
 * local cover store, else the remote's `.cratesync/covers/`), and a resized
 * copy, cached. Names read from the catalog are untrusted: only
 * well-formed cover names (core/cover-name.ts) become paths or keys, and
 * bytes from the remote must hash to their name.
 */
import path from 'node:path';
import type { ServeContext } from './route-types.js';
import type { IndexedAlbum, SubsonicIndex } from '../state/subsonic-index.js';
import { idKind } from '../core/subsonic-ids.js';
import { COVERS_PREFIX, coverName, isCoverName } from '../core/cover-name.js';
import { readCover, storeCover } from '../library/cover-store.js';
import { MUSIC_PREFIX } from '../sync/layout.js';
import { describe, NotFoundError } from '../errors.js';

/** A picture read from the remote larger than this is refused: it is untrusted, and held in memory. */
export const MAX_REMOTE_COVER = 16 * 1024 * 1024;
/** Decoding an untrusted image stops past this many pixels (a small file may claim a huge canvas). */
const MAX_INPUT_PIXELS = 50_000_000;

/** Where an id's picture is: an embedded cover by name, or an image object by key. */
export type CoverSource = { name: string } | { key: string };

/**
 * coverSource finds the picture of `id`: an album's embedded cover, else
 * the image in its folder; a song's own cover, else its album's; an
 * artist's through the album the index picked for them. Undefined for
 * anything else (no such id, no picture).
 */
export function coverSource(index: SubsonicIndex, id: string): CoverSource | undefined {
  switch (idKind(id)) {
    case 'song': {
      const song = index.song(id);
      if (!song) return undefined;
      return isCoverName(song.cover) ? { name: song.cover } : albumCover(index, index.album(song.albumId));
    }
    case 'album':
      return albumCover(index, index.album(id));
    case 'artist': {
      const albumId = index.artist(id)?.coverAlbumId;
      return albumId ? albumCover(index, index.album(albumId)) : undefined;
    }
    default:
      return undefined;
  }
}

function albumCover(index: SubsonicIndex, album: IndexedAlbum | undefined): CoverSource | undefined {
  if (!album) return undefined;
  if (isCoverName(album.cover)) return { name: album.cover };
  const key = album.image ?? index.folderImage(album.folder);
  return key !== undefined && isImageKey(key) ? { key } : undefined;
}

/** An image object of the music tree (never a key elsewhere, never a path that climbs). */
function isImageKey(key: string): boolean {
  return key.startsWith(MUSIC_PREFIX) && !key.split('/').some((p) => p === '' || p === '.' || p === '..') && /\.(jpe?g|png|gif|webp)$/i.test(key);
}

/**
 * coverBytes reads the picture of `source` and its content name: an
 * embedded cover from the local store, else from the remote (bounded,
 * checked against its name, and kept in the store); a folder image from
 * the remote (bounded). Undefined when there is none to be had: missing,
 * too large, not an image of a kept format, or not what its name says.
 */
export async function coverBytes(serve: ServeContext, source: CoverSource): Promise<{ name: string; data: Buffer } | undefined> {
  if ('name' in source) {
    const local = await readCover(serve.coversDir, source.name);
    if (local) return { name: source.name, data: local };
    const data = await boundedRead(serve, COVERS_PREFIX + source.name);
    if (!data) return undefined;
    if (coverName(data) !== source.name) {
      serve.log.warn({ cover: source.name }, 'a cover on the remote does not hash to its name: not served');
      return undefined;
    }
    await storeCover(serve.coversDir, source.name, data).catch((err: unknown) => serve.log.warn({ err: describe(err) }, 'cover not kept locally'));
    return { name: source.name, data };
  }
  const data = await boundedRead(serve, source.key);
  const name = data && coverName(data);
  return data && name ? { name, data } : undefined;
}

/** boundedRead reads `key` unless it is missing or larger than MAX_REMOTE_COVER. */
async function boundedRead(serve: ServeContext, key: string): Promise<Buffer | undefined> {
  try {
    const st = await serve.remote.stat(key);
    if (st.size > MAX_REMOTE_COVER) {
      serve.log.warn({ key, size: st.size }, 'a picture on the remote is too large to serve');
      return undefined;
    }
    const data = await serve.remote.read(key);
    return data.length > MAX_REMOTE_COVER ? undefined : data;
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

type Sharp = typeof import('sharp');
let sharpModule: Promise<Sharp> | undefined;

/**
 * sizedCover gives cover `name` fitted inside `size`×`size` (never
 * enlarged): a PNG stays PNG, anything else becomes JPEG. Cached at
 * `<coversDir>/sized/<size>/<name>`, so a size is computed once per cover.
 * Rejects when the bytes cannot be decoded (or claim too many pixels).
 */
export async function sizedCover(coversDir: string, name: string, data: Buffer, size: number): Promise<Buffer> {
  const dir = path.join(coversDir, 'sized', String(size));
  const cached = await readCover(dir, name);
  if (cached) return cached;
  sharpModule ??= import('sharp').then((m) => {
    // Resized covers are cached as files: sharp's own cache of decoded images would only hold memory.
    m.default.cache(false);
    return m;
  });
  const sharp = (await sharpModule).default;
  const img = sharp(data, { limitInputPixels: MAX_INPUT_PIXELS }).rotate().resize(size, size, { fit: 'inside', withoutEnlargement: true });
  const out = await (name.endsWith('.png') ? img.png() : img.jpeg({ quality: 85 })).toBuffer();
  await storeCover(dir, name, out);
  return out;
}

/** The MIME type of a sized cover (see sizedCover). */
export function sizedMime(name: string): string {
  return name.endsWith('.png') ? 'image/png' : 'image/jpeg';
}
