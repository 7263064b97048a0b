/**
 * A collection's index: what a reader needs to know of another user's
 * Rekordbox collection without matching it again, stored beside each pushed
 * version (collection-keys.ts). It holds the playlist tree and, per track,
 * the library path (under `music/`) of the object that is that track's file.
 *
 * Matching (made once, by the pusher, who alone can read the files the XML
 * names): a Location is an absolute path on the machine that exported the
 * XML, whose root may not be the library root cratesync sees (exported on
 * Windows, a USB drive mounted elsewhere). Every way of splitting a Location
 * into root + rest is tried against the known paths; the roots that make the
 * most Locations land on known paths win, best first. What lands nowhere is
 * matched by file name and size, then by content hash (the pusher's file,
 * hashed, against the catalog). What still matches nothing is kept in the
 * index as unmatched, with its Location and why: listed, never dropped.
 */
import type { CollectionSummary, CollectionTrack, PlaylistNode } from './rekordbox/collection-reader.js';
import { nfc } from '../library/names.js';

export const INDEX_KIND = 'rekordbox-index';

/** How a track was matched to an object. */
export type MatchedBy = 'root' | 'name' | 'hash';

export interface IndexedTrack {
  /** TrackID in the XML. */
  id: string;
  /** Library path of the matched object (the key without `music/`), NFC. */
  path?: string;
  by?: MatchedBy;
  /** The Location as exported, decoded; kept for unmatched tracks only. */
  location?: string;
  /** Why a track matched nothing. */
  why?: string;
  size?: number;
  name?: string;
  artist?: string;
  /** Seconds. */
  time?: number;
}

export interface CollectionIndex {
  v: 1;
  kind: typeof INDEX_KIND;
  user: string;
  /** `user@machine` of the push. */
  writer: string;
  /** When it was pushed (ms since the epoch). */
  at: number;
  /**
   * The XML it indexes: its MD5 and size, and the ETag its current object got,
   * to tell whether the current object is still this version.
   */
  xml: { md5: string; size: number; etag?: string };
  /** The XML's roots that matched, best first. */
  roots: string[];
  tracks: IndexedTrack[];
  playlists: PlaylistNode;
}

/** What is known of the remote's music, for matching. */
export interface KnownPaths {
  /** Library paths of the objects under `music/` (NFC). */
  has(path: string): boolean;
  /** Paths whose file name (lower-cased, NFC) and size are these. */
  byNameSize(name: string, size: number): readonly string[];
  /** Paths of objects whose content MD5 is `md5`. */
  withMd5(md5: string): readonly string[];
  /** The path known under another letter case, for Locations from case-insensitive file systems. */
  folded(path: string): string | undefined;
}

/** Content MD5 of the file a Location names on the pusher's machine, when there is one. */
export type LocalMd5 = (location: string, roots: readonly string[]) => Promise<string | undefined>;

const isWindows = (p: string) => /^[A-Za-z]:\//.test(p);

/**
 * The places where `location` (NFC) splits into a root and a path below it
 * (the path at least a file name): the index of each '/' that may end a root.
 * Roots and rests are sliced only where one is wanted: a collection has tens
 * of thousands of Locations of several levels each.
 */
function cuts(location: string): number[] {
  const out: number[] = [];
  for (let i = location.indexOf('/'); i >= 0 && i < location.length - 1; i = location.indexOf('/', i + 1)) out.push(i);
  return out;
}

/** The known path `rest` names: exactly, or under another letter case when the Location is a Windows path. */
function known(k: KnownPaths, rest: string, windows: boolean): string | undefined {
  if (k.has(rest)) return rest;
  return windows ? k.folded(rest) : undefined;
}

/**
 * rankRoots counts, per root, the Locations that land on known paths below
 * it, and returns the roots that made any land, most first (ties: a root the
 * users registry names for the user, then the longer root, the more
 * specific).
 */
export function rankRoots(tracks: readonly CollectionTrack[], k: KnownPaths, hints: readonly string[] = []): string[] {
  const count = new Map<string, number>();
  for (const t of tracks) {
    if (!t.location) continue;
    const loc = nfc(t.location);
    const windows = isWindows(loc);
    for (const i of cuts(loc)) {
      if (known(k, loc.slice(i + 1), windows) === undefined) continue;
      const r = windows ? loc.slice(0, i).toLowerCase() : loc.slice(0, i);
      count.set(r, (count.get(r) ?? 0) + 1);
    }
  }
  const hinted = new Set(hints.map((h) => nfc(h).replace(/\/+$/, '')).flatMap((h) => [h, h.toLowerCase()]));
  const hint = (r: string) => (hinted.has(r) ? 1 : 0);
  return [...count.entries()].sort((a, b) => b[1] - a[1] || hint(b[0]) - hint(a[0]) || b[0].length - a[0].length).map(([r]) => r);
}

/** Common trailing path components of two '/'-paths: prefers, among same-named files, the one in the same folders. */
function sharedTail(a: string, b: string): number {
  const x = a.toLowerCase().split('/');
  const y = b.toLowerCase().split('/');
  let n = 0;
  while (n < x.length && n < y.length && x[x.length - 1 - n] === y[y.length - 1 - n]) n++;
  return n;
}

function best(candidates: readonly string[], location: string): string | undefined {
  let pick: string | undefined;
  let score = -1;
  for (const c of [...candidates].sort()) {
    const s = sharedTail(c, location);
    if (s > score) [pick, score] = [c, s];
  }
  return pick;
}

/**
 * matchTracks matches every track of `summary` to a known path (see the
 * file's comment) and returns the indexed tracks, in the XML's order, with
 * the ranked roots. Never throws for a track: one that matches nothing is
 * returned with `why`.
 */
export async function matchTracks(
  summary: Pick<CollectionSummary, 'tracks'>,
  k: KnownPaths,
  localMd5?: LocalMd5,
  /** The user's library roots from the users registry. */
  hints: readonly string[] = [],
): Promise<{ tracks: IndexedTrack[]; roots: string[] }> {
  const roots = rankRoots(summary.tracks, k, hints);
  const rank = new Map(roots.map((r, i) => [r, i]));
  const out: IndexedTrack[] = [];
  for (const t of summary.tracks) {
    const it: IndexedTrack = {
      id: t.id,
      ...(t.size !== undefined ? { size: t.size } : {}),
      ...(t.name ? { name: t.name } : {}),
      ...(t.artist ? { artist: t.artist } : {}),
      ...(t.totalTime !== undefined ? { time: t.totalTime } : {}),
    };
    out.push(it);
    if (!t.location) {
      it.why = t.locationError ?? 'no Location';
      continue;
    }
    const loc = nfc(t.location);
    const windows = isWindows(loc);
    let pick: { path: string; rank: number } | undefined;
    for (const i of cuts(loc)) {
      const root = loc.slice(0, i);
      const r = rank.get(windows ? root.toLowerCase() : root);
      if (r === undefined || (pick && pick.rank <= r)) continue;
      const path = known(k, loc.slice(i + 1), windows);
      if (path !== undefined) pick = { path, rank: r };
    }
    if (pick) {
      it.path = pick.path;
      it.by = 'root';
      continue;
    }
    const name = nfc(t.location.slice(t.location.lastIndexOf('/') + 1)).toLowerCase();
    const byName = t.size !== undefined ? best(k.byNameSize(name, t.size), t.location) : undefined;
    if (byName !== undefined) {
      it.path = byName;
      it.by = 'name';
      continue;
    }
    const md5 = localMd5 ? await localMd5(t.location, roots) : undefined;
    const byHash = md5 ? best(k.withMd5(md5), t.location) : undefined;
    if (byHash !== undefined) {
      it.path = byHash;
      it.by = 'hash';
      continue;
    }
    it.location = t.location;
    it.why = md5 || !localMd5 ? 'no object in the bucket is this file' : 'no object in the bucket is this file, and it is not on this machine to hash';
  }
  return { tracks: out, roots };
}

/** Playlists by path (`Sets/Peak Time`), for listing where a track is used. */
export function playlistPaths(root: PlaylistNode): Map<string, string[]> {
  const byTrack = new Map<string, string[]>();
  const visit = (n: PlaylistNode, at: string) => {
    if (n.type === 'folder') {
      for (const c of n.children) visit(c, at ? `${at}/${c.name}` : c.name);
      return;
    }
    for (const id of n.tracks) {
      const list = byTrack.get(id) ?? [];
      if (!list.includes(at)) list.push(at);
      byTrack.set(id, list);
    }
  };
  if (root.type === 'folder') for (const c of root.children) visit(c, c.name);
  else visit(root, root.name);
  return byTrack;
}
