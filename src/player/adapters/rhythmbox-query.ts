/**
 * Rhythmbox automatic playlists → SmartRule.
 *
 * playlists.xml keeps an automatic playlist's query as Rhythmbox serialises
 * it (rhythmdb-query.c, rhythmdb_query_serialize): a `<conjunction>` of
 * criteria, where a `<disjunction/>` between criteria makes an OR, and a
 * `<subquery>` nests another conjunction. The query editor writes
 * `type = song AND (its criteria)`. Limits and order are attributes of the
 * `<playlist>` (rb-auto-playlist-source.c). Anything the common rule cannot
 * say is refused with the reason, never approximated.
 */
import type { RuleCondition, RuleOp, SmartRule, SongField } from '../player-model.js';
import { uriToPath } from '../uri-path.js';

/** One element of a serialised query: its name, `prop` attribute, text, and children. */
export interface QueryNode {
  name: string;
  prop?: string;
  text: string;
  children: QueryNode[];
}

/** The query cannot be said as a SmartRule; the message says why. */
export class UntranslatableError extends Error {}

/** Rhythmbox property names (rhythmdb.c, rhythmdb_properties) → song fields; `-folded` ones are the same field. */
const FIELDS: Record<string, SongField> = {
  title: 'title',
  artist: 'artist',
  album: 'album',
  'album-artist': 'albumArtist',
  genre: 'genre',
  date: 'year',
  'track-number': 'track',
  'disc-number': 'disc',
  duration: 'durationSec',
  rating: 'rating',
  'play-count': 'playCount',
  'last-played': 'lastPlayed',
  'first-seen': 'addedAt',
  location: 'path',
};

/** Criteria elements → ops. `greater`/`less` are "at least"/"at most" (rhythmdb-tree.c compares with < and >). */
const OPS: Record<string, RuleOp> = {
  equals: 'eq',
  'not-equal': 'ne',
  like: 'contains',
  'not-like': 'notContains',
  prefix: 'startsWith',
  suffix: 'endsWith',
  greater: 'gte',
  less: 'lte',
  'current-time-within': 'withinDays',
};

/** sort-key values (rb-query-creator-properties.c) → the order Rhythmbox's sort functions use. */
const SORTS: Record<string, SongField[]> = {
  Artist: ['artist', 'album', 'disc', 'track'],
  Album: ['album', 'disc', 'track'],
  AlbumArtist: ['albumArtist', 'album', 'disc', 'track'],
  Genre: ['genre', 'artist', 'album', 'disc', 'track'],
  Title: ['title'],
  Rating: ['rating'],
  PlayCount: ['playCount'],
  Year: ['year'],
  Time: ['durationSec'],
  Track: ['track'],
  LastPlayed: ['lastPlayed'],
  FirstSeen: ['addedAt'],
};

/** Julian day number of 1970-01-01 in GLib's count (day 1 is 0001-01-01). */
export const JULIAN_EPOCH = 719163;

/** The year of GLib Julian day `jd` (what `<date>` holds), or undefined for 0 or nonsense. */
export function julianYear(jd: number): number | undefined {
  if (!Number.isInteger(jd) || jd <= 0 || jd > 3_652_059) return undefined;
  return new Date((jd - JULIAN_EPOCH) * 86_400_000).getUTCFullYear();
}

function number(text: string, what: string): number {
  const n = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(n)) throw new UntranslatableError(`${what}: ${JSON.stringify(text)} is not a number`);
  return n;
}

/** One criterion element → a condition, or null for `type = song` (every song read is one). */
function condition(node: QueryNode): RuleCondition | null {
  const op = OPS[node.name];
  if (op === undefined) {
    const why = node.name === 'current-time-not-within' ? '"not in the last" has no equivalent' : `unknown criterion <${node.name}>`;
    throw new UntranslatableError(why);
  }
  const prop = node.prop ?? '';
  if (prop === 'type') {
    if (op === 'eq' && node.text.trim() === 'song') return null;
    throw new UntranslatableError(`a criterion on the entry type ${JSON.stringify(node.text)}`);
  }
  const field = FIELDS[prop.replace(/-folded$/, '')];
  if (field === undefined) throw new UntranslatableError(`criterion on property ${JSON.stringify(prop)}, which cratesync does not sync`);
  const what = `<${node.name} prop="${prop}">`;
  if (op === 'withinDays') {
    if (field !== 'lastPlayed' && field !== 'addedAt') throw new UntranslatableError(`${what} on a property that is not a time`);
    return { field, op, value: number(node.text, what) / 86_400 };
  }
  switch (field) {
    case 'title':
    case 'artist':
    case 'album':
    case 'albumArtist':
    case 'genre':
      return { field, op, value: node.text };
    case 'path': {
      // The query editor stores what was typed URI-escaped (escaped_string_property_type); a full URI is a path.
      let value: string;
      try {
        value = node.text.startsWith('file:') ? uriToPath(node.text) : decodeURIComponent(node.text);
      } catch {
        throw new UntranslatableError(`${what}: ${JSON.stringify(node.text)} is not a valid escaped path`);
      }
      return { field, op, value };
    }
    case 'year': {
      // The editor stores a year as the Julian day of its 1 January; `greater`/`less` then mean from/up to that year.
      const year = julianYear(number(node.text, what));
      if (year === undefined) throw new UntranslatableError(`${what}: ${JSON.stringify(node.text)} is not a date`);
      return { field, op: numericOp(op, what), value: year };
    }
    case 'rating':
      return { field, op: numericOp(op, what), value: Math.round(number(node.text, what) * 20) };
    case 'lastPlayed':
    case 'addedAt':
      return { field, op: numericOp(op, what), value: number(node.text, what) * 1000 };
    default:
      return { field, op: numericOp(op, what), value: number(node.text, what) };
  }
}

function numericOp(op: RuleOp, what: string): RuleOp {
  if (op === 'eq' || op === 'ne' || op === 'gte' || op === 'lte') return op;
  throw new UntranslatableError(`${what}: a text test on a number`);
}

/** A conjunction → a flat rule: ANDs of conditions, or ORs of single conditions (what the query editor writes). */
function conjunction(node: QueryNode): { match: 'all' | 'any'; conditions: RuleCondition[] } {
  if (node.name !== 'conjunction') throw new UntranslatableError(`<${node.name}> where a <conjunction> belongs`);
  const groups: Array<Array<RuleCondition | { match: 'all' | 'any'; conditions: RuleCondition[] }>> = [[]];
  for (const child of node.children) {
    if (child.name === 'disjunction') {
      groups.push([]);
      continue;
    }
    const item = child.name === 'subquery' ? subquery(child) : condition(child);
    if (item !== null) (groups[groups.length - 1] as unknown[]).push(item);
  }
  const nonEmpty = groups.filter((g) => g.length > 0);
  if (nonEmpty.length <= 1) {
    const items = nonEmpty[0] ?? [];
    const only = items[0];
    if (items.length === 1 && only !== undefined && 'match' in only) return only;
    const conditions: RuleCondition[] = [];
    for (const item of items) {
      if (!('match' in item)) conditions.push(item);
      else if (item.match === 'all' || item.conditions.length <= 1) conditions.push(...item.conditions);
      else throw new UntranslatableError('an OR nested inside an AND');
    }
    return { match: 'all', conditions };
  }
  const conditions: RuleCondition[] = [];
  for (const group of nonEmpty) {
    const only = group[0];
    if (group.length !== 1 || only === undefined) throw new UntranslatableError('an AND nested inside an OR');
    if (!('match' in only)) conditions.push(only);
    else if (only.match === 'any' || only.conditions.length <= 1) conditions.push(...only.conditions);
    else throw new UntranslatableError('an AND nested inside an OR');
  }
  return { match: 'any', conditions };
}

function subquery(node: QueryNode): { match: 'all' | 'any'; conditions: RuleCondition[] } {
  const inner = node.children[0];
  if (node.children.length !== 1 || inner === undefined) throw new UntranslatableError('a <subquery> without exactly one <conjunction>');
  return conjunction(inner);
}

/** The attributes of an automatic `<playlist>` that shape its contents. */
export interface AutoAttrs {
  limitCount?: string;
  limitSize?: string;
  limitTime?: string;
  /** The old name of limit-count, still read by Rhythmbox. */
  limit?: string;
  sortKey?: string;
  sortDirection?: string;
}

/**
 * translateQuery turns an automatic playlist's query (`<conjunction>`
 * children of the `<playlist>`) and its attributes into a SmartRule.
 * Throws UntranslatableError saying why when the rule cannot express it:
 * a property cratesync does not sync (comment, composer, bitrate, BPM…),
 * "not in the last", a limit by size or time, a sort by such a property,
 * nested AND/OR mixes beyond the editor's, numbers that are not numbers.
 * Text tests compare case-insensitively, as Rhythmbox's `-folded`
 * properties do (its strict `equals` is case-sensitive: the one difference).
 */
export function translateQuery(query: QueryNode[], attrs: AutoAttrs): SmartRule {
  const root = query[0];
  if (query.length !== 1 || root === undefined) throw new UntranslatableError(`${query.length} queries where one <conjunction> belongs`);
  const { match, conditions } = conjunction(root);
  const rule: SmartRule = { match, conditions };
  if (attrs.limitSize !== undefined) throw new UntranslatableError('a limit by size has no equivalent');
  if (attrs.limitTime !== undefined) throw new UntranslatableError('a limit by playing time has no equivalent');
  const limit = attrs.limitCount ?? attrs.limit;
  if (limit !== undefined) {
    const n = Number(limit);
    if (!Number.isInteger(n) || n < 0) throw new UntranslatableError(`limit-count ${JSON.stringify(limit)} is not a count`);
    if (n > 0) rule.limit = n;
  }
  if (attrs.sortKey !== undefined && attrs.sortKey !== '') {
    const fields = SORTS[attrs.sortKey];
    if (fields === undefined) throw new UntranslatableError(`sort-key ${JSON.stringify(attrs.sortKey)} has no equivalent`);
    // GtkSortType: 0 ascending, 1 descending.
    const desc = attrs.sortDirection === '1';
    rule.order = fields.map((field) => ({ field, desc }));
  }
  return rule;
}
