import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MEDIAMONKEY_FIXTURE } from '../../../test/fixtures/players/mediamonkey-db.js';
import { parseIni, translateQueryData } from './mediamonkey-query.js';

/** Every auto-playlist's QueryData in the real fixture, by name. */
function fixtureQueries(): Map<string, string> {
  const db = new Database(MEDIAMONKEY_FIXTURE, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT PlaylistName AS name, QueryData AS q FROM Playlists WHERE IsAutoPlaylist = 1 ORDER BY IDPlaylist').all() as { name: string; q: string }[];
    return new Map(rows.map((r) => [r.name, r.q]));
  } finally {
    db.close();
  }
}

const adv = (body: string, head = '[Adv]\nConditionsCount=1\nOrdersCount=0\n'): string => `[Common]\nQueryVersion=1\nQueryType=2\n${head}${body}`;

describe('translateQueryData: every auto-playlist of the real MediaMonkey fixture', () => {
  const q = fixtureQueries();

  it('has the seven default auto-playlists', () => {
    expect([...q.keys()]).toEqual([
      'Favorites - Top 50',
      'Last 50 played',
      'Accessible Tracks',
      'Favorites - 1 Audio CD Worth (74 min)',
      'Favorites - 1 MP3 CD Worth (650 MB)',
      'Favorites - Not Heard Recently (1 hr)',
      'Recently Added',
    ]);
  });

  it('translates the four whose conditions, orders and limits are known', () => {
    expect(translateQueryData(q.get('Last 50 played')!)).toEqual({
      rule: { match: 'all', conditions: [{ field: 'playCount', op: 'gt', value: 0 }], order: [{ field: 'lastPlayed', desc: true }], limit: 50 },
    });
    expect(translateQueryData(q.get('Favorites - 1 Audio CD Worth (74 min)')!)).toEqual({
      rule: { match: 'all', conditions: [{ field: 'rating', op: 'gte', value: 80 }], order: [{ field: 'random', desc: false }], limitSec: 74 * 60 },
    });
    expect(translateQueryData(q.get('Favorites - Not Heard Recently (1 hr)')!)).toEqual({
      rule: { match: 'all', conditions: [{ field: 'rating', op: 'gte', value: 80 }], order: [{ field: 'lastPlayed', desc: false }], limitSec: 3600 },
    });
    expect(translateQueryData(q.get('Recently Added')!)).toEqual({
      rule: { match: 'all', conditions: [{ field: 'addedAt', op: 'withinDays', value: 30 }], order: [{ field: 'addedAt', desc: true }] },
    });
  });

  it('reports the three it cannot translate, naming what', () => {
    const top = translateQueryData(q.get('Favorites - Top 50')!);
    expect(top).toEqual({ problems: [expect.stringMatching(/^\[AdvCond1\] DBField=Songs\.PlayCounter \+ \(Songs\.PlaybackPos/), expect.stringMatching(/^\[AdvSO1\] Order=Songs\.PlayCounter \+/)] });
    expect(translateQueryData(q.get('Accessible Tracks')!)).toEqual({ problems: ['[AdvCond1] DBField=STAT Condition=201: the field STAT is not translated'] });
    expect(translateQueryData(q.get('Favorites - 1 MP3 CD Worth (650 MB)')!)).toEqual({
      problems: [expect.stringMatching(/^\[Adv\] LimitMB=1 MaxMB=650: a size limit is not translated/)],
    });
  });
});

describe('translateQueryData', () => {
  it('reads CRLF text, any case of keys, UseORcon, COLLATE on an order, YYYYMMDD years and ms lengths', () => {
    const text = [
      '[Common]', 'QueryType=2', '[adv]', 'conditionscount=3', 'OrdersCount=2', 'UseORcon=1', 'LimitTop=1', 'Top=10',
      '[AdvCond1]', 'DBField=Songs.Year', 'Condition=32', 'Value=20100000',
      '[AdvCond2]', 'DBField=Songs.SongLength', 'Condition=32', 'Value=300000',
      '[AdvCond3]', 'DBField=Songs.Genre', 'Condition=703', 'Value=',
      '[AdvSO1]', 'Order=Songs.Artist COLLATE USERLOCALE', 'Asc=1',
      '[AdvSO2]', 'Order=Songs.TrackNumber', 'Asc=0',
    ].join('\r\n');
    expect(translateQueryData(text)).toEqual({
      rule: {
        match: 'any',
        conditions: [
          { field: 'year', op: 'gt', value: 2010 },
          { field: 'durationSec', op: 'gt', value: 300 },
          { field: 'genre', op: 'isSet' },
        ],
        order: [{ field: 'artist', desc: false }, { field: 'track', desc: true }],
        limit: 10,
      },
    });
  });

  it('reports a known code on a field type it is not known for', () => {
    expect(translateQueryData(adv('[AdvCond1]\nDBField=Songs.Artist\nCondition=32\nValue=x\n'))).toEqual({
      problems: ['[AdvCond1] DBField=Songs.Artist Condition=32: condition code 32 on Songs.Artist is not translated'],
    });
    expect(translateQueryData(adv('[AdvCond1]\nDBField=Songs.PlayCounter\nCondition=33\nValue=1\n'))).toEqual({
      problems: ['[AdvCond1] DBField=Songs.PlayCounter Condition=33: condition code 33 on Songs.PlayCounter is not translated'],
    });
  });

  it('reports every part it cannot translate at once', () => {
    const text = adv(
      '[AdvCond1]\nDBField=Songs.Rating\nCondition=40\nValue=lots\n' +
        '[AdvCond2]\nDBField=Songs.DateAdded\nCondition=401\nValue=2\nValue2=1\n' +
        '[AdvCond3]\nDBField=Songs.Artist\nCondition=703\nnestLevel=1\n',
      '[Basic]\nArtist=Daft\nYearFrom=0\nLevelFrom=-999999\n[Adv]\nConditionsCount=4\nOrdersCount=1\n',
    );
    const t = translateQueryData(text);
    expect('problems' in t && t.problems).toEqual([
      '[Basic] artist=Daft is not translated',
      '[AdvCond1] DBField=Songs.Rating Condition=40: Value=lots is not a number',
      '[AdvCond2] DBField=Songs.DateAdded Condition=401: Value2=1 is not translated',
      '[AdvCond3] DBField=Songs.Artist Condition=703: nestlevel=1 (nested or negated conditions) is not translated',
      '[AdvCond4] is missing',
      '[AdvSO1] Order=(missing) is not translated',
    ]);
  });

  it('never throws on text that is not a query at all', () => {
    expect(translateQueryData('')).toEqual({ problems: ['no [Adv] section'] });
    expect(translateQueryData('[Adv]\nConditionsCount=99999999\n')).toEqual({ problems: ['[Adv] ConditionsCount=99999999 is not a count'] });
    expect(translateQueryData('[Common]\nQueryType=1\n[Adv]\n')).toEqual({ problems: ['[Common] QueryType=1 is not translated (only advanced queries, QueryType=2)'] });
    // an empty advanced query: every song, as MediaMonkey shows it
    expect(translateQueryData('[Adv]\nConditionsCount=0\n')).toEqual({ rule: { match: 'all', conditions: [] } });
  });

  it('parseIni: sections and keys case-insensitive, values kept whole', () => {
    const ini = parseIni('junk before\n[A]\nK=v=w\n; comment\n[a]\nx = 1 \n');
    expect([...ini.keys()]).toEqual(['a']);
    expect(Object.fromEntries(ini.get('a')!)).toEqual({ k: 'v=w', x: '1' });
  });
});
