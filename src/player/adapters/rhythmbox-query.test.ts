import { describe, expect, it } from 'vitest';
import { julianDay } from '../../../test/fixtures/players/rhythmbox-xml.js';
import { julianYear, translateQuery, type AutoAttrs, type QueryNode } from './rhythmbox-query.js';

const c = (name: string, prop: string, text: string): QueryNode => ({ name, prop, text, children: [] });
const conj = (...children: QueryNode[]): QueryNode => ({ name: 'conjunction', text: '', children });
const sub = (inner: QueryNode): QueryNode => ({ name: 'subquery', text: '', children: [inner] });
const OR: QueryNode = { name: 'disjunction', text: '', children: [] };
/** What the query editor saves: type = song AND (criteria). */
const editor = (...criteria: QueryNode[]) => [conj(c('equals', 'type', 'song'), sub(conj(...criteria)))];

describe('translateQuery', () => {
  it('maps each criterion the query editor offers for synced fields', () => {
    const rule = translateQuery(
      editor(
        c('like', 'title-folded', 'love'),
        c('not-like', 'artist-folded', 'karaoke'),
        c('prefix', 'album-folded', 'the '),
        c('suffix', 'album-artist-folded', 'band'),
        c('equals', 'genre', 'Jazz'),
        c('not-equal', 'genre', 'Pop'),
        c('equals', 'date', String(julianDay(1999))),
        c('greater', 'rating', '3.000000'),
        c('less', 'play-count', '10'),
        c('greater', 'duration', '120'),
        c('equals', 'track-number', '1'),
        c('equals', 'disc-number', '2'),
        c('current-time-within', 'first-seen', '3600'),
        c('like', 'location', 'My%20Music'),
      ),
      {},
    );
    expect(rule).toEqual({
      match: 'all',
      conditions: [
        { field: 'title', op: 'contains', value: 'love' },
        { field: 'artist', op: 'notContains', value: 'karaoke' },
        { field: 'album', op: 'startsWith', value: 'the ' },
        { field: 'albumArtist', op: 'endsWith', value: 'band' },
        { field: 'genre', op: 'eq', value: 'Jazz' },
        { field: 'genre', op: 'ne', value: 'Pop' },
        { field: 'year', op: 'eq', value: 1999 },
        { field: 'rating', op: 'gte', value: 60 },
        { field: 'playCount', op: 'lte', value: 10 },
        { field: 'durationSec', op: 'gte', value: 120 },
        { field: 'track', op: 'eq', value: 1 },
        { field: 'disc', op: 'eq', value: 2 },
        { field: 'addedAt', op: 'withinDays', value: 3600 / 86400 },
        { field: 'path', op: 'contains', value: 'My Music' },
      ],
    });
  });

  it('reads OR-ed criteria as match any, a limit and an order', () => {
    const attrs: AutoAttrs = { limitCount: '10', sortKey: 'PlayCount', sortDirection: '1' };
    expect(translateQuery(editor(c('equals', 'genre', 'A'), OR, c('equals', 'genre', 'B'), OR, c('like', 'genre-folded', 'c')), attrs)).toEqual({
      match: 'any',
      conditions: [
        { field: 'genre', op: 'eq', value: 'A' },
        { field: 'genre', op: 'eq', value: 'B' },
        { field: 'genre', op: 'contains', value: 'c' },
      ],
      limit: 10,
      order: [{ field: 'playCount', desc: true }],
    });
    // The old `limit` attribute; 0 means none; an empty query matches every song.
    expect(translateQuery(editor(), { limit: '5' })).toEqual({ match: 'all', conditions: [], limit: 5 });
    expect(translateQuery(editor(), { limitCount: '0' })).toEqual({ match: 'all', conditions: [] });
  });

  const refused: Array<[string, QueryNode[], AutoAttrs, RegExp]> = [
    ['a property cratesync does not sync', editor(c('like', 'comment-folded', 'x')), {}, /property "comment-folded"/],
    ['"not in the last"', editor(c('current-time-not-within', 'last-played', '60')), {}, /"not in the last" has no equivalent/],
    ['an AND inside an OR', editor(c('equals', 'genre', 'A'), c('equals', 'artist', 'B'), OR, c('equals', 'genre', 'C')), {}, /an AND nested inside an OR/],
    ['an OR inside an AND', [conj(c('equals', 'genre', 'A'), sub(conj(c('equals', 'genre', 'B'), OR, c('equals', 'genre', 'C'))))], {}, /an OR nested inside an AND/],
    ['another entry type', [conj(c('equals', 'type', 'podcast-post'))], {}, /entry type "podcast-post"/],
    ['a limit by size', editor(), { limitSize: '700' }, /limit by size/],
    ['a limit by time', editor(), { limitTime: '3600' }, /limit by playing time/],
    ['a sort by composer', editor(), { sortKey: 'Composer' }, /sort-key "Composer"/],
    ['a rating that is no number', editor(c('greater', 'rating', 'lots')), {}, /"lots" is not a number/],
    ['a text test on a number', editor(c('like', 'play-count', '1')), {}, /a text test on a number/],
    ['an unknown criterion', editor(c('matches', 'title', 'x')), {}, /unknown criterion <matches>/],
  ];
  for (const [what, query, attrs, why] of refused) {
    it(`refuses ${what}, saying why`, () => {
      expect(() => translateQuery(query, attrs)).toThrow(why);
    });
  }
});

describe('julianYear', () => {
  it('reads GLib Julian days', () => {
    expect(julianYear(738521)).toBe(2023); // from the real rhythmdb.xml, a 2023 file
    expect(julianYear(julianDay(1969))).toBe(1969);
    expect(julianYear(1)).toBe(1);
    expect(julianYear(0)).toBeUndefined();
  });
});
