import { describe, expect, it } from 'vitest';
import type { PlayerSong, SmartRule } from './player-model.js';
import { evaluateRule, stableRandom } from './smart-rule.js';

const NOW = Date.UTC(2026, 10, 30);
const DAY = 86_400_000;

const songs: PlayerSong[] = [
  { id: '1', path: '/m/a.mp3', title: 'Alpha', artist: 'Daft Punk', genre: 'Electronic', rating: 100, playCount: 5, lastPlayed: NOW - 2 * DAY, addedAt: NOW - 40 * DAY, durationSec: 200, year: 2010 },
  { id: '2', path: '/m/b.mp3', title: 'beta', artist: 'daft punk', genre: 'House', rating: 80, playCount: 0, addedAt: NOW - 3 * DAY, durationSec: 300, year: 2001 },
  { id: '3', path: '/m/c.mp3', title: 'Gamma', artist: 'Hans Zimmer', genre: 'Ambient', rating: 60, playCount: 12, lastPlayed: NOW - 10 * DAY, addedAt: NOW - 1 * DAY, durationSec: 100 },
  { id: '4', path: '/m/d.mp3', title: 'Delta', artist: 'Clint Mansell', genre: '', playCount: 1, lastPlayed: NOW - 1 * DAY, durationSec: 250, year: 2009 },
  { id: '5', path: '/m/é.mp3', title: 'Épsilon', artist: 'M83', genre: 'Electronic', rating: 90, playCount: 3, lastPlayed: NOW - 30 * DAY, addedAt: NOW - 100 * DAY, durationSec: 150, year: 2013 },
];

const run = (rule: SmartRule, random?: (song: PlayerSong) => number): string[] => evaluateRule(rule, songs, NOW, random);

describe('evaluateRule', () => {
  it('keeps every song, in the given order, for a rule without conditions', () => {
    expect(run({ match: 'all', conditions: [] })).toEqual(songs.map((s) => s.path));
  });

  it('compares text case-insensitively', () => {
    expect(run({ match: 'all', conditions: [{ field: 'artist', op: 'eq', value: 'DAFT PUNK' }] })).toEqual(['/m/a.mp3', '/m/b.mp3']);
    expect(run({ match: 'all', conditions: [{ field: 'title', op: 'startsWith', value: 'BE' }] })).toEqual(['/m/b.mp3']);
    expect(run({ match: 'all', conditions: [{ field: 'title', op: 'endsWith', value: 'MMA' }] })).toEqual(['/m/c.mp3']);
    expect(run({ match: 'all', conditions: [{ field: 'artist', op: 'contains', value: 'ZIM' }] })).toEqual(['/m/c.mp3']);
    // accents still count
    expect(run({ match: 'all', conditions: [{ field: 'title', op: 'eq', value: 'epsilon' }] })).toEqual([]);
    expect(run({ match: 'all', conditions: [{ field: 'title', op: 'eq', value: 'éPSILON' }] })).toEqual(['/m/é.mp3']);
  });

  it('treats a missing or empty field as unset: only negative ops hold', () => {
    expect(run({ match: 'all', conditions: [{ field: 'genre', op: 'notSet' }] })).toEqual(['/m/d.mp3']);
    expect(run({ match: 'all', conditions: [{ field: 'rating', op: 'notSet' }] })).toEqual(['/m/d.mp3']);
    expect(run({ match: 'all', conditions: [{ field: 'rating', op: 'lt', value: 70 }] })).toEqual(['/m/c.mp3']);
    expect(run({ match: 'all', conditions: [{ field: 'genre', op: 'ne', value: 'electronic' }] })).toEqual(['/m/b.mp3', '/m/c.mp3', '/m/d.mp3']);
    expect(run({ match: 'all', conditions: [{ field: 'genre', op: 'notContains', value: 'o' }] })).toEqual(['/m/c.mp3', '/m/d.mp3']);
    expect(run({ match: 'all', conditions: [{ field: 'year', op: 'isSet' }] })).toHaveLength(4);
  });

  it('compares numbers as numbers, also when the value is text', () => {
    expect(run({ match: 'all', conditions: [{ field: 'playCount', op: 'gt', value: '4' }] })).toEqual(['/m/a.mp3', '/m/c.mp3']);
    expect(run({ match: 'all', conditions: [{ field: 'rating', op: 'gte', value: 90 }] })).toEqual(['/m/a.mp3', '/m/é.mp3']);
    expect(run({ match: 'all', conditions: [{ field: 'year', op: 'lte', value: 2009 }] })).toEqual(['/m/b.mp3', '/m/d.mp3']);
    expect(run({ match: 'all', conditions: [{ field: 'year', op: 'eq', value: 'x' }] })).toEqual([]);
  });

  it('counts withinDays back from now', () => {
    expect(run({ match: 'all', conditions: [{ field: 'addedAt', op: 'withinDays', value: 30 }] })).toEqual(['/m/b.mp3', '/m/c.mp3']);
    expect(run({ match: 'all', conditions: [{ field: 'lastPlayed', op: 'withinDays', value: 2 }] })).toEqual(['/m/a.mp3', '/m/d.mp3']);
  });

  it('matches all or any', () => {
    const conditions = [
      { field: 'genre', op: 'eq', value: 'Electronic' },
      { field: 'playCount', op: 'gte', value: 10 },
    ] as const;
    expect(run({ match: 'all', conditions: [...conditions] })).toEqual([]);
    expect(run({ match: 'any', conditions: [...conditions] })).toEqual(['/m/a.mp3', '/m/c.mp3', '/m/é.mp3']);
  });

  it('orders by several keys, unset first ascending, then limits', () => {
    const rule: SmartRule = { match: 'all', conditions: [], order: [{ field: 'lastPlayed', desc: true }], limit: 3 };
    expect(run(rule)).toEqual(['/m/d.mp3', '/m/a.mp3', '/m/c.mp3']);
    expect(run({ ...rule, order: [{ field: 'lastPlayed', desc: false }], limit: 2 })).toEqual(['/m/b.mp3', '/m/é.mp3']);
    expect(run({ match: 'all', conditions: [], order: [{ field: 'artist', desc: false }, { field: 'title', desc: true }] })).toEqual([
      '/m/d.mp3', '/m/b.mp3', '/m/a.mp3', '/m/c.mp3', '/m/é.mp3',
    ]);
  });

  it('stops before the song that would pass limitSec', () => {
    // 200 + 300 = 500 ≤ 550; + 100 = 600 > 550: stops there even though a shorter one follows
    expect(run({ match: 'all', conditions: [], limitSec: 550 })).toEqual(['/m/a.mp3', '/m/b.mp3']);
    expect(run({ match: 'all', conditions: [], limitSec: 500 })).toEqual(['/m/a.mp3', '/m/b.mp3']);
    expect(run({ match: 'all', conditions: [], limitSec: 100 })).toEqual([]);
  });

  it('orders randomly from the random source given', () => {
    const keys = [0.5, 0.1, 0.9, 0.3, 0.7];
    let i = 0;
    const random = (): number => keys[i++ % keys.length] as number;
    expect(run({ match: 'all', conditions: [], order: [{ field: 'random', desc: false }] }, random)).toEqual([
      '/m/b.mp3', '/m/d.mp3', '/m/a.mp3', '/m/é.mp3', '/m/c.mp3',
    ]);
  });
});

describe('stableRandom', () => {
  const rule: SmartRule = { match: 'all', conditions: [], order: [{ field: 'random', desc: false }] };
  it('gives the same order on every evaluation, another for another seed', () => {
    const once = run(rule, stableRandom('mediamonkey:4'));
    expect(run(rule, stableRandom('mediamonkey:4'))).toEqual(once);
    expect([...once].sort()).toEqual(songs.map((s) => s.path).sort());
    const seeds = Array.from({ length: 20 }, (_, i) => run(rule, stableRandom(`p${i}`)).join());
    expect(new Set(seeds).size).toBeGreaterThan(1);
  });
  it('places a new song without moving the others', () => {
    const before = run(rule, stableRandom('x'));
    const after = evaluateRule(rule, [...songs, { id: '6', path: '/m/new.mp3' }], NOW, stableRandom('x'));
    expect(after.filter((p) => p !== '/m/new.mp3')).toEqual(before);
  });
});
