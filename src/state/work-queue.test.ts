import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStateDb, type Db } from './state-db.js';
import { covers, retryDelayMs, WorkQueue } from './work-queue.js';

let db: Db;
let q: WorkQueue;
beforeEach(() => {
  db = openStateDb(':memory:');
  q = new WorkQueue(db);
});
afterEach(() => db.close());

describe('WorkQueue', () => {
  it('coalesces repeated reports of a path into one row, with the latest due time and a new generation', () => {
    q.add(['a.mp3', 'b.mp3'], 'watch', 100, 50);
    q.add(['a.mp3'], 'watch', 300, 250);
    expect(q.counts()).toEqual({ length: 2, failing: 0 });
    expect(q.get('a.mp3')).toMatchObject({ queuedAt: 50, dueAt: 300, gen: 2 });
    expect(q.due(200, 10).map((r) => r.path)).toEqual(['b.mp3']);
    expect(q.nextDueAt()).toBe(100);
  });

  it('settle removes what was carried out, but keeps a path reported again during the run', () => {
    q.add(['a.mp3', 'b.mp3'], 'watch', 0, 0);
    const taken = q.due(10, 10);
    q.add(['b.mp3'], 'watch', 20, 15); // changed again while the run went on
    q.settle(taken, new Map(), 30);
    expect(q.all().map((r) => r.path)).toEqual(['b.mp3']);
  });

  it('retryNow makes failing rows due now (all, or the paths given), keeping their attempts; waiting rows are left alone', () => {
    q.add(['Album', 'x.mp3'], 'watch', 0, 0);
    q.settle(q.due(10, 10).filter((r) => r.path === 'Album'), new Map([['Album/1.mp3', 'denied'], ['Album/2.mp3', 'denied']]), 1000);
    q.add(['later.mp3'], 'watch', 50_000, 1000);
    expect(q.due(2000, 10).map((r) => r.path)).toEqual(['x.mp3']);
    expect(q.retryNow(['Album/2.mp3', 'Album/2.mp3', 'x.mp3', 'later.mp3', 'nope.mp3'], 2000)).toBe(1);
    expect(q.due(2000, 10).map((r) => r.path)).toEqual(['x.mp3', 'Album/2.mp3']);
    expect(q.retryNow(undefined, 2500)).toBe(2);
    expect(q.due(2500, 10).map((r) => r.path).sort()).toEqual(['Album/1.mp3', 'Album/2.mp3', 'x.mp3']);
    expect(q.get('Album/1.mp3')).toMatchObject({ attempts: 1, lastError: 'denied', dueAt: 2500 });
    expect(q.get('Album/2.mp3')?.dueAt).toBe(2000);
    expect(q.get('later.mp3')?.dueAt).toBe(50_000);
  });

  it('settle queues each failed file again with its reason, one more attempt and a backoff', () => {
    q.add(['Album'], 'watch', 0, 0);
    const taken = q.due(10, 10);
    q.settle(taken, new Map([['Album/1.mp3', 'access denied']]), 1000);
    expect(q.get('Album')).toBeUndefined();
    expect(q.get('Album/1.mp3')).toMatchObject({ attempts: 1, lastError: 'access denied', dueAt: 1000 + retryDelayMs(1) });
    expect(q.counts()).toEqual({ length: 1, failing: 1 });
    // It fails again: the wait doubles.
    q.settle(q.due(1000 + retryDelayMs(1), 10), new Map([['Album/1.mp3', 'access denied']]), 20_000);
    expect(q.get('Album/1.mp3')).toMatchObject({ attempts: 2, dueAt: 20_000 + retryDelayMs(2) });
    expect(q.failing(5).map((r) => r.path)).toEqual(['Album/1.mp3']);
    // Then it goes through.
    q.settle(q.due(Number.MAX_SAFE_INTEGER, 10), new Map(), 90_000);
    expect(q.counts()).toEqual({ length: 0, failing: 0 });
  });

  it('retryLater keeps every taken row after a run refused as a whole', () => {
    q.add(['a.mp3', 'b.mp3'], 'watch', 0, 0);
    q.retryLater(q.due(10, 10), 'remote unreachable', 100);
    expect(q.all().map((r) => [r.path, r.attempts, r.lastError, r.dueAt])).toEqual([
      ['a.mp3', 1, 'remote unreachable', 100 + retryDelayMs(1)],
      ['b.mp3', 1, 'remote unreachable', 100 + retryDelayMs(1)],
    ]);
  });

  it('postpone only ever moves a due time later', () => {
    q.add(['a.mp3'], 'watch', 500, 0);
    q.postpone('a.mp3', 200);
    expect(q.get('a.mp3')?.dueAt).toBe(500);
    q.postpone('a.mp3', 900);
    expect(q.get('a.mp3')?.dueAt).toBe(900);
  });

  it('backoff doubles from 5 s up to 10 minutes', () => {
    expect([1, 2, 3, 20].map(retryDelayMs)).toEqual([5000, 10_000, 20_000, 600_000]);
  });

  it('covers: a folder covers what is below it, the whole library everything', () => {
    expect(covers('A', 'A/1.mp3')).toBe(true);
    expect(covers('A', 'AB/1.mp3')).toBe(false);
    expect(covers('', 'x/y.mp3')).toBe(true);
    expect(covers('a.mp3', 'a.mp3')).toBe(true);
  });
});
