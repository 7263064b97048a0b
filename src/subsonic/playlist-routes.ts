/**
 * Playlists through the Subsonic server: the remote's M3U8 objects
 * (`playlists/<user>/<name>.m3u8`, see sync/playlist-publish.ts) as the
 * catalog's playlist mirror knows them, every crew member's, all public.
 * Those of the server's crew user (ServeContext.crewUser) can be created,
 * changed and deleted, written back as M3U8 the way a player's push writes
 * them (deleted ones go to the remote trash, whence `cratesync trash
 * restore` brings them back); anyone else's is read-only (error 50). Each
 * change starts from the catalog's latest word (ServeContext.refresh) and
 * is published to its log at once, so that every machine sees it.
 *
 * An M3U8 entry is a path under `music/`; one the catalog has no song for
 * (not uploaded yet, removed since) is not shown, but stays in the object
 * when the playlist is changed: indexes a client sends (songIndexToRemove)
 * count the songs it was shown. A playlist's `comment` and `public` are not
 * kept (the catalog has no place for them; every playlist is public to the
 * crew), and getPlaylists says duration 0 (it would need every M3U8 read).
 */
import type { Handler, RouteTable, ServeContext, SubsonicBody } from './route-types.js';
import type { IndexedSong } from '../state/subsonic-index.js';
import type { M3uEntry } from '../core/m3u8.js';
import type { Problem } from '../core/problem.js';
import type { PlaylistContext, PlaylistInfo } from '../sync/playlist-publish.js';
import { listPlaylists, playlistKey, putPlaylist, removePlaylist } from '../sync/playlist-publish.js';
import { readPlaylist, type PlaylistEntry } from '../share/playlist-pull.js';
import { fileName } from '../library/names.js';
import { musicKey, MUSIC_PREFIX } from '../sync/layout.js';
import { idKind, subsonicId } from '../core/subsonic-ids.js';
import { badParameter, missingParameter, notFound, SubsonicCode, SubsonicError } from './api-error.js';
import { serially } from './serial.js';
import { required } from './params.js';
import { songsOf } from './song-lookup.js';
import { songChild } from './child.js';

/** What a playlist written through the server says it came from (PlaylistMeta.player). */
export const SUBSONIC_PLAYER = 'subsonic';
/** The longest name a playlist may be given (a key part is at most 200 bytes anyway). */
const MAX_NAME = 200;

const getPlaylists: Handler = ({ params, serve }) => {
  const user = params.get('username');
  const lists = listPlaylists(serve.catalog).filter((p) => user === undefined || p.user === fileName(user));
  return { playlists: { playlist: lists.map((p) => playlistOf(serve, p, p.tracks ?? 0, 0)) } };
};

const getPlaylist: Handler = async ({ params, serve, raw }) => {
  const info = find(serve, required(params, 'id'));
  const { songs } = await readSongs(serve, info, raw.signal);
  return withSongs(serve, info, songs.filter((s): s is IndexedSong => s !== undefined));
};

const createPlaylist: Handler = (req) =>
  serially(req.serve, async () => {
    const { params, serve } = req;
    await serve.refresh();
    const add = songsOf(serve, params.all('songId'));
    const id = params.get('playlistId');
    if (id !== undefined && id !== '') {
      // The older form: replaces the songs of an existing playlist.
      const info = find(serve, id);
      const meta = mayChange(serve, info);
      await write(serve, info, { ...meta, entries: add.map(entryOf) });
      return withSongs(serve, { ...info, tracks: add.length, when: Date.now() }, add);
    }
    const name = nameOf(required(params, 'name'));
    const key = playlistKey(serve.crewUser, name);
    if (serve.catalog.playlists.get(key)) throw new SubsonicError(SubsonicCode.generic, 'A playlist of that name exists already');
    await putPlaylist(context(serve), { name, player: SUBSONIC_PLAYER, smart: false, entries: add.map(entryOf) });
    await serve.catalog.publish(undefined, { snapshot: false });
    const info = listPlaylists(serve.catalog).find((p) => p.key === key);
    if (!info) throw new Error(`playlist ${key} not in the catalog after its put`);
    return withSongs(serve, info, add);
  });

const updatePlaylist: Handler = (req) =>
  serially(req.serve, async () => {
    const { params, serve, raw } = req;
    await serve.refresh();
    const info = find(serve, required(params, 'playlistId'));
    const meta = mayChange(serve, info);
    const rename = params.get('name');
    const add = songsOf(serve, params.all('songIdToAdd'));
    const remove = params.all('songIndexToRemove').map((s) => {
      if (!/^\d{1,9}$/.test(s)) throw badParameter('songIndexToRemove', 'is not an index (0, 1, 2…)');
      return Number(s);
    });
    const name = rename !== undefined && rename !== '' ? nameOf(rename) : meta.name;
    if (add.length === 0 && remove.length === 0 && name === meta.name) return {};
    const key = playlistKey(serve.crewUser, name);
    if (key !== info.key && serve.catalog.playlists.get(key)) throw new SubsonicError(SubsonicCode.generic, 'A playlist of that name exists already');
    const { entries, songs } = await readSongs(serve, info, raw.signal);
    // Indexes count the songs the client was shown: those the catalog has.
    const shown = songs.flatMap((s, n) => (s ? [n] : []));
    const drop = new Set<number>();
    for (const i of remove) {
      const n = shown[i];
      if (n === undefined) throw badParameter('songIndexToRemove', `is past the playlist's end (${shown.length} songs)`);
      drop.add(n);
    }
    const kept: M3uEntry[] = entries.filter((_, n) => !drop.has(n));
    await write(serve, info, { ...meta, name, entries: [...kept, ...add.map(entryOf)] });
    return {};
  });

const deletePlaylist: Handler = (req) =>
  serially(req.serve, async () => {
    const { params, serve } = req;
    await serve.refresh();
    const info = find(serve, required(params, 'id'));
    const meta = mayChange(serve, info);
    if (!(await removePlaylist(context(serve), meta.name))) throw notFound('Playlist');
    await serve.catalog.publish(undefined, { snapshot: false });
    return {};
  });

export const playlistRoutes: RouteTable = { getPlaylists, getPlaylist, createPlaylist, updatePlaylist, deletePlaylist };

// ---- helpers ----

function nameOf(name: string): string {
  const n = name.normalize('NFC').trim();
  if (n === '') throw missingParameter('name');
  if (n.length > MAX_NAME) throw badParameter('name', `is longer than ${MAX_NAME} characters`);
  if (/[\u0000-\u001f\u007f]/.test(n)) throw badParameter('name', 'holds a control character');
  return n;
}

function context(serve: ServeContext): PlaylistContext {
  return { remote: serve.remote, catalog: serve.catalog, user: serve.crewUser };
}

/** The playlist of `id`, from the mirror; notFound for anything else (ids are never looked up as keys). */
function find(serve: ServeContext, id: string): PlaylistInfo {
  if (idKind(id) !== 'playlist') throw notFound('Playlist');
  const info = listPlaylists(serve.catalog).find((p) => subsonicId('playlist', p.key) === id);
  if (!info) throw notFound('Playlist');
  return info;
}

/** True when the server's crew user may change playlist `info`: theirs, not smart, and at the key its name gives. */
function writable(serve: ServeContext, info: PlaylistInfo): boolean {
  return info.user === fileName(serve.crewUser) && info.smart !== true && playlistKey(serve.crewUser, info.name) === info.key;
}

/** What of `info` a rewrite keeps (its name, player and place); error 50 when the crew user may not change it. */
function mayChange(serve: ServeContext, info: PlaylistInfo): { name: string; player: string; smart: false; position?: number } {
  if (info.user !== fileName(serve.crewUser)) throw new SubsonicError(SubsonicCode.notAuthorized, "Only the server's own user's playlists can be changed");
  if (info.smart === true) throw new SubsonicError(SubsonicCode.notAuthorized, "A smart playlist's songs are chosen by its player: it cannot be changed here");
  if (!writable(serve, info)) throw new SubsonicError(SubsonicCode.notAuthorized, 'This playlist was written by another tool under a name the server cannot write back');
  const position = serve.catalog.playlists.get(info.key)?.playlist?.position;
  return { name: info.name, player: info.player ?? SUBSONIC_PLAYER, smart: false, ...(position !== undefined ? { position } : {}) };
}

/** Puts the playlist's new content (under its new name, the old object to the trash on a rename) and publishes it. */
async function write(serve: ServeContext, info: PlaylistInfo, p: { name: string; player: string; smart: false; position?: number; entries: M3uEntry[] }): Promise<void> {
  await putPlaylist(context(serve), p, info.name);
  await serve.catalog.publish(undefined, { snapshot: false });
}

/** The M3U8 entry of a song: its path under music/, with what the M3U8 shows of it. */
function entryOf(s: IndexedSong): M3uEntry {
  return {
    path: s.key.slice(MUSIC_PREFIX.length),
    ...(s.durationSec !== undefined ? { durationSec: s.durationSec } : {}),
    ...(s.artist ? { artist: s.artist } : {}),
    ...(s.title ? { title: s.title } : {}),
  };
}

/**
 * Reads playlist `info`'s M3U8 (bounded and checked as a pull reads it) and
 * finds each entry's song; undefined where the catalog has none. Error 0
 * when the object cannot be read or used (the log says why).
 */
async function readSongs(serve: ServeContext, info: PlaylistInfo, signal?: AbortSignal): Promise<{ entries: PlaylistEntry[]; songs: Array<IndexedSong | undefined> }> {
  const problems: Problem[] = [];
  const entries = await readPlaylist(serve.remote, info.key, problems, signal);
  if (problems.length > 0) serve.log.warn({ playlist: info.key, problems }, 'playlist entries left out');
  if (!entries) throw new SubsonicError(SubsonicCode.generic, 'The playlist could not be read');
  const songs = serve.index.songsByKeys(entries.map((e) => musicKey(e.path)));
  const missing = songs.filter((s) => s === undefined).length;
  if (missing > 0) serve.log.debug({ playlist: info.key, missing }, 'playlist entries with no song in the catalog not shown');
  return { entries, songs };
}

function withSongs(serve: ServeContext, info: PlaylistInfo, songs: readonly IndexedSong[]): SubsonicBody {
  const duration = songs.reduce((t, s) => t + Math.round(s.durationSec ?? 0), 0);
  return { playlist: { ...playlistOf(serve, info, songs.length, duration), entry: songs.map(songChild) } };
}

/** A Playlist payload. created/changed: when its object was written (the catalog keeps no creation time). */
function playlistOf(serve: ServeContext, p: PlaylistInfo, songCount: number, duration: number): SubsonicBody {
  const when = new Date(p.when ?? 0).toISOString();
  return {
    id: subsonicId('playlist', p.key),
    name: p.name,
    owner: p.user,
    public: true,
    songCount,
    duration,
    created: when,
    changed: when,
    readonly: !writable(serve, p),
  };
}
