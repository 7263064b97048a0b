/**
 * The small conversions every adapter makes from a player's values to the
 * common fields of a PlayerSong: players write 0, -1, NULL or '' where a
 * value is not set, and a song carries only the fields that are.
 */
import type { PlayerSong, SongField } from './player-model.js';

/** Text (a number in a text column too: SQLite keeps what it is given), trimmed; undefined when absent or empty. */
export function text(v: unknown): string | undefined {
  if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'bigint') return undefined;
  const t = String(v).trim();
  return t === '' ? undefined : t;
}

/** A finite number (SQLite's bigint too); undefined otherwise. */
export function finite(v: unknown): number | undefined {
  const n = typeof v === 'bigint' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

/** A number above zero; undefined for the 0, -1 and NULL that players write for "not set". */
export function positive(v: unknown): number | undefined {
  const n = finite(v);
  return n !== undefined && n > 0 ? n : undefined;
}

/** The fields of a song as an adapter found them, any of them undefined. */
export type SongFields = { [K in SongField]?: PlayerSong[K] | undefined };

/** makeSong is the song `id` at `path` with the fields of `f` that are set. */
export function makeSong(id: string, path: string, f: Omit<SongFields, 'path'>): PlayerSong {
  const song: PlayerSong = { id, path };
  for (const [k, v] of Object.entries(f) as Array<[keyof typeof f, unknown]>) {
    if (v !== undefined) (song as unknown as Record<string, unknown>)[k] = v;
  }
  return song;
}
