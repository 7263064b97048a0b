/**
 * Evaluating a smart playlist's rule (player-model.ts SmartRule) over the
 * songs read from a player, the way players do it: filter, order, limit.
 * Pure: the clock and the random source are parameters, so a test (or a
 * re-evaluation that must be compared with the last one) controls them.
 */
import type { PlayerSong, RuleCondition, SmartRule, SongField } from './player-model.js';

const DAY_MS = 86_400_000;

/** Case- and width-insensitive, accent-sensitive: how players compare tags. */
const collator = new Intl.Collator(undefined, { sensitivity: 'accent', numeric: true });

function fold(s: string): string {
  return s.toLowerCase();
}

type Value = string | number | undefined;

function valueOf(song: PlayerSong, field: SongField): Value {
  const v = song[field];
  return v === '' ? undefined : v;
}

/** `a` against `b` as numbers when `a` is one, else as text; NaN when they cannot be compared. */
function compare(a: string | number, b: string | number): number {
  if (typeof a === 'number') {
    const n = typeof b === 'number' ? b : b.trim() === '' ? Number.NaN : Number(b);
    return Number.isNaN(n) ? Number.NaN : a - n;
  }
  return collator.compare(a, String(b));
}

/** Whether `song` meets `c`. A song without the field meets only the negative ops (`ne`, `notContains`, `notSet`). */
export function meets(song: PlayerSong, c: RuleCondition, now: number): boolean {
  const v = valueOf(song, c.field);
  switch (c.op) {
    case 'isSet':
      return v !== undefined;
    case 'notSet':
      return v === undefined;
    case 'ne':
    case 'notContains':
      if (v === undefined || c.value === undefined) return true;
      break;
    default:
      if (v === undefined || c.value === undefined) return false;
  }
  const want = c.value as string | number;
  const have = v as string | number;
  switch (c.op) {
    case 'eq':
      return compare(have, want) === 0;
    case 'ne':
      return compare(have, want) !== 0;
    case 'lt':
      return compare(have, want) < 0;
    case 'lte':
      return compare(have, want) <= 0;
    case 'gt':
      return compare(have, want) > 0;
    case 'gte':
      return compare(have, want) >= 0;
    case 'contains':
      return fold(String(have)).includes(fold(String(want)));
    case 'notContains':
      return !fold(String(have)).includes(fold(String(want)));
    case 'startsWith':
      return fold(String(have)).startsWith(fold(String(want)));
    case 'endsWith':
      return fold(String(have)).endsWith(fold(String(want)));
    case 'withinDays': {
      const days = Number(want);
      return typeof have === 'number' && Number.isFinite(days) && have >= now - days * DAY_MS;
    }
    default:
      return false;
  }
}

/** Missing values first, as SQL sorts NULL first ascending (players' own order for never-played songs). */
function orderBy(a: Value, b: Value): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? -1 : 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return collator.compare(String(a), String(b));
}

/**
 * evaluateRule returns the paths of the songs that meet `rule`, in its
 * order (ties and no order at all keep the order of `songs`), cut at its
 * `limit` songs and `limitSec` seconds. Text compares case-insensitively;
 * `withinDays` counts back from `now`; a `random` order draws one key per
 * song from `random` (given the song: see {@link stableRandom}).
 */
export function evaluateRule(rule: SmartRule, songs: readonly PlayerSong[], now = Date.now(), random: (song: PlayerSong) => number = Math.random): string[] {
  const test = (s: PlayerSong): boolean =>
    rule.conditions.length === 0 ||
    (rule.match === 'any' ? rule.conditions.some((c) => meets(s, c, now)) : rule.conditions.every((c) => meets(s, c, now)));
  const hits = songs.filter(test).map((song, index) => ({ song, index, key: 0 }));
  const order = rule.order ?? [];
  if (order.some((o) => o.field === 'random')) for (const h of hits) h.key = random(h.song);
  if (order.length > 0) {
    hits.sort((x, y) => {
      for (const o of order) {
        const d = o.field === 'random' ? x.key - y.key : orderBy(valueOf(x.song, o.field), valueOf(y.song, o.field));
        if (d !== 0) return o.desc ? -d : d;
      }
      return x.index - y.index;
    });
  }
  const out: string[] = [];
  let seconds = 0;
  for (const { song } of hits) {
    if (rule.limit !== undefined && out.length >= rule.limit) break;
    if (rule.limitSec !== undefined) {
      seconds += song.durationSec ?? 0;
      if (seconds > rule.limitSec) break;
    }
    out.push(song.path);
  }
  return out;
}

/**
 * stableRandom is a random order that stays put: each song's key is a hash
 * of `seed` (a playlist's identity) and its path, so evaluating a random
 * smart playlist again gives the same list until its songs change, and
 * cratesync, which pushes a playlist only when it differs, does not push it
 * on every evaluation. A new song takes a place without moving the others.
 */
export function stableRandom(seed: string): (song: PlayerSong) => number {
  return (song) => {
    // FNV-1a, 32 bits: spread enough for an order, and the same on every machine
    let h = 0x811c9dc5;
    for (const ch of `${seed}\u0000${song.path}`) {
      h ^= ch.codePointAt(0) as number;
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    return h / 2 ** 32;
  };
}
