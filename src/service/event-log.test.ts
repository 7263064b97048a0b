import { describe, expect, it } from 'vitest';
import { EventLog } from './event-log.js';

describe('EventLog', () => {
  it('numbers events 1, 2, 3… and hands out those after an id, of some types', () => {
    const log = new EventLog();
    expect(log.lastId).toBe(0);
    expect(log.emit({ type: 'stopping' }).id).toBe(1);
    log.emit({ type: 'queue', length: 1, failing: 0 });
    log.emit({ type: 'state', state: 'idle' });
    expect(log.lastId).toBe(3);
    expect(log.since(0).map((e) => e.id)).toEqual([1, 2, 3]);
    expect(log.since(2).map((e) => e.id)).toEqual([3]);
    expect(log.since(3)).toEqual([]);
    expect(log.since(1, new Set(['state', 'stopping'])).map((e) => e.type)).toEqual(['state']);
  });

  it('drops the oldest past its capacity', () => {
    const log = new EventLog(3);
    for (let i = 0; i < 5; i++) log.emit({ type: 'queue', length: i, failing: 0 });
    expect(log.since(0).map((e) => e.id)).toEqual([3, 4, 5]);
    expect(log.since(3).map((e) => e.id)).toEqual([4, 5]);
  });

  it('wait answers at once, on the next matching event, or [] when aborted', async () => {
    const log = new EventLog();
    log.emit({ type: 'stopping' });
    expect((await log.wait(0, 60_000)).map((e) => e.id)).toEqual([1]);
    const next = log.wait(1, 60_000, undefined, new Set(['state']));
    log.emit({ type: 'queue', length: 1, failing: 0 }); // not of the type waited for
    log.emit({ type: 'state', state: 'syncing' });
    expect((await next).map((e) => e.id)).toEqual([3]);
    const ac = new AbortController();
    const aborted = log.wait(log.lastId, 60_000, ac.signal);
    ac.abort();
    expect(await aborted).toEqual([]);
    expect(await log.wait(log.lastId, 0)).toEqual([]);
  });

  it('calls subscribers for each new event until they leave; one throwing stops no other', () => {
    const log = new EventLog();
    const seen: number[] = [];
    log.subscribe(() => {
      throw new Error('a broken client');
    });
    const leave = log.subscribe((e) => seen.push(e.id));
    log.emit({ type: 'stopping' });
    leave();
    log.emit({ type: 'stopping' });
    expect(seen).toEqual([1]);
  });
});
