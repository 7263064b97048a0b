/**
 * The crew as the dashboard shows it: every user sharing the remote (from the
 * users registry, their collections, their playlists and what they wrote to
 * `music/`), with their machines, collections, playlists (and how many of
 * each playlist's tracks this library lacks) and what of theirs this library
 * lacks. Everything read from the bucket is untrusted: the registry, the
 * collection indexes and the playlists are read with their own checks and
 * bounds, and what fails them is a problem, never part of the answer.
 */
import type { Remote } from '../remote/remote.js';
import type { Problem } from '../core/problem.js';
import type { Db } from '../state/state-db.js';
import type { FileIndex } from '../state/file-index.js';
import type { PlaylistMirror, PlaylistObject } from '../state/remote-playlists.js';
import { lackingByWriter, indexedAmong } from '../state/crew-stats.js';
import { readRegistry } from './user-registry.js';
import { collectionUsers, isUserName, listVersions, type CollectionVersion } from './collection-keys.js';
import { readIndex } from './collection-store.js';
import { readPlaylist, versionOf } from './playlist-pull.js';
import { MUSIC_PREFIX, PLAYLISTS_PREFIX } from '../sync/layout.js';
import { forEachLimit } from '../core/concurrency.js';
import { describe } from '../errors.js';

export interface CrewUser {
  name: string;
  machines: Array<{ id: string; host?: string; lastSeen: number; version?: string }>;
  collections: Array<{ key: string; tracks: number; updatedAt?: number }>;
  playlists: Array<{ name: string; tracks: number; missing: number }>;
  /** Objects this user wrote to music/ that the library lacks. */
  lacking: { files: number; bytes: number };
}

/** What the crew view reads the bucket again for only when it changed: playlists' entries and collections' track counts. */
export class CrewCache {
  /** Playlist key → its version, its entries' library paths and the problems its reading found (told again on each view). */
  readonly playlists = new Map<string, { version: string; paths: string[]; problems: Problem[] }>();
  /** Collection index key → its track count and push time (a kept version's index never changes). */
  readonly indexes = new Map<string, { tracks: number; at: number }>();
}

/** Objects read at once. */
const READ_AHEAD = 8;

export interface CrewContext {
  remote: Remote;
  db: Db;
  index: FileIndex;
  /** The mirror of the remote's playlists (refreshed by the service's runs). */
  playlists: PlaylistMirror;
  cache: CrewCache;
}

/** A playlist object's user folder and name (`playlists/<user>/<name>.m3u8`); undefined for another key. */
export function playlistOwner(o: Pick<PlaylistObject, 'key' | 'playlist'>): { user: string; name: string } | undefined {
  if (!o.key.startsWith(PLAYLISTS_PREFIX) || !o.key.endsWith('.m3u8')) return undefined;
  const rest = o.key.slice(PLAYLISTS_PREFIX.length, -'.m3u8'.length);
  const slash = rest.indexOf('/');
  if (slash <= 0 || slash === rest.length - 1) return undefined;
  return { user: rest.slice(0, slash), name: o.playlist?.name ?? rest.slice(slash + 1) };
}

/** The user of a writer `user@machine`. */
function userOf(writer: string): string {
  const at = writer.lastIndexOf('@');
  return at > 0 ? writer.slice(0, at) : writer;
}

/**
 * crewView gathers the users of the remote, sorted by name (see the top).
 * Problems with one object go to `problems`; rejects only when the remote
 * cannot be listed.
 */
export async function crewView(ctx: CrewContext, problems: Problem[], signal?: AbortSignal): Promise<CrewUser[]> {
  const users = new Map<string, CrewUser>();
  const user = (name: string): CrewUser => {
    let u = users.get(name);
    if (!u) users.set(name, (u = { name, machines: [], collections: [], playlists: [], lacking: { files: 0, bytes: 0 } }));
    return u;
  };
  for (const entry of await readRegistry(ctx.remote, problems, signal)) {
    user(entry.name).machines = entry.machines.map((m) => ({ id: m.id, lastSeen: Date.parse(m.lastSeen), ...(m.version ? { version: m.version } : {}) }));
  }
  await addCollections(ctx, user, problems, signal);
  await addPlaylists(ctx, user, problems, signal);
  ctx.index.flush();
  for (const l of lackingByWriter(ctx.db, ctx.remote.url, MUSIC_PREFIX)) {
    if (l.writer === null || !isUserName(userOf(l.writer))) continue;
    const u = user(userOf(l.writer));
    u.lacking.files += l.files;
    u.lacking.bytes += l.bytes;
  }
  return [...users.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Each user's current collection, with the track count of its newest kept version's index when there is one (else 0). */
async function addCollections(ctx: CrewContext, user: (name: string) => CrewUser, problems: Problem[], signal?: AbortSignal): Promise<void> {
  const current = await collectionUsers(ctx.remote, signal);
  const newest = new Map<string, CollectionVersion>();
  for (const v of await listVersions(ctx.remote, undefined, signal)) if (v.index) newest.set(v.user, v);
  await forEachLimit(
    [...current],
    READ_AHEAD,
    async ([name, c]) => {
      const v = newest.get(name);
      let counted = v?.index ? ctx.cache.indexes.get(v.index) : undefined;
      if (v?.index && !counted) {
        try {
          const index = await readIndex(ctx.remote, v);
          counted = { tracks: index.tracks.length, at: index.at };
          ctx.cache.indexes.set(v.index, counted);
        } catch (err) {
          signal?.throwIfAborted();
          problems.push({ path: v.index, message: describe(err) });
        }
      }
      const updatedAt = counted?.at ?? c.mtime?.getTime();
      user(name).collections.push({ key: c.key, tracks: counted?.tracks ?? 0, ...(updatedAt !== undefined ? { updatedAt } : {}) });
    },
    signal,
  );
}

/** Each user's playlists, from the playlist mirror, with how many of their entries the library lacks. */
async function addPlaylists(ctx: CrewContext, user: (name: string) => CrewUser, problems: Problem[], signal?: AbortSignal): Promise<void> {
  const owned = ctx.playlists.all().flatMap((o) => {
    const owner = playlistOwner(o);
    return owner && isUserName(owner.user) ? [{ o, ...owner }] : [];
  });
  const live = new Set(owned.map((p) => p.o.key));
  for (const key of ctx.cache.playlists.keys()) if (!live.has(key)) ctx.cache.playlists.delete(key);
  const found: Array<{ user: string; name: string; tracks: number; missing: number }> = [];
  await forEachLimit(
    owned,
    READ_AHEAD,
    async ({ o, user: u, name }) => {
      const paths = await entriesOf(ctx, o, problems, signal);
      if (!paths) {
        found.push({ user: u, name, tracks: o.playlist?.tracks ?? 0, missing: 0 });
        return;
      }
      ctx.index.flush();
      const have = indexedAmong(ctx.db, paths);
      found.push({ user: u, name, tracks: paths.length, missing: paths.filter((p) => !have.has(p)).length });
    },
    signal,
  );
  found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const f of found) user(f.user).playlists.push({ name: f.name, tracks: f.tracks, missing: f.missing });
}

/**
 * entriesOf is the library paths playlist `o` lists: read again only when
 * its version changed (an object the mirror knows no version of is read each time).
 */
export async function entriesOf(ctx: Pick<CrewContext, 'remote' | 'cache'>, o: PlaylistObject, problems: Problem[], signal?: AbortSignal): Promise<string[] | undefined> {
  const version = versionOf(o);
  const known = ctx.cache.playlists.get(o.key);
  if (known && version !== undefined && known.version === version) {
    // An entry refused when the playlist was read stays refused: every view says so, not only the first.
    problems.push(...known.problems);
    return known.paths;
  }
  const found: Problem[] = [];
  const entries = await readPlaylist(ctx.remote, o.key, found, signal);
  problems.push(...found);
  if (!entries) return undefined;
  const paths = entries.map((e) => e.path);
  if (version !== undefined) ctx.cache.playlists.set(o.key, { version, paths, problems: found });
  return paths;
}
