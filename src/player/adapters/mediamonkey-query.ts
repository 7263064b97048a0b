/**
 * MediaMonkey's auto-playlists: `Playlists.QueryData`, INI text that
 * MediaMonkey turns into SQL itself, translated into a SmartRule that
 * cratesync evaluates (smart-rule.ts). Only what is known is translated: a
 * condition code, field, order or limit whose meaning is not established
 * makes the whole playlist untranslated, with reasons naming each part, so
 * its contents are never guessed.
 *
 * The shape (MediaMonkey 4 and 5):
 * ```
 * [Common]  QueryVersion=1  QueryType=2  CollectionID=1
 * [Basic]   SongTitle= Artist= … YearFrom=0 YearTo=0 LevelFrom=-999999 …   (the simple search; empty = unused)
 * [Adv]     ConditionsCount=N OrdersCount=M LimitTop=0|1 Top=50 LimitMB=0|1 MaxMB=650 LimitLen=0|1 MaxLen=74 UseORcon=0|1
 * [AdvCondK] DBField=Songs.Rating  Condition=40  Value=80  (MM5 adds Value2, nestLevel, nestOperator, isOperator)
 * [AdvSOK]  Order=Songs.LastTimePlayed|%RANDOM%  Asc=0|1
 * ```
 * The Condition codes are not documented publicly. Those translated are
 * established by MediaMonkey's own default auto-playlists, whose names say
 * what they select (see CONDITIONS), and by MediaMonkey 5's own scripts.
 */
import type { RuleCondition, RuleOp, SmartRule, SongField } from '../player-model.js';

type Ini = Map<string, Map<string, string>>;

/** Sections and keys of INI text, both lower-cased (MediaMonkey's own reader ignores case); the last of a repeated key wins. */
export function parseIni(text: string): Ini {
  const ini: Ini = new Map();
  let section: Map<string, string> | undefined;
  for (const raw of text.split(/\r?\n|\r/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith(';')) continue;
    const head = /^\[(.+)\]$/.exec(line);
    if (head) {
      const name = (head[1] as string).trim().toLowerCase();
      section = ini.get(name) ?? new Map<string, string>();
      ini.set(name, section);
      continue;
    }
    const at = line.indexOf('=');
    if (section === undefined || at <= 0) continue;
    section.set(line.slice(0, at).trim().toLowerCase(), line.slice(at + 1).trim());
  }
  return ini;
}

type Kind = 'text' | 'number' | 'rating' | 'date';

/** MediaMonkey's Songs columns that a rule may test or sort by, as common fields. */
const FIELDS: Record<string, { field: SongField; kind: Kind; value?: (n: number) => number }> = {
  'songs.songtitle': { field: 'title', kind: 'text' },
  'songs.artist': { field: 'artist', kind: 'text' },
  'songs.album': { field: 'album', kind: 'text' },
  'songs.albumartist': { field: 'albumArtist', kind: 'text' },
  'songs.genre': { field: 'genre', kind: 'text' },
  // stored as YYYYMMDD (or YYYY): the song's year is its first four digits
  'songs.year': { field: 'year', kind: 'number', value: (n) => (n > 9999 ? Math.floor(n / 10000) : n) },
  'songs.tracknumber': { field: 'track', kind: 'number' },
  'songs.discnumber': { field: 'disc', kind: 'number' },
  'songs.songlength': { field: 'durationSec', kind: 'number', value: (n) => n / 1000 },
  'songs.rating': { field: 'rating', kind: 'rating' },
  'songs.playcounter': { field: 'playCount', kind: 'number' },
  'songs.lasttimeplayed': { field: 'lastPlayed', kind: 'date' },
  'songs.dateadded': { field: 'addedAt', kind: 'date' },
};

/**
 * The Condition codes whose meaning is established, and the kinds of field
 * they are known on (codes are per field type: the same number may mean
 * something else on another type, so only these pairs are translated).
 * - 32 on a number: "is greater than" (default "Last 50 played": PlayCounter 32 0).
 * - 40 on the rating: "is at least" (defaults "Favorites - …": Rating 40 80, four stars and up).
 * - 401 on a date: "in the last N days" (default "Recently Added": DateAdded 401 30).
 * - 703: "is not empty" (MediaMonkey 5's Last.fm options: "album exists" = Album 703).
 */
const CONDITIONS: Record<string, { op: RuleOp; kinds: readonly Kind[]; takesValue: boolean }> = {
  '32': { op: 'gt', kinds: ['number'], takesValue: true },
  '40': { op: 'gte', kinds: ['rating'], takesValue: true },
  '401': { op: 'withinDays', kinds: ['date'], takesValue: true },
  '703': { op: 'isSet', kinds: ['text', 'number', 'rating', 'date'], takesValue: false },
};

/** [Basic] keys and the value that leaves them unused. */
const BASIC_UNUSED: Record<string, string> = {
  yearfrom: '0',
  yearto: '0',
  levelfrom: '-999999',
  levelto: '-999999',
  unleveled: '0',
};

/** A count from [Adv]: 0 when absent; undefined when not a small non-negative integer (untrusted text). */
function count(v: string | undefined): number | undefined {
  if (v === undefined || v === '') return 0;
  return /^\d{1,4}$/.test(v) ? Number(v) : undefined;
}

function translateCondition(sec: Map<string, string> | undefined, name: string, problems: string[]): RuleCondition | undefined {
  if (!sec) {
    problems.push(`[${name}] is missing`);
    return undefined;
  }
  const dbField = sec.get('dbfield') ?? '';
  const code = sec.get('condition') ?? '';
  const what = `[${name}] DBField=${dbField} Condition=${code}`;
  for (const key of ['nestlevel', 'isoperator']) {
    const v = sec.get(key);
    if (v !== undefined && v !== '' && v !== '0') {
      problems.push(`${what}: ${key}=${v} (nested or negated conditions) is not translated`);
      return undefined;
    }
  }
  const field = FIELDS[dbField.toLowerCase()];
  if (!field) {
    problems.push(`${what}: the field ${dbField || '(none)'} is not translated`);
    return undefined;
  }
  const cond = CONDITIONS[code];
  if (!cond || !cond.kinds.includes(field.kind)) {
    problems.push(`${what}: condition code ${code || '(none)'} on ${dbField} is not translated`);
    return undefined;
  }
  const value2 = sec.get('value2');
  if (value2 !== undefined && value2 !== '') {
    problems.push(`${what}: Value2=${value2} is not translated`);
    return undefined;
  }
  if (!cond.takesValue) return { field: field.field, op: cond.op };
  const raw = sec.get('value') ?? '';
  const n = raw.trim() === '' ? Number.NaN : Number(raw);
  if (!Number.isFinite(n)) {
    problems.push(`${what}: Value=${raw} is not a number`);
    return undefined;
  }
  return { field: field.field, op: cond.op, value: cond.op === 'withinDays' ? n : (field.value?.(n) ?? n) };
}

/**
 * translateQueryData turns an auto-playlist's QueryData into a SmartRule,
 * or into the reasons it cannot be (each naming the section, field, code
 * or limit not translated). Never throws: the text is the player's, and a
 * bad one only costs its playlist.
 */
export function translateQueryData(text: string): { rule: SmartRule } | { problems: string[] } {
  const ini = parseIni(text);
  const problems: string[] = [];
  const common = ini.get('common');
  const type = common?.get('querytype');
  if (type !== undefined && type !== '2') problems.push(`[Common] QueryType=${type} is not translated (only advanced queries, QueryType=2)`);
  for (const [key, value] of ini.get('basic') ?? []) {
    if (value !== '' && value !== BASIC_UNUSED[key]) problems.push(`[Basic] ${key}=${value} is not translated`);
  }
  const adv = ini.get('adv');
  if (!adv) return { problems: [...problems, 'no [Adv] section'] };
  const conditionsCount = count(adv.get('conditionscount'));
  const ordersCount = count(adv.get('orderscount'));
  if (conditionsCount === undefined) problems.push(`[Adv] ConditionsCount=${adv.get('conditionscount')} is not a count`);
  if (ordersCount === undefined) problems.push(`[Adv] OrdersCount=${adv.get('orderscount')} is not a count`);

  const conditions: RuleCondition[] = [];
  for (let i = 1; i <= (conditionsCount ?? 0); i++) {
    const c = translateCondition(ini.get(`advcond${i}`), `AdvCond${i}`, problems);
    if (c) conditions.push(c);
  }
  const order: NonNullable<SmartRule['order']> = [];
  for (let i = 1; i <= (ordersCount ?? 0); i++) {
    const sec = ini.get(`advso${i}`);
    // the sort key may carry a collation MediaMonkey registers (COLLATE USERLOCALE): text compares case-insensitively anyway
    const by = (sec?.get('order') ?? '').replace(/\s+COLLATE\s+\w+\s*$/i, '').trim();
    const desc = sec?.get('asc') === '0';
    if (by.toUpperCase() === '%RANDOM%') order.push({ field: 'random', desc: false });
    else {
      const f = FIELDS[by.toLowerCase()];
      if (f) order.push({ field: f.field, desc });
      else problems.push(`[AdvSO${i}] Order=${sec?.get('order') ?? '(missing)'} is not translated`);
    }
  }

  const rule: SmartRule = { match: adv.get('useorcon') === '1' ? 'any' : 'all', conditions };
  if (order.length > 0) rule.order = order;
  const limit = (flag: string, amount: string): number | undefined => {
    if (adv.get(flag) !== '1') return undefined;
    const n = count(adv.get(amount));
    if (n === undefined) problems.push(`[Adv] ${amount}=${adv.get(amount)} is not a count`);
    return n;
  };
  const top = limit('limittop', 'top');
  if (top !== undefined) rule.limit = top;
  const minutes = limit('limitlen', 'maxlen');
  if (minutes !== undefined) rule.limitSec = minutes * 60;
  if (adv.get('limitmb') === '1') problems.push(`[Adv] LimitMB=1 MaxMB=${adv.get('maxmb')}: a size limit is not translated (file sizes are not read)`);

  return problems.length > 0 ? { problems } : { rule };
}
