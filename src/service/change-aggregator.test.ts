/**
 * Every rule of the change aggregator, on a fake clock.
 */
import { describe, expect, it } from 'vitest';
import { ChangeAggregator } from './change-aggregator.js';
import type { AggregatorOptions } from './change-aggregator.js';
import type { WatchChange } from './library-watcher.js';

const OPTS: AggregatorOptions = { quietMs: 1000, deleteDelayMs: 2500, maxPerFolder: 64, maxPaths: 1000, maxDelayMs: 60_000 };

function setup(o: Partial<AggregatorOptions> = {}) {
  const clock = { t: 10_000 };
  const agg = new ChangeAggregator({ ...OPTS, ...o }, () => clock.t);
  const at = (t: number) => {
    clock.t = t;
    return agg;
  };
  return { agg, clock, at };
}

const change = (path: string): WatchChange => ({ path, kind: 'change' });
const del = (path: string): WatchChange => ({ path, kind: 'delete' });
const dir = (path: string): WatchChange => ({ path, kind: 'dir' });

describe('ChangeAggregator', () => {
  it('clear drops what is pending (a full run reads it all); later events count again', () => {
    const { agg, at } = setup();
    at(10_000).add([change('A/a.flac'), ...Array.from({ length: 70 }, (_, i) => change(`B/${i}.flac`))]);
    agg.clear();
    expect(agg.size).toBe(0);
    expect(agg.nextDueAt()).toBeUndefined();
    at(10_100).add([change('B/x.flac')]);
    expect(at(11_100).takeDue().map((c) => [c.path, c.kind])).toEqual([['B/x.flac', 'change']]);
  });

  it('makes a change due quietMs after its event, once', () => {
    const { agg, at } = setup();
    at(10_000).add([change('A/a.flac')]);
    expect(agg.nextDueAt()).toBe(11_000);
    expect(at(10_999).takeDue()).toEqual([]);
    expect(at(11_000).takeDue()).toEqual([{ path: 'A/a.flac', kind: 'change', dueAt: 11_000, firstAt: 10_000 }]);
    expect(agg.size).toBe(0);
    expect(agg.nextDueAt()).toBeUndefined();
    expect(agg.takeDue()).toEqual([]);
  });

  it('keeps a path written every 200 ms for 3 s pending until quietMs after its last event', () => {
    const { agg, at } = setup();
    for (let t = 10_000; t <= 13_000; t += 200) {
      at(t).add([change('A/slow.flac')]);
      expect(agg.takeDue()).toEqual([]);
    }
    expect(agg.size).toBe(1);
    expect(agg.nextDueAt()).toBe(14_000);
    expect(at(13_999).takeDue()).toEqual([]);
    expect(at(14_000).takeDue()).toEqual([{ path: 'A/slow.flac', kind: 'change', dueAt: 14_000, firstAt: 10_000 }]);
  });

  it('is due at most maxDelayMs after the first event, however busy the path stays', () => {
    const { agg, at } = setup({ maxDelayMs: 5000 });
    for (let t = 10_000; t <= 20_000; t += 200) at(t).add([change('A/log.flac')]);
    expect(agg.nextDueAt()).toBe(15_000);
    expect(agg.takeDue().map((c) => c.path)).toEqual(['A/log.flac']);
  });

  it('lets the last event of a path decide its kind and time', () => {
    const { agg, at } = setup();
    at(10_000).add([change('a.flac')]);
    at(10_500).add([del('a.flac')]);
    expect(agg.nextDueAt()).toBe(13_000);
    expect(at(13_000).takeDue()).toEqual([{ path: 'a.flac', kind: 'delete', dueAt: 13_000, firstAt: 10_000 }]);
    at(20_000).add([del('b.flac')]);
    at(20_100).add([change('b.flac')]);
    expect(at(21_100).takeDue()).toEqual([{ path: 'b.flac', kind: 'change', dueAt: 21_100, firstAt: 20_000 }]);
  });

  it('delays a delete alone by deleteDelayMs', () => {
    const { agg, at } = setup();
    at(10_000).add([del('gone.flac')]);
    expect(at(11_000).takeDue()).toEqual([]);
    expect(at(12_500).takeDue()).toEqual([{ path: 'gone.flac', kind: 'delete', dueAt: 12_500, firstAt: 10_000 }]);
  });

  it('keeps both paths of a move, and takes its delete together with its create, never before', () => {
    const { agg, at } = setup();
    at(10_000).add([del('A/old.flac'), change('B/new.flac')]);
    expect(agg.size).toBe(2);
    expect(agg.nextDueAt()).toBe(11_000);
    expect(at(11_000).takeDue()).toEqual([
      { path: 'A/old.flac', kind: 'delete', dueAt: 11_000, firstAt: 10_000 },
      { path: 'B/new.flac', kind: 'change', dueAt: 11_000, firstAt: 10_000 },
    ]);
  });

  it('holds a move\'s delete while its create is still being written, past deleteDelayMs', () => {
    const { agg, at } = setup();
    at(10_000).add([del('old.flac'), change('new.flac')]);
    for (let t = 10_500; t <= 14_000; t += 500) {
      at(t).add([change('new.flac')]);
      expect(agg.takeDue()).toEqual([]);
    }
    expect(at(15_000).takeDue().map((c) => `${c.kind} ${c.path}`)).toEqual(['change new.flac', 'delete old.flac']);
  });

  it('times a move\'s delete by its own delay once its create was absorbed by a delete', () => {
    const { agg, at } = setup();
    at(10_000).add([del('old.flac'), change('B/new.flac')]);
    at(10_100).add([del('B')]);
    // new.flac is gone with B: old.flac's delete has no arrival left to wait for.
    expect(agg.nextDueAt()).toBe(12_500);
    expect(at(12_600).takeDue().map((c) => `${c.kind} ${c.path}`)).toEqual(['delete B', 'delete old.flac']);
  });

  it('absorbs changes below a folder pending as dir, and pushes its due time', () => {
    const { agg, at } = setup();
    at(10_000).add([dir('Album')]);
    at(10_400).add([change('Album/t1.flac'), change('Album/CD2/t2.flac')]);
    at(10_800).add([change('Album')]);
    expect(agg.size).toBe(1);
    expect(agg.nextDueAt()).toBe(11_800);
    expect(at(11_800).takeDue()).toEqual([{ path: 'Album', kind: 'dir', dueAt: 11_800, firstAt: 10_000 }]);
  });

  it('absorbs what was pending below a folder reported as dir later', () => {
    const { agg, at } = setup();
    at(10_000).add([change('Album/t1.flac')]);
    at(10_200).add([dir('Album')]);
    expect(agg.size).toBe(1);
    expect(at(11_200).takeDue()).toEqual([{ path: 'Album', kind: 'dir', dueAt: 11_200, firstAt: 10_000 }]);
  });

  it('lets a folder\'s delete absorb the pending changes below it', () => {
    const { agg, at } = setup();
    at(10_000).add([change('Album/t1.flac'), change('Album/CD2/t2.flac'), change('Other/x.flac')]);
    at(10_300).add([del('Album')]);
    expect(agg.size).toBe(2);
    expect(at(12_800).takeDue()).toEqual([
      { path: 'Album', kind: 'delete', dueAt: 12_800, firstAt: 10_000 },
      { path: 'Other/x.flac', kind: 'change', dueAt: 11_000, firstAt: 10_000 },
    ]);
  });

  it('collapses 500 events in one folder into that folder, due with the newest event it absorbed', () => {
    const { agg, at } = setup();
    for (let i = 0; i < 500; i++) at(10_000 + i).add([change(`Artist/Album/t${i}.flac`)]);
    expect(agg.size).toBe(1);
    expect(agg.nextDueAt()).toBe(10_499 + 1000);
    expect(at(11_499).takeDue()).toEqual([{ path: 'Artist/Album', kind: 'dir', dueAt: 11_499, firstAt: 10_000 }]);
  });

  it('keeps a later delete\'s longer delay in a collapse', () => {
    const { agg, at } = setup({ maxPerFolder: 4 });
    at(10_000).add([del('A/gone.flac')]);
    at(10_100).add([1, 2, 3, 4].map((i) => change(`A/t${i}.flac`)));
    expect(agg.size).toBe(1);
    expect(agg.nextDueAt()).toBe(12_500);
  });

  it('collapses a flood in a subfolder into its parent when the parent floods in turn', () => {
    const { agg, at } = setup({ maxPerFolder: 3 });
    at(10_000).add(['a', 'b', 'c', 'd'].flatMap((f) => [1, 2, 3, 4].map((i) => change(`Lib/${f}/t${i}.flac`))));
    expect(agg.takeDue()).toEqual([]);
    expect(agg.size).toBe(1);
    expect(at(11_000).takeDue().map((c) => `${c.kind} ${c.path}`)).toEqual(['dir Lib']);
  });

  it('collapses 2,000 events across folders into one full rescan', () => {
    const { agg, at } = setup();
    for (let i = 0; i < 2000; i++) at(10_000 + i).add([change(`Artist ${i % 50}/Album/t${i}.flac`)]);
    expect(agg.size).toBe(1);
    expect(agg.nextDueAt()).toBe(11_999 + 1000);
    expect(at(12_999).takeDue()).toEqual([{ path: '', kind: 'rescan', dueAt: 12_999, firstAt: 10_000 }]);
  });

  it('turns a flood of the root folder itself into a full rescan', () => {
    const { agg, at } = setup({ maxPerFolder: 10 });
    at(10_000).add(Array.from({ length: 11 }, (_, i) => change(`t${i}.flac`)));
    expect(at(11_000).takeDue()).toEqual([{ path: '', kind: 'rescan', dueAt: 11_000, firstAt: 10_000 }]);
  });

  it('lets a full rescan replace everything, absorb later events and be pushed by them', () => {
    const { agg, at } = setup();
    at(10_000).add([change('a.flac'), del('b.flac')]);
    at(10_500).rescan();
    expect(agg.size).toBe(1);
    // Never before what it replaced: b.flac's delete was due at 12,500.
    expect(agg.nextDueAt()).toBe(12_500);
    at(12_000).add([change('A/c.flac')]);
    expect(agg.size).toBe(1);
    expect(agg.nextDueAt()).toBe(13_000);
    at(12_100).rescan(0);
    expect(at(13_000).takeDue()).toEqual([{ path: '', kind: 'rescan', dueAt: 13_000, firstAt: 10_000 }]);
  });

  it('takes the defaults for what is not given', () => {
    const clock = { t: 0 };
    const agg = new ChangeAggregator({ quietMs: undefined }, () => clock.t);
    agg.add([change('a.flac'), del('b.flac')]);
    agg.add([del('c.flac')]);
    expect(agg.nextDueAt()).toBe(1000);
    clock.t = 1000;
    expect(agg.takeDue().map((c) => c.path)).toEqual(['a.flac', 'b.flac']);
    expect(agg.nextDueAt()).toBe(2500);
  });

  it('hands out due entries oldest first', () => {
    const { agg, at } = setup();
    at(10_000).add([change('z.flac')]);
    at(10_100).add([change('a.flac')]);
    at(10_200).add([change('m.flac')]);
    at(10_300).add([change('z.flac')]);
    expect(at(20_000).takeDue().map((c) => c.path)).toEqual(['z.flac', 'a.flac', 'm.flac']);
  });
});
