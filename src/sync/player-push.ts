/**
 * Publishing what the attached players know to a remote, after the engine
 * has sent their files: each song's metadata (the player's tags, rating,
 * play count) into the catalog beside its object, and each playlist as an
 * M3U8 under `playlists/<user>/`. What was published is recorded per remote
 * (player_published), so only what changed since goes out; a song whose
 * file is not on the remote yet waits for the run that sends it.
 *
 * Smart playlists with a rule are evaluated here, over the songs the state
 * holds, every time: no trigger sees every change that moves a song in or
 * out of one, and an evaluation that gives the same list publishes nothing.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Remote } from '../remote/remote.js';
import type { LibrarySession } from './library-session.js';
import type { Problem } from '../core/problem.js';
import type { PlayerMeta } from '../core/tags.js';
import type { M3uEntry } from '../core/m3u8.js';
import type { PlayerSong, SmartRule } from '../player/player-model.js';
import { PlayerState, type StoredPlaylist, type StoredSong } from '../state/player-state.js';
import { storedSong } from '../player/player-intake.js';
import { evaluateRule, stableRandom } from '../player/smart-rule.js';
import { publishPlayerMetas } from './player-meta.js';
import { putPlaylist, removePlaylist } from './playlist-publish.js';
import { describe } from '../errors.js';

export interface PlayerPush {
  /** Songs whose metadata reached the catalog. */
  meta: number;
  /** Songs whose metadata waits for their file to reach the remote. */
  waiting: number;
  /** Of those, songs whose file is not in the library at all (the player lists a file that is gone). */
  missing: number;
  /** Playlists uploaded (new, changed or renamed) and moved to the remote trash. */
  playlistsPut: number;
  playlistsRemoved: number;
  problems: Problem[];
}

/** metaOf is what the catalog keeps of a song from player `source`. */
export function metaOf(source: string, s: Omit<PlayerSong, 'id' | 'path'>): PlayerMeta {
  const { rating, playCount, lastPlayed, addedAt: _added, ...tags } = s as PlayerSong;
  const { id: _id, path: _path, ...rest } = tags;
  const meta: PlayerMeta = { source, tags: rest };
  if (rating !== undefined) meta.rating = rating;
  if (playCount !== undefined) meta.playCount = playCount;
  if (lastPlayed !== undefined) meta.lastPlayed = lastPlayed;
  return meta;
}

/**
 * pushPlayers publishes to `remote` what changed in the players' state since
 * the last publish to it, as `user`, then writes the catalog log. A playlist
 * that fails is a problem; the rest goes on. Rejects only when the catalog
 * log cannot be written: songs' metadata not in a log written goes out with
 * the next push, and playlists' entries stay pending.
 */
export async function pushPlayers(session: LibrarySession, remote: Remote, user: string, signal?: AbortSignal): Promise<PlayerPush> {
  const state = new PlayerState(session.db);
  const { catalog } = session.forRemote(remote);
  const out: PlayerPush = { meta: 0, waiting: 0, missing: 0, playlistsPut: 0, playlistsRemoved: 0, problems: [] };

  const rows = state.unpublishedSongs(remote.url);
  const items = rows.map((s) => ({ path: s.local, meta: metaOf(s.player, JSON.parse(s.meta) as PlayerSong) }));
  // What was published is noted in the commit that records its log.
  const results = await publishPlayerMetas(catalog, items, {
    settled: (done) => state.transaction(() => done.forEach((n) => state.markPublished(remote.url, 'song', rows[n]!.local, rows[n]!.digest))),
    ...(signal ? { signal } : {}),
  });
  const unknown = rows.filter((_, n) => results[n] === 'unknown').map((s) => s.local);
  out.meta = results.filter((r) => r === 'published').length;
  out.waiting = unknown.length;
  for (const local of unknown) if (!(await exists(join(session.root, ...local.split('/'))))) out.missing++;

  const ctx = { remote, catalog, user };
  const published = new Map(state.publishedPlaylists(remote.url).map((p) => [p.ref, p]));
  const live = new Set<string>();
  const taken = new Map<string, string>(); // remote name → ref holding it
  for (const p of published.values()) if (p.name !== undefined) taken.set(p.name, p.ref);
  for (const player of state.list()) {
    // Every song is read only for a smart playlist with a rule; the others need their own songs alone.
    let songs: StoredSong[] | undefined;
    let all: PlayerSong[] | undefined;
    const allSongs = () => (songs ??= state.songs(player.name));
    const lists = state.playlists(player.name);
    // A playlist that only holds others (a folder in the player's tree) is no playlist of its own.
    const folders = new Set(lists.flatMap((l) => l.name.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))));
    for (const list of lists) {
      signal?.throwIfAborted();
      const ref = `${player.name}:${list.id}`;
      if (!list.smart && list.paths.length === 0 && folders.has(list.name)) continue;
      live.add(ref);
      const paths = list.rule ? evaluateRule(JSON.parse(list.rule) as SmartRule, (all ??= allSongs().map(storedSong)), Date.now(), stableRandom(ref)) : list.paths;
      const byPath = new Map((songs ?? state.songsByPath(player.name, paths)).map((s) => [s.path, s]));
      const left: Problem[] = [];
      const entries = playlistEntries(paths, byPath, list, left);
      const digest = digestOf(list, entries);
      const before = published.get(ref);
      // What was left out is said when the playlist goes out, not on every run after (a run with nothing to do succeeds).
      if (before?.digest === digest) continue;
      out.problems.push(...left);
      // Two players' playlists of one name: the later one is told apart by its player.
      let name = list.name;
      const holder = taken.get(name);
      if (holder !== undefined && holder !== ref) name = `${list.name} (${player.name})`;
      try {
        await putPlaylist(ctx, { name, player: player.name, smart: list.smart, ...(list.position !== undefined ? { position: list.position } : {}), entries }, before?.name);
        if (before?.name !== undefined && before.name !== name) taken.delete(before.name);
        taken.set(name, ref);
        state.markPublished(remote.url, 'playlist', ref, digest, name);
        out.playlistsPut++;
      } catch (err) {
        if (signal?.aborted) throw err;
        out.problems.push({ path: list.name, message: `${player.name} playlist not published: ${describe(err)}` });
      }
    }
  }
  // Playlists deleted in their player (not those of a detached player: detaching keeps what was published).
  const attached = new Set(state.list().map((p) => p.name));
  for (const p of published.values()) {
    const player = p.ref.slice(0, p.ref.indexOf(':'));
    if (live.has(p.ref) || !attached.has(player) || p.name === undefined) continue;
    try {
      if (await removePlaylist(ctx, p.name)) out.playlistsRemoved++;
      state.forgetPublished(remote.url, 'playlist', p.ref);
    } catch (err) {
      if (signal?.aborted) throw err;
      out.problems.push({ path: p.name, message: `${player} playlist not moved to trash: ${describe(err)}` });
    }
  }
  // The log only: a snapshot of the whole catalog is left to the next run, so an edit is seen at once.
  if (catalog.pendingCount() > 0) await catalog.publish(signal, { snapshot: false });
  return out;
}

/** The M3U8 entries of a playlist's songs (paths relative to `music/`); a song outside the library is left out, and said. */
function playlistEntries(paths: readonly string[], byPath: Map<string, { local?: string; meta: string }>, list: StoredPlaylist, problems: Problem[]): M3uEntry[] {
  const entries: M3uEntry[] = [];
  let outside = 0;
  for (const p of paths) {
    const s = byPath.get(p);
    if (s?.local === undefined) {
      outside++;
      continue;
    }
    const m = JSON.parse(s.meta) as Partial<PlayerSong>;
    entries.push({
      path: s.local,
      ...(m.durationSec !== undefined ? { durationSec: m.durationSec } : {}),
      ...(m.artist !== undefined ? { artist: m.artist } : {}),
      ...(m.title !== undefined ? { title: m.title } : {}),
    });
  }
  if (outside > 0) problems.push({ path: list.name, message: `${outside} of its songs are not in the library (or not in the player); left out of the playlist` });
  return entries;
}

function digestOf(list: StoredPlaylist, entries: readonly M3uEntry[]): string {
  return createHash('sha256')
    .update(JSON.stringify({ name: list.name, smart: list.smart, position: list.position ?? null, entries }))
    .digest('hex');
}

const exists = (abs: string): Promise<boolean> => stat(abs).then(
  () => true,
  () => false,
);
