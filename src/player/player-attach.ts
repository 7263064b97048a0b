/**
 * Attaching a player to a library and detaching it: its queue and triggers
 * installed in (or removed from) its database, in one transaction each, and
 * the player recorded in (or forgotten by) the library's state. An XML
 * library needs nothing installed: it is only recorded.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Db } from '../state/state-db.js';
import type { PathMapping } from './path-map.js';
import { PlayerState, type AttachedPlayer } from '../state/player-state.js';
import { adapterOf, type PlayerAdapter } from './adapters.js';
import { openPlayerDb, withBusyRetry } from './player-db.js';
import { attachQueue, detachQueue } from './player-queue.js';
import { FileError } from '../errors.js';

/**
 * attachPlayer installs cratesync's queue and triggers in the database of
 * player `name` at `file` (after checking it is that player's) and records
 * the player in `db`; attaching again re-installs what is missing and
 * starts its songs afresh (the next intake reads it whole). Throws
 * UsageError for an unknown player, FileError naming the file when it is
 * missing or not that player's.
 */
export async function attachPlayer(db: Db, name: string, file: string, maps: readonly PathMapping[] = [], now = Date.now()): Promise<{ adapter: PlayerAdapter; player: AttachedPlayer }> {
  const adapter = adapterOf(name);
  const path = resolve(file);
  const st = await stat(path).catch(() => undefined);
  if (!st?.isFile()) throw new FileError(path, st ? 'not a file' : `no such file (where ${adapter.label} keeps its library: give it with --db)`);
  if (adapter.kind === 'sqlite') {
    const pdb = openPlayerDb(path, adapter);
    try {
      await withBusyRetry(() => attachQueue(pdb, adapter));
    } finally {
      pdb.close();
    }
  } else {
    // Read once now, so that a file that is not this player's library is refused here.
    await adapter.read(path);
  }
  const state = new PlayerState(db);
  state.add({ name: adapter.name, kind: adapter.kind, dbPath: path, maps: [...maps], attachedAt: now, identity: `${st.dev}:${st.ino}` });
  return { adapter, player: state.get(adapter.name)! };
}

/**
 * detachPlayer removes every object cratesync added to player `name`'s
 * database, in one transaction, and forgets the player (what was published
 * stays on the remote). A database that is gone is only forgotten; returns
 * false when the player was not attached.
 */
export async function detachPlayer(db: Db, name: string): Promise<{ detached: boolean; databaseGone?: boolean }> {
  const adapter = adapterOf(name);
  const state = new PlayerState(db);
  const p = state.get(adapter.name);
  if (!p) return { detached: false };
  let databaseGone = false;
  if (adapter.kind === 'sqlite') {
    if (await stat(p.dbPath).catch(() => undefined)) {
      const pdb = openPlayerDb(p.dbPath, adapter);
      try {
        await withBusyRetry(() => detachQueue(pdb));
      } finally {
        pdb.close();
      }
    } else databaseGone = true;
  }
  state.remove(adapter.name);
  return { detached: true, ...(databaseGone ? { databaseGone } : {}) };
}
