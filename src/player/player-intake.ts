/**
 * Taking what changed in the attached players into cratesync's state. For a
 * player with an SQLite database: check that its triggers are all there
 * (repairing and reconciling when a player upgrade or a replaced database
 * took them), take its queue, read just those songs and playlists, compare
 * them with what the state kept, record the differences, and only then
 * acknowledge the queue (a crash in between reads the changes again, and
 * the comparison makes that harmless). For an XML library: read it whole
 * when its files changed, and compare. The player's database is opened,
 * read in short transactions and closed again before any network work.
 */
import { stat } from 'node:fs/promises';
import { isAbsolute, relative, sep } from 'node:path';
import type { Problem } from '../core/problem.js';
import type { PlayerPlaylist, PlayerSnapshot, PlayerSong } from './player-model.js';
import type { SqlitePlayerAdapter } from './sqlite-adapter.js';
import type { XmlPlayerAdapter } from './xml-adapter.js';
import { PlayerState, type AttachedPlayer, type StoredPlaylist, type StoredSong } from '../state/player-state.js';
import type { Db } from '../state/state-db.js';
import { adapterOf } from './adapters.js';
import { openPlayerDb, withBusyRetry } from './player-db.js';
import { ackChanges, attachQueue, queueHealth, repairQueue, takeChanges } from './player-queue.js';
import { mapPlayerPath } from './path-map.js';
import { nfc } from '../library/names.js';
import { describe } from '../errors.js';

/** What one player's intake found. */
export interface Intake {
  player: string;
  /** Library paths of songs added, moved or removed: the engine looks at these files. */
  paths: string[];
  /** Songs whose fields changed (their metadata to publish; smart playlists to evaluate again). */
  songs: number;
  /** Playlists added, changed or removed. */
  playlists: number;
  /** True when the whole library was read (attach, repair, an XML library's new version). */
  whole: boolean;
  /** What the check found and did, when it was not simply healthy: `triggers lost (a player upgrade?): re-attached`. */
  repaired?: string;
  problems: Problem[];
}

export interface IntakeOptions {
  /** Read every player whole (a periodic reconcile). A player never read before is always read whole (the initial sync). */
  whole?: boolean;
  /** Check each SQLite player's triggers first (at service start and periodically). */
  check?: boolean;
  /** Only these players. */
  names?: readonly string[];
  now?: number;
}

/** The fields of a song kept as its meta: everything but its id and path, in a fixed order (compared as text). */
export function songMeta(s: PlayerSong): string {
  const { id: _id, path: _path, ...rest } = s;
  const keys = Object.keys(rest).sort() as Array<keyof typeof rest>;
  return JSON.stringify(Object.fromEntries(keys.filter((k) => rest[k] !== undefined).map((k) => [k, rest[k]])));
}

/** The song kept in the state, as the player said it. */
export function storedSong(s: StoredSong): PlayerSong {
  return { ...(JSON.parse(s.meta) as Omit<PlayerSong, 'id' | 'path'>), id: s.id, path: s.path };
}

/**
 * localPath is the library path (NFC, '/') of the player's path `p` on this
 * machine, or undefined when it lies outside `root` (or cannot be mapped).
 */
export function localPath(p: string, root: string, maps: AttachedPlayer['maps']): string | undefined {
  const abs = mapPlayerPath(p, maps);
  if (abs === undefined) return undefined;
  const rel = relative(root, abs);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return undefined;
  return nfc(sep === '\\' ? rel.replace(/\\/g, '/') : rel);
}

/**
 * takeIntake takes the changes of every attached player (or `o.names`) into
 * `db`'s player state, for the library at `root`. Never throws for one
 * player: what went wrong is its problem, and the others go on.
 */
export async function takeIntake(db: Db, root: string, o: IntakeOptions = {}): Promise<Intake[]> {
  const state = new PlayerState(db);
  const out: Intake[] = [];
  for (const p of state.list()) {
    if (o.names && !o.names.includes(p.name)) continue;
    const intake: Intake = { player: p.name, paths: [], songs: 0, playlists: 0, whole: false, problems: [] };
    const first = p.lastSync === undefined && p.lastChange === undefined;
    try {
      const adapter = adapterOf(p.name);
      const oo = first ? { ...o, whole: true } : o;
      if (adapter.kind === 'sqlite') await sqliteIntake(state, p, adapter, root, oo, intake);
      else await xmlIntake(state, p, adapter, root, oo, intake);
      // A whole read says every problem there is; a partial one adds to them.
      const problems = intake.whole ? intake.problems : mergeProblems(p.problems, intake.problems);
      state.update(p.name, {
        // A repair stays said (with when) until the next one; an error or a missing database clears once read again.
        health: intake.repaired || p.health === 'repaired' ? 'repaired' : 'ok',
        problems,
        ...(intake.repaired ? { note: `${new Date(o.now ?? Date.now()).toISOString()}: ${intake.repaired}` } : p.health === 'repaired' ? {} : { note: '' }),
        ...(o.check ? { lastCheck: o.now ?? Date.now() } : {}),
        ...(first || intake.songs + intake.playlists + intake.paths.length > 0 ? { lastChange: o.now ?? Date.now() } : {}),
      });
    } catch (err) {
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      const message = missing ? `${p.dbPath} is missing (moved, or its drive is not mounted?)` : describe(err);
      intake.problems.push({ path: p.dbPath, message });
      state.update(p.name, { health: missing ? 'missing' : 'error', note: message, lastCheck: o.now ?? Date.now() });
    }
    out.push(intake);
  }
  return out;
}

async function sqliteIntake(state: PlayerState, p: AttachedPlayer, adapter: SqlitePlayerAdapter, root: string, o: IntakeOptions, intake: Intake): Promise<void> {
  const st = await stat(p.dbPath);
  const identity = `${st.dev}:${st.ino}`;
  let whole = o.whole === true;
  const db = openPlayerDb(p.dbPath, adapter);
  try {
    // Any change of the player's schema (an upgrade rebuilding a table drops
    // its triggers with it) changes schema_version: checked then, not only
    // at the periodic check.
    const schema = String(db.pragma('schema_version', { simple: true }));
    if (o.check || identity !== p.identity || schema !== p.version) {
      const health = queueHealth(db, adapter);
      if (health.state !== 'attached') {
        const why =
          health.state === 'detached'
            ? identity !== p.identity
              ? 'the database was replaced'
              : 'cratesync’s queue and triggers were removed'
            : health.state === 'triggers-lost'
              ? `triggers lost (${health.missing.length}; a player upgrade rebuilt its tables?)`
              : 'the queue table was lost while triggers remained';
        await withBusyRetry(() => (health.state === 'detached' ? attachQueue(db, adapter) : void repairQueue(db, adapter)));
        intake.repaired = `${why}: re-attached and reconciled`;
        whole = true;
      }
      state.update(p.name, { identity, version: String(db.pragma('schema_version', { simple: true })) });
    }
    const changes = await withBusyRetry(() => takeChanges(db));
    if (whole) {
      const snap = await withBusyRetry(() => adapter.readAll(db));
      applySnapshot(state, p, root, snap, intake);
    } else {
      if (changes.songs.length === 0 && changes.playlists.length === 0) return;
      const songs = await withBusyRetry(() => adapter.readSongs(db, changes.songs));
      const lists = await withBusyRetry(() => adapter.readPlaylists(db, changes.playlists));
      intake.problems.push(...songs.problems, ...lists.problems);
      applySongs(state, p, root, state.songsById(p.name, changes.songs), songs.songs, intake);
      applyPlaylists(state, p, state.playlists(p.name).filter((l) => changes.playlists.includes(l.id)), lists.playlists, intake);
    }
    // Only once the state holds what was read: a crash before this reads it again.
    await withBusyRetry(() => ackChanges(db));
  } finally {
    db.close();
  }
}

async function xmlIntake(state: PlayerState, p: AttachedPlayer, adapter: XmlPlayerAdapter, root: string, o: IntakeOptions, intake: Intake): Promise<void> {
  const stats = await Promise.all(adapter.files(p.dbPath).map((f) => stat(f).then((s) => `${s.size}:${s.mtimeMs}`, () => '-')));
  const version = stats.join(',');
  if (!o.whole && version === p.version) return;
  const snap = await adapter.read(p.dbPath);
  applySnapshot(state, p, root, snap, intake);
  state.update(p.name, { version });
}

function applySnapshot(state: PlayerState, p: AttachedPlayer, root: string, snap: PlayerSnapshot, intake: Intake): void {
  intake.whole = true;
  intake.problems.push(...snap.problems);
  applySongs(state, p, root, state.songs(p.name), snap.songs, intake);
  applyPlaylists(state, p, state.playlists(p.name), snap.playlists, intake);
}

/** Compares what was kept of some songs with what the player says of them now, and records the difference. */
function applySongs(state: PlayerState, p: AttachedPlayer, root: string, kept: readonly StoredSong[], now: readonly PlayerSong[], intake: Intake): void {
  const before = new Map(kept.map((s) => [s.path, s]));
  const seen = new Set<string>();
  const put: StoredSong[] = [];
  const paths = new Set<string>();
  for (const s of now) {
    seen.add(s.path);
    const local = localPath(s.path, root, p.maps);
    if (local === undefined) intake.problems.push({ path: s.path, message: `${p.name}: outside the library ${root}; not synced` });
    const row: StoredSong = { path: s.path, id: s.id, ...(local !== undefined ? { local } : {}), meta: songMeta(s) };
    const old = before.get(s.path);
    if (old && old.id === row.id && old.local === row.local && old.meta === row.meta) continue;
    put.push(row);
    // A song new to the player, or moved: its file is for the engine. An edit
    // of its fields alone is metadata; if the player wrote the tags into the
    // file too, the file's change is the watcher's (or the next push's walk).
    if (old !== undefined && old.local === local && old.id === row.id) continue;
    if (local !== undefined) paths.add(local);
    if (old?.local !== undefined && old.local !== local) paths.add(old.local);
  }
  const gone = kept.filter((s) => !seen.has(s.path));
  for (const g of gone) if (g.local !== undefined) paths.add(g.local);
  state.putSongs(p.name, put, gone.map((g) => g.path));
  intake.songs += put.length + gone.length;
  intake.paths.push(...paths);
}

/** Compares what was kept of some playlists with what the player says of them now, and records the difference. */
function applyPlaylists(state: PlayerState, p: AttachedPlayer, kept: readonly StoredPlaylist[], now: readonly PlayerPlaylist[], intake: Intake): void {
  const before = new Map(kept.map((l) => [l.id, l]));
  const put: StoredPlaylist[] = [];
  for (const l of now) {
    const row: StoredPlaylist = {
      id: l.id,
      name: l.name,
      smart: l.smart,
      ...(l.rule ? { rule: JSON.stringify(l.rule) } : {}),
      paths: l.paths,
      ...(l.position !== undefined ? { position: l.position } : {}),
    };
    const old = before.get(l.id);
    if (old && JSON.stringify(old) === JSON.stringify(row)) continue;
    put.push(row);
  }
  const ids = new Set(now.map((l) => l.id));
  const gone = kept.filter((l) => !ids.has(l.id)).map((l) => l.id);
  state.putPlaylists(p.name, put, gone);
  intake.playlists += put.length + gone.length;
}

/** Problems kept for `players`: the new ones replace older ones of the same path; at most MAX_KEPT. */
function mergeProblems(old: readonly Problem[], fresh: readonly Problem[]): Problem[] {
  if (fresh.length === 0) return [...old];
  const paths = new Set(fresh.map((p) => p.path));
  return [...old.filter((p) => !paths.has(p.path)), ...fresh].slice(-MAX_KEPT);
}

const MAX_KEPT = 1000;
