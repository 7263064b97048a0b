/**
 * What this machine keeps of the media players attached to its library
 * (tables players, player_songs, player_playlists, player_published): the
 * players and their health, their songs and playlists as last read, and
 * what of them was last published to each remote. A change is judged by
 * comparing what a player says now with what is kept here, so a change
 * read twice (a crash between reading and acknowledging the player's
 * queue) is published once.
 */
import { cached, type Db } from './state-db.js';

export type PlayerHealth = 'ok' | 'repaired' | 'missing' | 'error';

export interface AttachedPlayer {
  name: string;
  kind: 'sqlite' | 'xml';
  dbPath: string;
  maps: Array<{ from: string; to: string }>;
  attachedAt: number;
  identity?: string;
  version?: string;
  lastChange?: number;
  lastSync?: number;
  lastCheck?: number;
  health: PlayerHealth;
  note?: string;
  problems: Array<{ path: string; message: string }>;
}

/** One song as kept: the player's path, its id, its library path (when inside the library) and its fields as JSON. */
export interface StoredSong {
  path: string;
  id: string;
  local?: string;
  meta: string;
}

export interface StoredPlaylist {
  id: string;
  name: string;
  smart: boolean;
  /** JSON SmartRule. */
  rule?: string;
  /** Player paths in order. */
  paths: string[];
  position?: number;
}

interface PlayerRow {
  name: string;
  kind: string;
  db_path: string;
  maps: string;
  attached_at: number;
  identity: string | null;
  version: string | null;
  last_change: number | null;
  last_sync: number | null;
  last_check: number | null;
  health: string;
  note: string | null;
  problems: string;
}

const fromPlayerRow = (r: PlayerRow): AttachedPlayer => ({
  name: r.name,
  kind: r.kind === 'xml' ? 'xml' : 'sqlite',
  dbPath: r.db_path,
  maps: JSON.parse(r.maps) as AttachedPlayer['maps'],
  attachedAt: r.attached_at,
  ...(r.identity !== null ? { identity: r.identity } : {}),
  ...(r.version !== null ? { version: r.version } : {}),
  ...(r.last_change !== null ? { lastChange: r.last_change } : {}),
  ...(r.last_sync !== null ? { lastSync: r.last_sync } : {}),
  ...(r.last_check !== null ? { lastCheck: r.last_check } : {}),
  health: r.health as PlayerHealth,
  ...(r.note !== null && r.note !== '' ? { note: r.note } : {}),
  problems: JSON.parse(r.problems) as AttachedPlayer['problems'],
});

interface SongRow {
  path: string;
  id: string;
  local: string | null;
  meta: string;
}
const fromSongRow = (r: SongRow): StoredSong => ({ path: r.path, id: r.id, ...(r.local !== null ? { local: r.local } : {}), meta: r.meta });

interface PlaylistRow {
  id: string;
  name: string;
  smart: number;
  rule: string | null;
  paths: string;
  position: number | null;
}
const fromPlaylistRow = (r: PlaylistRow): StoredPlaylist => ({
  id: r.id,
  name: r.name,
  smart: r.smart !== 0,
  ...(r.rule !== null ? { rule: r.rule } : {}),
  paths: JSON.parse(r.paths) as string[],
  ...(r.position !== null ? { position: r.position } : {}),
});

/** The fields of a player that update() may change. */
export type PlayerPatch = Partial<Pick<AttachedPlayer, 'dbPath' | 'identity' | 'version' | 'lastChange' | 'lastSync' | 'lastCheck' | 'health' | 'note' | 'problems'>>;

const COLUMNS: Record<keyof PlayerPatch, string> = {
  dbPath: 'db_path',
  identity: 'identity',
  version: 'version',
  lastChange: 'last_change',
  lastSync: 'last_sync',
  lastCheck: 'last_check',
  health: 'health',
  note: 'note',
  problems: 'problems',
};

/** Ids bound as one JSON array per statement. */
const IDS_PER_STATEMENT = 5000;

export class PlayerState {
  constructor(private readonly db: Db) {}

  /** transaction runs `fn` in one transaction of the state database (thousands of small writes commit once). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  list(): AttachedPlayer[] {
    return (cached(this.db, 'SELECT * FROM players ORDER BY name').all() as PlayerRow[]).map(fromPlayerRow);
  }

  get(name: string): AttachedPlayer | undefined {
    const r = cached(this.db, 'SELECT * FROM players WHERE name = ?').get(name) as PlayerRow | undefined;
    return r ? fromPlayerRow(r) : undefined;
  }

  count(): number {
    return (cached(this.db, 'SELECT COUNT(*) AS n FROM players').get() as { n: number }).n;
  }

  /** add records `p` as attached (replacing what was kept of a player of that name: its songs and playlists too). */
  add(p: Pick<AttachedPlayer, 'name' | 'kind' | 'dbPath' | 'maps' | 'attachedAt'> & { identity?: string }): void {
    this.db.transaction(() => {
      this.forget(p.name);
      cached(this.db, `INSERT INTO players (name, kind, db_path, maps, attached_at, identity, health) VALUES (?, ?, ?, ?, ?, ?, 'ok')`).run(
        p.name,
        p.kind,
        p.dbPath,
        JSON.stringify(p.maps),
        p.attachedAt,
        p.identity ?? null,
      );
    })();
  }

  /** remove forgets player `name` and everything kept of it (what was published stays published). */
  remove(name: string): void {
    this.db.transaction(() => this.forget(name))();
  }

  update(name: string, patch: PlayerPatch): void {
    const keys = (Object.keys(patch) as Array<keyof PlayerPatch>).filter((k) => patch[k] !== undefined);
    if (keys.length === 0) return;
    const sql = `UPDATE players SET ${keys.map((k) => `${COLUMNS[k]} = ?`).join(', ')} WHERE name = ?`;
    const values = keys.map((k) => (k === 'problems' ? JSON.stringify(patch[k]) : patch[k]));
    cached(this.db, sql).run(...values, name);
  }

  /** Every song of `player` as kept. */
  songs(player: string): StoredSong[] {
    return (cached(this.db, 'SELECT path, id, local, meta FROM player_songs WHERE player = ?').all(player) as SongRow[]).map(fromSongRow);
  }

  /** The songs of `player` kept under these ids (a song read again after a change). */
  songsById(player: string, ids: readonly string[]): StoredSong[] {
    // Named: without statistics the planner takes the primary key's (player) prefix instead, a scan of every song.
    const st = cached(this.db, 'SELECT path, id, local, meta FROM player_songs INDEXED BY player_songs_id WHERE player = ? AND id IN (SELECT value FROM json_each(?))');
    const out: StoredSong[] = [];
    for (let i = 0; i < ids.length; i += IDS_PER_STATEMENT) out.push(...(st.all(player, JSON.stringify(ids.slice(i, i + IDS_PER_STATEMENT))) as SongRow[]).map(fromSongRow));
    return out;
  }

  /** The songs of `player` at these player paths (a playlist's), those kept. */
  songsByPath(player: string, paths: readonly string[]): StoredSong[] {
    const st = cached(this.db, 'SELECT path, id, local, meta FROM player_songs WHERE player = ? AND path = ?');
    return paths.flatMap((p) => (st.all(player, p) as SongRow[]).map(fromSongRow));
  }

  songCount(player: string): number {
    return (cached(this.db, 'SELECT COUNT(*) AS n FROM player_songs WHERE player = ?').get(player) as { n: number }).n;
  }

  /** putSongs records these songs of `player` and forgets the ones at `gone` (player paths), in one transaction. */
  putSongs(player: string, songs: readonly StoredSong[], gone: readonly string[] = []): void {
    const put = cached(this.db, 'INSERT OR REPLACE INTO player_songs (player, path, id, local, meta) VALUES (?, ?, ?, ?, ?)');
    const del = cached(this.db, 'DELETE FROM player_songs WHERE player = ? AND path = ?');
    this.db.transaction(() => {
      for (const p of gone) del.run(player, p);
      for (const s of songs) put.run(player, s.path, s.id, s.local ?? null, s.meta);
    })();
  }

  playlists(player: string): StoredPlaylist[] {
    return (cached(this.db, 'SELECT id, name, smart, rule, paths, position FROM player_playlists WHERE player = ? ORDER BY name').all(player) as PlaylistRow[]).map(
      fromPlaylistRow,
    );
  }

  /** putPlaylists records these playlists of `player` and forgets the ids in `gone`, in one transaction. */
  putPlaylists(player: string, lists: readonly StoredPlaylist[], gone: readonly string[] = []): void {
    const put = cached(this.db, 'INSERT OR REPLACE INTO player_playlists (player, id, name, smart, rule, paths, position) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const del = cached(this.db, 'DELETE FROM player_playlists WHERE player = ? AND id = ?');
    this.db.transaction(() => {
      for (const id of gone) del.run(player, id);
      for (const l of lists) put.run(player, l.id, l.name, l.smart ? 1 : 0, l.rule ?? null, JSON.stringify(l.paths), l.position ?? null);
    })();
  }

  /** What was last published to `remote` of `kind` `ref`: its digest and name. */
  published(remote: string, kind: 'song' | 'playlist', ref: string): { digest: string; name?: string } | undefined {
    const r = cached(this.db, 'SELECT digest, name FROM player_published WHERE remote = ? AND kind = ? AND ref = ?').get(remote, kind, ref) as
      | { digest: string; name: string | null }
      | undefined;
    return r ? { digest: r.digest, ...(r.name !== null ? { name: r.name } : {}) } : undefined;
  }

  /** Every playlist published to `remote`, by ref (`player:id`). */
  publishedPlaylists(remote: string): Array<{ ref: string; digest: string; name?: string }> {
    const rows = cached(this.db, `SELECT ref, digest, name FROM player_published WHERE remote = ? AND kind = 'playlist'`).all(remote) as Array<{
      ref: string;
      digest: string;
      name: string | null;
    }>;
    return rows.map((r) => ({ ref: r.ref, digest: r.digest, ...(r.name !== null ? { name: r.name } : {}) }));
  }

  /**
   * The songs (of every player) inside the library whose metadata differs
   * from what was last published to `remote` for their library path; the
   * digest to record once published is `player + '\n' + meta`.
   */
  unpublishedSongs(remote: string): Array<{ player: string; local: string; meta: string; digest: string }> {
    return cached(
      this.db,
      `SELECT s.player, s.local, s.meta, s.player || char(10) || s.meta AS digest FROM player_songs s
       LEFT JOIN player_published p ON p.remote = ? AND p.kind = 'song' AND p.ref = s.local
       WHERE s.local IS NOT NULL AND (p.digest IS NULL OR p.digest <> s.player || char(10) || s.meta)`,
    ).all(remote) as Array<{ player: string; local: string; meta: string; digest: string }>;
  }

  markPublished(remote: string, kind: 'song' | 'playlist', ref: string, digest: string, name?: string): void {
    cached(this.db, 'INSERT OR REPLACE INTO player_published (remote, kind, ref, digest, name) VALUES (?, ?, ?, ?, ?)').run(remote, kind, ref, digest, name ?? null);
  }

  forgetPublished(remote: string, kind: 'song' | 'playlist', ref: string): void {
    cached(this.db, 'DELETE FROM player_published WHERE remote = ? AND kind = ? AND ref = ?').run(remote, kind, ref);
  }

  private forget(name: string): void {
    cached(this.db, 'DELETE FROM players WHERE name = ?').run(name);
    cached(this.db, 'DELETE FROM player_songs WHERE player = ?').run(name);
    cached(this.db, 'DELETE FROM player_playlists WHERE player = ?').run(name);
  }
}
